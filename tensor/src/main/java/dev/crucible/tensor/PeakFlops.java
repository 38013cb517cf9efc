package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * Measures the machine's FP32 peak as the kernels can reach it: every worker runs 10 independent
 * vector FMA chains on registers only (enough to cover FMA latency on two pipes; more chains make
 * C2 spill to the stack, which is the same limit that shapes the GEMM micro-kernel).
 */
public final class PeakFlops {
    private PeakFlops() {}

    private static final int CHAINS = 10;

    /**
     * GFLOP/s over all workers of the pool: the best of many short windows (~40 ms each), because on a
     * shared host a neighbour can take a core for a while and one long window would undercount.
     */
    public static double measure(WorkerPool pool) {
        int iters = 12_000_000 / Cpu.SPECIES.length();
        double best = 0;
        for (int rep = 0; rep < 12; rep++) {
            float[] sink = new float[pool.size()];
            long t0 = System.nanoTime();
            pool.run(pool.size(), (i, w) -> sink[i] = chains(iters));
            double secs = (System.nanoTime() - t0) / 1e9;
            double flops = 2.0 * Cpu.SPECIES.length() * CHAINS * iters * pool.size();
            best = Math.max(best, flops / secs / 1e9);
        }
        return best;
    }

    private static float chains(int iters) {
        var s = Cpu.SPECIES;
        FloatVector a = FloatVector.broadcast(s, 0.999999f), b = FloatVector.broadcast(s, 1e-7f);
        FloatVector c0 = FloatVector.zero(s), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0;
        for (int i = 0; i < iters; i++) {
            if (Cpu.HAS_FMA) {
                c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b); c4 = c4.fma(a, b);
                c5 = c5.fma(a, b); c6 = c6.fma(a, b); c7 = c7.fma(a, b); c8 = c8.fma(a, b); c9 = c9.fma(a, b);
            } else {
                c0 = c0.mul(a).add(b); c1 = c1.mul(a).add(b); c2 = c2.mul(a).add(b); c3 = c3.mul(a).add(b); c4 = c4.mul(a).add(b);
                c5 = c5.mul(a).add(b); c6 = c6.mul(a).add(b); c7 = c7.mul(a).add(b); c8 = c8.mul(a).add(b); c9 = c9.mul(a).add(b);
            }
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).lane(0);
    }
}
