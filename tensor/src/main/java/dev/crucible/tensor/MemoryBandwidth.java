package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Measures how fast the workers together read memory: the bound that decoding one token at a time meets,
 * as every weight is read once per token. Each worker sums its share of an array far larger than any
 * last-level cache (256 MB), with four vector accumulators so that the adds never wait on each other.
 */
public final class MemoryBandwidth {
    private MemoryBandwidth() {}

    private static final int FLOATS = 64 << 20;

    /** Read bandwidth in GB/s (10⁹ bytes): the best of several passes, as a neighbour on a shared host can slow any one. */
    public static double measure(WorkerPool pool) {
        float[] data = new float[FLOATS];
        int n = pool.size(), share = FLOATS / n / Cpu.SPECIES.length() * Cpu.SPECIES.length();
        float[] sink = new float[n];
        pool.run(n, (i, w) -> java.util.Arrays.fill(data, i * share, (i + 1) * share, 1f));
        double best = 0;
        for (int rep = 0; rep < 8; rep++) {
            long t0 = System.nanoTime();
            pool.run(n, (i, w) -> sink[i] = sum(data, i * share, (i + 1) * share));
            double secs = (System.nanoTime() - t0) / 1e9;
            best = Math.max(best, 4.0 * share * n / secs / 1e9);
        }
        return best;
    }

    private static float sum(float[] a, int from, int to) {
        var s = Cpu.SPECIES;
        int l = s.length();
        FloatVector c0 = FloatVector.zero(s), c1 = c0, c2 = c0, c3 = c0;
        int i = from;
        for (; i + 4 * l <= to; i += 4 * l) {
            c0 = c0.add(FloatVector.fromArray(s, a, i));
            c1 = c1.add(FloatVector.fromArray(s, a, i + l));
            c2 = c2.add(FloatVector.fromArray(s, a, i + 2 * l));
            c3 = c3.add(FloatVector.fromArray(s, a, i + 3 * l));
        }
        for (; i < to; i += l) c0 = c0.add(FloatVector.fromArray(s, a, i));
        return c0.add(c1).add(c2.add(c3)).reduceLanes(VectorOperators.ADD);
    }
}
