package dev.crucible.model.optim;

import dev.crucible.model.ParamLayout;
import dev.crucible.tensor.Spam;
import dev.crucible.tensor.WorkerPool;
import java.util.List;

/**
 * SPAM (Huang et al., ICLR 2025, as TianjinYellow/SPAM-Optimizer's SPAM.py does it): Adam whose
 * moments are zeroed every reset_interval (ΔT) steps (the step count t of the bias corrections is
 * not), whose update is scaled by a cosine warm-up over the reset_warmup (N) steps after each reset,
 * and whose gradients are clipped element-wise where g² &gt; θ·v, except in the clip_delay (A) steps
 * after a reset and at the start, when v is still about zero. State exp_avg and exp_avg_sq.
 */
final class SpamRule extends ElementwiseRule {
    private float scale, theta; // the step's warm-up factor and clipping threshold

    SpamRule(ParamLayout layout, List<ParamLayout.Tensor> tensors, Hyperparameters h, WorkerPool pool) {
        super(layout, tensors, h, pool);
    }

    /** The warm-up factor at step t (1-based): s(j) = 1 − 0.99·(1 + cos(π·j/(N+1)))/2 for j &lt; N steps since the last reset, else 1. */
    static double warmup(long t, int resetInterval, int resetWarmup) {
        long j = t < resetInterval ? resetWarmup + 1 : t % resetInterval; // no reset yet: no warm-up
        return j < resetWarmup ? 1 - 0.99 * (1 + Math.cos(Math.PI * j / (resetWarmup + 1))) / 2 : 1;
    }

    /** Whether step t zeroes the moments first. */
    static boolean resets(long t, int resetInterval) {
        return t % resetInterval == 0;
    }

    /** Whether step t clips spikes: θ &gt; 0, and at least clip_delay steps since the start and since the last reset. */
    static boolean clips(long t, double theta, int resetInterval, int clipDelay) {
        return theta > 0 && t >= clipDelay && t % resetInterval >= clipDelay;
    }

    @Override
    void begin() {
        int interval = h.resetInterval();
        if (resets(t, interval)) moments.reset();
        scale = (float) warmup(t, interval, h.resetWarmup());
        theta = clips(t, h.theta(), interval, h.clipDelay()) ? h.theta().floatValue() : 0f;
    }

    @Override
    public void part(int i, int worker) {
        Spam.update(params, grads, moments.m, moments.v, moments.partStart(i), moments.partEnd(i), moments.partState(i), rate, scale,
                beta1, beta2, eps, weightDecay, theta, gradScale, t);
    }
}
