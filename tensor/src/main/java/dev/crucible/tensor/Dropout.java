package dev.crucible.tensor;

/**
 * Dropout with masks that are a pure function of a key and the element's index: element i of a
 * tensor is kept iff a 64-bit hash of (key, i) is at least p·2^64, and kept elements are scaled by
 * 1/(1 − p). The trainer derives the key from (seed, step, micro-batch, layer, site), so the same mask
 * comes back in the backward pass, for any thread count, and after a resume, without storing masks
 * or random state.
 */
public final class Dropout {
    private final WorkerPool pool;

    public Dropout(WorkerPool pool) {
        this.pool = pool;
    }

    /** A key for one site of one layer in one micro-batch of one step. */
    public static long key(long seed, long step, int micro, int layer, int site) {
        long k = mix(seed ^ 0x9E3779B97F4A7C15L);
        k = mix(k ^ step);
        k = mix(k ^ ((long) micro << 32 | (long) layer << 8 | site));
        return k;
    }

    /** Whether element i is kept under key at drop probability p. */
    public static boolean keep(long key, long i, float p) {
        // the top 53 bits as a uniform double in [0, 1)
        return (mix(key + i * 0x9E3779B97F4A7C15L) >>> 11) * 0x1.0p-53 >= p;
    }

    /** x[off, off + n) := x · mask / (1 − p), the mask of key; forward and backward alike. */
    public void apply(float[] x, int off, int n, long key, float p) {
        float scale = 1f / (1f - p);
        pool.forRange(n, pool.chunksFor(n, 1 << 14), (s, e, ch, wk) -> {
            for (int i = s; i < e; i++) x[off + i] = keep(key, i, p) ? x[off + i] * scale : 0f;
        });
    }

    /** SplitMix64's finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
