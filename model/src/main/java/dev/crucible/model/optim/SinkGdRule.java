package dev.crucible.model.optim;

import dev.crucible.model.Safetensors;
import dev.crucible.tensor.Sinkhorn;
import dev.crucible.tensor.WorkerPool;
import java.util.List;

/**
 * SinkGD (Scetbon et al., arXiv 2502.06742), stateless: the out×in gradient is normalised
 * alternately by rows (each to norm sqrt(in)) and by columns (each to norm sqrt(out)), iterations
 * times, Sinkhorn-style, and W ← W·(1 − lr·wd) − lr·X. O(out·in) per step, a matrix per worker; no
 * optimizer state.
 */
final class SinkGdRule implements UpdateRule {
    private final Hyperparameters h;
    private final List<MatrixUnit> units;
    private final WorkerPool pool;
    private final float[][] x, colScale;
    private final int size, cols;

    SinkGdRule(List<MatrixUnit> units, Hyperparameters h, WorkerPool pool) {
        this.h = h;
        this.units = units;
        this.pool = pool;
        int size = 0, cols = 0;
        for (MatrixUnit u : units) {
            size = Math.max(size, u.size());
            cols = Math.max(cols, u.cols());
        }
        this.size = size;
        this.cols = cols;
        x = new float[pool.size()][]; // scratch of the workers that take a matrix, made on first use
        colScale = new float[pool.size()][];
    }

    @Override
    public void step(float[] params, float[] grads, float gradScale, double lr, double baseLr, long t) {
        double rate = UpdateRule.rate(h.lr(), lr, baseLr);
        float decay = (float) (1 - rate * h.weightDecay()), step = (float) rate;
        pool.run(units.size(), (k, w) -> { // matrices are independent: one per worker
            MatrixUnit u = units.get(k);
            if (x[w] == null) {
                x[w] = new float[size];
                colScale[w] = new float[cols];
            }
            float[] buf = x[w];
            int n = u.size();
            for (int i = 0; i < n; i++) buf[i] = grads[u.offset() + i] * gradScale;
            Sinkhorn.normalize(buf, 0, u.rows(), u.cols(), h.iterations(), colScale[w]);
            u.descend(params, buf, decay, step);
        });
    }

    @Override
    public List<Safetensors.Source> state() {
        return List.of();
    }

    @Override
    public void load(Safetensors.TensorSource file) {}
}
