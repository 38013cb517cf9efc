package dev.crucible.tensor;

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
        jq = q;
        jk = kCache;
        jv = vCache;
        jout = out;
        jqOff = qOff;
        jCacheOff = cacheOff;
        jKvw = kvw;
        jPos = pos;
        jGroup = nh / nkv;
        jHs = hs;
        jOutOff = outOff;
        try {
            // one task per head once the cache is long enough to pay for waking a worker
            pool.forRange(nh, pool.chunksFor((long) nh * (pos + 1) * hs * 2, 1 << 15), heads);
        } finally {
            jq = jk = jv = jout = null;
        }
    }

    // The call forward() is working on, read by the task below, so that a token allocates no closure.
    private float[] jq, jk, jv, jout;
    private int jqOff, jCacheOff, jKvw, jPos, jGroup, jHs, jOutOff;
    private final WorkerPool.RangeTask heads = this::heads;

    private void heads(int s, int e, int chunk, int w) {
        float[] sc = scores[w];
        int hs = jHs, pos = jPos, kvw = jKvw;
        float scale = (float) (1.0 / Math.sqrt(hs));
        for (int h = s; h < e; h++) {
            int kv = jCacheOff + (h / jGroup) * hs, qh = jqOff + h * hs, oh = jOutOff + h * hs;
            for (int t = 0; t <= pos; t++) sc[t] = Vec.dot(jq, qh, jk, kv + t * kvw, hs) * scale;
            float max = Vec.max(sc, 0, pos + 1);
            float inv = 1f / Vec.expInPlace(sc, 0, pos + 1, 1f, max);
            java.util.Arrays.fill(jout, oh, oh + hs, 0f);
            for (int t = 0; t <= pos; t++) Vec.axpy(sc[t] * inv, jv, kv + t * kvw, jout, oh, hs);
        }
    }
}
