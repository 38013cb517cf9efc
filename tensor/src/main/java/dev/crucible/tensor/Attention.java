package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Causal multi-head self-attention with grouped-query heads on a fused qkv activation of shape
 * (B, T, (NH + 2·NKV)·hs): query heads first, then key heads, then value heads; query head h reads
 * key/value head h / (NH / NKV). It never holds a T x T matrix: queries go in tiles of {@link #BQ} rows against key tiles of
 * {@link #BK} columns up to the diagonal, with the online softmax (a running row maximum and sum,
 * the partial output rescaled as the maximum grows; Dao et al., FlashAttention). Forward keeps only
 * each row's log-sum-exp (B, NH, T); backward recomputes each tile's probabilities from it and
 * takes D = rowsum(dO ∘ O), so memory is O(B·NH·T) instead of O(B·NH·T²). Dropout on the
 * probabilities keeps probability (b, h, i, j) where {@link Dropout#keep} says so for element
 * ((b·NH + h)·T + i)·T + j of dropKey, scaled by 1/(1 − p). One task per (batch, head) forward and
 * per (batch, key/value head) backward, tiles in a fixed order: results do not depend on the
 * number of threads.
 */
public final class Attention {
    /**
     * Query rows and key columns per tile: a 128 x 128 score tile (64 KB) and its partial output stay in L2.
     * Against 64 x 64 tiles, attention took 29% less time at T = 4,096 and ~15% less at 256 (`tiny`, Ice
     * Lake): fewer, larger products per tile pair (128 rows are 32 whole 4-row GEMM tiles, or 10 whole
     * 12-row tiles and an edge of 8). Square, so that the tile pairs either lie below the diagonal or on
     * it, where query tile qs meets key tile ks = qs: the products' triangles and the gradients' first
     * writes rely on it.
     */
    public static final int BQ = 128, BK = BQ;
    /**
     * A score tile's floats, and room past it for the reads of the GEMM's last row panel: Pᵀ and dSᵀ are
     * read where they lie (k-major), and a panel of MR rows reads its full width even where the tile
     * ends, so without the room they were packed instead (5% of attention's samples at 4,096 positions).
     */
    private static final int TILE_FLOATS = BQ * BK + Gemm.MR;

    private final Gemm gemm;
    private final WorkerPool pool;
    private final float[][] scores, acc, rowMax, rowSum, dscores, rowD;
    /**
     * Per worker: its head's Kᵀ and Vᵀ (hs x T), packed once by the task as the right operand of every tile
     * pair's scores (Q·Kᵀ, dO·Vᵀ), a key tile's columns at a time. Packed per tile pair, they were transposed
     * again for each query tile: about a tenth of attention's samples at 4,096 positions. Sized before the
     * tasks run ({@link #sizeKeys}), so that no allocation's code joins the tasks' compiled form.
     */
    private final PackedMatrix[] keysT, valuesT;

    public Attention(Gemm gemm) {
        this.gemm = gemm;
        this.pool = gemm.pool();
        int n = pool.size();
        scores = new float[n][];
        acc = new float[n][];
        rowMax = new float[n][];
        rowSum = new float[n][];
        dscores = new float[n][];
        rowD = new float[n][];
        keysT = new PackedMatrix[n];
        valuesT = new PackedMatrix[n];
    }

    /** Every worker's Kᵀ (and Vᵀ) buffer sized for t positions of hs-wide heads. */
    private void sizeKeys(int t, int hs, boolean values) {
        for (int wk = 0; wk < keysT.length; wk++) {
            keysT[wk] = sized(keysT[wk], hs, t);
            if (values) valuesT[wk] = sized(valuesT[wk], hs, t);
        }
    }

    private static PackedMatrix sized(PackedMatrix p, int k, int n) {
        return p != null && p.rows() == k && p.columns() == n ? p : new PackedMatrix(k, n);
    }

    /** Width of the fused qkv row. */
    public static int qkvWidth(int nh, int nkv, int hs) {
        return (nh + 2 * nkv) * hs;
    }

    private static float[] sized(float[][] slot, int wk, int n) {
        float[] a = slot[wk];
        if (a == null || a.length < n) a = slot[wk] = new float[n];
        return a;
    }

    /** out (B,T,NH·hs) = softmax(causal(Q·Kᵀ / sqrt(hs))) · V; lse (B,NH,T) = each row's log-sum-exp of the scaled scores. */
    public void forward(float[] out, int outOff, float[] lse, int lseOff, float[] qkv, int qkvOff, int b, int t, int nh, int nkv, int hs) {
        forward(out, outOff, lse, lseOff, qkv, qkvOff, b, t, nh, nkv, hs, 0, 0f);
    }

    /** As above with dropout at rate dropP on the probabilities: out = (P ∘ mask / (1 − p)) · V, lse that of P itself. */
    public void forward(float[] out, int outOff, float[] lse, int lseOff, float[] qkv, int qkvOff, int b, int t, int nh, int nkv, int hs,
                        long dropKey, float dropP) {
        final int w = qkvWidth(nh, nkv, hs), oc = nh * hs, group = nh / nkv;
        final float scale = (float) (1.0 / Math.sqrt(hs));
        sizeKeys(t, hs, false);
        pool.run(b * nh, (task, wk) -> {
            int bi = task / nh, h = task % nh, kvh = h / group;
            int base = qkvOff + bi * t * w;
            int q = base + h * hs, k = base + (nh + kvh) * hs, v = base + (nh + nkv + kvh) * hs;
            float[] s = sized(scores, wk, TILE_FLOATS), o = sized(acc, wk, BQ * hs), m = sized(rowMax, wk, BQ), l = sized(rowSum, wk, BQ);
            long first = (long) (bi * nh + h) * t * t;
            PackedMatrix kT = keysT[wk];
            gemm.packSerial(wk, kT, qkv, k, 1, w);
            for (int qs = 0; qs < t; qs += BQ) {
                int rows = Math.min(BQ, t - qs), keys = qs + rows;
                java.util.Arrays.fill(m, 0, rows, Float.NEGATIVE_INFINITY);
                java.util.Arrays.fill(l, 0, rows, 0f);
                java.util.Arrays.fill(o, 0, rows * hs, 0f);
                for (int ks = 0; ks < keys; ks += BK) {
                    int cols = Math.min(BK, keys - ks);
                    boolean diagonal = ks == qs;
                    gemm.multiplySerial(wk, rows, qkv, q + qs * w, w, 1, kT, ks, cols, s, 0, BK, false, scoresOf(diagonal));
                    for (int i = 0; i < rows; i++) {
                        int row = i * BK, n = Math.min(cols, qs + i - ks + 1); // keys j <= query i: at least one, as ks <= qs
                        float mx = Math.max(m[i], scale * Vec.max(s, row, n));
                        float corr = m[i] == Float.NEGATIVE_INFINITY ? 0f : Vec.exp(m[i] - mx);
                        float sum = expShifted(s, row, n, scale, mx);
                        if (dropP > 0) {
                            long at = first + (long) (qs + i) * t + ks;
                            for (int j = 0; j < n; j++) s[row + j] = Dropout.keep(dropKey, at + j, dropP) ? s[row + j] / (1f - dropP) : 0f;
                        }
                        Vec.zero(s, row + n, row + cols);
                        l[i] = l[i] * corr + sum;
                        m[i] = mx;
                        if (corr != 1f) scaled(o, i * hs, hs, corr, o, i * hs);
                    }
                    gemm.multiplySerial(wk, rows, hs, cols, s, 0, BK, 1, qkv, v + ks * w, w, 1, o, 0, hs, true, byRows(diagonal));
                }
                for (int i = 0; i < rows; i++) {
                    float inv = 1f / l[i];
                    int dst = outOff + (bi * t + qs + i) * oc + h * hs;
                    scaled(o, i * hs, hs, inv, out, dst); // C2 left this as a scalar loop: a tenth of attention's time
                    lse[lseOff + (bi * nh + h) * t + qs + i] = m[i] + (float) Math.log(l[i]);
                }
            }
        });
    }

    /**
     * dqkv (B,T,(NH+2NKV)·hs) = gradient of the attention output with respect to qkv (overwritten),
     * from dout, the forward's output and its log-sum-exp. Tasks own one (batch, key/value head)
     * group: dK and dV of a shared head are summed over its query heads and tiles in a fixed order.
     */
    public void backward(float[] dqkv, int dqkvOff, float[] dout, int doutOff, float[] out, int outOff, float[] qkv, int qkvOff, float[] lse,
                         int lseOff, int b, int t, int nh, int nkv, int hs) {
        backward(dqkv, dqkvOff, dout, doutOff, out, outOff, qkv, qkvOff, lse, lseOff, b, t, nh, nkv, hs, 0, 0f);
    }

    /** As above after a forward with dropout (the same dropKey and dropP). */
    public void backward(float[] dqkv, int dqkvOff, float[] dout, int doutOff, float[] out, int outOff, float[] qkv, int qkvOff, float[] lse,
                         int lseOff, int b, int t, int nh, int nkv, int hs, long dropKey, float dropP) {
        final int w = qkvWidth(nh, nkv, hs), oc = nh * hs, group = nh / nkv;
        final float scale = (float) (1.0 / Math.sqrt(hs)), keepScale = dropP > 0 ? 1f / (1f - dropP) : 1f;
        sizeKeys(t, hs, true);
        pool.run(b * nkv, (task, wk) -> {
            int bi = task / nkv, kvh = task % nkv;
            int base = qkvOff + bi * t * w, dbase = dqkvOff + bi * t * w;
            int k = base + (nh + kvh) * hs, v = base + (nh + nkv + kvh) * hs;
            int dk = dbase + (nh + kvh) * hs, dv = dbase + (nh + nkv + kvh) * hs;
            float[] p = sized(scores, wk, TILE_FLOATS), dp = sized(dscores, wk, TILE_FLOATS), dd = sized(rowD, wk, BQ);
            PackedMatrix kT = keysT[wk], vT = valuesT[wk];
            gemm.packSerial(wk, kT, qkv, k, 1, w);
            gemm.packSerial(wk, vT, qkv, v, 1, w);
            for (int g = 0; g < group; g++) {
                int h = kvh * group + g;
                int q = base + h * hs, dq = dbase + h * hs, dO = doutOff + bi * t * oc + h * hs, o = outOff + bi * t * oc + h * hs;
                int lrow = lseOff + (bi * nh + h) * t;
                long first = (long) (bi * nh + h) * t * t;
                for (int qs = 0; qs < t; qs += BQ) {
                    int rows = Math.min(BQ, t - qs), keys = qs + rows;
                    for (int i = 0; i < rows; i++) dd[i] = Vec.dot(dout, dO + (qs + i) * oc, out, o + (qs + i) * oc, hs);
                    for (int ks = 0; ks < keys; ks += BK) {
                        int cols = Math.min(BK, keys - ks);
                        boolean diagonal = ks == qs;
                        // P = exp(scale·Q·Kᵀ − lse) on and below the diagonal; dP = dO·Vᵀ
                        gemm.multiplySerial(wk, rows, qkv, q + qs * w, w, 1, kT, ks, cols, p, 0, BK, false, scoresOf(diagonal));
                        gemm.multiplySerial(wk, rows, dout, dO + qs * oc, oc, 1, vT, ks, cols, dp, 0, BK, false, scoresOf(diagonal));
                        for (int i = 0; i < rows; i++) {
                            int row = i * BK, n = Math.min(cols, qs + i - ks + 1);
                            float li = lse[lrow + qs + i];
                            if (dropP > 0) {
                                long at = first + (long) (qs + i) * t + ks;
                                for (int j = 0; j < n; j++) {
                                    float pij = Vec.exp(p[row + j] * scale - li);
                                    boolean kept = Dropout.keep(dropKey, at + j, dropP);
                                    dp[row + j] = pij * ((kept ? dp[row + j] * keepScale : 0f) - dd[i]) * scale; // dS
                                    p[row + j] = kept ? pij * keepScale : 0f; // the probabilities the forward multiplied V by
                                }
                            } else {
                                expShifted(p, row, n, scale, li);
                                softmaxGradient(dp, p, row, n, dd[i], scale);
                            }
                            Vec.zero(p, row + n, row + cols);
                            Vec.zero(dp, row + n, row + cols);
                        }
                        // dV += P'ᵀ·dO, dQ += dS·K, dK += dSᵀ·Q; each written, not added, by its first term: a key tile's
                        // first query tile is its diagonal one, a query tile's first key tile the first
                        boolean firstForKeys = g == 0 && diagonal;
                        gemm.multiplySerial(wk, cols, hs, rows, p, 0, 1, BK, dout, dO + qs * oc, oc, 1, dqkv, dv + ks * w, w, !firstForKeys, byColumns(diagonal));
                        gemm.multiplySerial(wk, rows, hs, cols, dp, 0, BK, 1, qkv, k + ks * w, w, 1, dqkv, dq + qs * w, w, ks > 0, byRows(diagonal));
                        gemm.multiplySerial(wk, cols, hs, rows, dp, 0, 1, BK, qkv, q + qs * w, w, 1, dqkv, dk + ks * w, w, !firstForKeys, byColumns(diagonal));
                    }
                }
            }
        });
    }

    // A tile on the diagonal (query tile qs against key tile ks = qs; BQ = BK, so it is square) is causal
    // within: its scores above the diagonal are not wanted, and the probabilities there, and dS, are zero.
    // The products skip that work (on `tiny`'s 256 positions two tiles of three lie on the diagonal).

    /** Scores Q·Kᵀ and dO·Vᵀ of a tile. */
    private static Gemm.Triangle scoresOf(boolean diagonal) {
        return diagonal ? Gemm.Triangle.C_LOWER : Gemm.Triangle.NONE;
    }

    /** A product whose left operand is a tile's P or dS, by query rows. */
    private static Gemm.Triangle byRows(boolean diagonal) {
        return diagonal ? Gemm.Triangle.A_LOWER : Gemm.Triangle.NONE;
    }

    /** A product whose left operand is a tile's P or dS transposed, by key rows. */
    private static Gemm.Triangle byColumns(boolean diagonal) {
        return diagonal ? Gemm.Triangle.A_UPPER : Gemm.Triangle.NONE;
    }

    /**
     * x[off, off + n) := exp(scale·x − shift); returns their sum (lanes added in a fixed order, then the
     * elements past the last whole vector one by one). Those last elements are computed by a whole vector
     * too (the same bits as the scalar exp), whose lanes past n land in x[off + n, off + roundUp(n, L)):
     * x must have room there. The caller zeroes them up to the tile's columns; any past those (a last
     * tile narrower than a whole number of vectors) no product reads.
     */
    private static float expShifted(float[] x, int off, int n, float scale, float shift) {
        FloatVector sc = FloatVector.broadcast(Vec.S, scale), sh = FloatVector.broadcast(Vec.S, shift), acc = FloatVector.zero(Vec.S);
        int bound = Vec.S.loopBound(n);
        for (int i = 0; i < n; i += Vec.L) { // one call of exp: a second one, for the tail, was not inlined and boxed its vectors
            FloatVector e = Vec.exp(FloatVector.fromArray(Vec.S, x, off + i).mul(sc).sub(sh));
            e.intoArray(x, off + i);
            if (i < bound) acc = acc.add(e);
        }
        // Vec.sumLanes's order, written out: the tasks that inline this are near C2's node cutoff, past which a
        // call taking a vector is left a call and boxes its argument (10 MB a `tiny` step, seen)
        float sum = 0f;
        for (int j = 0; j < Vec.L; j++) sum += acc.lane(j);
        for (int i = bound; i < n; i++) sum += x[off + i];
        return sum;
    }

    /** dS: dp[off, off + n) := p · (dp − d) · scale. */
    private static void softmaxGradient(float[] dp, float[] p, int off, int n, float d, float scale) {
        FloatVector dv = FloatVector.broadcast(Vec.S, d), sc = FloatVector.broadcast(Vec.S, scale);
        int i = 0, bound = Vec.S.loopBound(n);
        for (; i < bound; i += Vec.L) {
            FloatVector.fromArray(Vec.S, dp, off + i).sub(dv).mul(FloatVector.fromArray(Vec.S, p, off + i)).mul(sc).intoArray(dp, off + i);
        }
        for (; i < n; i++) dp[off + i] = p[off + i] * (dp[off + i] - d) * scale;
    }

    /** y[yOff, yOff + n) := s·x[off, off + n). */
    private static void scaled(float[] x, int off, int n, float s, float[] y, int yOff) {
        int i = 0, bound = Vec.S.loopBound(n);
        FloatVector sv = FloatVector.broadcast(Vec.S, s);
        for (; i < bound; i += Vec.L) FloatVector.fromArray(Vec.S, x, off + i).mul(sv).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = x[off + i] * s;
    }
}
