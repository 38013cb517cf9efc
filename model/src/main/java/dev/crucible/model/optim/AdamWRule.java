package dev.crucible.model.optim;

import dev.crucible.model.ParamLayout;
import dev.crucible.tensor.AdamW;
import dev.crucible.tensor.WorkerPool;
import java.util.List;

/** AdamW (decoupled weight decay, as PyTorch's): state exp_avg and exp_avg_sq per tensor. */
final class AdamWRule extends ElementwiseRule {
    AdamWRule(ParamLayout layout, List<ParamLayout.Tensor> tensors, Hyperparameters h, WorkerPool pool) {
        super(layout, tensors, h, pool);
    }

    @Override
    public void part(int i, int worker) {
        AdamW.update(params, grads, moments.m, moments.v, moments.partStart(i), moments.partEnd(i), moments.partState(i), rate, beta1, beta2, eps,
                weightDecay, gradScale, t);
    }
}
