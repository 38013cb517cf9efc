package dev.crucible.model;

import dev.crucible.tensor.CrossEntropy;
import dev.crucible.tensor.WorkerPool;

/**
 * Mean softmax cross-entropy against the batch's next tokens, fused in place over the logits: forward
 * leaves next-token probabilities in them, backward the logit gradient.
 */
public final class CrossEntropyLoss implements Loss {
    private final CrossEntropy kernel;
    private final float[] losses;

    public CrossEntropyLoss(WorkerPool pool, int maxRows) {
        this.kernel = new CrossEntropy(pool);
        this.losses = new float[maxRows];
    }

    @Override
    public float forward(Logits logits, Batch batch) {
        return forward(logits, batch.targets());
    }

    /** The loss against targets[0, rows) (one per logits row). */
    public float forward(Logits logits, int[] targets) {
        int rows = logits.rows();
        kernel.forward(losses, 0, logits.data(), 0, logits.ld(), targets, 0, rows, logits.vocab());
        double sum = 0;
        for (int i = 0; i < rows; i++) sum += losses[i];
        return (float) (sum / rows);
    }

    @Override
    public void backward(Logits logits, Batch batch, float scale) {
        backward(logits, batch.targets(), scale);
    }

    public void backward(Logits logits, int[] targets, float scale) {
        kernel.backward(logits.data(), 0, logits.ld(), targets, 0, logits.rows(), logits.vocab(), scale);
    }

    @Override
    public float[] losses() {
        return losses;
    }
}
