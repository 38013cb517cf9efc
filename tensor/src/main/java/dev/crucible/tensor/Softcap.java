package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * Logit soft-capping, x ← c·tanh(x/c) (Gemma 2's final_logit_softcapping; the modded-nanogpt speed runs' tanh cap): logits
 * stay within (−c, c), nearly unchanged well inside. tanh(y) is sign(y)·(1 − E)/(1 + E) with E = exp(−2|y|), and below
 * |y| = 1/4, where 1 − E would lose digits, its odd series to y¹¹ (the next term under 1e-10 there). Backward
 * multiplies the logits' gradient by 1 − tanh², which forward keeps (the logits buffer itself turns into probabilities and
 * then gradients in between).
 */
public final class Softcap {
    private static final float SERIES = 0.25f;
    // tanh's odd series: y·(1 + y²·(T3 + y²·(T5 + ...)))
    private static final float T3 = -1f / 3, T5 = 2f / 15, T7 = -17f / 315, T9 = 62f / 2835, T11 = -1382f / 155925;
    private final WorkerPool pool;

    public Softcap(WorkerPool pool) {
        this.pool = pool;
    }

    /**
     * Rows [0, rows) of x, cols values each, rows ld apart, capped in place; derivative (same layout, or null) receives
     * 1 − tanh² of each.
     */
    public void forward(float[] x, int off, int ld, int rows, int cols, float cap, float[] derivative) {
        float inv = 1f / cap;
        pool.forRange(rows, pool.chunksFor((long) rows * cols, 1 << 14), (s, e, ch, wk) -> {
            int bound = Vec.S.loopBound(cols);
            for (int r = s; r < e; r++) {
                int row = off + r * ld, i = 0;
                for (; i < bound; i += Vec.L) {
                    FloatVector t = tanh(FloatVector.fromArray(Vec.S, x, row + i).mul(inv));
                    t.mul(cap).intoArray(x, row + i);
                    if (derivative != null) t.mul(t).neg().add(1f).intoArray(derivative, row + i);
                }
                for (; i < cols; i++) {
                    float t = tanh(x[row + i] * inv);
                    x[row + i] = t * cap;
                    if (derivative != null) derivative[row + i] = 1f - t * t;
                }
            }
        });
    }

    /** The gradient of rows of logits (same layout as forward's) through the cap: times forward's derivative. */
    public void backward(float[] grad, int off, int ld, int rows, int cols, float[] derivative) {
        pool.forRange(rows, pool.chunksFor((long) rows * cols, 1 << 14), (s, e, ch, wk) -> {
            int bound = Vec.S.loopBound(cols);
            for (int r = s; r < e; r++) {
                int row = off + r * ld, i = 0;
                for (; i < bound; i += Vec.L) {
                    FloatVector.fromArray(Vec.S, grad, row + i).mul(FloatVector.fromArray(Vec.S, derivative, row + i)).intoArray(grad, row + i);
                }
                for (; i < cols; i++) grad[row + i] *= derivative[row + i];
            }
        });
    }

    static FloatVector tanh(FloatVector y) {
        FloatVector a = y.abs(), one = FloatVector.broadcast(Vec.S, 1f);
        FloatVector big = Vec.exp(a.mul(-2f));
        FloatVector far = one.sub(big).div(one.add(big));
        FloatVector a2 = a.mul(a);
        FloatVector near = a2.mul(T11).add(T9).mul(a2).add(T7).mul(a2).add(T5).mul(a2).add(T3).mul(a2).mul(a).add(a);
        FloatVector t = far.blend(near, a.lt(SERIES)); // |tanh y|, or a NaN for a NaN
        IntVector sign = ((IntVector) y.reinterpretAsInts()).and(Integer.MIN_VALUE);
        return ((IntVector) t.reinterpretAsInts()).or(sign).reinterpretAsFloats();
    }

    static float tanh(float y) {
        float a = Math.abs(y), t;
        if (a < SERIES) {
            float a2 = a * a;
            t = ((((a2 * T11 + T9) * a2 + T7) * a2 + T5) * a2 + T3) * a2 * a + a;
        } else {
            float big = Vec.exp(-2f * a);
            t = (1f - big) / (1f + big);
        }
        return Math.copySign(t, y);
    }
}
