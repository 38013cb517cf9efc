package dev.crucible.model.optim;

import dev.crucible.model.HfFormat;
import dev.crucible.model.Safetensors;
import dev.crucible.tensor.Gemm;
import dev.crucible.tensor.RandomizedSvd;
import dev.crucible.tensor.Rng;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * GaLore (Zhao et al., ICML 2024, as jiaweizzhao/GaLore's galore_projector.py and adamw.py do it):
 * each out×in gradient G is projected to rank r, R = G·Pᵀ with P the top r right singular vectors
 * (r×in) when out ≥ in, else R = Pᵀ·G with the left ones (out×r); Adam runs on R (bias-corrected
 * with t, eps added to sqrt(v) before the correction, as transformers' AdamW); the update
 * ΔW = scale·(N·P or P·N), N = m/(sqrt(v)+eps), leaves at lr·sqrt(1−β2^t)/(1−β1^t), then
 * W ← W·(1 − lr·wd). P is recomputed from the current gradient every update_gap steps (the steps
 * before t are a multiple of it), by a randomised SVD; the moments carry over unchanged. State per
 * matrix: projector, exp_avg and exp_avg_sq, all in the [out, in] orientation and Crucible's row order (for GPT-2's
 * Conv1D tensors, which HF stores [in, out], that is the transpose of the parameter's file layout; for GPT-NeoX's
 * query_key_value, the q, k and v rows apart, not grouped by head as the file groups the parameter).
 */
final class GaLoreRule implements UpdateRule {
    private final Hyperparameters h;
    private final List<MatrixUnit> units;
    private final Gemm gemm;
    private final RandomizedSvd svd;
    private final int[] ranks;
    final float[][] projector, m, v;
    private float[] g = new float[0], r = new float[0], delta = new float[0];

    /**
     * The rank of a matrix: the configured one, else d_model/4 (the paper's ratio at 60M, 350M and 1B
     * parameters; its 130M model used d/3), capped by the matrix's smaller side as the reference's
     * slicing of the SVD caps it.
     */
    static int rank(Hyperparameters h, int dModel, int rows, int cols) {
        return Math.max(1, Math.min(h.rank() != null ? h.rank() : dModel / 4, Math.min(rows, cols)));
    }

    GaLoreRule(List<MatrixUnit> units, Hyperparameters h, int dModel, Gemm gemm) {
        this.h = h;
        this.units = units;
        this.gemm = gemm;
        this.svd = new RandomizedSvd(gemm);
        int n = units.size();
        ranks = new int[n];
        projector = new float[n][];
        m = new float[n][];
        v = new float[n][];
        for (int i = 0; i < n; i++) {
            MatrixUnit u = units.get(i);
            ranks[i] = rank(h, dModel, u.rows(), u.cols());
            projector[i] = new float[right(u) ? ranks[i] * u.cols() : u.rows() * ranks[i]];
            m[i] = new float[projectedSize(i)];
            v[i] = new float[projectedSize(i)];
        }
    }

    /** Projection from the right (P: r×in) for out ≥ in, the smaller side being in. */
    static boolean right(MatrixUnit u) {
        return u.rows() >= u.cols();
    }

    private int projectedSize(int i) {
        MatrixUnit u = units.get(i);
        return right(u) ? u.rows() * ranks[i] : ranks[i] * u.cols();
    }

    private int[] projectorShape(int i) {
        MatrixUnit u = units.get(i);
        return right(u) ? new int[] {ranks[i], u.cols()} : new int[] {u.rows(), ranks[i]};
    }

    private int[] projectedShape(int i) {
        MatrixUnit u = units.get(i);
        return right(u) ? new int[] {u.rows(), ranks[i]} : new int[] {ranks[i], u.cols()};
    }

    @Override
    public void step(float[] params, float[] grads, float gradScale, double lr, double baseLr, long t) {
        double rate = UpdateRule.rate(h.lr(), lr, baseLr);
        float beta1 = h.beta1().floatValue(), beta2 = h.beta2().floatValue(), eps = h.eps().floatValue();
        float b1c = 1 - beta1, b2c = 1 - beta2;
        float stepSize = (float) (rate * Math.sqrt(1 - Math.pow(h.beta2(), t)) / (1 - Math.pow(h.beta1(), t)));
        float decay = (float) (1 - rate * h.weightDecay()), alpha = h.scale().floatValue();
        for (int i = 0; i < units.size(); i++) {
            MatrixUnit u = units.get(i);
            int rows = u.rows(), cols = u.cols(), rank = ranks[i], size = u.size(), ps = projectedSize(i);
            if (g.length < size) {
                g = new float[size];
                delta = new float[size];
            }
            if (r.length < ps) r = new float[ps];
            for (int k = 0; k < size; k++) g[k] = grads[u.offset() + k] * gradScale;
            if ((t - 1) % h.updateGap() == 0) refresh(i, t);
            float[] p = projector[i];
            if (right(u)) {
                gemm.multiply(rows, rank, cols, g, 0, cols, 1, p, 0, 1, cols, r, 0, rank, false); // R = G·Pᵀ
            } else {
                gemm.multiply(rank, cols, rows, p, 0, 1, rank, g, 0, cols, 1, r, 0, cols, false); // R = Pᵀ·G
            }
            float[] mi = m[i], vi = v[i];
            for (int k = 0; k < ps; k++) {
                float x = r[k];
                mi[k] = beta1 * mi[k] + b1c * x;
                vi[k] = beta2 * vi[k] + b2c * x * x;
                r[k] = mi[k] / ((float) Math.sqrt(vi[k]) + eps);
            }
            if (right(u)) {
                gemm.multiply(rows, cols, rank, r, 0, rank, 1, p, 0, cols, 1, delta, 0, cols, false); // N·P
            } else {
                gemm.multiply(rows, cols, rank, p, 0, rank, 1, r, 0, cols, 1, delta, 0, cols, false); // P·N
            }
            float s = stepSize * alpha;
            for (int k = 0, q = u.offset(); k < size; k++, q++) params[q] = (params[q] - s * delta[k]) * decay;
        }
    }

    /** A new projector from the current gradient's top singular vectors; the random test matrix is a function of the matrix and the step. */
    private void refresh(int i, long t) {
        MatrixUnit u = units.get(i);
        long seed = Rng.derive(t, u.name()).nextLong();
        RandomizedSvd.Result s = svd.top(g, 0, u.rows(), u.cols(), ranks[i], seed);
        System.arraycopy(right(u) ? s.vt() : s.u(), 0, projector[i], 0, projector[i].length);
    }

    @Override
    public List<Safetensors.Source> state() {
        List<Safetensors.Source> out = new ArrayList<>();
        for (int i = 0; i < units.size(); i++) {
            String name = units.get(i).name();
            float[] p = projector[i], mi = m[i], vi = v[i];
            out.add(new Safetensors.Source(name + ".projector", projectorShape(i), () -> p));
            out.add(new Safetensors.Source(name + ".exp_avg", projectedShape(i), () -> mi));
            out.add(new Safetensors.Source(name + ".exp_avg_sq", projectedShape(i), () -> vi));
        }
        return out;
    }

    @Override
    public void load(Safetensors.TensorSource file) throws IOException {
        for (int i = 0; i < units.size(); i++) {
            String name = units.get(i).name();
            copy(HfFormat.read(file, name + ".projector", projectorShape(i)), projector[i]);
            copy(HfFormat.read(file, name + ".exp_avg", projectedShape(i)), m[i]);
            copy(HfFormat.read(file, name + ".exp_avg_sq", projectedShape(i)), v[i]);
        }
    }

    private static void copy(float[] from, float[] to) {
        System.arraycopy(from, 0, to, 0, to.length);
    }
}
