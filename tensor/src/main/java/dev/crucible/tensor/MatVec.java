package dev.crucible.tensor;

/** y[OC] = W[OC,C] · x[C] (+ bias): one row of a linear layer, for incremental decoding; parallel over output rows. */
public final class MatVec {
    private final WorkerPool pool;

    public MatVec(WorkerPool pool) {
        this.pool = pool;
    }

    public void forward(float[] y, int yOff, float[] w, int wOff, float[] x, int xOff, float[] bias, int biasOff, int c, int oc) {
        // Waking a worker costs tens of microseconds: split only when each chunk has ~256K multiply-adds.
        pool.forRange(oc, pool.chunksFor((long) oc * c, 1 << 18), (s, e, ch, wk) -> {
            for (int o = s; o < e; o++) {
                float v = Vec.dot(w, wOff + o * c, x, xOff, c);
                y[yOff + o] = bias == null ? v : v + bias[biasOff + o];
            }
        });
    }
}
