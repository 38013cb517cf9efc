package dev.crucible.model;

/**
 * Turns the logits of a forward pass into a training loss and its gradient. Hard-target
 * cross-entropy is {@link CrossEntropyLoss}; a distillation loss (soft targets from a teacher run on
 * the same inputs) or an auxiliary term (z-loss) is another implementation, and the model and the
 * training step stay as they are.
 */
public interface Loss {
    /** Per-row losses of the logits for this batch (also kept for {@link #losses()}); returns their mean. May overwrite the logits. */
    float forward(Logits logits, Batch batch);

    /** Replaces the logits by the gradient of scale · Σ row losses with respect to them (forward must have run on them). */
    void backward(Logits logits, Batch batch, float scale);

    /** The per-row losses of the last forward. */
    float[] losses();

    /**
     * The mean of an auxiliary term of the last forward that the gradient includes but the value
     * forward returns does not (z-loss), so that losses of recipes stay comparable; 0 when none.
     */
    default double auxiliary() {
        return 0;
    }
}
