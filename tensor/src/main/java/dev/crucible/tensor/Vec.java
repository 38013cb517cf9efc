package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Small vector helpers shared by the kernels (sums and dot products over one row). */
final class Vec {
    private Vec() {}

    static final VectorSpecies<Float> S = Cpu.SPECIES;
    static final int L = S.length();
    static final boolean FMA = Cpu.HAS_FMA;

    static FloatVector fma(FloatVector a, FloatVector b, FloatVector c) {
        return FMA ? a.fma(b, c) : a.mul(b).add(c);
    }

    static float sum(float[] x, int off, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) acc = acc.add(FloatVector.fromArray(S, x, off + i));
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += x[off + i];
        return s;
    }

    static float dot(float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) acc = fma(FloatVector.fromArray(S, x, xOff + i), FloatVector.fromArray(S, y, yOff + i), acc);
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += x[xOff + i] * y[yOff + i];
        return s;
    }

    /** sum of (x - c)^2 */
    static float sumSquaredDeviation(float[] x, int off, int n, float c) {
        FloatVector acc = FloatVector.zero(S), cv = FloatVector.broadcast(S, c);
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) {
            FloatVector d = FloatVector.fromArray(S, x, off + i).sub(cv);
            acc = fma(d, d, acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += (x[off + i] - c) * (x[off + i] - c);
        return s;
    }

    /** dst[i] += src[i] */
    static void addInto(float[] dst, int dOff, float[] src, int sOff, int n) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, dst, dOff + i).add(FloatVector.fromArray(S, src, sOff + i)).intoArray(dst, dOff + i);
        }
        for (; i < n; i++) dst[dOff + i] += src[sOff + i];
    }
}
