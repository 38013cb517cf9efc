package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * LayerNorm (with bias) and RMSNorm over the last dimension of (rows, C), with the per-row
 * statistics saved for backward. Weight gradients are reduced over rows in fixed chunks and summed
 * in chunk order, so they do not depend on the number of threads.
 */
public final class Norms {
    /** Row chunks for the weight-gradient reduction; fixed so results are thread-count independent. */
    static final int CHUNKS = 16;

    private final WorkerPool pool;
    private float[] partial = new float[0];

    public Norms(WorkerPool pool) {
        this.pool = pool;
    }

    /** out = (x - mean) * rstd * w + b per row; saves mean and rstd at statOff. */
    public void layerNormForward(float[] out, int outOff, float[] mean, float[] rstd, int statOff, float[] inp, int inpOff,
                                 float[] w, int wOff, float[] b, int bOff, int rows, int c, float eps) {
        pool.forRange(rows, pool.chunksFor((long) rows * c, 1 << 13), (s, e, ch, wk) -> {
            for (int r = s; r < e; r++) {
                int x = inpOff + r * c, o = outOff + r * c;
                float m = Vec.sum(inp, x, c) / c;
                float v = Vec.sumSquaredDeviation(inp, x, c, m) / c;
                float rs = (float) (1.0 / Math.sqrt(v + eps));
                mean[statOff + r] = m;
                rstd[statOff + r] = rs;
                FloatVector mv = FloatVector.broadcast(Vec.S, m), rv = FloatVector.broadcast(Vec.S, rs);
                int i = 0, bound = Vec.S.loopBound(c);
                for (; i < bound; i += Vec.L) {
                    FloatVector n = FloatVector.fromArray(Vec.S, inp, x + i).sub(mv).mul(rv);
                    Vec.fma(n, FloatVector.fromArray(Vec.S, w, wOff + i), FloatVector.fromArray(Vec.S, b, bOff + i))
                            .intoArray(out, o + i);
                }
                for (; i < c; i++) out[o + i] = (inp[x + i] - m) * rs * w[wOff + i] + b[bOff + i];
            }
        });
    }

    /**
     * dinp += LayerNorm input gradient (dinp = when not accumulateInput); dw += sum_rows dout * norm;
     * db += sum_rows dout.
     */
    public void layerNormBackward(float[] dinp, int dinpOff, boolean accumulateInput, float[] dw, int dwOff, float[] db, int dbOff, float[] dout,
                                  int doutOff, float[] inp, int inpOff, float[] w, int wOff, float[] mean, float[] rstd,
                                  int statOff, int rows, int c) {
        int chunks = Math.min(CHUNKS, rows);
        float[] part = partials(chunks * 2 * c);
        pool.forRange(rows, chunks, (s, e, ch, wk) -> {
            int pw = ch * 2 * c, pb = pw + c;
            java.util.Arrays.fill(part, pw, pw + 2 * c, 0f);
            for (int r = s; r < e; r++) {
                int x = inpOff + r * c, d = doutOff + r * c, di = dinpOff + r * c;
                float m = mean[statOff + r], rs = rstd[statOff + r];
                // mean of dnorm and of dnorm * norm, where dnorm = dout * w and norm = (x - m) * rs
                float sumD = 0f, sumDN = 0f;
                FloatVector aD = FloatVector.zero(Vec.S), aDN = aD, mv = FloatVector.broadcast(Vec.S, m),
                        rv = FloatVector.broadcast(Vec.S, rs);
                int i = 0, bound = Vec.S.loopBound(c);
                for (; i < bound; i += Vec.L) {
                    FloatVector n = FloatVector.fromArray(Vec.S, inp, x + i).sub(mv).mul(rv);
                    FloatVector go = FloatVector.fromArray(Vec.S, dout, d + i);
                    FloatVector dn = go.mul(FloatVector.fromArray(Vec.S, w, wOff + i));
                    aD = aD.add(dn);
                    aDN = Vec.fma(dn, n, aDN);
                    Vec.fma(go, n, FloatVector.fromArray(Vec.S, part, pw + i)).intoArray(part, pw + i);
                    go.add(FloatVector.fromArray(Vec.S, part, pb + i)).intoArray(part, pb + i);
                }
                sumD = Vec.sumLanes(aD);
                sumDN = Vec.sumLanes(aDN);
                for (; i < c; i++) {
                    float n = (inp[x + i] - m) * rs, go = dout[d + i], dn = go * w[wOff + i];
                    sumD += dn;
                    sumDN += dn * n;
                    part[pw + i] += go * n;
                    part[pb + i] += go;
                }
                float meanD = sumD / c, meanDN = sumDN / c;
                FloatVector mD = FloatVector.broadcast(Vec.S, meanD), mDN = FloatVector.broadcast(Vec.S, meanDN);
                for (i = 0; i < bound; i += Vec.L) {
                    FloatVector n = FloatVector.fromArray(Vec.S, inp, x + i).sub(mv).mul(rv);
                    FloatVector dn = FloatVector.fromArray(Vec.S, dout, d + i).mul(FloatVector.fromArray(Vec.S, w, wOff + i));
                    FloatVector g = dn.sub(mD).sub(n.mul(mDN)).mul(rv);
                    (accumulateInput ? g.add(FloatVector.fromArray(Vec.S, dinp, di + i)) : g).intoArray(dinp, di + i);
                }
                for (; i < c; i++) {
                    float n = (inp[x + i] - m) * rs, dn = dout[d + i] * w[wOff + i];
                    float g = (dn - meanD - n * meanDN) * rs;
                    dinp[di + i] = accumulateInput ? dinp[di + i] + g : g;
                }
            }
        });
        reducePartials(part, chunks, 2 * c, dw, dwOff, db, dbOff, c);
    }

    /** out = x * rstd * w per row, rstd = 1 / sqrt(mean(x^2) + eps); saves rstd at statOff. */
    public void rmsNormForward(float[] out, int outOff, float[] rstd, int statOff, float[] inp, int inpOff, float[] w,
                               int wOff, int rows, int c, float eps) {
        pool.forRange(rows, pool.chunksFor((long) rows * c, 1 << 13), (s, e, ch, wk) -> {
            for (int r = s; r < e; r++) {
                int x = inpOff + r * c, o = outOff + r * c;
                float ms = Vec.dot(inp, x, inp, x, c) / c;
                float rs = (float) (1.0 / Math.sqrt(ms + eps));
                rstd[statOff + r] = rs;
                FloatVector rv = FloatVector.broadcast(Vec.S, rs);
                int i = 0, bound = Vec.S.loopBound(c);
                for (; i < bound; i += Vec.L) {
                    FloatVector.fromArray(Vec.S, inp, x + i).mul(rv).mul(FloatVector.fromArray(Vec.S, w, wOff + i))
                            .intoArray(out, o + i);
                }
                for (; i < c; i++) out[o + i] = inp[x + i] * rs * w[wOff + i];
            }
        });
    }

    /** dinp += RMSNorm input gradient (dinp = when not accumulateInput); dw += sum_rows dout * x * rstd. */
    public void rmsNormBackward(float[] dinp, int dinpOff, boolean accumulateInput, float[] dw, int dwOff, float[] dout, int doutOff, float[] inp,
                                int inpOff, float[] w, int wOff, float[] rstd, int statOff, int rows, int c) {
        int chunks = Math.min(CHUNKS, rows);
        float[] part = partials(chunks * c);
        pool.forRange(rows, chunks, (s, e, ch, wk) -> {
            int pw = ch * c;
            java.util.Arrays.fill(part, pw, pw + c, 0f);
            for (int r = s; r < e; r++) {
                int x = inpOff + r * c, d = doutOff + r * c, di = dinpOff + r * c;
                float rs = rstd[statOff + r];
                FloatVector rv = FloatVector.broadcast(Vec.S, rs), aDN = FloatVector.zero(Vec.S);
                int i = 0, bound = Vec.S.loopBound(c);
                for (; i < bound; i += Vec.L) {
                    FloatVector n = FloatVector.fromArray(Vec.S, inp, x + i).mul(rv);
                    FloatVector go = FloatVector.fromArray(Vec.S, dout, d + i);
                    aDN = Vec.fma(go.mul(FloatVector.fromArray(Vec.S, w, wOff + i)), n, aDN);
                    Vec.fma(go, n, FloatVector.fromArray(Vec.S, part, pw + i)).intoArray(part, pw + i);
                }
                float sumDN = Vec.sumLanes(aDN);
                for (; i < c; i++) {
                    float n = inp[x + i] * rs, go = dout[d + i];
                    sumDN += go * w[wOff + i] * n;
                    part[pw + i] += go * n;
                }
                float meanDN = sumDN / c;
                FloatVector mDN = FloatVector.broadcast(Vec.S, meanDN);
                for (i = 0; i < bound; i += Vec.L) {
                    FloatVector n = FloatVector.fromArray(Vec.S, inp, x + i).mul(rv);
                    FloatVector dn = FloatVector.fromArray(Vec.S, dout, d + i).mul(FloatVector.fromArray(Vec.S, w, wOff + i));
                    FloatVector g = dn.sub(n.mul(mDN)).mul(rv);
                    (accumulateInput ? g.add(FloatVector.fromArray(Vec.S, dinp, di + i)) : g).intoArray(dinp, di + i);
                }
                for (; i < c; i++) {
                    float n = inp[x + i] * rs, dn = dout[d + i] * w[wOff + i];
                    float g = (dn - n * meanDN) * rs;
                    dinp[di + i] = accumulateInput ? dinp[di + i] + g : g;
                }
            }
        });
        reducePartials(part, chunks, c, dw, dwOff, null, 0, c);
    }

    private float[] partials(int n) {
        if (partial.length < n) partial = new float[n];
        return partial;
    }

    /** Adds the chunk partials, in chunk order, into dw (first c of each stride) and db (next c). */
    private static void reducePartials(float[] part, int chunks, int stride, float[] dw, int dwOff, float[] db, int dbOff,
                                       int c) {
        for (int ch = 0; ch < chunks; ch++) {
            Vec.addInto(dw, dwOff, part, ch * stride, c);
            if (db != null) Vec.addInto(db, dbOff, part, ch * stride + c, c);
        }
    }
}
