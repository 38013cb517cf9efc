package dev.crucible.model.optim;

import dev.crucible.model.Safetensors;
import dev.crucible.tensor.Gemm;
import dev.crucible.tensor.NewtonSchulz;
import java.util.List;

/**
 * SWAN (Ma et al., arXiv 2412.13148), stateless: GradNorm standardises each row of the out×in
 * gradient over its in entries (mean 0, population standard deviation 1), GradWhitening maps the
 * result G̃ to its polar factor (G̃·G̃ᵀ)^(-1/2)·G̃, computed from the smaller Gram matrix by the
 * coupled Newton–Schulz iteration (ns_steps steps), and W ← W·(1 − lr·wd) − lr·O. No optimizer state.
 */
final class SwanRule implements UpdateRule {
    private final Hyperparameters h;
    private final List<MatrixUnit> units;
    private final Gemm gemm;
    private final NewtonSchulz ns;
    private float[] g = new float[0], o = new float[0], gram = new float[0], z = new float[0];

    SwanRule(List<MatrixUnit> units, Hyperparameters h, Gemm gemm, NewtonSchulz ns) {
        this.h = h;
        this.units = units;
        this.gemm = gemm;
        this.ns = ns;
    }

    /** GradNorm in place: each row of a rows×cols matrix less its mean, over its population standard deviation (a constant row becomes 0). */
    static void gradNorm(float[] a, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            double sum = 0, sq = 0;
            for (int c = 0; c < cols; c++) sum += a[r * cols + c];
            double mean = sum / cols;
            for (int c = 0; c < cols; c++) {
                double d = a[r * cols + c] - mean;
                sq += d * d;
            }
            double std = Math.sqrt(sq / cols);
            for (int c = 0; c < cols; c++) a[r * cols + c] = std > 0 ? (float) ((a[r * cols + c] - mean) / std) : 0f;
        }
    }

    /**
     * o = the polar factor U·Vᵀ of the rows×cols GradNorm output a, by the coupled Newton–Schulz
     * iteration on the smaller Gram matrix. The rows of a are centred, so a·1 = 0: a square or tall a is
     * singular along 1, and so is aᵀ·a. Then aᵀ·a gains (trace/cols)·11ᵀ/cols, which gives that
     * direction an average eigenvalue (the iteration would otherwise grow it 1.5× per step) and leaves
     * a·(aᵀa)^(-1/2) as it is. A wide a has full row rank, and a·aᵀ is used as it is.
     */
    void whiten(float[] a, int rows, int cols, float[] out) {
        int p = Math.min(rows, cols);
        if (gram.length < p * p) {
            gram = new float[p * p];
            z = new float[p * p];
        }
        if (rows < cols) {
            gemm.multiplySymmetric(p, cols, a, 0, cols, 1, a, 0, 1, cols, gram, 0, p); // A·Aᵀ
        } else {
            gemm.multiplySymmetric(p, rows, a, 0, 1, cols, a, 0, cols, 1, gram, 0, p); // Aᵀ·A
            double trace = 0;
            for (int i = 0; i < p; i++) trace += gram[i * p + i];
            float fill = (float) (trace / p / p);
            for (int i = 0; i < p * p; i++) gram[i] += fill;
        }
        double norm = ns.inverseSqrt(gram, p, h.nsSteps(), z);
        if (rows < cols) {
            gemm.multiply(rows, cols, rows, z, 0, 1, p, a, 0, cols, 1, out, 0, cols, false); // Z·A (Z symmetric, read through its transpose)
        } else {
            gemm.multiply(rows, cols, cols, a, 0, cols, 1, z, 0, p, 1, out, 0, cols, false); // A·Z
        }
        float inv = norm > 0 ? (float) (1 / Math.sqrt(norm)) : 0f;
        for (int i = 0; i < rows * cols; i++) out[i] *= inv;
    }

    @Override
    public void step(float[] params, float[] grads, float gradScale, double lr, double baseLr, long t) {
        double rate = UpdateRule.rate(h.lr(), lr, baseLr);
        float decay = (float) (1 - rate * h.weightDecay()), step = (float) rate;
        for (MatrixUnit u : units) {
            int n = u.size();
            if (g.length < n) {
                g = new float[n];
                o = new float[n];
            }
            for (int i = 0; i < n; i++) g[i] = grads[u.offset() + i] * gradScale;
            gradNorm(g, u.rows(), u.cols());
            whiten(g, u.rows(), u.cols(), o);
            u.descend(params, o, decay, step);
        }
    }

    @Override
    public List<Safetensors.Source> state() {
        return List.of();
    }

    @Override
    public void load(Safetensors.TensorSource file) {}
}
