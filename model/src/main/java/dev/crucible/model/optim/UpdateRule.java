package dev.crucible.model.optim;

import dev.crucible.model.Safetensors;
import java.io.IOException;
import java.util.List;

/**
 * One optimizer algorithm with one set of settings, updating its share of the parameters (whole
 * tensors: the roles a recipe gives it). Its state is named "&lt;HF tensor&gt;.&lt;state&gt;".
 */
interface UpdateRule {
    /**
     * Step t (1-based; every rule takes every step). gradScale multiplies each gradient first; the
     * rule's rate is its settings' lr scaled as the schedule scales the recipe's base rate:
     * {@link #rate(double, double, double)}.
     */
    void step(float[] params, float[] grads, float gradScale, double lr, double baseLr, long t);

    List<Safetensors.Source> state();

    /** Reads the tensors {@link #state()} names, checking their shapes. */
    void load(Safetensors.TensorSource file) throws IOException;

    /** A group's rate now: its peak rate times the schedule's factor (lr / baseLr), exactly lr when the two peaks agree. */
    static double rate(double groupLr, double lr, double baseLr) {
        return groupLr == baseLr ? lr : groupLr * (lr / baseLr);
    }
}
