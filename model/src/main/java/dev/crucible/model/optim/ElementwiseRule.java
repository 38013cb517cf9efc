package dev.crucible.model.optim;

import dev.crucible.model.ParamLayout;
import dev.crucible.model.Safetensors;
import dev.crucible.tensor.WorkerPool;
import java.io.IOException;
import java.util.List;

/**
 * A rule that updates each parameter from its own gradient and its own Adam moments alone (AdamW,
 * SPAM), so its step splits into parts of its tensors' ranges, one fused pass each.
 */
abstract class ElementwiseRule implements SplitRule {
    final Hyperparameters h;
    final float beta1, beta2, eps, weightDecay;
    final Moments moments;
    private final WorkerPool pool;
    private final WorkerPool.RangeTask partsJob = SplitRule.job(this);
    // the prepared step, which part reads
    float[] params, grads;
    float gradScale, rate;
    long t;

    ElementwiseRule(ParamLayout layout, List<ParamLayout.Tensor> tensors, Hyperparameters h, WorkerPool pool) {
        this.h = h;
        this.beta1 = h.beta1().floatValue();
        this.beta2 = h.beta2().floatValue();
        this.eps = h.eps().floatValue();
        this.weightDecay = h.weightDecay().floatValue();
        this.pool = pool;
        this.moments = new Moments(layout, tensors);
    }

    @Override
    public final void step(float[] params, float[] grads, float gradScale, double lr, double baseLr, long t) {
        prepare(params, grads, gradScale, lr, baseLr, t);
        pool.forRange(parts(), parts(), partsJob);
    }

    @Override
    public final void prepare(float[] params, float[] grads, float gradScale, double lr, double baseLr, long t) {
        this.params = params;
        this.grads = grads;
        this.gradScale = gradScale;
        this.rate = (float) UpdateRule.rate(h.lr(), lr, baseLr);
        this.t = t;
        begin();
    }

    /** What a step does once before its parts, the fields above set. */
    void begin() {}

    @Override
    public final int parts() {
        return moments.parts();
    }

    @Override
    public final boolean elementwise() {
        return true;
    }

    @Override
    public final List<Safetensors.Source> state() {
        return moments.state();
    }

    @Override
    public final void load(Safetensors.TensorSource file) throws IOException {
        moments.load(file);
    }
}
