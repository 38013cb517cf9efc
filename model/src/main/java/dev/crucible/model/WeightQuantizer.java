package dev.crucible.model;

/**
 * Round-to-nearest weight quantisation as the Outlier-Safe Pre-Training paper evaluates it (its
 * utils/quant_utils.py, QuaRot's symmetric form, not GPTQ's zero-point one): symmetric, per output channel (a row of our [out, in]
 * matrices), integers in [−2^(b−1), 2^(b−1) − 1], scale = p·max|w| / (2^(b−1) − 1) with the clip p
 * searched from 1.00 down to 0.21 in steps of 0.01 for the least Σ|q·scale − w|^2.4, and ties rounded
 * to even (as torch.round does: Math.rint, not Math.round). The hidden matrices are quantised; the
 * embeddings, the LM head, norms and biases stay in full precision, and so do the embedding
 * projections, which a deployed model has folded into the embedding and the head.
 */
public final class WeightQuantizer {
    static final double ERROR_NORM = 2.4, MAX_SHRINK = 0.8;
    static final int GRID = 100;

    private final int bits;
    private final boolean clipSearch;

    public WeightQuantizer(int bits, boolean clipSearch) {
        if (bits < 2 || bits > 8) throw new IllegalArgumentException("bits: 2 to 8, got " + bits);
        this.bits = bits;
        this.clipSearch = clipSearch;
    }

    /** The quantised variant an evaluation names (eval --quantize, a sweep's eval.quantize): w4, 4-bit weights with the clip search. */
    public static WeightQuantizer named(String variant) {
        if (!"w4".equals(variant)) throw new IllegalArgumentException("quantize: only w4 (4-bit weights) is supported, got " + variant);
        return new WeightQuantizer(4, true);
    }

    /** The parameters with every hidden matrix quantised and dequantised (a copy). */
    public float[] apply(ParamLayout layout, float[] params) {
        float[] out = params.clone();
        for (ParamLayout.Tensor t : layout.tensors()) {
            if (t.role() != ParamLayout.Role.HIDDEN_MATRIX || layout.isEmbeddingProjection(t)) continue;
            for (int r = 0; r < t.rows(); r++) quantizeRow(out, t.offset() + r * t.cols(), t.cols());
        }
        return out;
    }

    /** Quantises and dequantises row [off, off + n) in place. */
    void quantizeRow(float[] w, int off, int n) {
        double max = 0;
        for (int i = off; i < off + n; i++) max = Math.max(max, Math.abs(w[i]));
        if (max == 0) return;
        int qmax = (1 << (bits - 1)) - 1;
        double bestScale = max / qmax;
        if (clipSearch) {
            double best = Double.POSITIVE_INFINITY;
            for (int i = 0; i < (int) (MAX_SHRINK * GRID); i++) {
                double p = 1 - (double) i / GRID, scale = p * max / qmax, err = 0;
                for (int j = off; j < off + n; j++) err += Math.pow(Math.abs(dequantize(w[j], scale, qmax) - w[j]), ERROR_NORM);
                if (err < best) {
                    best = err;
                    bestScale = scale;
                }
            }
        }
        for (int j = off; j < off + n; j++) w[j] = (float) dequantize(w[j], bestScale, qmax);
    }

    private static double dequantize(float v, double scale, int qmax) {
        double q = Math.max(-qmax - 1, Math.min(qmax, Math.rint(v / scale)));
        return q * scale;
    }
}
