package dev.crucible.model;

import dev.crucible.tensor.AdamW;
import dev.crucible.tensor.WorkerPool;

/**
 * AdamW over the flat parameter buffer with global-norm gradient clipping. Weight decay applies to
 * the weight matrices, and to the embeddings when asked; never to norms and biases. Thanks to the
 * layout's ordering, each is one fused call over a contiguous range.
 */
public final class AdamWOptimizer {
    public record Settings(double beta1, double beta2, double eps, double weightDecay, boolean decayEmbeddings, double gradClip) {
        public Settings {
            if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1: must be in [0, 1), got " + beta1);
            if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2: must be in [0, 1), got " + beta2);
            if (!(eps > 0)) throw new IllegalArgumentException("eps: must be positive, got " + eps);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight_decay: must be >= 0, got " + weightDecay);
            if (!(gradClip >= 0)) throw new IllegalArgumentException("grad_clip: must be >= 0 (0 = off), got " + gradClip);
        }
    }

    private final ParamLayout layout;
    private final Settings s;
    private final AdamW kernel;
    public final float[] m, v;
    private long step;

    public AdamWOptimizer(ParamLayout layout, Settings settings, WorkerPool pool) {
        this.layout = layout;
        this.s = settings;
        this.kernel = new AdamW(pool);
        this.m = new float[layout.size()];
        this.v = new float[layout.size()];
    }

    /** Global L2 norm of the gradient, reduced deterministically. */
    public double gradNorm(float[] grads) {
        return Math.sqrt(kernel.sumOfSquares(grads, 0, grads.length));
    }

    /** One update at learning rate lr; returns the gradient norm before clipping. */
    public double step(float[] params, float[] grads, double lr) {
        double norm = gradNorm(grads);
        float scale = s.gradClip() > 0 && norm > s.gradClip() ? (float) (s.gradClip() / norm) : 1f;
        step++;
        int decayEnd = s.decayEmbeddings() ? layout.embeddingEnd() : layout.matrixEnd();
        float b1 = (float) s.beta1(), b2 = (float) s.beta2(), eps = (float) s.eps();
        kernel.update(params, grads, m, v, 0, decayEnd, (float) lr, b1, b2, eps, (float) s.weightDecay(), scale, step);
        kernel.update(params, grads, m, v, decayEnd, layout.size(), (float) lr, b1, b2, eps, 0f, scale, step);
        return norm;
    }

    public long stepCount() {
        return step;
    }

    /** For resuming from a checkpoint. */
    public void setStepCount(long step) {
        this.step = step;
    }
}
