package dev.crucible.model;

import dev.crucible.tensor.SquaredNorm;
import dev.crucible.tensor.WorkerPool;

/**
 * One optimizer step, the same for the trainer, the benchmarks and the quickstart: zero the
 * gradients; for each micro-batch, forward to logits, the loss and its gradient, backward
 * (accumulating, each micro-batch's loss weighted 1/(tokens · micro-batches) so the sum is the batch
 * mean); the gradient hook (where data-parallel training all-reduces); the global gradient norm and
 * clipping; the optimizer's update. A step whose loss is not finite updates nothing.
 */
public final class TrainStep {

    /** Fills a micro-batch's inputs and targets. */
    @FunctionalInterface
    public interface BatchSource {
        void next(Batch batch);
    }

    /** Runs on the accumulated gradients of a step before they are measured and applied (data parallelism: the all-reduce). */
    @FunctionalInterface
    public interface GradientHook {
        void accumulated(float[] grads);
    }

    /**
     * Mean loss over the step's micro-batches, the gradient norm before clipping, whether the optimizer
     * updated, and where the time went (forward with the loss; backward with the loss gradient, the
     * hook and the norm; the optimizer), in nanoseconds.
     */
    public record Result(double loss, double gradNorm, boolean updated, long forwardNanos, long backwardNanos, long optimizerNanos) {}

    private final Model model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final double gradClip;
    private final SquaredNorm squaredNorm;
    private final Batch batch;
    private GradientHook hook = g -> {};

    /** gradClip: the largest global gradient norm, 0 for none. */
    public TrainStep(Model model, Loss loss, Optimizer optimizer, double gradClip, WorkerPool pool) {
        if (!model.trainable()) throw new IllegalArgumentException("a training step needs a model built with Model.forTraining");
        if (!(gradClip >= 0)) throw new IllegalArgumentException("grad_clip: must be >= 0 (0 = off), got " + gradClip);
        this.model = model;
        this.loss = loss;
        this.optimizer = optimizer;
        this.gradClip = gradClip;
        this.squaredNorm = new SquaredNorm(pool);
        this.batch = Batch.allocate(model.maxBatch(), model.maxSeqLen());
    }

    /** Hard-target cross-entropy, the usual pre-training loss. */
    public static TrainStep crossEntropy(Model model, Optimizer optimizer, double gradClip, WorkerPool pool) {
        return new TrainStep(model, new CrossEntropyLoss(pool, model.maxBatch() * model.maxSeqLen()), optimizer, gradClip, pool);
    }

    public TrainStep gradientHook(GradientHook h) {
        this.hook = h;
        return this;
    }

    public Model model() {
        return model;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** One step over `accumulation` micro-batches of the model's full (B, T) at learning rate lr. */
    public Result run(BatchSource data, int accumulation, double lr) {
        int tokens = batch.tokens();
        long forward = 0, t0 = System.nanoTime();
        model.zeroGrad();
        double sum = 0;
        for (int micro = 0; micro < accumulation; micro++) {
            data.next(batch);
            long f0 = System.nanoTime();
            Logits logits = model.forwardLogits(batch.inputs(), batch.b(), batch.t());
            sum += loss.forward(logits, batch);
            forward += System.nanoTime() - f0;
            loss.backward(logits, batch, 1f / (tokens * accumulation));
            model.backwardFromLogits();
        }
        double mean = sum / accumulation;
        if (!Double.isFinite(mean)) return new Result(mean, Double.NaN, false, forward, System.nanoTime() - t0 - forward, 0);
        hook.accumulated(model.grads);
        double norm = Math.sqrt(squaredNorm.of(model.grads, 0, model.grads.length));
        float scale = gradClip > 0 && norm > gradClip ? (float) (gradClip / norm) : 1f;
        long o0 = System.nanoTime();
        optimizer.step(model.params, model.grads, scale, lr);
        long end = System.nanoTime();
        return new Result(mean, norm, true, forward, o0 - t0 - forward, end - o0);
    }
}
