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
     * A score tile's floats, and room past it for the reads of the GEMM's last row panel: P (forward), Pᵀ and
     * dSᵀ (backward) are read where they lie (k-major), and a panel of MR rows reads its full width even where
     * the tile ends, so without the room they were packed instead (5% of attention's samples at 4,096 positions).
     */
    private static final int TILE_FLOATS = BQ * BK + Gemm.MR;
    /** Room past a k-major copy's last row: the GEMM's last row panel reads a whole panel (MR), an AVX2 packing copy a vector (L). */
    private static final int KMAJOR_ROOM = 16;

    private final Gemm gemm;
    private final WorkerPool pool;
    private final float[][] scores, acc, rowMax, rowSum, corrections, dscores, rowD;
    /**
     * Per worker, k-major copies (hs rows) of the left operands that meet several tiles: the head's keys
     * (forward's K·Qᵀ), a query tile's Q and dO (backward's Q·Kᵀ and dO·Vᵀ), read where they lie by every
     * tile pair instead of packed by each.
     */
    private final float[][] keysKMajor, queriesKMajor, gradsKMajor;
    /**
     * Per worker: its head's Qᵀ (forward), Kᵀ and Vᵀ (backward), hs x T, packed once by the task as the right
     * operand of every tile pair's scores (K·Qᵀ; Q·Kᵀ and dO·Vᵀ), a tile's columns at a time. Packed per tile
     * pair, they were transposed again for each tile: about a tenth of attention's samples at 4,096 positions.
     * Sized before the tasks run ({@link #sizePacked}), so that no allocation's code joins the tasks' compiled form.
     */
    private final PackedMatrix[] queriesT, keysT, valuesT;
    /**
     * Per worker, the head's key tiles (backward's dQ += dS·K) and value tiles (forward's P·V) packed once by the task
     * as right operands (a tile's rows by hs), and the query tile's Q and dO rows (backward's dK += dSᵀ·Q and
     * dV += Pᵀ·dO; slot 0 a whole tile, slot 1 the last, shorter one), instead of packed again by each tile pair that
     * reads them: a key tile meets every query tile after it, a query tile every key tile up to it.
     */
    private final PackedMatrix[][] keyTiles, valueTiles, queryTile, gradTile;

    public Attention(Gemm gemm) {
        this.gemm = gemm;
        this.pool = gemm.pool();
        int n = pool.size();
        scores = new float[n][];
        acc = new float[n][];
        rowMax = new float[n][];
        rowSum = new float[n][];
        corrections = new float[n][];
        keysKMajor = new float[n][];
        queriesKMajor = new float[n][];
        gradsKMajor = new float[n][];
        dscores = new float[n][];
        rowD = new float[n][];
        queriesT = new PackedMatrix[n];
        keysT = new PackedMatrix[n];
        valuesT = new PackedMatrix[n];
        keyTiles = new PackedMatrix[n][];
        valueTiles = new PackedMatrix[n][];
        queryTile = new PackedMatrix[n][];
        gradTile = new PackedMatrix[n][];
    }

    /** Every worker's buffer in slots sized for a transposed head (hs x t) of t positions. */
    private static void sizePacked(PackedMatrix[] slots, int t, int hs) {
        for (int wk = 0; wk < slots.length; wk++) slots[wk] = sized(slots[wk], hs, t);
    }

    /** Every worker's buffers in slots sized for the tiles of t positions, tile i its rows (at most {@link #BK}) by hs. */
    private static void sizeTiles(PackedMatrix[][] slots, int t, int hs) {
        int tiles = Gemm.ceilDiv(t, BK);
        for (int wk = 0; wk < slots.length; wk++) {
            PackedMatrix[] a = slots[wk];
            if (a == null || a.length != tiles) a = slots[wk] = a == null ? new PackedMatrix[tiles] : java.util.Arrays.copyOf(a, tiles); // whole tiles kept
            for (int i = 0; i < tiles; i++) a[i] = sized(a[i], Math.min(BK, t - i * BK), hs);
        }
    }

    /**
     * Every worker's two buffers for one tile of t positions at a time: slot 0 a whole tile's rows by hs, slot 1 the last
     * tile's (slot 0 itself where the last tile has as many rows).
     */
    private static void sizeTile(PackedMatrix[][] slots, int t, int hs) {
        for (int wk = 0; wk < slots.length; wk++) {
            PackedMatrix[] a = slots[wk];
            if (a == null) a = slots[wk] = new PackedMatrix[2];
            a[0] = sized(a[0], Math.min(BQ, t), hs);
            int last = t % BQ == 0 ? BQ : t % BQ;
            a[1] = last == a[0].rows() ? a[0] : sized(a[1], last, hs);
        }
    }

    /** The buffer of {@link #sizeTile} for a tile of rows positions. */
    private static PackedMatrix tileOf(PackedMatrix[] slots, int rows) {
        return rows == slots[0].rows() ? slots[0] : slots[1];
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
        sizePacked(queriesT, t, hs);
        sizeTiles(valueTiles, t, hs);
        pool.run(b * nh, (task, wk) -> {
            int bi = task / nh, h = task % nh, kvh = h / group;
            int base = qkvOff + bi * t * w;
            int q = base + h * hs, k = base + (nh + kvh) * hs, v = base + (nh + nkv + kvh) * hs;
            float[] s = sized(scores, wk, TILE_FLOATS), o = sized(acc, wk, BQ * hs), m = sized(rowMax, wk, BQ), l = sized(rowSum, wk, BQ),
                    cr = sized(corrections, wk, BQ);
            long first = (long) (bi * nh + h) * t * t;
            PackedMatrix qT = queriesT[wk];
            gemm.packSerial(wk, qT, qkv, q, 1, w);
            int ldk = Gemm.roundUp(t, 16);
            float[] kt = sized(keysKMajor, wk, hs * ldk + KMAJOR_ROOM);
            Gemm.transpose(qkv, k, w, t, hs, kt, 0, ldk);
            PackedMatrix[] vTiles = valueTiles[wk];
            for (int i = 0; i < vTiles.length; i++) gemm.packSerial(wk, vTiles[i], qkv, v + i * BK * w, w, 1);
            for (int qs = 0; qs < t; qs += BQ) {
                int rows = Math.min(BQ, t - qs), keys = qs + rows;
                java.util.Arrays.fill(m, 0, BQ, Float.NEGATIVE_INFINITY);
                java.util.Arrays.fill(l, 0, BQ, 0f);
                java.util.Arrays.fill(o, 0, rows * hs, 0f);
                for (int ks = 0; ks < keys; ks += BK) {
                    int cols = Math.min(BK, keys - ks);
                    boolean diagonal = ks == qs;
                    // the scores transposed, key rows by query columns (K·Qᵀ): the softmax then runs down the columns with
                    // the queries side by side in its vectors, and P·V reads P where it lies
                    gemm.multiplySerial(wk, cols, kt, ks, 1, ldk, qT, qs, rows, s, 0, BQ, false, diagonal ? Gemm.Triangle.C_UPPER : Gemm.Triangle.NONE);
                    softmaxColumns(s, rows, cols, diagonal, scale, m, l, cr);
                    if (dropP > 0) dropColumns(s, rows, cols, diagonal, first + (long) qs * t + ks, t, dropKey, dropP);
                    if (ks > 0) { // the first key tile's outputs start from zero
                        for (int i = 0; i < rows; i++) if (cr[i] != 1f) scaled(o, i * hs, hs, cr[i], o, i * hs);
                    }
                    gemm.multiplySerial(wk, rows, s, 0, 1, BQ, vTiles[ks / BK], o, 0, hs, true, byRows(diagonal));
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
        sizePacked(keysT, t, hs);
        sizePacked(valuesT, t, hs);
        sizeTiles(keyTiles, t, hs);
        sizeTile(queryTile, t, hs);
        sizeTile(gradTile, t, hs);
        pool.run(b * nkv, (task, wk) -> {
            int bi = task / nkv, kvh = task % nkv;
            int base = qkvOff + bi * t * w, dbase = dqkvOff + bi * t * w;
            int k = base + (nh + kvh) * hs, v = base + (nh + nkv + kvh) * hs;
            int dk = dbase + (nh + kvh) * hs, dv = dbase + (nh + nkv + kvh) * hs;
            float[] p = sized(scores, wk, TILE_FLOATS), dp = sized(dscores, wk, TILE_FLOATS), dd = sized(rowD, wk, BQ);
            float[] qt = sized(queriesKMajor, wk, hs * BQ + KMAJOR_ROOM), gt = sized(gradsKMajor, wk, hs * BQ + KMAJOR_ROOM);
            PackedMatrix kT = keysT[wk], vT = valuesT[wk];
            gemm.packSerial(wk, kT, qkv, k, 1, w);
            gemm.packSerial(wk, vT, qkv, v, 1, w);
            PackedMatrix[] kTiles = keyTiles[wk];
            for (int i = 0; i < kTiles.length; i++) gemm.packSerial(wk, kTiles[i], qkv, k + i * BK * w, w, 1);
            for (int g = 0; g < group; g++) {
                int h = kvh * group + g;
                int q = base + h * hs, dq = dbase + h * hs, dO = doutOff + bi * t * oc + h * hs, o = outOff + bi * t * oc + h * hs;
                int lrow = lseOff + (bi * nh + h) * t;
                long first = (long) (bi * nh + h) * t * t;
                for (int qs = 0; qs < t; qs += BQ) {
                    int rows = Math.min(BQ, t - qs), keys = qs + rows;
                    for (int i = 0; i < rows; i++) dd[i] = Vec.dot(dout, dO + (qs + i) * oc, out, o + (qs + i) * oc, hs);
                    Gemm.transpose(qkv, q + qs * w, w, rows, hs, qt, 0, BQ);
                    Gemm.transpose(dout, dO + qs * oc, oc, rows, hs, gt, 0, BQ);
                    PackedMatrix qTile = tileOf(queryTile[wk], rows), dOTile = tileOf(gradTile[wk], rows);
                    gemm.packSerial(wk, qTile, qkv, q + qs * w, w, 1);
                    gemm.packSerial(wk, dOTile, dout, dO + qs * oc, oc, 1);
                    for (int ks = 0; ks < keys; ks += BK) {
                        int cols = Math.min(BK, keys - ks);
                        boolean diagonal = ks == qs;
                        // P = exp(scale·Q·Kᵀ − lse) on and below the diagonal; dP = dO·Vᵀ
                        gemm.multiplySerial(wk, rows, qt, 0, 1, BQ, kT, ks, cols, p, 0, BK, false, scoresOf(diagonal));
                        gemm.multiplySerial(wk, rows, gt, 0, 1, BQ, vT, ks, cols, dp, 0, BK, false, scoresOf(diagonal));
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
                                probabilitiesAndGradient(p, dp, row, n, scale, li, dd[i]);
                            }
                            Vec.zero(p, row + n, row + cols);
                            Vec.zero(dp, row + n, row + cols);
                        }
                        // dV += P'ᵀ·dO, dQ += dS·K, dK += dSᵀ·Q; each written, not added, by its first term: a key tile's
                        // first query tile is its diagonal one, a query tile's first key tile the first
                        boolean firstForKeys = g == 0 && diagonal;
                        gemm.multiplySerial(wk, cols, p, 0, 1, BK, dOTile, dqkv, dv + ks * w, w, !firstForKeys, byColumns(diagonal));
                        gemm.multiplySerial(wk, rows, dp, 0, BK, 1, kTiles[ks / BK], dqkv, dq + qs * w, w, ks > 0, byRows(diagonal));
                        gemm.multiplySerial(wk, cols, dp, 0, 1, BK, qTile, dqkv, dk + ks * w, w, !firstForKeys, byColumns(diagonal));
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

    /** 0, 1, ..., L − 1: which lane of a block of queries a key reaches on the diagonal. */
    private static final FloatVector LANES = lanes();

    private static FloatVector lanes() {
        float[] a = new float[Vec.L];
        for (int i = 0; i < a.length; i++) a[i] = i;
        return FloatVector.fromArray(Vec.S, a, 0);
    }

    /**
     * The online softmax's step over one tile of scores held transposed, s[j·BQ + i] for key j and query i, the
     * queries of a block side by side in a vector (so that no maximum or sum adds across lanes): s becomes
     * exp(scale·score − m_new), zero where a key follows its query on the diagonal and in the rows past each
     * block's keys that the product's last panel reads (A_LOWER stops a panel at its last row, not at each
     * row); m and l become the queries' running maximum and sum, cr each query's factor exp(m_old − m_new)
     * (0 where m_old was −∞) for its partial output.
     * <p>Each query's sum is added in the order that a softmax along the query's row adds it (as
     * {@link Vec#expInPlace} does): L sums over whole vectors of keys (sum ℓ holding keys ℓ, L + ℓ, ...), added in
     * lane order, then the keys past the last whole vector one by one. So the tile's orientation changes no bit.
     */
    private static void softmaxColumns(float[] s, int rows, int cols, boolean diagonal, float scale, float[] m, float[] l, float[] cr) {
        // two methods of one exponential each, arrays and scalars passed: a method of three was past C2's node
        // cutoff, which left one exp a call that boxed its vectors (gigabytes a second)
        for (int v0 = 0; v0 < rows; v0 += Vec.L) {
            // keys that every query of the block reaches (a whole number of vectors): all off the diagonal, those before the block on it
            int seen = diagonal ? v0 : cols, last = diagonal ? Math.min(cols, v0 + Vec.L) : cols;
            maxima(s, v0, seen, last, scale, m, cr);
            exponentials(s, v0, seen, last, cols, diagonal, scale, m, l, cr);
        }
    }

    /** The block of queries at v0: m := max(m, scale·max over its keys), cr := exp(m_old − m_new) (0 where m_old was −∞). */
    private static void maxima(float[] s, int v0, int seen, int last, float scale, float[] m, float[] cr) {
        FloatVector mx = FloatVector.broadcast(Vec.S, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < seen; j++) mx = mx.max(FloatVector.fromArray(Vec.S, s, j * BQ + v0));
        for (int j = seen; j < last; j++) { // the block's own keys, each reaching the queries from its own on
            mx = mx.lanewise(VectorOperators.MAX, FloatVector.fromArray(Vec.S, s, j * BQ + v0), LANES.compare(VectorOperators.GE, j - v0));
        }
        FloatVector mOld = FloatVector.fromArray(Vec.S, m, v0), mNew = mOld.max(mx.mul(scale));
        Vec.exp(mOld.sub(mNew)).blend(0f, mOld.eq(Float.NEGATIVE_INFINITY)).intoArray(cr, v0);
        mNew.intoArray(m, v0);
    }

    /** The block of queries at v0: its probabilities into s (and the zeros the product reads past them), l := l·cr + their sum. */
    private static void exponentials(float[] s, int v0, int seen, int last, int cols, boolean diagonal, float scale, float[] m, float[] l, float[] cr) {
        final int lanes = Vec.L;
        FloatVector sc = FloatVector.broadcast(Vec.S, scale), mNew = FloatVector.fromArray(Vec.S, m, v0), total = FloatVector.zero(Vec.S);
        for (int lane = 0; lane < lanes; lane++) {
            FloatVector sum = FloatVector.zero(Vec.S);
            for (int j = lane; j < last; j += lanes) {
                int at = j * BQ + v0;
                FloatVector e = Vec.exp(FloatVector.fromArray(Vec.S, s, at).mul(sc).sub(mNew));
                if (j < seen) {
                    e.intoArray(s, at);
                    sum = sum.add(e);
                } else { // the diagonal block's key j = v0 + lane reaches the queries from v0 + lane on
                    e = e.blend(0f, LANES.lt(lane));
                    e.intoArray(s, at);
                    sum = sum.add(e.blend(0f, LANES.lt(lanes - 1))); // a whole vector of these keys for the block's last query only
                }
            }
            total = total.add(sum);
        }
        if (diagonal) {
            // the other queries' keys past their last whole vector, one by one (the zeros after a query's own key add nothing)
            for (int j = seen; j < Math.min(cols, v0 + lanes - 1); j++) {
                total = total.add(FloatVector.fromArray(Vec.S, s, j * BQ + v0).blend(0f, LANES.eq(lanes - 1)));
            }
            for (int j = last; j < Math.min(cols, last + Gemm.MR - 1); j++) FloatVector.zero(Vec.S).intoArray(s, j * BQ + v0);
        }
        FloatVector.fromArray(Vec.S, l, v0).mul(FloatVector.fromArray(Vec.S, cr, v0)).add(total).intoArray(l, v0);
    }

    /**
     * Dropout on a transposed tile of probabilities (s[j·BQ + i], query i, key j), element (i, j) being element
     * at + i·t + j of the head's T x T matrix (at: the tile's first).
     */
    private static void dropColumns(float[] s, int rows, int cols, boolean diagonal, long at, int t, long dropKey, float dropP) {
        for (int j = 0; j < cols; j++) {
            for (int i = diagonal ? j : 0; i < rows; i++) {
                int x = j * BQ + i;
                s[x] = Dropout.keep(dropKey, at + (long) i * t + j, dropP) ? s[x] / (1f - dropP) : 0f;
            }
        }
    }

    /**
     * One row of a tile in the backward pass: p[off, off + n) := exp(scale·p − lse), the probabilities, and
     * dp := p · (dp − d) · scale, dS. The exponentials of the last partial vector are computed by a whole
     * vector (the same bits as the scalar exp), whose lanes past n land in p[off + n, off + roundUp(n, L)): p
     * must have room there, and the caller zeroes them up to the tile's columns.
     */
    private static void probabilitiesAndGradient(float[] p, float[] dp, int off, int n, float scale, float lse, float d) {
        FloatVector sc = FloatVector.broadcast(Vec.S, scale), sh = FloatVector.broadcast(Vec.S, lse), dv = FloatVector.broadcast(Vec.S, d);
        int bound = Vec.S.loopBound(n);
        for (int i = 0; i < n; i += Vec.L) {
            FloatVector e = Vec.exp(FloatVector.fromArray(Vec.S, p, off + i).mul(sc).sub(sh));
            e.intoArray(p, off + i);
            if (i < bound) FloatVector.fromArray(Vec.S, dp, off + i).sub(dv).mul(e).mul(sc).intoArray(dp, off + i);
        }
        for (int i = bound; i < n; i++) dp[off + i] = p[off + i] * (dp[off + i] - d) * scale;
    }

    /** y[yOff, yOff + n) := s·x[off, off + n). */
    private static void scaled(float[] x, int off, int n, float s, float[] y, int yOff) {
        int i = 0, bound = Vec.S.loopBound(n);
        FloatVector sv = FloatVector.broadcast(Vec.S, s);
        for (; i < bound; i += Vec.L) FloatVector.fromArray(Vec.S, x, off + i).mul(sv).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = x[off + i] * s;
    }
}
