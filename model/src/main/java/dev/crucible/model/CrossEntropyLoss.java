package dev.crucible.model;

import dev.crucible.tensor.CrossEntropy;
import dev.crucible.tensor.WorkerPool;

/**
 * Mean softmax cross-entropy against the batch's next tokens, fused in place over the logits: forward
 * leaves next-token probabilities in them, backward the logit gradient. With a z-loss weight
 * (PaLM, section 5: 1e-4 · log²Z per token, Z the softmax's partition function, to keep the logits'
 * normaliser near 1), its gradient is added too; {@link #auxiliary()} is the mean z-term, and the
 * value forward returns stays the cross-entropy alone.
 */
public final class CrossEntropyLoss implements Loss {
    private final CrossEntropy kernel;
    private final float[] losses, logZ;
    private final float zLoss;
    private double auxiliary;

    public CrossEntropyLoss(WorkerPool pool, int maxRows) {
        this(pool, maxRows, 0);
    }

    public CrossEntropyLoss(WorkerPool pool, int maxRows, double zLoss) {
        if (!(zLoss >= 0)) throw new IllegalArgumentException("z_loss: must be >= 0, got " + zLoss);
        this.kernel = new CrossEntropy(pool);
        this.losses = new float[maxRows];
        this.zLoss = (float) zLoss;
        this.logZ = zLoss > 0 ? new float[maxRows] : null;
    }

    @Override
    public float forward(Logits logits, Batch batch) {
        return forward(logits, batch.targets());
    }

    /** The loss against targets[0, rows) (one per logits row). */
    public float forward(Logits logits, int[] targets) {
        int rows = logits.rows();
        kernel.forward(losses, 0, logZ, logits.data(), 0, logits.ld(), targets, 0, rows, logits.vocab());
        double sum = 0;
        for (int i = 0; i < rows; i++) sum += losses[i];
        if (logZ != null) {
            double z = 0;
            for (int i = 0; i < rows; i++) z += (double) logZ[i] * logZ[i];
            auxiliary = zLoss * z / rows;
        }
        return (float) (sum / rows);
    }

    @Override
    public void backward(Logits logits, Batch batch, float scale) {
        backward(logits, batch.targets(), scale);
    }

    public void backward(Logits logits, int[] targets, float scale) {
        kernel.backward(logits.data(), 0, logits.ld(), targets, 0, logits.rows(), logits.vocab(), scale, logZ, zLoss);
    }

    @Override
    public float[] losses() {
        return losses;
    }

    @Override
    public double auxiliary() {
        return auxiliary;
    }
}
