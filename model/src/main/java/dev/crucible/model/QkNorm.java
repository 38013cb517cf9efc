package dev.crucible.model;

import dev.crucible.tensor.Norms;

/**
 * QK-norm: RMSNorm over each query head and each key head of the fused qkv activation, before RoPE,
 * with a gain of head size shared by the query heads and one shared by the key heads (Qwen3's
 * q_norm and k_norm; modded-nanogpt normalises each head too, without a gain; OLMo 2 normalises the
 * whole query and key projections instead). The heads
 * are gathered into contiguous rows (all query rows, then all key rows), normalised there, and
 * scattered back; the gathered raw heads and their statistics stay for backward.
 */
final class QkNorm {
    private final Norms norms;
    private final int nh, nkv, hs, w;
    private final float eps;

    QkNorm(Norms norms, int nh, int nkv, int hs, double eps) {
        this.norms = norms;
        this.nh = nh;
        this.nkv = nkv;
        this.hs = hs;
        this.w = (nh + 2 * nkv) * hs;
        this.eps = (float) eps;
    }

    /** Floats of the gathered heads of bt tokens. */
    int rawSize(int bt) {
        return bt * (nh + nkv) * hs;
    }

    int statSize(int bt) {
        return bt * (nh + nkv);
    }

    /** Normalises the q and k heads of qkv rows [qo, qo + bt·w) in place; raw (at rawOff) and rstd (at statOff) keep what backward needs. */
    void forward(float[] qkv, int qo, int bt, float[] raw, int rawOff, float[] rstd, int statOff, float[] scratch, float[] p, int qW, int kW) {
        gather(qkv, qo, bt, raw, rawOff);
        int qRows = bt * nh;
        norms.rmsNormForward(scratch, 0, rstd, statOff, raw, rawOff, p, qW, qRows, hs, eps);
        norms.rmsNormForward(scratch, qRows * hs, rstd, statOff + qRows, raw, rawOff + qRows * hs, p, kW, bt * nkv, hs, eps);
        scatter(scratch, 0, qkv, qo, bt);
    }

    /** dqkv's q and k heads (gradients of the normalised heads) become the gradients of the raw heads; gains' gradients are added. */
    void backward(float[] dqkv, int dqo, int bt, float[] raw, int rawOff, float[] rstd, int statOff, float[] scratch, float[] p, float[] g,
                  int qW, int kW) {
        gather(dqkv, dqo, bt, scratch, 0);
        int qRows = bt * nh;
        norms.rmsNormBackward(scratch, 0, false, g, qW, scratch, 0, raw, rawOff, p, qW, rstd, statOff, qRows, hs);
        norms.rmsNormBackward(scratch, qRows * hs, false, g, kW, scratch, qRows * hs, raw, rawOff + qRows * hs, p, kW, rstd, statOff + qRows,
                bt * nkv, hs);
        scatter(scratch, 0, dqkv, dqo, bt);
    }

    /** Query heads of every token, then key heads, as contiguous rows of hs. */
    private void gather(float[] qkv, int qo, int bt, float[] to, int off) {
        int q = nh * hs, k = nkv * hs, kStart = off + bt * q;
        for (int r = 0; r < bt; r++) {
            System.arraycopy(qkv, qo + r * w, to, off + r * q, q);
            System.arraycopy(qkv, qo + r * w + q, to, kStart + r * k, k);
        }
    }

    private void scatter(float[] from, int off, float[] qkv, int qo, int bt) {
        int q = nh * hs, k = nkv * hs, kStart = off + bt * q;
        for (int r = 0; r < bt; r++) {
            System.arraycopy(from, off + r * q, qkv, qo + r * w, q);
            System.arraycopy(from, kStart + r * k, qkv, qo + r * w + q, k);
        }
    }

    /** One token's q and k heads (a row of the generator), in place. */
    void forwardRow(float[] qkv, int off, float[] rstd, float[] p, int qW, int kW) {
        norms.rmsNormForward(qkv, off, rstd, 0, qkv, off, p, qW, nh, hs, eps);
        norms.rmsNormForward(qkv, off + nh * hs, rstd, 0, qkv, off + nh * hs, p, kW, nkv, hs, eps);
    }
}
