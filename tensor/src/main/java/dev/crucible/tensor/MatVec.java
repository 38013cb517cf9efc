package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * y = W[OC,C] · x (+ bias) for a few rows x: linear layers while decoding, one row per sequence;
 * parallel over output rows. Each weight row is read once for all the rows, so decoding several
 * sequences together reads the weights once per step rather than once per sequence. Every value is
 * one vector accumulator over the row, its lanes summed by {@link Vec#sumTree} (a handful of shuffles
 * where summing lanes one by one cost as much as the multiply-adds of a 384-wide row), then the tail:
 * the same bits whatever the number of rows, so a sequence decodes to the same bits alone or in a batch.
 */
public final class MatVec {
    private final WorkerPool pool;

    public MatVec(WorkerPool pool) {
        this.pool = pool;
    }

    /** One row: y[OC] = W · x[C] (+ bias). */
    public void forward(float[] y, int yOff, float[] w, int wOff, float[] x, int xOff, float[] bias, int biasOff, int c, int oc) {
        forward(y, yOff, oc, w, wOff, x, xOff, c, bias, biasOff, 1, c, oc);
    }

    /** rows rows: y[yOff + r·yStride + o] = W[o] · x[xOff + r·xStride ..] (+ bias[o]). */
    public void forward(float[] y, int yOff, int yStride, float[] w, int wOff, float[] x, int xOff, int xStride, float[] bias, int biasOff,
                        int rows, int c, int oc) {
        // Chunks of at least ~64K multiply-adds (256 KB of weights for one row): decoding issues these products
        // back to back, so the workers are still spinning, not parked, when the next one comes. At 256K, tiny's
        // QKV and attention output projections (442K and 147K) ran on one thread while the other waited
        // (docs/benchmarks.md, "Smaller decoding chunks").
        pool.forRange(oc, pool.chunksFor((long) oc * c * rows, 1 << 16), (s, e, ch, wk) -> {
            for (int o = s; o < e; o++) {
                int wo = wOff + o * c;
                float b = bias == null ? 0f : bias[biasOff + o];
                int r = 0;
                for (; r + 4 <= rows; r += 4) dot4(y, yOff + r * yStride + o, yStride, w, wo, x, xOff + r * xStride, xStride, c, bias != null, b);
                for (; r < rows; r++) {
                    float v = dot(w, wo, x, xOff + r * xStride, c);
                    y[yOff + r * yStride + o] = bias == null ? v : v + b;
                }
            }
        });
    }

    /** One row's dot product: the order dot4 keeps for each of its rows. */
    static float dot(float[] w, int wo, float[] x, int xo, int c) {
        FloatVector acc = FloatVector.zero(Vec.S);
        int i = 0, bound = Vec.S.loopBound(c);
        for (; i < bound; i += Vec.L) acc = Vec.fma(FloatVector.fromArray(Vec.S, w, wo + i), FloatVector.fromArray(Vec.S, x, xo + i), acc);
        float s = Vec.sumTree(acc);
        for (; i < c; i++) s += w[wo + i] * x[xo + i];
        return s;
    }

    /** Four rows' dot products with one weight row, each accumulated exactly as dot accumulates it. */
    private static void dot4(float[] y, int yAt, int yStride, float[] w, int wo, float[] x, int x0, int xStride, int c, boolean hasBias, float b) {
        int x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride;
        FloatVector a0 = FloatVector.zero(Vec.S), a1 = a0, a2 = a0, a3 = a0;
        int i = 0, bound = Vec.S.loopBound(c);
        for (; i < bound; i += Vec.L) {
            FloatVector wv = FloatVector.fromArray(Vec.S, w, wo + i);
            a0 = Vec.fma(wv, FloatVector.fromArray(Vec.S, x, x0 + i), a0);
            a1 = Vec.fma(wv, FloatVector.fromArray(Vec.S, x, x1 + i), a1);
            a2 = Vec.fma(wv, FloatVector.fromArray(Vec.S, x, x2 + i), a2);
            a3 = Vec.fma(wv, FloatVector.fromArray(Vec.S, x, x3 + i), a3);
        }
        float s0 = Vec.sumTree(a0), s1 = Vec.sumTree(a1), s2 = Vec.sumTree(a2), s3 = Vec.sumTree(a3);
        for (; i < c; i++) {
            float wi = w[wo + i];
            s0 += wi * x[x0 + i];
            s1 += wi * x[x1 + i];
            s2 += wi * x[x2 + i];
            s3 += wi * x[x3 + i];
        }
        y[yAt] = hasBias ? s0 + b : s0;
        y[yAt + yStride] = hasBias ? s1 + b : s1;
        y[yAt + 2 * yStride] = hasBias ? s2 + b : s2;
        y[yAt + 3 * yStride] = hasBias ? s3 + b : s3;
    }
}
