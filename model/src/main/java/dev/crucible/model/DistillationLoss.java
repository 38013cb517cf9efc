package dev.crucible.model;

import dev.crucible.tensor.Distillation;
import dev.crucible.tensor.WorkerPool;

/**
 * SALT's knowledge-distillation loss (Rawat et al. 2024): a teacher model, inference only, runs on the
 * same inputs, and each position's loss is (1 − ω)·CE(y, p_S) + ω·CE(softmax(z_T / τ), p_S); the
 * gradient follows it ({@link Distillation}). The value {@link #forward} returns is the hard-target
 * cross-entropy alone, so train_loss stays comparable with runs that do not distil; the soft term's
 * mean is {@link #auxiliary()}. The trainer switches back to plain cross-entropy after the distillation
 * phase ({@link TrainStep#loss(Loss)}).
 */
public final class DistillationLoss implements Loss {
    private final Model teacher;
    private final Distillation kernel;
    private final float weight, temperature;
    private final float[] losses, hard, soft;
    private double auxiliary;
    private long teacherNanos;

    /** teacher: a model built with room for the student's micro-batch (B, T); same vocabulary. */
    public DistillationLoss(Model teacher, double weight, double temperature, WorkerPool pool) {
        if (!(weight >= 0 && weight <= 1)) throw new IllegalArgumentException("weight: must be in [0, 1], got " + weight);
        if (!(temperature > 0)) throw new IllegalArgumentException("temperature: must be > 0, got " + temperature);
        this.teacher = teacher;
        this.kernel = new Distillation(pool);
        this.weight = (float) weight;
        this.temperature = (float) temperature;
        int rows = teacher.maxBatch() * teacher.maxSeqLen();
        this.losses = new float[rows];
        this.hard = new float[rows];
        this.soft = new float[rows];
    }

    @Override
    public float forward(Logits logits, Batch batch) {
        if (logits.vocab() != teacher.config().vocabSize()) {
            throw new IllegalArgumentException("the student's vocabulary (" + logits.vocab() + ") is not the teacher's (" + teacher.config().vocabSize() + ")");
        }
        long t0 = System.nanoTime();
        Logits t = teacher.forwardLogits(batch.inputs(), batch.b(), batch.t());
        teacherNanos += System.nanoTime() - t0;
        int rows = logits.rows();
        kernel.forward(losses, hard, soft, logits.data(), 0, logits.ld(), t.data(), 0, t.ld(), batch.targets(), 0, rows, logits.vocab(), weight, temperature);
        double h = 0, k = 0;
        for (int i = 0; i < rows; i++) {
            h += hard[i];
            k += soft[i];
        }
        auxiliary = k / rows;
        return (float) (h / rows);
    }

    @Override
    public void backward(Logits logits, Batch batch, float scale) {
        Logits t = teacher.logits();
        kernel.backward(logits.data(), 0, logits.ld(), t.data(), 0, t.ld(), batch.targets(), 0, logits.rows(), logits.vocab(), weight, scale);
    }

    /** The per-position combined losses of the last forward. */
    @Override
    public float[] losses() {
        return losses;
    }

    /** The mean soft cross-entropy CE(p_T, p_S) of the last forward (logged as kd_loss). */
    @Override
    public double auxiliary() {
        return auxiliary;
    }

    /** Time spent in the teacher's forward passes so far. */
    public long teacherNanos() {
        return teacherNanos;
    }

    public Model teacher() {
        return teacher;
    }
}
