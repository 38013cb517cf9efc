package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * One query row against a key/value cache, for decoding a token at a time: for each head h,
 * out_h = softmax(q_h · K[0..pos]ᵀ / √hs) · V[0..pos], with query head h reading key/value head
 * h / (nh / nkv) (GQA). Heads run in parallel, each with vector dot products and a vector
 * multiply-add over the value rows; no T x T buffer, only one row of pos+1 scores per worker.
 */
public final class DecodeAttention {
    private final WorkerPool pool;
    private final float[][] scores;

    public DecodeAttention(WorkerPool pool, int maxT) {
        this.pool = pool;
        scores = new float[pool.size()][maxT];
    }

    /**
     * q holds the nh query heads at qOff (hs values each); the cache holds rows of kvw = nkv·hs values,
     * row t at cacheOff + t·kvw; out receives nh·hs values at outOff.
     */
    public void forward(float[] q, int qOff, float[] kCache, float[] vCache, int cacheOff, int kvw, int pos, int nh, int nkv, int hs,
                        float[] out, int outOff) {
        int group = nh / nkv;
        float scale = (float) (1.0 / Math.sqrt(hs));
        // one task per head once the cache is long enough to pay for waking a worker
        pool.forRange(nh, pool.chunksFor((long) nh * (pos + 1) * hs * 2, 1 << 15), (s, e, chunk, w) -> {
            float[] sc = scores[w];
            for (int h = s; h < e; h++) {
                int kv = cacheOff + (h / group) * hs, qh = qOff + h * hs, oh = outOff + h * hs;
                for (int t = 0; t <= pos; t++) sc[t] = Vec.dot(q, qh, kCache, kv + t * kvw, hs) * scale;
                float max = Vec.max(sc, 0, pos + 1);
                float inv = 1f / Vec.expInPlace(sc, 0, pos + 1, 1f, max);
                java.util.Arrays.fill(out, oh, oh + hs, 0f);
                for (int t = 0; t <= pos; t++) axpy(sc[t] * inv, vCache, kv + t * kvw, out, oh, hs);
            }
        });
    }

    /** y[yOff, yOff+n) += a · x[xOff, xOff+n) */
    private static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector av = FloatVector.broadcast(Vec.S, a);
        int i = 0, bound = Vec.S.loopBound(n);
        for (; i < bound; i += Vec.L) Vec.fma(av, FloatVector.fromArray(Vec.S, x, xOff + i), FloatVector.fromArray(Vec.S, y, yOff + i)).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = Vec.fma(a, x[xOff + i], y[yOff + i]);
    }
}
