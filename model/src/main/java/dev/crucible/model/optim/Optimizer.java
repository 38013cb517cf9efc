package dev.crucible.model.optim;

import dev.crucible.model.ParamLayout;
import dev.crucible.model.Safetensors;
import java.io.IOException;
import java.util.List;

/**
 * Updates parameters from their gradients. Implementations see the parameters as the named tensors
 * (and views) of a {@link ParamLayout} and may treat each group of roles differently; their state
 * is a list of named tensors ("&lt;tensor&gt;.&lt;state&gt;", e.g. model.layers.0.mlp.down_proj.weight.exp_avg),
 * written into optimizer.safetensors and read back for an exact resume. Gradient clipping and
 * accumulation belong to the training step, which hands the clipping factor in.
 */
public interface Optimizer {
    /** Name in run configs and in optimizer.safetensors' metadata (adamw, ...). */
    String name();

    /**
     * One update. gradScale multiplies every gradient first (the training step's clipping); lr is the
     * schedule's learning rate for the configured base rate, which groups with a rate of their own scale.
     */
    void step(float[] params, float[] grads, float gradScale, double lr);

    /** Updates taken so far (bias corrections and schedules inside the optimizer count from it). */
    long stepCount();

    /** The state as named tensors, read lazily when the checkpoint is written. */
    List<Safetensors.Source> state();

    /** Restores state written by {@link #state()} and the step count; names and shapes are checked. */
    void load(Safetensors.TensorSource state, long stepCount) throws IOException;
}
