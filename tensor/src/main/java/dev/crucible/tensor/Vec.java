package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector helpers shared by the kernels. Everything here gives the same bits in interpreted, C1 and
 * C2 code and in the vector body and scalar tail of a loop: the Vector API's own EXP/TANH and its
 * float ADD reduction do not (their order and approximation are unspecified and differ between the
 * Java fallback and the compiled intrinsic), which would break bit-identical runs.
 */
final class Vec {
    private Vec() {}

    static final VectorSpecies<Float> S = Cpu.SPECIES;
    static final int L = S.length();
    static final boolean FMA = Cpu.HAS_FMA;

    static FloatVector fma(FloatVector a, FloatVector b, FloatVector c) {
        return FMA ? a.fma(b, c) : a.mul(b).add(c);
    }

    static float fma(float a, float b, float c) {
        return FMA ? Math.fma(a, b, c) : a * b + c;
    }

    /** x[from, to) := 0, by vectors (Arrays.fill measured as a scalar loop on attention's short row ends). */
    static void zero(float[] x, int from, int to) {
        FloatVector z = FloatVector.zero(S);
        int i = from;
        for (; i + L <= to; i += L) z.intoArray(x, i);
        for (; i < to; i++) x[i] = 0f;
    }

    /** Lanes summed in index order (reduceLanes(ADD) has an unspecified order). */
    static float sumLanes(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < L; i++) s += v.lane(i);
        return s;
    }

    /** Rotations by L/2, L/4, ..., 1 lanes: the steps of {@link #sumTree}. */
    private static final jdk.incubator.vector.VectorShuffle<Float>[] HALVES = halves();

    @SuppressWarnings("unchecked")
    private static jdk.incubator.vector.VectorShuffle<Float>[] halves() {
        int steps = Integer.numberOfTrailingZeros(L);
        jdk.incubator.vector.VectorShuffle<Float>[] out = new jdk.incubator.vector.VectorShuffle[steps];
        for (int k = 0; k < steps; k++) out[k] = jdk.incubator.vector.VectorShuffle.iota(S, L >> (k + 1), 1, true);
        return out;
    }

    /**
     * Lanes summed as a fixed tree: each lane plus the lane L/2 away, then L/4 away, and so on; lane 0
     * holds the sum. log2(L) shuffles and adds rather than L extractions, and, the order being fixed,
     * the same bits in interpreted, C1 and C2 code (unlike reduceLanes(ADD)). Not the same bits as
     * {@link #sumLanes}: a kernel uses one or the other throughout.
     */
    static float sumTree(FloatVector v) {
        for (jdk.incubator.vector.VectorShuffle<Float> h : HALVES) v = v.add(v.rearrange(h));
        return v.lane(0);
    }

    // exp(x) = 2^n · p(r), x = n·ln2 + r, |r| <= ln2/2, p the degree-6 Taylor polynomial (rel. error < 2e-7).
    private static final float LOG2E = 1.44269504f, LN2_HI = 0.693145752f, LN2_LO = 1.42860677e-6f;
    private static final float ROUND = 12582912f; // 1.5·2^23: adding it rounds to an integer
    private static final float EXP_MIN = -87.3f, EXP_MAX = 88.3f;
    private static final float P6 = 1f / 720, P5 = 1f / 120, P4 = 1f / 24, P3 = 1f / 6, P2 = 0.5f;

    static FloatVector exp(FloatVector x) {
        // The clamps as compare-and-blend: max and min with Java's NaN and signed-zero rules take C2 several
        // instructions each, and a NaN or a zero leaves these two as it leaves them (the same bits).
        x = x.blend(EXP_MIN, x.lt(EXP_MIN)).blend(EXP_MAX, x.compare(VectorOperators.GT, EXP_MAX));
        FloatVector t = x.mul(LOG2E).add(ROUND), n = t.sub(ROUND);
        FloatVector ln2Hi = FloatVector.broadcast(S, -LN2_HI), ln2Lo = FloatVector.broadcast(S, -LN2_LO);
        FloatVector r = fma(n, ln2Lo, fma(n, ln2Hi, x));
        FloatVector p = fma(r, FloatVector.broadcast(S, P6), FloatVector.broadcast(S, P5));
        p = fma(p, r, FloatVector.broadcast(S, P4));
        p = fma(p, r, FloatVector.broadcast(S, P3));
        p = fma(p, r, FloatVector.broadcast(S, P2));
        p = fma(p, r, FloatVector.broadcast(S, 1f));
        p = fma(p, r, FloatVector.broadcast(S, 1f));
        // 2^n from t's own bits: t = 1.5·2^23 + n holds n in its low mantissa bits, and the shift keeps only the
        // low 9 bits of n + 127 (in [1, 254] after the clamps); a float-to-int conversion, with Java's rules
        // for NaN and overflow, cost more
        IntVector bits = ((IntVector) t.reinterpretAsInts()).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }

    static float exp(float x) {
        x = Math.min(Math.max(x, EXP_MIN), EXP_MAX);
        float n = (x * LOG2E + ROUND) - ROUND;
        float r = fma(n, -LN2_LO, fma(n, -LN2_HI, x));
        float p = fma(r, P6, P5);
        p = fma(p, r, P4);
        p = fma(p, r, P3);
        p = fma(p, r, P2);
        p = fma(p, r, 1f);
        p = fma(p, r, 1f);
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    /** 1 / (1 + exp(−x)) */
    static FloatVector sigmoid(FloatVector x) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        return one.div(exp(x.neg()).add(one));
    }

    static float sigmoid(float x) {
        return 1f / (1f + exp(-x));
    }

    static float sum(float[] x, int off, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) acc = acc.add(FloatVector.fromArray(S, x, off + i));
        float s = sumLanes(acc);
        for (; i < n; i++) s += x[off + i];
        return s;
    }

    static float dot(float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) acc = fma(FloatVector.fromArray(S, x, xOff + i), FloatVector.fromArray(S, y, yOff + i), acc);
        float s = sumLanes(acc);
        for (; i < n; i++) s += x[xOff + i] * y[yOff + i];
        return s;
    }

    /** Values per block of {@link #sumOfSquares}: its float partial sums add 16 squares per lane. */
    static final int SQUARES_BLOCK = 64 * L;

    /**
     * Σ x² over [off, off+n) in a fixed order (the same bits in every JIT tier for a given vector width):
     * block by block ({@link #blockSquares}), the blocks' sums added in double. Within 2e-6 of the exact
     * sum (relative), and no overflow for any finite float; a normaliser's sum, not a statistic's.
     */
    static double sumOfSquares(float[] x, int off, int n) {
        double s = 0;
        for (int b = 0; b < n; b += SQUARES_BLOCK) s += blockSquares(x, off + b, Math.min(SQUARES_BLOCK, n - b));
        return s;
    }

    /**
     * Σ x² over one block of at most {@link #SQUARES_BLOCK} values: squares summed in four float vectors
     * (products and sums rounded apart, no FMA, so the same bits with or without FMA hardware), the four
     * added in float, their lanes then in double in index order. A block whose float sum overflowed
     * (a square or a partial sum past 3.4e38) is summed again in double. Squares below float's normal
     * range (values under ~1e-19) lose bits: such a block adds less than 1e-30 to the sum. Widening to
     * double in vectors instead (convertShape F2D) was not compiled as an intrinsic in some of a training
     * process's compiles, whose Java fallback made the sum about 5% of Muon's step.
     */
    static double blockSquares(float[] x, int off, int n) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            FloatVector v0 = FloatVector.fromArray(S, x, off + i), v1 = FloatVector.fromArray(S, x, off + i + L);
            FloatVector v2 = FloatVector.fromArray(S, x, off + i + 2 * L), v3 = FloatVector.fromArray(S, x, off + i + 3 * L);
            a0 = a0.add(v0.mul(v0));
            a1 = a1.add(v1.mul(v1));
            a2 = a2.add(v2.mul(v2));
            a3 = a3.add(v3.mul(v3));
        }
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, off + i);
            a0 = a0.add(v.mul(v));
        }
        FloatVector acc = a0.add(a1).add(a2.add(a3));
        double s = 0;
        for (int j = 0; j < L; j++) s += acc.lane(j);
        for (; i < n; i++) s += (double) x[off + i] * x[off + i];
        if (Double.isInfinite(s)) {
            s = 0;
            for (int k = 0; k < n; k++) s += (double) x[off + k] * x[off + k];
        }
        return s;
    }

    /** x[off, off+n) *= f. */
    static void scale(float[] x, int off, int n, float f) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) FloatVector.fromArray(S, x, off + i).mul(f).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= f;
    }

    /** x := exp(x·a − b) over x[off, off+n); returns the sum (a softmax's denominator, with a = 1/τ and b = max/τ). */
    static float expInPlace(float[] x, int off, int n, float a, float b) {
        FloatVector av = FloatVector.broadcast(S, a), bv = FloatVector.broadcast(S, b), acc = FloatVector.zero(S);
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) {
            FloatVector ex = exp(FloatVector.fromArray(S, x, off + i).mul(av).sub(bv));
            ex.intoArray(x, off + i);
            acc = acc.add(ex);
        }
        float sum = sumLanes(acc);
        for (; i < n; i++) {
            float ex = exp(x[off + i] * a - b);
            x[off + i] = ex;
            sum += ex;
        }
        return sum;
    }

    static float max(float[] x, int off, int n) {
        // the last partial vector by a masked load: attention's short rows (scoring's requests) are all tail
        FloatVector negInf = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), mv = negInf;
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) mv = mv.max(FloatVector.fromArray(S, x, off + i));
        if (i < n) {
            VectorMask<Float> in = S.indexInRange(i, n);
            mv = mv.max(FloatVector.fromArray(S, x, off + i, in).blend(negInf, in.not()));
        }
        return mv.reduceLanes(VectorOperators.MAX);
    }

    /** sum of (x - c)^2 */
    static float sumSquaredDeviation(float[] x, int off, int n, float c) {
        FloatVector acc = FloatVector.zero(S), cv = FloatVector.broadcast(S, c);
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) {
            FloatVector d = FloatVector.fromArray(S, x, off + i).sub(cv);
            acc = fma(d, d, acc);
        }
        float s = sumLanes(acc);
        for (; i < n; i++) s += (x[off + i] - c) * (x[off + i] - c);
        return s;
    }

    /** y[yOff, yOff+n) += a · x[xOff, xOff+n) */
    static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector av = FloatVector.broadcast(S, a);
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) fma(av, FloatVector.fromArray(S, x, xOff + i), FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = fma(a, x[xOff + i], y[yOff + i]);
    }

    /** dst[i] = a · src[i] */
    static void scaleInto(float[] dst, int dOff, float[] src, int sOff, int n, float a) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) FloatVector.fromArray(S, src, sOff + i).mul(a).intoArray(dst, dOff + i);
        for (; i < n; i++) dst[dOff + i] = src[sOff + i] * a;
    }

    /** dst[i] += src[i] */
    static void addInto(float[] dst, int dOff, float[] src, int sOff, int n) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, dst, dOff + i).add(FloatVector.fromArray(S, src, sOff + i)).intoArray(dst, dOff + i);
        }
        for (; i < n; i++) dst[dOff + i] += src[sOff + i];
    }
}
