package dev.crucible.model;

import dev.crucible.tensor.Rng;
import java.util.Arrays;

/**
 * Picks the next token from logits: greedy at temperature 0, otherwise softmax at the temperature,
 * restricted to the top-k tokens and to the smallest set whose probability reaches top-p, sampled
 * from a seeded generator (so a seed reproduces a generation). Buffers are allocated once.
 */
public final class Sampler {
    private final double temperature, topP;
    private final int topK;
    private final Rng rng;
    private final long[] order;
    private final double[] probs;

    public Sampler(int vocab, double temperature, int topK, double topP, long seed) {
        if (!(temperature >= 0)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0 (0 = off), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.rng = new Rng(seed);
        this.order = new long[vocab];
        this.probs = new double[vocab];
    }

    public int sample(float[] logits) {
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
        // Sort token ids by probability, descending: key = probability bits (positive floats order as ints), low word = id.
        for (int i = 0; i < v; i++) order[i] = ((long) Float.floatToIntBits((float) (probs[i] / sum)) << 32) | i;
        Arrays.sort(order);
        int keep = topK > 0 ? Math.min(topK, v) : v;
        double mass = 0;
        int n = 0;
        while (n < keep) {
            mass += probs[(int) order[v - 1 - n]];
            n++;
            if (mass >= topP * sum) break;
        }
        double r = rng.nextDouble() * mass;
        for (int j = 0; j < n; j++) {
            int id = (int) order[v - 1 - j];
            r -= probs[id];
            if (r < 0) return id;
        }
        return (int) order[v - n];
    }
}
