package dev.crucible.model.optim;

import dev.crucible.model.ParamLayout;
import dev.crucible.model.Safetensors;
import dev.crucible.tensor.AdamW;
import dev.crucible.tensor.WorkerPool;
import java.io.IOException;
import java.util.List;

/** AdamW (decoupled weight decay, as PyTorch's): state exp_avg and exp_avg_sq per tensor, one fused pass per range. */
final class AdamWRule implements UpdateRule {
    private final Hyperparameters h;
    private final ElementState layout;
    private final AdamW kernel;
    final float[] m, v;

    AdamWRule(ParamLayout params, List<ParamLayout.Tensor> tensors, Hyperparameters h, WorkerPool pool) {
        this.h = h;
        this.layout = new ElementState(params, tensors);
        this.kernel = new AdamW(pool);
        this.m = new float[layout.size()];
        this.v = new float[layout.size()];
    }

    @Override
    public void step(float[] params, float[] grads, float gradScale, double lr, double baseLr, long t) {
        float rate = (float) UpdateRule.rate(h.lr(), lr, baseLr);
        for (ElementState.Range r : layout.ranges()) {
            kernel.update(params, grads, m, v, r.start(), r.end(), r.stateStart(), rate, h.beta1().floatValue(), h.beta2().floatValue(),
                    h.eps().floatValue(), h.weightDecay().floatValue(), gradScale, t);
        }
    }

    @Override
    public List<Safetensors.Source> state() {
        return layout.moments(m, v);
    }

    @Override
    public void load(Safetensors.TensorSource file) throws IOException {
        layout.loadMoments(file, m, v);
    }

    /** Moments from two buffers laid out as all the parameters (checkpoints from before state was kept per tensor). */
    void loadFlat(float[] expAvg, float[] expAvgSq) {
        layout.gather(expAvg, m);
        layout.gather(expAvgSq, v);
    }
}
