package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/** Muon's Nesterov momentum over one matrix, in one pass that also sums what Newton–Schulz normalises by. */
public final class Momentum {
    private Momentum() {}

    /**
     * For i in [0, n): g = grads[gOff + i]·scale·gain, mom[i] ← beta·mom[i] + g, u[i] = g + beta·mom[i]
     * (each product and sum rounded apart, as the scalar formula in that order). Returns
     * {@link Vec#sumOfSquares} of u, bit for bit, summed block by block while each block of u is still in
     * L1 rather than by a second pass over u: the norm that
     * {@link NewtonSchulz#quintic(float[], int, int, int, double, int, float[], int)} divides by.
     */
    public static double nesterov(float[] grads, int gOff, float scale, float gain, float beta, float[] mom, float[] u, int n) {
        double s = 0;
        for (int b = 0; b < n; b += Vec.SQUARES_BLOCK) {
            int e = Math.min(n, b + Vec.SQUARES_BLOCK), i = b;
            for (; i + Vec.L <= e; i += Vec.L) {
                FloatVector g = FloatVector.fromArray(Vec.S, grads, gOff + i).mul(scale).mul(gain);
                FloatVector m = FloatVector.fromArray(Vec.S, mom, i).mul(beta).add(g);
                m.intoArray(mom, i);
                g.add(m.mul(beta)).intoArray(u, i);
            }
            for (; i < e; i++) {
                float g = grads[gOff + i] * scale * gain, m = beta * mom[i] + g;
                mom[i] = m;
                u[i] = g + beta * m;
            }
            s += Vec.blockSquares(u, b, e - b);
        }
        return s;
    }
}
