package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * Query rows against their key/value caches, for decoding a token at a time (one row per sequence
 * being decoded): for each row and head h, out_h = softmax(q_h · K[0..pos]ᵀ / √hs) · V[0..pos], with
 * query head h reading key/value head h / (nh / nkv) (GQA). The (row, head) pairs run in parallel,
 * each with vector dot products and a vector multiply-add over the value rows; no T x T buffer, only
 * one row of pos+1 scores per worker. A row's result does not depend on the other rows.
 */
public final class DecodeAttention {
    private final WorkerPool pool;
    private final float[][] scores;

    public DecodeAttention(WorkerPool pool, int maxT) {
        this.pool = pool;
        scores = new float[pool.size()][maxT];
    }

    /**
     * Row r's nh query heads are at qOff + r·qStride (hs values each); its cache holds rows of
     * kvw = nkv·hs values in kCaches[r] and vCaches[r], position t at cacheOff[r] + t·kvw, up to pos[r];
     * its nh·hs outputs go to outOff + r·outStride.
     */
    public void forward(int rows, float[] q, int qOff, int qStride, float[][] kCaches, float[][] vCaches, int[] cacheOff, int kvw, int[] pos,
                        int nh, int nkv, int hs, float[] out, int outOff, int outStride) {
        jq = q;
        jk = kCaches;
        jv = vCaches;
        jout = out;
        jPos = pos;
        jCacheOff = cacheOff;
        jqOff = qOff;
        jqStride = qStride;
        jKvw = kvw;
        jNh = nh;
        jGroup = nh / nkv;
        jHs = hs;
        jOutOff = outOff;
        jOutStride = outStride;
        long work = 0;
        for (int r = 0; r < rows; r++) work += (long) nh * (pos[r] + 1) * hs * 2;
        try {
            // one task per (row, head) once the caches are long enough to pay for waking a worker
            pool.forRange(rows * nh, pool.chunksFor(work, 1 << 15), heads);
        } finally {
            jq = jout = null;
            jk = jv = null;
            jPos = jCacheOff = null;
        }
    }

    // The call forward() is working on, read by the task below, so that a token allocates no closure.
    private float[] jq, jout;
    private float[][] jk, jv;
    private int[] jPos, jCacheOff;
    private int jqOff, jqStride, jKvw, jNh, jGroup, jHs, jOutOff, jOutStride;
    private final WorkerPool.RangeTask heads = this::heads;

    private void heads(int s, int e, int chunk, int w) {
        float[] sc = scores[w];
        int hs = jHs, kvw = jKvw;
        float scale = (float) (1.0 / Math.sqrt(hs));
        for (int i = s; i < e; i++) {
            int r = i / jNh, h = i % jNh, pos = jPos[r];
            float[] k = jk[r], v = jv[r];
            int kv = jCacheOff[r] + (h / jGroup) * hs, qh = jqOff + r * jqStride + h * hs, oh = jOutOff + r * jOutStride + h * hs;
            for (int t = 0; t <= pos; t++) sc[t] = Vec.dot(jq, qh, k, kv + t * kvw, hs) * scale;
            float max = Vec.max(sc, 0, pos + 1);
            float inv = 1f / Vec.expInPlace(sc, 0, pos + 1, 1f, max);
            weightedValues(sc, inv, pos, v, kv, kvw, hs, jout, oh);
        }
    }

    /**
     * out[0, hs) = Σ_t (sc[t]·inv)·v_t over the value rows v_t at kv + t·kvw, summed over t in order as
     * repeated {@link Vec#axpy} from zero would (each step one multiply-add per element), but with up
     * to four vectors of the output held in registers across the positions instead of read back and
     * written once per position.
     */
    private static void weightedValues(float[] sc, float inv, int pos, float[] v, int kv, int kvw, int hs, float[] out, int oh) {
        int vectors = Vec.S.loopBound(hs), i0 = 0;
        for (; i0 < vectors; i0 += 4 * Vec.L) {
            int n = Math.min(4, (vectors - i0) / Vec.L);
            FloatVector a0 = FloatVector.zero(Vec.S), a1 = a0, a2 = a0, a3 = a0;
            for (int t = 0, row = kv + i0; t <= pos; t++, row += kvw) {
                FloatVector p = FloatVector.broadcast(Vec.S, sc[t] * inv);
                a0 = Vec.fma(p, FloatVector.fromArray(Vec.S, v, row), a0);
                if (n > 1) a1 = Vec.fma(p, FloatVector.fromArray(Vec.S, v, row + Vec.L), a1);
                if (n > 2) a2 = Vec.fma(p, FloatVector.fromArray(Vec.S, v, row + 2 * Vec.L), a2);
                if (n > 3) a3 = Vec.fma(p, FloatVector.fromArray(Vec.S, v, row + 3 * Vec.L), a3);
            }
            a0.intoArray(out, oh + i0);
            if (n > 1) a1.intoArray(out, oh + i0 + Vec.L);
            if (n > 2) a2.intoArray(out, oh + i0 + 2 * Vec.L);
            if (n > 3) a3.intoArray(out, oh + i0 + 3 * Vec.L);
        }
        for (int i = vectors; i < hs; i++) {
            float y = 0f;
            for (int t = 0; t <= pos; t++) y = Vec.fma(sc[t] * inv, v[kv + t * kvw + i], y);
            out[oh + i] = y;
        }
    }
}
