package dev.crucible.tensor;

/** The squared L2 norm of a buffer range (gradient clipping), reduced deterministically. */
public final class SquaredNorm {
    /** Fixed chunk size: the result does not depend on the thread count. */
    static final int CHUNK = 1 << 16;
    private final WorkerPool pool;
    private double[] partial = new double[0];

    public SquaredNorm(WorkerPool pool) {
        this.pool = pool;
    }

    /** Σ g² over [start, end), each fixed chunk summed on its own, the chunks added in order. */
    public double of(float[] g, int start, int end) {
        int n = end - start;
        if (n <= 0) return 0;
        int chunks = (n + CHUNK - 1) / CHUNK;
        if (partial.length < chunks) partial = new double[chunks];
        double[] part = partial;
        pool.run(chunks, (c, wk) -> {
            int s = start + c * CHUNK, e = Math.min(end, s + CHUNK);
            part[c] = Vec.dot(g, s, g, s, e - s);
        });
        double total = 0;
        for (int c = 0; c < chunks; c++) total += part[c];
        return total;
    }
}
