package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;

/**
 * Logit soft-capping, x ← c·tanh(x/c) (Gemma 2's final_logit_softcapping; the modded-nanogpt speed runs' tanh cap): logits
 * stay within (−c, c), nearly unchanged well inside. tanh(y) is sign(y)·(1 − E)/(1 + E) with E = exp(−2|y|), and below
 * |y| = 1/4, where 1 − E would lose digits, its odd series to y¹¹ (the next term under 1e-10 there). Backward
 * multiplies the logits' gradient by 1 − tanh², which forward keeps (the logits buffer itself turns into probabilities and
 * then gradients in between), as 4E/(1 + E)² past the series: 1 − t² cancels as t nears 1, and is 0 once t rounds to 1.
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
            FloatVector one = FloatVector.broadcast(Vec.S, 1f);
            for (int r = s; r < e; r++) {
                int row = off + r * ld, i = 0;
                for (; i < bound; i += Vec.L) {
                    // one exponential for tanh and its derivative
                    FloatVector y = FloatVector.fromArray(Vec.S, x, row + i).mul(inv), a = y.abs();
                    FloatVector big = Vec.exp(a.mul(-2f)), d = one.add(big), a2 = a.mul(a);
                    // the series where |y| < 1/4
                    FloatVector near = a2.mul(T11).add(T9).mul(a2).add(T7).mul(a2).add(T5).mul(a2).add(T3).mul(a2).mul(a).add(a);
                    VectorMask<Float> small = a.lt(SERIES);
                    FloatVector t = one.sub(big).div(d).blend(near, small); // |tanh y|, or a NaN for a NaN
                    IntVector sign = ((IntVector) y.reinterpretAsInts()).and(Integer.MIN_VALUE); // −0 stays −0
                    ((IntVector) t.reinterpretAsInts()).or(sign).reinterpretAsFloats().mul(cap).intoArray(x, row + i);
                    if (derivative != null) big.mul(4f).div(d.mul(d)).blend(one.sub(near.mul(near)), small).intoArray(derivative, row + i);
                }
                for (; i < cols; i++) {
                    float y = x[row + i] * inv;
                    x[row + i] = tanh(y) * cap;
                    if (derivative != null) derivative[row + i] = derivative(y);
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

    /** 1 − tanh²(y): from the series' t below 1/4, as 4E/(1 + E)² with E = exp(−2|y|) past it. */
    static float derivative(float y) {
        float a = Math.abs(y);
        if (a < SERIES) {
            float t = tanh(a);
            return 1f - t * t;
        }
        float big = Vec.exp(-2f * a), d = 1f + big;
        return 4f * big / (d * d);
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
