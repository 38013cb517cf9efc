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
    private final AdamW kernel;
    final Moments moments;

    AdamWRule(ParamLayout params, List<ParamLayout.Tensor> tensors, Hyperparameters h, WorkerPool pool) {
        this.h = h;
        this.kernel = new AdamW(pool);
        this.moments = new Moments(params, tensors);
    }

    @Override
    public void step(float[] params, float[] grads, float gradScale, double lr, double baseLr, long t) {
        float rate = (float) UpdateRule.rate(h.lr(), lr, baseLr);
        for (Moments.Range r : moments.ranges()) {
            kernel.update(params, grads, moments.m, moments.v, r.start(), r.end(), r.stateStart(), rate, h.beta1().floatValue(), h.beta2().floatValue(),
                    h.eps().floatValue(), h.weightDecay().floatValue(), gradScale, t);
        }
    }

    @Override
    public List<Safetensors.Source> state() {
        return moments.state();
    }

    @Override
    public void load(Safetensors.TensorSource file) throws IOException {
        moments.load(file);
    }
}
