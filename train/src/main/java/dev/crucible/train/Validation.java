package dev.crucible.train;

import dev.crucible.data.ShardSet;
import dev.crucible.data.tokenizer.BpeTokenizer;
import dev.crucible.model.Model;

/**
 * Validation loss: the mean loss over a fixed set of windows spread evenly over all the validation
 * shards (the same windows every time). Spread, not the first ones: validation shards of several
 * domains come one after the other, and the first batches would measure only the first domain.
 * With the run's tokenizer, also bits per byte (nats summed over the windows' target tokens, over
 * the bytes of text they stand for, in bits; special tokens such as the document separator count no
 * bytes), which compares across domains and tokenizers.
 */
final class Validation {
    private final int b, t, batches;
    private final DataLoader loader;
    private final int[] windows;
    private final int[] inputs, targets;
    private final long bytes;

    /** tokenizer: to count the bytes of the target tokens for bits per byte, or null. */
    Validation(ShardSet val, int b, int t, int batches, BpeTokenizer tokenizer) {
        this.b = b;
        this.t = t;
        this.loader = new DataLoader(val, b, t, 0, false);
        this.batches = Math.min(batches, Math.max(1, loader.windows() / b));
        this.inputs = new int[b * t];
        this.targets = new int[b * t];
        long total = (long) this.batches * b;
        windows = new int[(int) total];
        for (int k = 0; k < total; k++) windows[k] = (int) ((2L * k + 1) * loader.windows() / (2 * total)) % loader.windows();
        long n = 0;
        if (tokenizer != null) {
            java.util.Set<Integer> specials = new java.util.HashSet<>(tokenizer.specials().values());
            for (int i = 0; i < this.batches; i++) {
                fill(i);
                for (int id : targets) n += specials.contains(id) ? 0 : textBytes(tokenizer, id);
            }
        }
        bytes = n;
    }

    /**
     * The bytes of text a token stands for; 0 for ids the tokenizer has no bytes for. A tokenizer that puts a space before
     * each text (ByteLevel's add_prefix_space, SentencePiece's "▁") counts that space too: one byte per document more than
     * the document has, which lowers bits per byte by that byte's share of the document's bytes.
     */
    private static int textBytes(BpeTokenizer tokenizer, int id) {
        try {
            return tokenizer.bytes(id).length;
        } catch (IllegalArgumentException e) {
            return 0;
        }
    }

    private void fill(int batch) {
        for (int r = 0; r < b; r++) loader.read(windows[batch * b + r], r, inputs, targets);
    }

    /** Mean loss per token (nats). */
    double loss(Model model) {
        double sum = 0;
        for (int i = 0; i < batches; i++) {
            fill(i);
            sum += model.forward(inputs, targets, b, t);
        }
        return sum / batches;
    }

    /** Bits per byte for a loss {@link #loss} returned, or NaN without a tokenizer. */
    double bitsPerByte(double loss) {
        return bytes == 0 ? Double.NaN : loss * batches * b * t / bytes / Math.log(2);
    }
}
