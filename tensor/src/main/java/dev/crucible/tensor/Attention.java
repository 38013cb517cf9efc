package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Causal multi-head self-attention with grouped-query heads, on a fused qkv activation of shape
 * (B, T, (NH + 2·NKV)·hs): query heads first, then key heads, then value heads. Query head h reads
 * key/value head h / (NH / NKV). Scores, weighted sums and all backward products go through the
 * packed GEMM on strided views, one (batch, key/value head) group per task; the softmax
 * probabilities (B, NH, T, T) are kept for backward.
 */
public final class Attention {
    private final Gemm gemm;
    private final WorkerPool pool;
    private final float[][] dprobs, dropped;

    public Attention(Gemm gemm) {
        this.gemm = gemm;
        this.pool = gemm.pool();
        this.dprobs = new float[pool.size()][];
        this.dropped = new float[pool.size()][];
    }

    /** Width of the fused qkv row. */
    public static int qkvWidth(int nh, int nkv, int hs) {
        return (nh + 2 * nkv) * hs;
    }

    /** out (B,T,NH·hs) = softmax(causal(Q·Kᵀ / sqrt(hs))) · V; probs (B,NH,T,T) saved. */
    public void forward(float[] out, int outOff, float[] probs, int probsOff, float[] qkv, int qkvOff, int b, int t, int nh,
                        int nkv, int hs) {
        forward(out, outOff, probs, probsOff, qkv, qkvOff, b, t, nh, nkv, hs, 0, 0f);
    }

    /**
     * As above with dropout at rate dropP on the probabilities (the mask of dropKey, probability
     * (bi, h, i, j) being element ((bi·NH + h)·T + i)·T + j): out = (P ∘ mask / (1 − p)) · V, probs
     * keep P itself for backward.
     */
    public void forward(float[] out, int outOff, float[] probs, int probsOff, float[] qkv, int qkvOff, int b, int t, int nh,
                        int nkv, int hs, long dropKey, float dropP) {
        final int w = qkvWidth(nh, nkv, hs), oc = nh * hs, group = nh / nkv;
        final float scale = (float) (1.0 / Math.sqrt(hs));
        pool.run(b * nh, (task, wk) -> {
            int bi = task / nh, h = task % nh, kvh = h / group;
            int base = qkvOff + bi * t * w;
            int q = base + h * hs, k = base + (nh + kvh) * hs, v = base + (nh + nkv + kvh) * hs;
            int p = probsOff + (bi * nh + h) * t * t;
            gemm.multiplySerial(wk, t, t, hs, qkv, q, w, 1, qkv, k, 1, w, probs, p, t, false, true);
            softmaxCausal(probs, p, t, scale);
            float[] src = probs;
            int srcOff = p;
            if (dropP > 0) {
                src = drop(wk, probs, p, t, (long) (bi * nh + h) * t * t, dropKey, dropP);
                srcOff = 0;
            }
            gemm.multiplySerial(wk, t, hs, t, src, srcOff, t, 1, qkv, v, w, 1, out, outOff + bi * t * oc + h * hs, oc, false,
                    false);
        });
    }

    /**
     * dqkv (B,T,(NH+2NKV)·hs) = gradient of the attention output dout (B,T,NH·hs) with respect to
     * qkv (overwritten). Tasks own one (batch, key/value head) group, so dK and dV of shared heads
     * are summed over their query heads in a fixed order.
     */
    public void backward(float[] dqkv, int dqkvOff, float[] dout, int doutOff, float[] qkv, int qkvOff, float[] probs,
                         int probsOff, int b, int t, int nh, int nkv, int hs) {
        backward(dqkv, dqkvOff, dout, doutOff, qkv, qkvOff, probs, probsOff, b, t, nh, nkv, hs, 0, 0f);
    }

    /** As above after a forward with dropout (the same dropKey and dropP). */
    public void backward(float[] dqkv, int dqkvOff, float[] dout, int doutOff, float[] qkv, int qkvOff, float[] probs,
                         int probsOff, int b, int t, int nh, int nkv, int hs, long dropKey, float dropP) {
        final int w = qkvWidth(nh, nkv, hs), oc = nh * hs, group = nh / nkv;
        final float scale = (float) (1.0 / Math.sqrt(hs));
        pool.run(b * nkv, (task, wk) -> {
            int bi = task / nkv, kvh = task % nkv;
            float[] dp = dprobs[wk];
            if (dp == null || dp.length < t * t) dp = dprobs[wk] = new float[t * t];
            int base = qkvOff + bi * t * w, dbase = dqkvOff + bi * t * w;
            int k = base + (nh + kvh) * hs, v = base + (nh + nkv + kvh) * hs;
            int dk = dbase + (nh + kvh) * hs, dv = dbase + (nh + nkv + kvh) * hs;
            for (int g = 0; g < group; g++) {
                int h = kvh * group + g;
                int q = base + h * hs, dq = dbase + h * hs, dO = doutOff + bi * t * oc + h * hs;
                int p = probsOff + (bi * nh + h) * t * t;
                boolean acc = g > 0;
                // dP = dO · Vᵀ (lower triangle), dV (+)= Pᵀ · dO; with dropout P is the dropped P', and dP the gradient of P' times the mask
                gemm.multiplySerial(wk, t, t, hs, dout, dO, oc, 1, qkv, v, 1, w, dp, 0, t, false, true);
                if (dropP > 0) {
                    long first = (long) (bi * nh + h) * t * t;
                    float[] pd = drop(wk, probs, p, t, first, dropKey, dropP);
                    gemm.multiplySerial(wk, t, hs, t, pd, 0, 1, t, dout, dO, oc, 1, dqkv, dv, w, acc, false);
                    maskLowerTriangle(dp, t, first, dropKey, dropP);
                } else {
                    gemm.multiplySerial(wk, t, hs, t, probs, p, 1, t, dout, dO, oc, 1, dqkv, dv, w, acc, false);
                }
                softmaxBackward(dp, probs, p, t, scale);
                // dQ = dS · K, dK (+)= dSᵀ · Q
                gemm.multiplySerial(wk, t, hs, t, dp, 0, t, 1, qkv, k, w, 1, dqkv, dq, w, false, false);
                gemm.multiplySerial(wk, t, hs, t, dp, 0, 1, t, qkv, q, w, 1, dqkv, dk, w, acc, false);
            }
        });
    }

    /** The worker's copy of a head's probabilities with the dropout mask applied (zeros above the diagonal). */
    private float[] drop(int wk, float[] probs, int p, int t, long first, long key, float dropP) {
        float[] pd = dropped[wk];
        if (pd == null || pd.length < t * t) pd = dropped[wk] = new float[t * t];
        float s = 1f / (1f - dropP);
        for (int i = 0; i < t; i++) {
            for (int j = 0; j <= i; j++) pd[i * t + j] = Dropout.keep(key, first + (long) i * t + j, dropP) ? probs[p + i * t + j] * s : 0f;
            java.util.Arrays.fill(pd, i * t + i + 1, (i + 1) * t, 0f);
        }
        return pd;
    }

    /** dp := dp ∘ mask / (1 − p) on the lower triangle. */
    private static void maskLowerTriangle(float[] dp, int t, long first, long key, float dropP) {
        float s = 1f / (1f - dropP);
        for (int i = 0; i < t; i++) {
            for (int j = 0; j <= i; j++) dp[i * t + j] = Dropout.keep(key, first + (long) i * t + j, dropP) ? dp[i * t + j] * s : 0f;
        }
    }

    /** Row r of s (T x T): softmax over columns 0..r of scale·s, zeros above the diagonal. */
    private static void softmaxCausal(float[] s, int off, int t, float scale) {
        for (int r = 0; r < t; r++) {
            int row = off + r * t, n = r + 1;
            float max = Float.NEGATIVE_INFINITY;
            int i = 0, bound = Vec.S.loopBound(n);
            if (bound > 0) {
                FloatVector mv = FloatVector.broadcast(Vec.S, Float.NEGATIVE_INFINITY);
                for (; i < bound; i += Vec.L) mv = mv.max(FloatVector.fromArray(Vec.S, s, row + i));
                max = mv.reduceLanes(VectorOperators.MAX);
            }
            for (; i < n; i++) max = Math.max(max, s[row + i]);
            float shift = max * scale;
            FloatVector sc = FloatVector.broadcast(Vec.S, scale), sh = FloatVector.broadcast(Vec.S, shift);
            FloatVector acc = FloatVector.zero(Vec.S);
            for (i = 0; i < bound; i += Vec.L) {
                FloatVector e = Vec.exp(FloatVector.fromArray(Vec.S, s, row + i).mul(sc).sub(sh));
                e.intoArray(s, row + i);
                acc = acc.add(e);
            }
            float sum = Vec.sumLanes(acc);
            for (; i < n; i++) {
                float e = Vec.exp(s[row + i] * scale - shift);
                s[row + i] = e;
                sum += e;
            }
            float inv = 1f / sum;
            FloatVector iv = FloatVector.broadcast(Vec.S, inv);
            for (i = 0; i < bound; i += Vec.L) FloatVector.fromArray(Vec.S, s, row + i).mul(iv).intoArray(s, row + i);
            for (; i < n; i++) s[row + i] *= inv;
            java.util.Arrays.fill(s, row + n, row + t, 0f);
        }
    }

    /** dp := scale · P ∘ (dP − rowsum(P ∘ dP)) on the lower triangle, zeros above it. */
    private static void softmaxBackward(float[] dp, float[] probs, int p, int t, float scale) {
        for (int r = 0; r < t; r++) {
            int row = r * t, prow = p + r * t, n = r + 1;
            float dot = Vec.dot(probs, prow, dp, row, n);
            FloatVector dv = FloatVector.broadcast(Vec.S, dot);
            int i = 0, bound = Vec.S.loopBound(n);
            for (; i < bound; i += Vec.L) {
                FloatVector pv = FloatVector.fromArray(Vec.S, probs, prow + i);
                FloatVector.fromArray(Vec.S, dp, row + i).sub(dv).mul(pv).mul(scale).intoArray(dp, row + i);
            }
            for (; i < n; i++) dp[row + i] = probs[prow + i] * (dp[row + i] - dot) * scale;
            java.util.Arrays.fill(dp, row + n, row + t, 0f);
        }
    }
}
