package dev.crucible.model.optim;

import dev.crucible.model.Safetensors;
import java.util.List;

/**
 * SinkGD (Scetbon et al., arXiv 2502.06742), stateless: the out×in gradient is normalised
 * alternately by rows (each to norm sqrt(in)) and by columns (each to norm sqrt(out)), iterations
 * times, Sinkhorn-style, and W ← W·(1 − lr·wd) − lr·X. O(out·in) per step; no optimizer state.
 */
final class SinkGdRule implements UpdateRule {
    private final Hyperparameters h;
    private final List<MatrixUnit> units;
    private float[] x = new float[0];
    private double[] colNorms = new double[0];

    SinkGdRule(List<MatrixUnit> units, Hyperparameters h) {
        this.h = h;
        this.units = units;
    }

    /** iterations rounds of: rows scaled to norm sqrt(cols), then columns to norm sqrt(rows); a zero row or column stays zero. */
    static void normalize(float[] a, int rows, int cols, int iterations, double[] colNorms) {
        double rowTarget = Math.sqrt(cols), colTarget = Math.sqrt(rows);
        for (int it = 0; it < iterations; it++) {
            for (int r = 0; r < rows; r++) {
                double sq = 0;
                for (int c = 0; c < cols; c++) sq += (double) a[r * cols + c] * a[r * cols + c];
                if (sq == 0) continue;
                float f = (float) (rowTarget / Math.sqrt(sq));
                for (int c = 0; c < cols; c++) a[r * cols + c] *= f;
            }
            java.util.Arrays.fill(colNorms, 0, cols, 0);
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) colNorms[c] += (double) a[r * cols + c] * a[r * cols + c];
            for (int c = 0; c < cols; c++) colNorms[c] = colNorms[c] == 0 ? 0 : colTarget / Math.sqrt(colNorms[c]);
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) a[r * cols + c] *= (float) colNorms[c];
        }
    }

    @Override
    public void step(float[] params, float[] grads, float gradScale, double lr, double baseLr, long t) {
        double rate = UpdateRule.rate(h.lr(), lr, baseLr);
        float decay = (float) (1 - rate * h.weightDecay()), step = (float) rate;
        for (MatrixUnit u : units) {
            int n = u.size();
            if (x.length < n) x = new float[n];
            if (colNorms.length < u.cols()) colNorms = new double[u.cols()];
            for (int i = 0; i < n; i++) x[i] = grads[u.offset() + i] * gradScale;
            normalize(x, u.rows(), u.cols(), h.iterations(), colNorms);
            for (int i = 0, q = u.offset(); i < n; i++, q++) params[q] = params[q] * decay - step * x[i];
        }
    }

    @Override
    public List<Safetensors.Source> state() {
        return List.of();
    }

    @Override
    public void load(Safetensors.TensorSource file) {}
}
