package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * x clamped to [-c, c] in place, as torch.clamp computes it (NaN stays NaN), with one bit per element kept for the
 * backward: set where x lies outside [-c, c] or is NaN. Backward passes the gradient where the bit is clear, as
 * torch.clamp's does ((x &gt;= -c) &amp; (x &lt;= c)). The bits of n elements fill {@link #words}(n) longs from mask[word],
 * element i at bit i % 64 of word word + i / 64. Whole 64-element words are split over the pool's workers.
 */
public final class Clamp {
    private static final VectorSpecies<Float> S = Cpu.SPECIES;
    private static final int L = S.length();
    /** Words a worker takes at least: 4,096 elements, below which splitting costs more than it saves. */
    private static final int MIN_WORDS = 64;

    private final WorkerPool pool;

    public Clamp(WorkerPool pool) {
        this.pool = pool;
    }

    /** Longs that hold the bits of n elements. */
    public static int words(long n) {
        return (int) ((n + 63) / 64);
    }

    /** x[off, off+n) clamped to [-c, c]; their bits written into mask from word (mask null: no bits, for a forward-only pass). */
    public void forward(float[] x, int off, int n, float c, long[] mask, int word) {
        int words = words(n);
        pool.forRange(words, pool.chunksFor(words, MIN_WORDS), (s, e, ch, w) -> {
            FloatVector hi = FloatVector.broadcast(S, c), lo = FloatVector.broadcast(S, -c);
            for (int k = s; k < e; k++) {
                int w0 = 64 * k, end = Math.min(n, w0 + 64), i = w0;
                long bits = 0;
                if (64 % L == 0) {
                    for (; i + L <= end; i += L) {
                        FloatVector v = FloatVector.fromArray(S, x, off + i);
                        VectorMask<Float> cut = v.compare(VectorOperators.GT, hi).or(v.compare(VectorOperators.LT, lo)).or(v.test(VectorOperators.IS_NAN));
                        bits |= cut.toLong() << (i - w0);
                        v.max(lo).min(hi).intoArray(x, off + i);
                    }
                }
                for (; i < end; i++) {
                    float v = x[off + i];
                    if (!(v >= -c && v <= c)) {
                        bits |= 1L << (i - w0);
                        if (v > c) x[off + i] = c;
                        else if (v < -c) x[off + i] = -c;
                    }
                }
                if (mask != null) mask[word + k] = bits;
            }
        });
    }

    /** dx[off, off+n) zeroed where the forward's bits (from mask[word]) say the value lay outside the bounds. */
    public void backward(float[] dx, int off, int n, long[] mask, int word) {
        int words = words(n);
        pool.forRange(words, pool.chunksFor(words, MIN_WORDS), (s, e, ch, w) -> {
            for (int k = s; k < e; k++) {
                for (long bits = mask[word + k]; bits != 0; bits &= bits - 1) dx[off + 64 * k + Long.numberOfTrailingZeros(bits)] = 0f;
            }
        });
    }
}
