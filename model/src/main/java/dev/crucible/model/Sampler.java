package dev.crucible.model;

import dev.crucible.tensor.Rng;
import java.util.Arrays;

/**
 * Picks the next token from logits: greedy at temperature 0, otherwise softmax at the temperature,
 * restricted to the top-k tokens and to the smallest set whose probability reaches top-p, sampled
 * from a seeded generator (so a seed reproduces a generation). {@link Adjustments} change the logits
 * first, greedy included. One sampler draws one sequence's tokens: the penalties count its own draws.
 * Buffers are allocated once.
 */
public final class Sampler {
    private final double temperature, topP;
    private final int topK;
    private final Rng rng;
    private final long[] order;
    private final double[] probs;
    private final Adjustments adjust; // null: nothing to change, the logits are sampled as they come (no copy)
    private final float[] adjusted;
    private final int[] drawn, seen; // per token id, the times drawn; the ids drawn at least once, in order
    private int seenCount;

    /**
     * What is added to the logits before sampling, OpenAI's way: frequencyPenalty times the times a token
     * was drawn so far plus presencePenalty once it was drawn at all, subtracted (the tokens this sampler
     * drew, not the prompt's: vLLM's output-only counts); biases[i] added to token biasIds[i]'s logit.
     */
    public record Adjustments(double frequencyPenalty, double presencePenalty, int[] biasIds, float[] biases) {
        public static final Adjustments NONE = new Adjustments(0, 0, new int[0], new float[0]);

        public Adjustments {
            if (!Double.isFinite(frequencyPenalty) || !Double.isFinite(presencePenalty)) {
                throw new IllegalArgumentException("penalties must be finite, got " + frequencyPenalty + " and " + presencePenalty);
            }
            if (biasIds.length != biases.length) throw new IllegalArgumentException(biasIds.length + " bias ids for " + biases.length + " biases");
            for (float b : biases) if (!Float.isFinite(b)) throw new IllegalArgumentException("biases must be finite, got " + b);
        }

        boolean changesNothing() {
            return frequencyPenalty == 0 && presencePenalty == 0 && biasIds.length == 0;
        }

        boolean penalises() {
            return frequencyPenalty != 0 || presencePenalty != 0;
        }
    }

    public Sampler(int vocab, double temperature, int topK, double topP, long seed) {
        this(vocab, temperature, topK, topP, seed, Adjustments.NONE);
    }

    public Sampler(int vocab, double temperature, int topK, double topP, long seed, Adjustments adjustments) {
        if (!(temperature >= 0)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0 (0 = off), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.rng = new Rng(seed);
        this.order = new long[vocab];
        this.probs = new double[vocab];
        for (int id : adjustments.biasIds()) if (id < 0 || id >= vocab) throw new IllegalArgumentException("bias for token " + id + " outside vocabulary of " + vocab);
        this.adjust = adjustments.changesNothing() ? null : adjustments;
        this.adjusted = adjust == null ? null : new float[vocab];
        this.drawn = adjust != null && adjust.penalises() ? new int[vocab] : null;
        this.seen = drawn == null ? null : new int[vocab];
    }

    /** The next token for these logits (left as they are), counted as drawn. */
    public int sample(float[] logits) {
        if (adjust == null) return pick(logits);
        System.arraycopy(logits, 0, adjusted, 0, adjusted.length);
        for (int i = 0; i < adjust.biasIds().length; i++) adjusted[adjust.biasIds()[i]] += adjust.biases()[i];
        for (int i = 0; i < seenCount; i++) {
            int id = seen[i];
            adjusted[id] = (float) (adjusted[id] - drawn[id] * adjust.frequencyPenalty() - adjust.presencePenalty());
        }
        int token = pick(adjusted);
        if (drawn != null && drawn[token]++ == 0) seen[seenCount++] = token;
        return token;
    }

    private int pick(float[] logits) {
        int v = order.length;
        if (temperature == 0) {
            int best = 0;
            for (int i = 1; i < v; i++) if (logits[i] > logits[best]) best = i;
            return best;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) max = Math.max(max, logits[i]);
        double sum = 0;
        for (int i = 0; i < v; i++) sum += probs[i] = Math.exp((logits[i] - max) / temperature);
        int keep = topK > 0 ? Math.min(topK, v) : v;
        if (keep == v && topP >= 1) { // nothing is cut: the whole distribution in id order, no sort (6% of tiny's decoding)
            double r = rng.nextDouble() * sum;
            int last = 0;
            for (int id = 0; id < v; id++) {
                if (probs[id] == 0) continue;
                last = id;
                r -= probs[id];
                if (r < 0) return id;
            }
            return last; // r outlived the sum by rounding: the last token that has any probability
        }
        // Token ids by probability, descending, in order's tail: key = probability bits (positive floats order as
        // ints), low word = id. Only a candidate prefix is sorted, after a selection brings it to the tail: the top-k,
        // or for top-p a prefix grown fourfold until it holds the nucleus, which a trained model keeps small next to
        // its vocabulary (the same tokens as a full sort, whose first `sorted` places these are).
        for (int i = 0; i < v; i++) order[i] = ((long) Float.floatToIntBits((float) (probs[i] / sum)) << 32) | i;
        int sorted = topP < 1 ? Math.min(keep, FIRST_NUCLEUS) : keep;
        double mass;
        int n;
        while (true) {
            if (sorted < v) selectLargest(order, sorted);
            Arrays.sort(order, v - sorted, v);
            mass = 0;
            n = 0;
            while (n < sorted) {
                mass += probs[(int) order[v - 1 - n]];
                n++;
                if (mass >= topP * sum) break;
            }
            if (n < sorted || mass >= topP * sum || sorted == keep) break;
            sorted = (int) Math.min(keep, 4L * sorted); // the nucleus is larger: select again from the whole vocabulary
        }
        double r = rng.nextDouble() * mass;
        for (int j = 0; j < n; j++) {
            int id = (int) order[v - 1 - j];
            r -= probs[id];
            if (r < 0) return id;
        }
        return (int) order[v - n];
    }

    /** The candidate prefix that top-p sorts first. */
    static final int FIRST_NUCLEUS = 64;

    /** Moves the k largest of a (distinct keys) to its last k places, in no particular order: quickselect, median-of-three pivots. */
    static void selectLargest(long[] a, int k) {
        int lo = 0, hi = a.length - 1, target = a.length - k;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            long x = a[lo], y = a[mid], z = a[hi];
            long pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) {
                    long t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            // [lo, j] <= pivot <= [i, hi]; between them, elements equal to the pivot, already in place
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else return;
        }
    }
}
