package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * x clamped to [-c, c] in place, as torch.clamp computes it, with one bit per element kept for the backward: set where
 * the clamp cut the value (|x| &gt; c). Backward passes the gradient where the bit is clear, as torch.clamp's does (inside
 * [-c, c], bounds included). The bits of n elements fill {@link #words}(n) longs from mask[word], element i at bit i % 64
 * of word word + i / 64.
 */
public final class Clamp {
    private static final VectorSpecies<Float> S = Cpu.SPECIES;
    private static final int L = S.length();

    private Clamp() {}

    /** Longs that hold the bits of n elements. */
    public static int words(long n) {
        return (int) ((n + 63) / 64);
    }

    /** x[off, off+n) clamped to [-c, c]; their bits written into mask from word (mask null: no bits, for a forward-only pass). */
    public static void forward(float[] x, int off, int n, float c, long[] mask, int word) {
        FloatVector hi = FloatVector.broadcast(S, c), lo = FloatVector.broadcast(S, -c);
        for (int w0 = 0; w0 < n; w0 += 64) {
            int end = Math.min(n, w0 + 64), i = w0;
            long bits = 0;
            if (64 % L == 0) {
                for (; i + L <= end; i += L) {
                    FloatVector v = FloatVector.fromArray(S, x, off + i);
                    VectorMask<Float> cut = v.compare(VectorOperators.GT, hi).or(v.compare(VectorOperators.LT, lo));
                    bits |= cut.toLong() << (i - w0);
                    v.max(lo).min(hi).intoArray(x, off + i);
                }
            }
            for (; i < end; i++) {
                float v = x[off + i];
                if (v > c || v < -c) {
                    bits |= 1L << (i - w0);
                    x[off + i] = v > c ? c : -c;
                }
            }
            if (mask != null) mask[word + w0 / 64] = bits;
        }
    }

    /** dx[off, off+n) zeroed where the forward's bits (from mask[word]) say the clamp cut the value. */
    public static void backward(float[] dx, int off, int n, long[] mask, int word) {
        for (int w0 = 0; w0 < n; w0 += 64) {
            long bits = mask[word + w0 / 64];
            for (; bits != 0; bits &= bits - 1) dx[off + w0 + Long.numberOfTrailingZeros(bits)] = 0f;
        }
    }
}
