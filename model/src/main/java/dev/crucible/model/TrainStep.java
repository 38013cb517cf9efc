package dev.crucible.model;

import dev.crucible.model.optim.Optimizer;
import dev.crucible.tensor.SquaredNorm;
import dev.crucible.tensor.WorkerPool;

/**
 * One optimizer step, the same for the trainer, the benchmarks and the quickstart: zero the
 * gradients; for each micro-batch, forward to logits, the loss and its gradient, backward
 * (accumulating, each micro-batch's loss weighted 1/(tokens · micro-batches) so the sum is the batch
 * mean); the gradient hook (where data-parallel training all-reduces); the global gradient norm and
 * clipping; the optimizer's update. A step whose loss or gradient norm is not finite updates nothing.
 * Data-parallel, each of R replicas runs its own micro-batches of the global batch, weighted as a
 * part of the R·accumulation micro-batches, and the hook sums gradients and losses over replicas.
 */
public final class TrainStep {

    /** Fills a micro-batch's inputs and targets. */
    @FunctionalInterface
    public interface BatchSource {
        void next(Batch batch);
    }

    /**
     * Runs once per step on the accumulated gradients and the step's sums of micro-batch losses
     * ({main, auxiliary}) before they are measured and applied: data parallelism sums both over the
     * replicas, in place, with the same result on every replica.
     */
    @FunctionalInterface
    public interface GradientHook {
        void accumulated(float[] grads, double[] lossSums);
    }

    /**
     * Mean loss over the step's micro-batches, the gradient norm before clipping, whether the optimizer
     * updated, and where the time went, in nanoseconds: forward (to logits and the loss), backward (the
     * loss gradient and the backward pass), optimizer (the gradient hook, the norm, clipping and the
     * update). Zeroing the gradients and loading the batches count in none of them.
     */
    public record Result(double loss, double gradNorm, boolean updated, long forwardNanos, long backwardNanos, long optimizerNanos,
                         double auxiliaryLoss) {}

    private final Model model;
    private Loss loss;
    private final Optimizer optimizer;
    private final double gradClip;
    private final SquaredNorm squaredNorm;
    private final Batch batch;
    private GradientHook hook = (g, l) -> {};
    private int replicas = 1, rank;
    private boolean captureUpdate;
    private float[] before;
    private boolean dropout;
    private long dropoutSeed, dropoutStep;

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

    /** Hard-target cross-entropy, the usual pre-training loss (the model's own, so {@link Model#losses()} shows the step's). */
    public static TrainStep crossEntropy(Model model, Optimizer optimizer, double gradClip, WorkerPool pool) {
        return new TrainStep(model, model.crossEntropy(), optimizer, gradClip, pool);
    }

    /** Cross-entropy with PaLM's z-loss of the given weight (0: {@link #crossEntropy(Model, Optimizer, double, WorkerPool)}). */
    public static TrainStep crossEntropy(Model model, Optimizer optimizer, double gradClip, double zLoss, WorkerPool pool) {
        if (zLoss == 0) return crossEntropy(model, optimizer, gradClip, pool);
        return new TrainStep(model, new CrossEntropyLoss(pool, model.maxBatch() * model.maxSeqLen(), zLoss), optimizer, gradClip, pool);
    }

    /** The loss of the next steps (a run that distils first switches to plain cross-entropy after its distillation phase). */
    public void loss(Loss l) {
        this.loss = l;
    }

    public Loss loss() {
        return loss;
    }

    /**
     * Data parallelism over `replicas` processes: the one of this `rank` runs micro-batches
     * rank·accumulation to (rank+1)·accumulation - 1 of the step's replicas·accumulation (their
     * dropout masks are theirs in the single-process step), and allReduce sums what the replicas
     * accumulated. One replica with a hook that changes nothing is the plain step.
     */
    public TrainStep dataParallel(GradientHook allReduce, int replicas, int rank) {
        if (replicas < 1 || rank < 0 || rank >= replicas) throw new IllegalArgumentException("rank " + rank + " of " + replicas + " replicas");
        this.hook = allReduce;
        this.replicas = replicas;
        this.rank = rank;
        return this;
    }

    public Model model() {
        return model;
    }

    /**
     * Whether the next step drops out (at the model config's rate), with masks of (seed, step): the
     * trainer says so per step (dropout may start at a later step), so a resumed run draws the same masks.
     */
    public void dropout(boolean on, long seed, long step) {
        dropout = on;
        dropoutSeed = seed;
        dropoutStep = step;
    }

    /** Whether the next steps keep the parameters as they were before the update (diagnostics measure the update). */
    public void captureUpdate(boolean on) {
        captureUpdate = on;
        if (on && before == null) before = new float[model.params.length];
    }

    /** The parameters before the last update of a step that captured it (see {@link #captureUpdate}). */
    public float[] paramsBeforeLastUpdate() {
        return before;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** One step over `accumulation` micro-batches (this replica's) of the model's full (B, T) at learning rate lr. */
    public Result run(BatchSource data, int accumulation, double lr) {
        int tokens = batch.tokens();
        long forward = 0, backward = 0;
        model.zeroGradNextBackward();
        double sum = 0, aux = 0;
        for (int micro = 0; micro < accumulation; micro++) {
            data.next(batch);
            long t0 = System.nanoTime();
            if (dropout) model.armDropout(dropoutSeed, dropoutStep, rank * accumulation + micro);
            Logits logits = model.forwardLogits(batch.inputs(), batch.b(), batch.t());
            sum += loss.forward(logits, batch);
            aux += loss.auxiliary();
            long t1 = System.nanoTime();
            loss.backward(logits, batch, 1f / (tokens * accumulation * replicas));
            model.backwardFromLogits();
            model.disarmDropout();
            forward += t1 - t0;
            backward += System.nanoTime() - t1;
        }
        long o0 = System.nanoTime();
        double[] sums = {sum, aux};
        hook.accumulated(model.grads, sums); // before any early return: every replica must take part
        double mean = sums[0] / (accumulation * replicas);
        double auxMean = sums[1] / (accumulation * replicas);
        if (!Double.isFinite(mean)) return new Result(mean, Double.NaN, false, forward, backward, System.nanoTime() - o0, auxMean);
        double norm = Math.sqrt(squaredNorm.of(model.grads, 0, model.grads.length));
        // a finite loss can still come with a non-finite gradient (a distillation teacher's overflow): no update either
        if (!Double.isFinite(norm)) return new Result(mean, norm, false, forward, backward, System.nanoTime() - o0, auxMean);
        float scale = gradClip > 0 && norm > gradClip ? (float) (gradClip / norm) : 1f;
        if (captureUpdate) System.arraycopy(model.params, 0, before, 0, before.length);
        optimizer.step(model.params, model.grads, scale, lr);
        return new Result(mean, norm, true, forward, backward, System.nanoTime() - o0, auxMean);
    }
}
