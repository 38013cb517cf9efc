package dev.crucible.model;

import dev.crucible.tensor.Norms;

/**
 * QK-norm: RMSNorm of the query and key parts of the fused qkv activation, before RoPE. Over each head, with a gain
 * of head size shared by the query heads and one shared by the key heads (Qwen3's q_norm and k_norm; modded-nanogpt
 * normalises each head too, without a gain), or over the whole query projection and the whole key projection of a
 * token, with a gain per dimension (OLMo 2's). The query parts are gathered into contiguous rows (all query rows,
 * then all key rows), normalised there, and scattered back; the gathered raw parts and their statistics stay for
 * backward.
 */
final class QkNormOp {
    private final Norms norms;
    private final int nh, nkv, hs, w;
    private final boolean whole;
    private final float eps;

    QkNormOp(Norms norms, ModelConfig c) {
        this.norms = norms;
        this.nh = c.nHead();
        this.nkv = c.nKvHead();
        this.hs = c.headSize();
        this.w = (nh + 2 * nkv) * hs;
        this.whole = c.qkNorm() == ModelConfig.QkNorm.WHOLE;
        this.eps = (float) c.normEps();
    }

    /** Floats of the gathered query and key parts of bt tokens. */
    int rawSize(int bt) {
        return bt * (nh + nkv) * hs;
    }

    /** One statistic per normalised row: per head, or per token's query and per token's key. */
    int statSize(int bt) {
        return whole ? 2 * bt : bt * (nh + nkv);
    }

    /** Normalised rows of the query parts of bt tokens, and their width. */
    private int qRows(int bt) {
        return whole ? bt : bt * nh;
    }

    private int kRows(int bt) {
        return whole ? bt : bt * nkv;
    }

    private int qWidth() {
        return whole ? nh * hs : hs;
    }

    private int kWidth() {
        return whole ? nkv * hs : hs;
    }

    /** Normalises the q and k parts of qkv rows [qo, qo + bt·w) in place; raw (at rawOff) and rstd (at statOff) keep what backward needs. */
    void forward(float[] qkv, int qo, int bt, float[] raw, int rawOff, float[] rstd, int statOff, float[] scratch, float[] p, int qW, int kW) {
        gather(qkv, qo, bt, raw, rawOff);
        int qFloats = bt * nh * hs;
        norms.rmsNormForward(scratch, 0, rstd, statOff, raw, rawOff, p, qW, qRows(bt), qWidth(), eps);
        norms.rmsNormForward(scratch, qFloats, rstd, statOff + qRows(bt), raw, rawOff + qFloats, p, kW, kRows(bt), kWidth(), eps);
        scatter(scratch, 0, qkv, qo, bt);
    }

    /** dqkv's q and k parts (gradients of the normalised parts) become the gradients of the raw parts; gains' gradients are added. */
    void backward(float[] dqkv, int dqo, int bt, float[] raw, int rawOff, float[] rstd, int statOff, float[] scratch, float[] p, float[] g,
                  int qW, int kW) {
        gather(dqkv, dqo, bt, scratch, 0);
        int qFloats = bt * nh * hs;
        norms.rmsNormBackward(scratch, 0, false, g, qW, scratch, 0, raw, rawOff, p, qW, rstd, statOff, qRows(bt), qWidth());
        norms.rmsNormBackward(scratch, qFloats, false, g, kW, scratch, qFloats, raw, rawOff + qFloats, p, kW, rstd, statOff + qRows(bt),
                kRows(bt), kWidth());
        scatter(scratch, 0, dqkv, dqo, bt);
    }

    /** Query parts of every token, then key parts, as contiguous rows. */
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

    /** One token's q and k parts (a row of the generator), in place; rstd needs room for {@link #statSize}(1). */
    void forwardRow(float[] qkv, int off, float[] rstd, float[] p, int qW, int kW) {
        norms.rmsNormForward(qkv, off, rstd, 0, qkv, off, p, qW, qRows(1), qWidth(), eps);
        norms.rmsNormForward(qkv, off + nh * hs, rstd, 0, qkv, off + nh * hs, p, kW, kRows(1), kWidth(), eps);
    }
}
