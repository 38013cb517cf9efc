package dev.crucible.train;

import dev.crucible.data.ShardSet;
import dev.crucible.model.Model;

/**
 * Validation loss: the mean loss over a fixed set of windows spread evenly over all the validation
 * shards (the same windows every time). Spread, not the first ones: validation shards of several
 * domains come one after the other, and the first batches would measure only the first domain.
 */
final class Validation {
    private final ShardSet val;
    private final int b, t, batches;
    private final int[] inputs, targets;

    Validation(ShardSet val, int b, int t, int batches) {
        this.val = val;
        this.b = b;
        this.t = t;
        this.batches = batches;
        this.inputs = new int[b * t];
        this.targets = new int[b * t];
    }

    double loss(Model model) {
        DataLoader loader = new DataLoader(val, b, t, 0, false);
        int n = Math.min(batches, Math.max(1, loader.windows() / b));
        long total = (long) n * b;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < b; r++) {
                long k = (long) i * b + r;
                loader.read((int) ((2 * k + 1) * loader.windows() / (2 * total)) % loader.windows(), r, inputs, targets);
            }
            sum += model.forward(inputs, targets, b, t);
        }
        return sum / n;
    }
}
