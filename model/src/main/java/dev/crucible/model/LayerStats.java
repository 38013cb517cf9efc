package dev.crucible.model;

/**
 * Per-layer measures of what a network does with its hidden states, in double, over (rows, d) row
 * vectors: how much a layer changes the residual stream (the Mix-LN and Curse-of-Depth papers'
 * angular distance) and how heavy-tailed its output is (the Outlier-Safe Pre-Training paper's excess
 * kurtosis).
 */
public final class LayerStats {
    private LayerStats() {}

    /**
     * Mean over rows of arccos(cos(a_r, b_r)) / π: 0 when a layer leaves each token's vector's
     * direction as it was, 1 when it reverses it. Rows where either vector is zero count as 0. Every
     * token counts (the papers, after Gromov et al., read the last token of each sequence only).
     */
    public static double angularDistance(float[] a, float[] b, int rows, int d) {
        double total = 0;
        for (int r = 0; r < rows; r++) {
            double dot = 0, na = 0, nb = 0;
            for (int i = r * d; i < (r + 1) * d; i++) {
                dot += (double) a[i] * b[i];
                na += (double) a[i] * a[i];
                nb += (double) b[i] * b[i];
            }
            if (na == 0 || nb == 0) continue;
            double cos = Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)));
            total += Math.acos(cos) / Math.PI;
        }
        return total / rows;
    }

    /**
     * Excess kurtosis as the OSP paper's evaluate_kurtosis.py computes it, averaged over rows:
     * κ = mean(x⁴) / std(x)⁴ − 3 with an uncentred numerator and the unbiased (n − 1) standard deviation,
     * then ReLU(κ). For [0, 0, 0, 4] it is exactly 1.
     */
    public static double excessKurtosis(float[] x, int rows, int d) {
        double total = 0;
        for (int r = 0; r < rows; r++) total += Math.max(0, excessKurtosisOfRow(x, r * d, d));
        return total / rows;
    }

    static double excessKurtosisOfRow(float[] x, int off, int d) {
        double mean = 0, fourth = 0;
        for (int i = off; i < off + d; i++) {
            mean += x[i];
            double sq = (double) x[i] * x[i];
            fourth += sq * sq;
        }
        mean /= d;
        double var = 0;
        for (int i = off; i < off + d; i++) var += (x[i] - mean) * (x[i] - mean);
        var /= d - 1;
        if (var == 0) return 0;
        return fourth / d / (var * var) - 3;
    }

    /** Σ v² over the given tensors of a flat buffer (a layer's gradient or weights). */
    public static double squaredNorm(float[] flat, Iterable<ParamLayout.Tensor> tensors) {
        double s = 0;
        for (ParamLayout.Tensor t : tensors) for (int i = t.offset(); i < t.end(); i++) s += (double) flat[i] * flat[i];
        return s;
    }

    /** Σ (a − b)² over the given tensors of two flat buffers (a layer's last update). */
    public static double squaredDistance(float[] a, float[] b, Iterable<ParamLayout.Tensor> tensors) {
        double s = 0;
        for (ParamLayout.Tensor t : tensors) {
            for (int i = t.offset(); i < t.end(); i++) {
                double dlt = (double) a[i] - b[i];
                s += dlt * dlt;
            }
        }
        return s;
    }
}
