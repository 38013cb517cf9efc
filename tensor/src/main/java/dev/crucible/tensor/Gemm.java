package dev.crucible.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packed, register-tiled single-precision matrix multiply: C[M,N] (+)= A[M,K] · B[K,N], where A and B
 * are strided views of flat arrays, so one micro-kernel serves all three training forms
 * ({@code Y = X·Wᵀ}, {@code dX = dY·W}, {@code dW = dYᵀ·X}) and the per-head products of attention.
 *
 * <p>Layout follows Goto/BLIS: for each block of NC columns, B is packed once into NR-column panels of
 * KC depth (in parallel, into an aligned buffer shared by all workers, as many KC blocks as it holds),
 * then tiles of up to MC rows (smaller ones last: {@link #rowTiles}) are independent tasks that,
 * block by block, pack their A rows into MR-row panels (on AVX-512 a k-major A is read where it lies:
 * {@link #inPlace}) and run an MR x (2 vectors) micro-kernel (see {@link #MR}) for each A panel and B
 * panel. A product of a single row tile (M ≤ MC) with enough columns for every worker's groups instead
 * gives each worker whole groups of columns, whose B it packs itself a cache-sized chunk at a time, as
 * {@link #multiplySerial} does. The textbook AVX2 tile is 6 x 16 (12 accumulators), but C2 then spills
 * accumulators to the stack and runs at half speed; 4 x 16 reaches ~92 GFLOP/s on one Zen 3 core (bench
 * matmul). Each C element is reduced over K in the same order whatever the thread count and the tile,
 * so results are bit-identical across runs, thread counts and vector widths' tiles.
 */
public final class Gemm {
    static final VectorSpecies<Float> S = Cpu.SPECIES;
    static final int L = S.length();
    static final boolean FMA = Cpu.HAS_FMA;
    /**
     * Micro-tile: MR rows of C by NR columns (two vectors). With 16 vector registers (AVX2) 4 x 16 is the
     * most C2 keeps in registers; with 32 (AVX-512) a 12 x 32 tile holds 24 accumulators and loads two B
     * vectors per 24 FMAs instead of per 8 (8 x 32 measured ~15% slower on one Ice Lake core).
     * {@code -Dcrucible.gemm.rows=4|12} overrides the choice (for measuring one against the other).
     */
    public static final int MR = tileRows(), NR = 2 * L;
    static final int KC = 256, MC = 24 * MR, NC = 4096, NC_SERIAL = 384, SERIAL_SPAN = 2;
    /** The packed B panels that one pass over an A block's rows reuses: well inside L2 (1-2 MB per core). */
    private static final int B_CHUNK_BYTES = 384 * 1024;
    /** Packed B shared by the workers: 8 MB, two KC blocks of the widest column block, all of K = 2,048 for N = 1,024. */
    private static final int B_PACK_FLOATS = 2 * KC * NC;
    /** Packing either operand costs about as much per element as a few FMAs: keep tasks' blocks large. */
    private static final int MIN_TASK_PANELS = 4;

    private final WorkerPool pool;
    private final float[][] packA, edge;
    private final int[][] gatherMaps;
    /**
     * Packed B lives off the heap, 64-byte aligned: a Java array's data starts 16 bytes past an address
     * the program cannot choose, so most 64-byte vector loads from it straddle two cache lines, which cost
     * one AVX-512 core a quarter of its speed (146 vs 118 GFLOP/s, the same kernel on aligned and
     * misaligned panels, interleaved on an Ice Lake core). A's values are broadcast one by one and need no alignment.
     */
    private MemorySegment sharedB; // grown to the largest product's need, at most B_PACK_FLOATS
    private final MemorySegment[] packB;
    private final Arena arena = Arena.ofAuto(); // the per-worker buffers are freed with this Gemm
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    public Gemm(WorkerPool pool) {
        this.pool = pool;
        int n = pool.size();
        packA = new float[n][MC * KC + L]; // room for a full vector's store at the last k (packA's copies, transpose16)
        packB = new MemorySegment[n];
        for (int i = 0; i < n; i++) packB[i] = arena.allocate(4L * SERIAL_SPAN * KC * roundUp(NC_SERIAL, NR), 64);
        edge = new float[n][MR * NR];
        gatherMaps = new int[n][NR];
    }

    /**
     * What of a product is known beforehand, so that its work can be skipped: parts of C that are not
     * wanted, or parts of A that are zero. For finite B the elements computed are the full product's bits,
     * up to the sign of a zero sum: a skipped term is a zero one, and a sum from zero that leaves out
     * leading or trailing zero terms rounds as the one that adds them (but a sum whose every term
     * underflowed to −0 stays −0, where adding a skipped +0 made it +0).
     */
    public enum Triangle {
        /** The whole product. */
        NONE,
        /**
         * Only C's lower triangle is wanted (its diagonal included): micro-tiles strictly above the diagonal
         * are skipped and left untouched. A symmetric product's half; causal attention's scores on the diagonal.
         */
        C_LOWER,
        /**
         * Only C's upper triangle is wanted (its diagonal included): micro-tiles strictly below the diagonal
         * are skipped and left untouched. Causal attention's scores on the diagonal, held transposed (key rows, query columns).
         */
        C_UPPER,
        /** A is zero right of its diagonal (A(i,p) = 0 for p > i): each micro-tile's sum stops at its last row. */
        A_LOWER,
        /** A is zero left of its diagonal (A(i,p) = 0 for p < i): each micro-tile's sum starts at its first row. */
        A_UPPER
    }

    private static int tileRows() {
        int rows = Integer.getInteger("crucible.gemm.rows", L >= 16 && FMA ? 12 : 4);
        if (rows != 4 && !(rows == 12 && FMA && L >= 16)) {
            throw new IllegalArgumentException("crucible.gemm.rows must be 4, or 12 on a CPU with FMA and 512-bit vectors; got " + rows);
        }
        return rows;
    }

    public WorkerPool pool() {
        return pool;
    }

    /**
     * C(i,j) = [C(i,j) if accumulate] + sum_k A(i,k) B(k,j) with A(i,k) = a[aOff + i*aRow + k*aCol],
     * B(k,j) = b[bOff + k*bRow + j*bCol], C(i,j) = c[cOff + i*ldc + j]. Parallel over tiles of C.
     */
    public void multiply(int m, int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow,
                         int bCol, float[] c, int cOff, int ldc, boolean accumulate) {
        multiply(m, n, k, a, aOff, aRow, aCol, b, bOff, bRow, bCol, null, c, cOff, ldc, accumulate, null, 0, Triangle.NONE);
    }

    /**
     * C(i,j) = bias[biasOff + j] + sum_k A(i,k) B(k,j) (a layer's output; bias null: zero): added as C's
     * first KC block is stored, the same bits as C filled with the bias rows and the product added to it,
     * without that pass over C.
     */
    public void multiply(int m, int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow,
                         int bCol, float[] c, int cOff, int ldc, float[] bias, int biasOff) {
        multiply(m, n, k, a, aOff, aRow, aCol, b, bOff, bRow, bCol, null, c, cOff, ldc, false, bias, biasOff, Triangle.NONE);
    }

    /**
     * C[n,n] = A·B for a product known to be symmetric (X·Xᵀ, or a power of a symmetric matrix): the
     * micro-tiles on and below the diagonal are computed, the upper triangle is their mirror, so the
     * result is exactly symmetric at a little over half the cost.
     */
    public void multiplySymmetric(int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow, int bCol,
                                  float[] c, int cOff, int ldc) {
        multiply(n, n, k, a, aOff, aRow, aCol, b, bOff, bRow, bCol, null, c, cOff, ldc, false, null, 0, Triangle.C_LOWER);
        mirror(c, cOff, ldc, n);
    }

    /** The upper triangle of C (n x n) from its lower one, on the whole pool. */
    private void mirror(float[] c, int cOff, int ldc, int n) {
        mirrorN = n;
        mirrorC = c;
        mirrorOff = cOff;
        mirrorLd = ldc;
        try {
            pool.run(ceilDiv(n, MIRROR_BLOCK), mirrorBand);
        } finally {
            mirrorC = null;
        }
    }

    /** {@link #multiplySymmetric} with B (k x n) packed beforehand: the same bits. */
    public void multiplySymmetric(float[] a, int aOff, int aRow, int aCol, PackedMatrix b, float[] c, int cOff, int ldc) {
        multiply(b.n, b.n, b.k, a, aOff, aRow, aCol, null, 0, 0, 0, b, c, cOff, ldc, false, null, 0, Triangle.C_LOWER);
        mirror(c, cOff, ldc, b.n);
    }

    /** {@link #multiplySymmetricSerial} with B (k x n) packed beforehand: the same bits. */
    public void multiplySymmetricSerial(int worker, float[] a, int aOff, int aRow, int aCol, PackedMatrix b, float[] c, int cOff, int ldc) {
        multiplySerial(worker, b.n, b.n, b.k, a, aOff, aRow, aCol, null, null, 0, 0, 0, b, c, cOff, ldc, false, null, 0, Triangle.C_LOWER);
        mirrorSerial(c, cOff, ldc, b.n);
    }

    /** {@link #multiplySymmetric} on one worker, inside a task of the pool (as {@link #multiplySerial}); the same bits. */
    public void multiplySymmetricSerial(int worker, int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow, int bCol,
                                        float[] c, int cOff, int ldc) {
        multiplySerial(worker, n, n, k, a, aOff, aRow, aCol, null, b, bOff, bRow, bCol, null, c, cOff, ldc, false, null, 0, Triangle.C_LOWER);
        mirrorSerial(c, cOff, ldc, n);
    }

    /** The upper triangle of C (n x n) from its lower one, on the calling thread. */
    private static void mirrorSerial(float[] c, int cOff, int ldc, int n) {
        for (int band = 0; band < ceilDiv(n, MIRROR_BLOCK); band++) mirror(c, cOff, ldc, n, band);
    }

    /** Mirrored in bands of rows, so that the lower triangle's column reads stay in L1. */
    private static final int MIRROR_BLOCK = 32;
    private int mirrorN, mirrorOff, mirrorLd;
    private float[] mirrorC;
    private final WorkerPool.Task mirrorBand = (band, w) -> mirror(mirrorC, mirrorOff, mirrorLd, mirrorN, band);

    /**
     * Upper-triangle rows [i0, i0 + MIRROR_BLOCK) from the lower triangle. With 16-float vectors, whole
     * 16 x 16 blocks are transposed in registers: a 384² mirror takes about 10 us on one Zen 5 core,
     * against 30 with a gather per row segment and 40 element by element (then a tenth of the product).
     */
    private static void mirror(float[] c, int off, int ld, int n, int band) {
        int i = band * MIRROR_BLOCK, i1 = Math.min(n, i + MIRROR_BLOCK);
        if (L == 16) {
            for (; i + 16 <= i1; i += 16) {
                int j = i + 16;
                for (; j + 16 <= n; j += 16) transpose16(c, off + j * ld + i, ld, 16, c, null, off + i * ld + j, ld);
                mirrorBlock(c, off, ld, i, i + 16, i, i + 16); // the diagonal block
                mirrorBlock(c, off, ld, i, i + 16, j, n); // the columns past the last whole block
            }
        }
        for (int j0 = i; j0 < n; j0 += MIRROR_BLOCK) mirrorBlock(c, off, ld, i, i1, j0, Math.min(n, j0 + MIRROR_BLOCK));
    }

    /** Two-vector selections for a 16 x 16 transpose: stage s swaps the off-diagonal s x s blocks of every 2s x 2s block. */
    private static final FloatVector[] SWAP_LOW = swaps(true), SWAP_HIGH = swaps(false);

    private static FloatVector[] swaps(boolean low) {
        if (L != 16) return null;
        FloatVector[] out = new FloatVector[4];
        int stage = 0;
        for (int s = 8; s >= 1; s >>= 1, stage++) {
            float[] index = new float[16];
            for (int j = 0; j < 16; j++) index[j] = low ? ((j & s) == 0 ? j : 16 + j - s) : ((j & s) == 0 ? j + s : 16 + j);
            out[stage] = FloatVector.fromArray(S, index, 0);
        }
        return out;
    }

    /**
     * d[dOff + c·ldd + r] = a[aOff + r·lda + c] for r < rows and c < cols: rows of a written k-major, so that
     * products read them where they lie as a left operand (aRow 1, aCol ldd) instead of packing them each
     * time. On AVX-512 by 16 x 16 blocks in registers, each of whose stores is a whole vector: d's rows need
     * room up to the next multiple of 16 past rows (ldd at least that), and d up to that in its last row.
     */
    static void transpose(float[] a, int aOff, int lda, int rows, int cols, float[] d, int dOff, int ldd) {
        int c0 = 0;
        if (L == 16) {
            if (ldd < roundUp(rows, 16)) throw new IllegalArgumentException("a row stride of " + ldd + " has no room for " + rows + " rows in 16-float stores");
            for (; c0 + 16 <= cols; c0 += 16) { // rows in ascending order: each store's lanes past a block's rows are written over by the next block
                for (int r0 = 0; r0 < rows; r0 += 16) transpose16(a, aOff + r0 * lda + c0, lda, Math.min(16, rows - r0), d, null, dOff + c0 * ldd + r0, ldd);
            }
        }
        for (int c = c0; c < cols; c++) {
            for (int r = 0; r < rows; r++) d[dOff + c * ldd + r] = a[aOff + r * lda + c];
        }
    }

    /**
     * The rows x 16 block at s[sOff + i·sStride + j] (1 ≤ rows ≤ 16; rows past it read as zeros) written
     * transposed: its column j at d[dOff + j·dStride ...], 16 floats, stored in order of j (so a
     * dStride below 16 lets each store overwrite the previous one's extra lanes); into seg's floats at
     * the same places instead when seg is not null (a packed panel, written without a copy through d).
     * In registers, by two-vector selections; one method, so that C2 keeps all 16 vectors in registers.
     */
    private static void transpose16(float[] s, int sOff, int sStride, int rows, float[] d, MemorySegment seg, int dOff, int dStride) {
        FloatVector z = FloatVector.zero(S);
        FloatVector v0 = FloatVector.fromArray(S, s, sOff), v1 = rows > 1 ? FloatVector.fromArray(S, s, sOff + 1 * sStride) : z,
            v2 = rows > 2 ? FloatVector.fromArray(S, s, sOff + 2 * sStride) : z, v3 = rows > 3 ? FloatVector.fromArray(S, s, sOff + 3 * sStride) : z,
            v4 = rows > 4 ? FloatVector.fromArray(S, s, sOff + 4 * sStride) : z, v5 = rows > 5 ? FloatVector.fromArray(S, s, sOff + 5 * sStride) : z,
            v6 = rows > 6 ? FloatVector.fromArray(S, s, sOff + 6 * sStride) : z, v7 = rows > 7 ? FloatVector.fromArray(S, s, sOff + 7 * sStride) : z,
            v8 = rows > 8 ? FloatVector.fromArray(S, s, sOff + 8 * sStride) : z, v9 = rows > 9 ? FloatVector.fromArray(S, s, sOff + 9 * sStride) : z,
            v10 = rows > 10 ? FloatVector.fromArray(S, s, sOff + 10 * sStride) : z, v11 = rows > 11 ? FloatVector.fromArray(S, s, sOff + 11 * sStride) : z,
            v12 = rows > 12 ? FloatVector.fromArray(S, s, sOff + 12 * sStride) : z, v13 = rows > 13 ? FloatVector.fromArray(S, s, sOff + 13 * sStride) : z,
            v14 = rows > 14 ? FloatVector.fromArray(S, s, sOff + 14 * sStride) : z, v15 = rows > 15 ? FloatVector.fromArray(S, s, sOff + 15 * sStride) : z;
        FloatVector t0, lo, hi;
        lo = SWAP_LOW[0]; hi = SWAP_HIGH[0];
        t0 = lo.selectFrom(v0, v8); v8 = hi.selectFrom(v0, v8); v0 = t0;
        t0 = lo.selectFrom(v1, v9); v9 = hi.selectFrom(v1, v9); v1 = t0;
        t0 = lo.selectFrom(v2, v10); v10 = hi.selectFrom(v2, v10); v2 = t0;
        t0 = lo.selectFrom(v3, v11); v11 = hi.selectFrom(v3, v11); v3 = t0;
        t0 = lo.selectFrom(v4, v12); v12 = hi.selectFrom(v4, v12); v4 = t0;
        t0 = lo.selectFrom(v5, v13); v13 = hi.selectFrom(v5, v13); v5 = t0;
        t0 = lo.selectFrom(v6, v14); v14 = hi.selectFrom(v6, v14); v6 = t0;
        t0 = lo.selectFrom(v7, v15); v15 = hi.selectFrom(v7, v15); v7 = t0;
        lo = SWAP_LOW[1]; hi = SWAP_HIGH[1];
        t0 = lo.selectFrom(v0, v4); v4 = hi.selectFrom(v0, v4); v0 = t0;
        t0 = lo.selectFrom(v1, v5); v5 = hi.selectFrom(v1, v5); v1 = t0;
        t0 = lo.selectFrom(v2, v6); v6 = hi.selectFrom(v2, v6); v2 = t0;
        t0 = lo.selectFrom(v3, v7); v7 = hi.selectFrom(v3, v7); v3 = t0;
        t0 = lo.selectFrom(v8, v12); v12 = hi.selectFrom(v8, v12); v8 = t0;
        t0 = lo.selectFrom(v9, v13); v13 = hi.selectFrom(v9, v13); v9 = t0;
        t0 = lo.selectFrom(v10, v14); v14 = hi.selectFrom(v10, v14); v10 = t0;
        t0 = lo.selectFrom(v11, v15); v15 = hi.selectFrom(v11, v15); v11 = t0;
        lo = SWAP_LOW[2]; hi = SWAP_HIGH[2];
        t0 = lo.selectFrom(v0, v2); v2 = hi.selectFrom(v0, v2); v0 = t0;
        t0 = lo.selectFrom(v1, v3); v3 = hi.selectFrom(v1, v3); v1 = t0;
        t0 = lo.selectFrom(v4, v6); v6 = hi.selectFrom(v4, v6); v4 = t0;
        t0 = lo.selectFrom(v5, v7); v7 = hi.selectFrom(v5, v7); v5 = t0;
        t0 = lo.selectFrom(v8, v10); v10 = hi.selectFrom(v8, v10); v8 = t0;
        t0 = lo.selectFrom(v9, v11); v11 = hi.selectFrom(v9, v11); v9 = t0;
        t0 = lo.selectFrom(v12, v14); v14 = hi.selectFrom(v12, v14); v12 = t0;
        t0 = lo.selectFrom(v13, v15); v15 = hi.selectFrom(v13, v15); v13 = t0;
        lo = SWAP_LOW[3]; hi = SWAP_HIGH[3];
        t0 = lo.selectFrom(v0, v1); v1 = hi.selectFrom(v0, v1); v0 = t0;
        t0 = lo.selectFrom(v2, v3); v3 = hi.selectFrom(v2, v3); v2 = t0;
        t0 = lo.selectFrom(v4, v5); v5 = hi.selectFrom(v4, v5); v4 = t0;
        t0 = lo.selectFrom(v6, v7); v7 = hi.selectFrom(v6, v7); v6 = t0;
        t0 = lo.selectFrom(v8, v9); v9 = hi.selectFrom(v8, v9); v8 = t0;
        t0 = lo.selectFrom(v10, v11); v11 = hi.selectFrom(v10, v11); v10 = t0;
        t0 = lo.selectFrom(v12, v13); v13 = hi.selectFrom(v12, v13); v12 = t0;
        t0 = lo.selectFrom(v14, v15); v15 = hi.selectFrom(v14, v15); v14 = t0;
        if (seg == null) {
            v0.intoArray(d, dOff);
            v1.intoArray(d, dOff + 1 * dStride);
            v2.intoArray(d, dOff + 2 * dStride);
            v3.intoArray(d, dOff + 3 * dStride);
            v4.intoArray(d, dOff + 4 * dStride);
            v5.intoArray(d, dOff + 5 * dStride);
            v6.intoArray(d, dOff + 6 * dStride);
            v7.intoArray(d, dOff + 7 * dStride);
            v8.intoArray(d, dOff + 8 * dStride);
            v9.intoArray(d, dOff + 9 * dStride);
            v10.intoArray(d, dOff + 10 * dStride);
            v11.intoArray(d, dOff + 11 * dStride);
            v12.intoArray(d, dOff + 12 * dStride);
            v13.intoArray(d, dOff + 13 * dStride);
            v14.intoArray(d, dOff + 14 * dStride);
            v15.intoArray(d, dOff + 15 * dStride);
            return;
        }
        v0.intoMemorySegment(seg, 4L * (dOff), ORDER);
        v1.intoMemorySegment(seg, 4L * (dOff + 1 * dStride), ORDER);
        v2.intoMemorySegment(seg, 4L * (dOff + 2 * dStride), ORDER);
        v3.intoMemorySegment(seg, 4L * (dOff + 3 * dStride), ORDER);
        v4.intoMemorySegment(seg, 4L * (dOff + 4 * dStride), ORDER);
        v5.intoMemorySegment(seg, 4L * (dOff + 5 * dStride), ORDER);
        v6.intoMemorySegment(seg, 4L * (dOff + 6 * dStride), ORDER);
        v7.intoMemorySegment(seg, 4L * (dOff + 7 * dStride), ORDER);
        v8.intoMemorySegment(seg, 4L * (dOff + 8 * dStride), ORDER);
        v9.intoMemorySegment(seg, 4L * (dOff + 9 * dStride), ORDER);
        v10.intoMemorySegment(seg, 4L * (dOff + 10 * dStride), ORDER);
        v11.intoMemorySegment(seg, 4L * (dOff + 11 * dStride), ORDER);
        v12.intoMemorySegment(seg, 4L * (dOff + 12 * dStride), ORDER);
        v13.intoMemorySegment(seg, 4L * (dOff + 13 * dStride), ORDER);
        v14.intoMemorySegment(seg, 4L * (dOff + 14 * dStride), ORDER);
        v15.intoMemorySegment(seg, 4L * (dOff + 15 * dStride), ORDER);
    }

    private static void mirrorBlock(float[] c, int off, int ld, int i0, int i1, int j0, int j1) {
        for (int i = i0; i < i1; i++) {
            for (int j = Math.max(j0, i + 1); j < j1; j++) c[off + i * ld + j] = c[off + j * ld + i];
        }
    }

    /**
     * B (k x n, the view b[bOff + k*bRow + j*bCol]) packed once, in the panels {@link #multiply} packs
     * it into for every product: for operands that stay fixed over many products (an inference model's
     * weights), so that no product packs them again. A copy: later changes to b do not reach it.
     */
    public PackedMatrix pack(int k, int n, float[] b, int bOff, int bRow, int bCol) {
        if (pool.insideTask()) throw new IllegalStateException("Gemm.pack runs on the whole pool, not inside a task; inside a task use packSerial");
        PackedMatrix p = new PackedMatrix(k, n);
        pack(p, b, bOff, bRow, bCol);
        return p;
    }

    /** {@link #pack} into a matrix of the same k x n packed before, which it overwrites (B's values changed, its buffer kept). */
    public void pack(PackedMatrix p, float[] b, int bOff, int bRow, int bCol) {
        if (pool.insideTask()) throw new IllegalStateException("Gemm.pack runs on the whole pool, not inside a task; inside a task use packSerial");
        int k = p.k, n = p.n;
        if (k <= 0 || n <= 0) return;
        int blocks = ceilDiv(k, KC);
        jobInto = p;
        jobB = b;
        jobBOff = bOff;
        jobBRow = bRow;
        jobBCol = bCol;
        try {
            for (int j0 = 0; j0 < n; j0 += NC) {
                int panels = ceilDiv(Math.min(NC, n - j0), NR);
                jobJ0 = j0;
                pool.forRange(blocks * panels, Math.min(blocks * panels, 4 * pool.size()), packInto);
            }
        } finally {
            jobInto = null;
            jobB = null;
        }
    }

    /** The matrix {@link #pack} is filling (its tasks read it and the job's B fields, as multiply's do). */
    private PackedMatrix jobInto;
    private final WorkerPool.RangeTask packInto = this::packInto;

    private void packInto(int s, int e, int chunk, int w) {
        packPanels(w, jobInto, jobB, jobBOff, jobBRow, jobBCol, jobJ0, s, e);
    }

    /** {@link #pack} into p by one worker alone, inside a task of the pool (as {@link #multiplySerial}). */
    public void packSerial(int worker, PackedMatrix p, float[] b, int bOff, int bRow, int bCol) {
        for (int j0 = 0; j0 < p.n; j0 += NC) packPanels(worker, p, b, bOff, bRow, bCol, j0, 0, ceilDiv(p.k, KC) * ceilDiv(Math.min(NC, p.n - j0), NR));
    }

    /** Panels [s, e) of the column block at j0 (KC block by KC block, each its panels in order) of B packed into p. */
    private void packPanels(int w, PackedMatrix p, float[] b, int bOff, int bRow, int bCol, int j0, int s, int e) {
        int k = p.k, nb = Math.min(NC, p.n - j0), panels = ceilDiv(nb, NR), base = p.columnBlockOffset(j0);
        for (int i = s; i < e; i++) {
            int blk = i / panels, q = i % panels, p0 = blk * KC, kc = Math.min(KC, k - p0);
            packBPanel(gatherMaps[w], p.data, base + blk * KC * panels * NR + q * kc * NR, b, bOff, bRow, bCol, p0, kc,
                    j0 + q * NR, Math.min(NR, nb - q * NR));
        }
    }

    /** C[m, b.n] (+)= A·B for a B packed by {@link #pack}: the same bits as {@link #multiply} with B itself. */
    public void multiply(int m, float[] a, int aOff, int aRow, int aCol, PackedMatrix b, float[] c, int cOff, int ldc, boolean accumulate) {
        multiply(m, b.n, b.k, a, aOff, aRow, aCol, null, 0, 0, 0, b, c, cOff, ldc, accumulate, null, 0, Triangle.NONE);
    }

    /** C[m, b.n] = bias + A·B (as the bias form of {@link #multiply}) for a B packed by {@link #pack}: the same bits. */
    public void multiply(int m, float[] a, int aOff, int aRow, int aCol, PackedMatrix b, float[] c, int cOff, int ldc, float[] bias, int biasOff) {
        multiply(m, b.n, b.k, a, aOff, aRow, aCol, null, 0, 0, 0, b, c, cOff, ldc, false, bias, biasOff, Triangle.NONE);
    }

    /** C's rows as an empty sum leaves them: kept (accumulate), the bias, or zeros. */
    private static void emptySum(int m, int n, float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff) {
        if (accumulate) return;
        for (int i = 0; i < m; i++) {
            if (bias != null) System.arraycopy(bias, biasOff, c, cOff + i * ldc, n);
            else java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
        }
    }

    private void multiply(int m, int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow,
                          int bCol, PackedMatrix packed, float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff, Triangle triangle) {
        if (m <= 0 || n <= 0) return;
        if (k <= 0) {
            emptySum(m, n, c, cOff, ldc, accumulate, bias, biasOff);
            return;
        }
        if (pool.insideTask()) throw new IllegalStateException("Gemm.multiply runs on the whole pool; inside a task use multiplySerial");
        int threads = pool.size();
        jobM = m;
        jobA = a;
        jobAOff = aOff;
        jobARow = aRow;
        jobACol = aCol;
        jobB = b;
        jobBOff = bOff;
        jobBRow = bRow;
        jobBCol = bCol;
        jobC = c;
        jobCOff = cOff;
        jobLdc = ldc;
        jobTriangle = triangle;
        boolean lowerTriangle = triangle == Triangle.C_LOWER;
        jobAPacked = null; // A packed by a shared pass serves every column block of this product
        try {
            for (int j0 = 0; j0 < n; j0 += NC) {
                int nb = Math.min(NC, n - j0), panels = ceilDiv(nb, NR);
                // Tasks: row tiles of at most MC rows, times column groups of B panels (as even as the panels divide)
                // when there are too few row tiles; the count is kept a multiple of the workers where the panels
                // allow, so that no core idles in the last round.
                int mTiles = ceilDiv(m, MC);
                // rows for one tile only: the tasks split the columns, each packing those few rows of A, so that the
                // packed B streams through the caches once (row tiles would each stream all of it)
                boolean splitColumns = mTiles == 1 && !lowerTriangle && ceilDiv(panels, 2 * threads) >= MIN_TASK_PANELS;
                if (!splitColumns) {
                    if (mTiles < 2 * threads) mTiles = Math.min(ceilDiv(m, MR), 2 * threads);
                    else mTiles = roundUp(mTiles, threads); // whole rounds of row tiles, no column split (which packs A again)
                }
                // A lower triangle's row tiles grow with the row: many of them, taken largest first, even out the workers
                if (lowerTriangle) mTiles = Math.max(mTiles, Math.min(ceilDiv(m, MR), 8 * threads));
                int mStep = roundUp(ceilDiv(m, mTiles), MR), mT = rowTiles(m, mStep, !lowerTriangle && packed == null && !splitColumns);
                int gT = 1;
                while (!lowerTriangle && gT < panels && (mT * gT < 2 * threads || (mT * gT) % threads != 0)
                        && ceilDiv(panels, gT + 1) >= MIN_TASK_PANELS) gT++;
                jobJ0 = j0;
                jobNb = nb;
                jobPanels = panels;
                jobGTasks = gT;
                // the last, smallest row tiles in two column halves each: the worker that takes the last one then
                // keeps its partner waiting half as long (B is read as before; those few rows of A are packed twice)
                jobSplitFrom = mT;
                if (gT == 1 && !lowerTriangle && packed == null && !splitColumns && panels >= 2 * MIN_TASK_PANELS) {
                    while (jobSplitFrom > 1 && tileStart[jobSplitFrom] - tileStart[jobSplitFrom - 1] <= GUIDED_MIN_ROWS) jobSplitFrom--;
                }
                int tasks = mT * gT + (mT - jobSplitFrom);
                // B is packed for as many KC blocks as the buffer holds, and each task runs them all on its C
                // tile in turn, so the tile stays in cache from one block to the next instead of being read
                // back from memory per block (the weight gradients, K = B·T, add up many blocks).
                jobK = k;
                jobAcc = accumulate;
                jobBias = bias;
                jobBiasOff = biasOff;
                if (splitColumns && packed == null) {
                    // Each task packs its own columns of B, a cache-sized chunk at a time, and runs them at once. A
                    // shared packing pass (below) writes all of B packed and the tasks read it back, and B is the large
                    // operand here (gpt2-small's qkv: 7 MB of weights for 256 rows): about a fifth of such a product
                    // while the weights sit in cache (bench matmul); where they come from memory (a training step)
                    // the two ways measured the same.
                    // A, the few rows, is packed once by a shared pass where it is small enough to stay in the caches
                    // for the tasks to read back; each task packed it again for every NC_SERIAL columns of its group.
                    // (Twice as many column groups, no longer packing A each, left the caller waiting longer at the
                    // products' ends in `gpt2-small`'s step: 44-82 against 14-46 ms a step, three interleaved rounds.)
                    int aBlocks = ceilDiv(k, KC);
                    long aFloats = (long) aBlocks * sharedABlock(KC, roundUp(m, MR));
                    if (jobAPacked == null && gT > 1 && aFloats <= SHARED_A_FLOATS && !inPlace(a, aOff, aRow, aCol, 0, m, 0, k)) {
                        if (sharedA.length < aFloats) sharedA = new float[(int) aFloats];
                        jobAPacked = sharedA;
                        pool.forRange(aBlocks, Math.min(aBlocks, 4 * threads), packSharedA);
                    }
                    pool.run(gT, serialColumns);
                    continue;
                }
                if (packed != null) { // packed beforehand: every KC block at once, at this column block's place
                    jobP0 = 0;
                    jobBlocks = ceilDiv(k, KC);
                    jobBPacked = packed.data;
                    jobBBase = packed.columnBlockOffset(j0);
                    pool.run(tasks, multiplyTile);
                    continue;
                }
                int blockFloats = Math.min(KC, k) * panels * NR, span = Math.max(1, Math.min(ceilDiv(k, KC), B_PACK_FLOATS / blockFloats)); // k < KC: one block of k rows
                ensureSharedB((long) span * blockFloats);
                jobBPacked = sharedB;
                jobBBase = 0;
                for (int p0 = 0; p0 < k; p0 += span * KC) {
                    jobP0 = p0;
                    jobBlocks = Math.min(span, ceilDiv(k - p0, KC));
                    pool.forRange(jobBlocks * panels, Math.min(jobBlocks * panels, 4 * threads), packSharedB);
                    pool.run(tasks, multiplyTile);
                }
            }
        } finally {
            jobA = jobB = jobC = jobBias = jobAPacked = null; // do not keep the caller's arrays reachable
            jobBPacked = null;
        }
    }

    // The product multiply() is working on. The two tasks below read it, so that a call allocates no
    // closures; the pool's volatile hand-off publishes these fields to the workers.
    private int jobM, jobAOff, jobARow, jobACol, jobBOff, jobBRow, jobBCol, jobCOff, jobLdc;
    private int jobJ0, jobNb, jobPanels, jobRowTiles, jobGTasks, jobP0, jobBlocks, jobK;
    /** Row tiles from this one on run as two column halves each (tasks past mT·gT); mT when none is split. */
    private int jobSplitFrom;
    private float[] jobA, jobB, jobC, jobBias;
    private int jobBiasOff;
    private boolean jobAcc;
    private Triangle jobTriangle;
    /** Where multiplyTile finds B: the shared buffer packed for this span, or a {@link PackedMatrix} at this column block. */
    private MemorySegment jobBPacked;
    private int jobBBase;

    private final WorkerPool.RangeTask packSharedB = this::packSharedB;
    private final WorkerPool.Task multiplyTile = this::multiplyTile;
    private final WorkerPool.Task serialColumns = this::serialColumns;
    private final WorkerPool.RangeTask packSharedA = this::packSharedA;
    /** A packed by a shared pass for a product's column groups ({@link #packSharedA}), or null: each packs its own. */
    private float[] jobAPacked;
    /** The shared pass's buffer: KC block by KC block, each all of A's MR-row panels in order (grown, never shrunk). */
    private float[] sharedA = new float[0];
    /**
     * At most 2.5 MB of A packed by a shared pass, for the tasks to read back: gpt2-small's 256 rows of K = 768 and 2,304
     * (0.8 and 2.4 MB) ran 4-10% faster so, but those of K = 3,072 (3.2 MB) 6-20% slower than each task packing
     * its KC blocks as it goes (Zen 5, 1 MB of L2 a core), as did the head's input gradient (K = 50,257) taken in
     * shared spans of 8 MB.
     */
    private static final int SHARED_A_FLOATS = 5 << 17;

    /** KC blocks [s, e) of A packed into {@link #sharedA}, each its MR-row panels in order. */
    private void packSharedA(int s, int e, int chunk, int w) {
        for (int blk = s; blk < e; blk++) {
            int p0 = blk * KC;
            packA(jobAPacked, sharedABlock(p0, roundUp(jobM, MR)), jobA, jobAOff, jobARow, jobACol, 0, jobM, p0, Math.min(KC, jobK - p0));
        }
    }

    /**
     * Where the KC block starting at k = p0 begins in {@link #sharedA} (mPad: A's rows rounded up to whole panels).
     * A block's packing stores whole vectors, past its last panel's end (overwritten by the next panel within a block):
     * L floats of room after each block, so that blocks packed in any order by the workers leave each other intact.
     */
    private static int sharedABlock(int p0, int mPad) {
        return p0 / KC * (mPad * KC + L);
    }

    /** Column group g of the product on worker w alone (the same bits as the pooled product). */
    private void serialColumns(int g, int w) {
        int q0 = g * jobPanels / jobGTasks, q1 = (g + 1) * jobPanels / jobGTasks, j = jobJ0 + q0 * NR;
        multiplySerial(w, jobM, Math.min(jobNb, q1 * NR) - q0 * NR, jobK, jobA, jobAOff, jobARow, jobACol, jobAPacked, jobB, jobBOff + j * jobBCol, jobBRow,
                jobBCol, null, jobC, jobCOff + j, jobLdc, jobAcc, jobBias, jobBiasOff + j, jobTriangle);
    }

    private void packSharedB(int s, int e, int chunk, int w) {
        for (int i = s; i < e; i++) {
            int blk = i / jobPanels, q = i % jobPanels, p0 = jobP0 + blk * KC, kc = Math.min(KC, jobK - p0);
            packBPanel(gatherMaps[w], sharedB, blk * KC * jobPanels * NR + q * kc * NR, jobB, jobBOff, jobBRow, jobBCol, p0, kc, jobJ0 + q * NR,
                    Math.min(NR, jobNb - q * NR));
        }
    }

    private void multiplyTile(int t, int w) {
        int rowTile = t / jobGTasks, g = t % jobGTasks, groups = jobGTasks;
        if (rowTile >= jobSplitFrom) { // one of two column halves of a last tile
            int u = t - jobSplitFrom;
            rowTile = jobSplitFrom + u / 2;
            g = u % 2;
            groups = 2;
        }
        boolean lower = jobTriangle == Triangle.C_LOWER;
        if (lower) rowTile = jobRowTiles - 1 - rowTile; // the bottom rows, the most work, first
        int i0 = tileStart[rowTile], q0 = g * jobPanels / groups; // column groups as even as the panels divide
        int mb = tileStart[rowTile + 1] - i0, q1 = (g + 1) * jobPanels / groups;
        if (lower) { // panels that start right of this tile's last row lie above the diagonal
            int last = i0 + mb - 1 - jobJ0;
            q1 = last < 0 ? 0 : Math.min(q1, last / NR + 1);
            if (q1 <= q0) return;
        }
        float[] pa = packA[w];
        for (int blk = 0; blk < jobBlocks; blk++) {
            int p0 = jobP0 + blk * KC, kc = Math.min(KC, jobK - p0);
            block(pa, jobA, jobAOff, jobARow, jobACol, null, 0, p0, jobBPacked, jobBBase + blk * KC * jobPanels * NR, w, i0, mb, kc, jobJ0, jobNb, q0, q1, jobC, jobCOff, jobLdc,
                    jobAcc || p0 > 0, jobBias, jobBiasOff, jobTriangle);
        }
    }

    /** Where the product's row tiles start, m after the last ({@link #rowTiles}); grown, never shrunk. */
    private int[] tileStart = new int[64];
    /** The smallest row tile of a product's last round: a few A panels still reuse each B panel from L2. */
    private static final int GUIDED_MIN_ROWS = 48;

    /**
     * Splits rows [0, m) into tiles of mStep rows or, when shrink, into tiles that shrink as the rows
     * left do (guided scheduling): each at most mStep and the rows left over twice the workers (rounded
     * up to MR), at least {@link #GUIDED_MIN_ROWS}. The workers take tiles largest first, so a product's
     * last round is small tiles and no worker waits long for another: cores on a shared host run at
     * uneven speeds (with equal tiles the caller waited 28-30 ms of a `tiny` step for its partner at the
     * ends of products, with shrinking ones 9-16, and the step's median was 3.5% lower in five
     * interleaved rounds). Which rows a tile holds changes no element's sum. Not for a B packed
     * beforehand (an inference model's weights): it comes from memory, and each row tile streams all of
     * it, so more tiles cost scoring more than they even out (0.84-0.91 of the training forward's rate
     * with shrinking tiles, 0.91-0.94 without). Nor for a product of one row tile that splits its columns
     * instead (its column groups are its tasks). Returns the tile count.
     */
    private int rowTiles(int m, int mStep, boolean shrink) {
        int n = 0, threads = pool.size();
        for (int i = 0; i < m; ) {
            if (n + 2 > tileStart.length) tileStart = java.util.Arrays.copyOf(tileStart, 2 * tileStart.length);
            tileStart[n++] = i;
            int rows = shrink ? Math.min(mStep, Math.max(GUIDED_MIN_ROWS, roundUp(ceilDiv(m - i, 2 * threads), MR))) : mStep;
            i = Math.min(m, i + rows);
        }
        tileStart[n] = m;
        jobRowTiles = n;
        return n;
    }

    private void ensureSharedB(long floats) {
        // its own arena, so that the smaller buffer it replaces is freed once unreachable
        if (sharedB == null || sharedB.byteSize() < 4 * floats) sharedB = Arena.ofAuto().allocate(4 * floats, 64);
    }

    /**
     * The same product computed entirely by the calling worker (for use inside a parallel task, e.g.
     * one attention head), skipping what triangle says need not be computed.
     */
    public void multiplySerial(int worker, int m, int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b,
                               int bOff, int bRow, int bCol, float[] c, int cOff, int ldc, boolean accumulate,
                               Triangle triangle) {
        multiplySerial(worker, m, n, k, a, aOff, aRow, aCol, null, b, bOff, bRow, bCol, null, c, cOff, ldc, accumulate, null, 0, triangle);
    }

    /** {@link #multiplySerial} with B packed beforehand ({@link #pack} or {@link #packSerial}): the same bits. */
    public void multiplySerial(int worker, int m, float[] a, int aOff, int aRow, int aCol, PackedMatrix b, float[] c, int cOff, int ldc,
                               boolean accumulate, Triangle triangle) {
        multiplySerial(worker, m, b.n, b.k, a, aOff, aRow, aCol, null, null, 0, 0, 0, b, c, cOff, ldc, accumulate, null, 0, triangle);
    }

    /**
     * {@link #multiplySerial} with B the columns [firstColumn, firstColumn + n) of a matrix packed beforehand
     * (firstColumn a multiple of the panel width {@link #NR}, at most 32: a multiple of 32 suits every machine): the same bits
     * as with those columns alone. For an operand that meets many others (attention's keys, every query tile), packed once.
     */
    public void multiplySerial(int worker, int m, float[] a, int aOff, int aRow, int aCol, PackedMatrix b, int firstColumn, int n, float[] c, int cOff,
                               int ldc, boolean accumulate, Triangle triangle) {
        if (firstColumn % NR != 0 || firstColumn < 0 || n < 0 || firstColumn + n > b.n) {
            throw new IllegalArgumentException("columns [" + firstColumn + ", " + (firstColumn + n) + ") of a packed " + b.k + " x " + b.n
                    + " matrix: they must lie in it and start at a multiple of " + NR);
        }
        multiplySerial(worker, m, n, b.k, a, aOff, aRow, aCol, null, null, firstColumn, 0, 0, b, c, cOff, ldc, accumulate, null, 0, triangle);
    }

    /** With B packed beforehand (packed != null, b null), its columns [bOff, bOff + n). */
    private void multiplySerial(int worker, int m, int n, int k, float[] a, int aOff, int aRow, int aCol, float[] aPacked, float[] b, int bOff, int bRow,
                                int bCol, PackedMatrix packed, float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff, Triangle triangle) {
        if (m <= 0 || n <= 0) return;
        if (k <= 0) { // an empty sum, as the pooled product has it
            emptySum(m, n, c, cOff, ldc, accumulate, bias, biasOff);
            return;
        }
        float[] pa = packA[worker];
        MemorySegment pb = packB[worker];
        boolean lowerTriangle = triangle == Triangle.C_LOWER;
        int[] map = gatherMaps[worker];
        // Column block by column block, B is packed once for up to SERIAL_SPAN KC blocks and serves every
        // row block (packed per row block, it took a tenth of Newton–Schulz's time); each row block then
        // runs those KC blocks in turn on its C tile, which stays in cache from one to the next.
        // B packed beforehand: every KC block at once, in column blocks that stay inside one of its NC-column blocks
        MemorySegment bData = packed == null ? pb : packed.data;
        int span = packed == null ? SERIAL_SPAN : ceilDiv(k, KC);
        for (int j0 = 0, nb; j0 < n; j0 += nb) {
            nb = Math.min(NC_SERIAL, n - j0);
            int g = packed == null ? j0 : bOff + j0; // a packed B's columns start at bOff (a view of them)
            int cb = g / NC * NC, blockPanels = 0, base = 0; // where packed's column block holding g starts, its panels, g's panel in it
            if (packed != null) {
                nb = Math.min(nb, cb + NC - g);
                blockPanels = ceilDiv(Math.min(NC, packed.n - cb), NR);
                base = packed.columnBlockOffset(cb);
            }
            int panels = ceilDiv(nb, NR);
            // a lower triangle's rows above this column block have no tile in it and its panels right of the last row none
            // below; an upper triangle's rows below the block's last column none
            int first = lowerTriangle ? j0 / MR * MR : 0, rows = triangle == Triangle.C_UPPER ? Math.min(m, j0 + nb) : m;
            if (first >= m) break;
            if (lowerTriangle) panels = Math.min(panels, ceilDiv(m - j0, NR));
            for (int s0 = 0; s0 < k; s0 += span * KC) {
                int blocks = Math.min(span, ceilDiv(k - s0, KC));
                if (packed == null) {
                    for (int blk = 0; blk < blocks; blk++) {
                        int p0 = s0 + blk * KC, kc = Math.min(KC, k - p0);
                        for (int q = 0; q < panels; q++) {
                            packBPanel(map, pb, blk * KC * panels * NR + q * kc * NR, b, bOff, bRow, bCol, p0, kc, j0 + q * NR, Math.min(NR, nb - q * NR));
                        }
                    }
                }
                for (int i0 = first; i0 < rows; i0 += MC) {
                    int mb = Math.min(MC, rows - i0), rowPanels = lowerTriangle ? Math.min(panels, ceilDiv(i0 + mb - j0, NR)) : panels;
                    for (int blk = 0; blk < blocks; blk++) {
                        int p0 = s0 + blk * KC, kc = Math.min(KC, k - p0);
                        int bBase = packed == null ? blk * KC * panels * NR : base + blk * KC * blockPanels * NR + (g - cb) / NR * kc * NR;
                        block(pa, a, aOff, aRow, aCol, aPacked, sharedABlock(p0, roundUp(m, MR)) + i0 * kc, p0, bData, bBase, worker, i0, mb, kc, j0, nb, 0, rowPanels, c, cOff, ldc,
                                accumulate || p0 > 0, bias, biasOff,
                                triangle);
                    }
                }
            }
        }
    }

    /**
     * {@link #panels} for A's block rows [i0, i0+mb) x k [p0, p0+kc): read where it lies if {@link #inPlace}
     * allows, from aPacked[aPackedAt...] where a shared pass packed it beforehand (not null), else packed into pa first.
     */
    private void block(float[] pa, float[] a, int aOff, int aRow, int aCol, float[] aPacked, int aPackedAt, int p0, MemorySegment pb, int pbBase, int w, int i0,
                       int mb, int kc, int j0, int nb, int q0, int q1, float[] c, int cOff, int ldc, boolean acc, float[] bias, int biasOff, Triangle triangle) {
        if (aPacked != null) {
            panels(aPacked, aPackedAt, kc, MR, pb, pbBase, w, i0, mb, p0, kc, j0, nb, q0, q1, c, cOff, ldc, acc, bias, biasOff, triangle);
        } else if (inPlace(a, aOff, aRow, aCol, i0, mb, p0, kc)) {
            panels(a, aOff + i0 + p0 * aCol, 1, aCol, pb, pbBase, w, i0, mb, p0, kc, j0, nb, q0, q1, c, cOff, ldc, acc, bias, biasOff, triangle);
        } else {
            packA(pa, 0, a, aOff, aRow, aCol, i0, mb, p0, kc);
            panels(pa, 0, kc, MR, pb, pbBase, w, i0, mb, p0, kc, j0, nb, q0, q1, c, cOff, ldc, acc, bias, biasOff, triangle);
        }
    }

    /**
     * Micro-kernels over B panels [q0, q1) and all A panels of the packed block. The B panels are taken in
     * chunks that stay in L2; within a chunk each A panel (in L1) meets every B panel, so the kernels write
     * C along its rows, a few sequential streams the hardware prefetcher follows. (B panel outer, A panels
     * inner keeps B in L1 instead, but writes C down a column of tiles, a line per row that misses the
     * cache: 10-20% slower on the forward shapes of `tiny` on an Ice Lake core.) A's panel for rows
     * i0 + ir lies at pa[paBase + ir·paRow], its MR values for one k `as` floats after the previous k's:
     * MR when packed, aCol when read in place. The block covers k [p0, p0+kc), which a triangular A narrows per row tile.
     */
    private void panels(float[] pa, int paBase, int paRow, int as, MemorySegment pb, int pbBase, int w, int i0, int mb, int p0, int kc, int j0, int nb, int q0, int q1,
                        float[] c, int cOff, int ldc, boolean acc, float[] bias, int biasOff, Triangle triangle) {
        float[] tmp = edge[w];
        if (acc) bias = null; // C already holds it, from an earlier block
        boolean lowerTriangle = triangle == Triangle.C_LOWER, upperTriangle = triangle == Triangle.C_UPPER;
        int chunk = Math.max(1, B_CHUNK_BYTES / (4 * kc * NR));
        for (int qc = q0; qc < q1; qc += chunk) {
            int qe = Math.min(q1, qc + chunk);
            for (int ir = 0; ir < mb; ir += MR) {
                int mr = Math.min(MR, mb - ir), row = i0 + ir, paOff = paBase + ir * paRow;
                // the block's k where these rows of a triangular A are not zero
                int kLo = triangle == Triangle.A_UPPER ? Math.min(kc, Math.max(0, row - p0)) : 0;
                int kHi = triangle == Triangle.A_LOWER ? Math.max(0, Math.min(kc, row + mr - p0)) : kc;
                if (kHi <= kLo) { // these rows of A are zero over the block: nothing to add to C, or zeros to write
                    // (not a kernel run over no k: its loop, always entered before, then took a trap and C2 recompiled it)
                    if (!acc) emptySum(mr, Math.min(nb, qe * NR) - qc * NR, c, cOff + row * ldc + j0 + qc * NR, ldc, false, bias, biasOff + j0 + qc * NR);
                    continue;
                }
                // an upper triangle's panels that end left of these rows lie below the diagonal
                for (int q = upperTriangle ? Math.max(qc, (row - j0) / NR) : qc; q < qe; q++) {
                    int jr = q * NR, col = j0 + jr, nr = Math.min(NR, nb - jr);
                    if (lowerTriangle && col > row + mr - 1) break; // every later panel of this chunk lies further right
                    if (MR == 12 && mr == MR && nr == NR && bias == null) {
                        // a tile the diagonal crosses whose other half lies wholly outside the triangle: that half skipped
                        // (symmetric 384 x 384 products computed 10% more than their lower triangle with whole tiles, 6% so)
                        int half = lowerTriangle && col + L > row + mr - 1 ? 0 : upperTriangle && col + L - 1 < row ? L : -1;
                        if (half >= 0) {
                            kernel12Half(pa, paOff + kLo * as, as, pb, 4L * (pbBase + q * kc * NR + kLo * NR + half), kHi - kLo, c, cOff + row * ldc + col + half, ldc, acc);
                            continue;
                        }
                    }
                    tile(pa, paOff + kLo * as, as, pb, pbBase + q * kc * NR + kLo * NR, kHi - kLo, c, cOff, ldc, acc, bias, biasOff + col, tmp, row, col, mr, nr);
                }
            }
        }
    }

    /** One micro-tile of C at (row, col), mr x nr; its first block adds the bias from bias[biasAt] (null: none). */
    private static void tile(float[] pa, int paOff, int as, MemorySegment pb, int pbOff, int kc, float[] c, int cOff, int ldc, boolean acc, float[] bias,
                             int biasAt, float[] tmp, int row, int col, int mr, int nr) {
        if (mr == MR && nr == NR) {
            int ci = cOff + row * ldc + col;
            kernel(pa, paOff, as, pb, 4L * pbOff, kc, c, ci, ldc, acc);
            // the bias added to the tile just stored, in L1 (inside the kernel it made every product a few percent slower)
            if (bias != null) {
                FloatVector b0 = FloatVector.fromArray(S, bias, biasAt), b1 = FloatVector.fromArray(S, bias, biasAt + L);
                for (int r = 0; r < MR; r++, ci += ldc) {
                    FloatVector.fromArray(S, c, ci).add(b0).intoArray(c, ci);
                    FloatVector.fromArray(S, c, ci + L).add(b1).intoArray(c, ci + L);
                }
            }
        } else {
            kernel(pa, paOff, as, pb, 4L * pbOff, kc, tmp, 0, NR, false);
            for (int r = 0; r < mr; r++) {
                int co = cOff + (row + r) * ldc + col;
                if (nr == NR) { // whole rows by vector: attention's 128-row tiles end in an edge of 8 rows, one tile in eleven
                    for (int h = 0; h < NR; h += L) {
                        FloatVector v = FloatVector.fromArray(S, tmp, r * NR + h);
                        if (acc) v = v.add(FloatVector.fromArray(S, c, co + h));
                        else if (bias != null) v = v.add(FloatVector.fromArray(S, bias, biasAt + h));
                        v.intoArray(c, co + h);
                    }
                } else {
                    for (int j = 0; j < nr; j++) c[co + j] = acc ? c[co + j] + tmp[r * NR + j] : bias != null ? tmp[r * NR + j] + bias[biasAt + j] : tmp[r * NR + j];
                }
            }
        }
    }

    /**
     * Whether the micro-kernels read the block rows [i0, i0+mb) x k [p0, p0+kc) of A where it lies, without
     * packing: A stored k-major (a transposed view, or a symmetric matrix read through its transpose) has
     * each k's MR values side by side, which is all a kernel's broadcasts need, at a stride of aCol from
     * one k to the next instead of MR. A last panel's rows past mb are read too (their results are
     * dropped), so the reads must stay in the array. On AVX-512 only: Newton–Schulz's 24 matrices on
     * `tiny` ran 4-5% faster (bench/kernel_ab.sh on Zen 5; the symmetric 384³ product 3.5-4.6%), the weight
     * gradient's dYᵀ·X, read in place too, no faster or slower; in the 4-row AVX2 kernel a variable stride
     * made C2 slow every product by 4-18% (-XX:UseAVX=2 on the same machine).
     */
    private static boolean inPlace(float[] a, int aOff, int aRow, int aCol, int i0, int mb, int p0, int kc) {
        return MR == 12 && aRow == 1 && aCol >= 0 && aOff + i0 + (long) roundUp(mb, MR) - 1 + (long) (p0 + kc - 1) * aCol < a.length;
    }

    /**
     * A block rows [i0, i0+mb) x k [p0, p0+kc) into MR-row panels: panel q, element (k, r) at
     * paOff + q*kc*MR + k*MR + r. Loops run along whichever direction A is contiguous in. (Of a triangular A, packing
     * only the k its kernels read measured no faster on attention's diagonal tiles.)
     */
    private static void packA(float[] pa, int paOff, float[] a, int aOff, int aRow, int aCol, int i0, int mb, int p0, int kc) {
        for (int ir = 0; ir < mb; ir += MR) {
            int mr = Math.min(MR, mb - ir), d = paOff + ir * kc;
            int src = aOff + (i0 + ir) * aRow + p0 * aCol;
            if (mr == MR && aRow == 1 && L >= MR && src + (kc - 1) * aCol + L <= a.length) {
                // A stored k-major (a transposed view): MR contiguous values per k, copied as one vector; its
                // extra lanes land on the next k's slot, written over next (pa has room at the end). The
                // preferred species, never a narrower one (OneVectorClassTest says why).
                for (int kk = 0; kk < kc; kk++, d += MR, src += aCol) FloatVector.fromArray(S, a, src).intoArray(pa, d);
            } else if (mr == MR && MR == 12) { // MR rows into k-major order
                packRows12(pa, d, a, src, aRow, aCol, kc);
            } else if (mr == MR && MR == 4) {
                packRows4(pa, d, a, src, aRow, aCol, kc);
            } else {
                for (int kk = 0; kk < kc; kk++, d += MR) {
                    for (int r = 0; r < MR; r++) pa[d + r] = r < mr ? a[src + r * aRow + kk * aCol] : 0f;
                }
            }
        }
    }

    /**
     * MR row streams written k by k, one statement per row so that each stream's bounds check leaves the
     * loop; with 16-float vectors and rows contiguous in k, 16 k at a time transposed in registers.
     */
    private static void packRows12(float[] pa, int d, float[] a, int src, int aRow, int aCol, int kc) {
        if (L == 16 && aCol == 1) {
            int kk = 0;
            for (; kk + 16 <= kc; kk += 16) transpose16(a, src + kk, aRow, 12, pa, null, d + 12 * kk, 12);
            d += 12 * kk;
            src += kk;
            kc -= kk;
        }
        int s0 = src, s1 = src + aRow, s2 = src + 2 * aRow, s3 = src + 3 * aRow, s4 = src + 4 * aRow, s5 = src + 5 * aRow, s6 = src + 6 * aRow, s7 = src + 7 * aRow, s8 = src + 8 * aRow, s9 = src + 9 * aRow, s10 = src + 10 * aRow, s11 = src + 11 * aRow;
        for (int kk = 0, o = 0; kk < kc; kk++, d += 12, o += aCol) {
            pa[d + 0] = a[s0 + o];
            pa[d + 1] = a[s1 + o];
            pa[d + 2] = a[s2 + o];
            pa[d + 3] = a[s3 + o];
            pa[d + 4] = a[s4 + o];
            pa[d + 5] = a[s5 + o];
            pa[d + 6] = a[s6 + o];
            pa[d + 7] = a[s7 + o];
            pa[d + 8] = a[s8 + o];
            pa[d + 9] = a[s9 + o];
            pa[d + 10] = a[s10 + o];
            pa[d + 11] = a[s11 + o];
        }
    }

    private static void packRows4(float[] pa, int d, float[] a, int src, int aRow, int aCol, int kc) {
        int s0 = src, s1 = src + aRow, s2 = src + 2 * aRow, s3 = src + 3 * aRow;
        for (int kk = 0, o = 0; kk < kc; kk++, d += 4, o += aCol) {
            pa[d + 0] = a[s0 + o];
            pa[d + 1] = a[s1 + o];
            pa[d + 2] = a[s2 + o];
            pa[d + 3] = a[s3 + o];
        }
    }

    /** One NR-column panel of B: columns [j, j+nr) x k [p0, p0+kc) at dst, element (k, jj) at dst + k*NR + jj. */
    private static void packBPanel(int[] map, MemorySegment pb, int dst, float[] b, int bOff, int bRow, int bCol, int p0, int kc, int j, int nr) {
        if (bCol == 1 && nr == NR) {
            for (int kk = 0; kk < kc; kk++) {
                int src = bOff + (p0 + kk) * bRow + j, d = dst + kk * NR;
                FloatVector.fromArray(S, b, src).intoMemorySegment(pb, 4L * d, ORDER);
                FloatVector.fromArray(S, b, src + L).intoMemorySegment(pb, 4L * (d + L), ORDER);
            }
            return;
        }
        if (L >= 16 && bRow == 1 && bOff + p0 + kc - 1 + (long) (j + nr - 1) * bCol < b.length) {
            // B = Wᵀ on AVX-512: 16 rows of W by 16 k transposed in registers and stored into the panel, 16 rows
            // of W over all of the panel's k, then its other 16 (a panel's missing columns as zeros), the k left over
            // by one gather of L rows of W per vector. Sixteen rows at a time rather than all 32 advancing together,
            // and no copy through a scratch block: gpt2-small's X·Wᵀ ~10% faster (bench/kernel_ab.sh workload 6).
            // Scoring's few hundred rows per weight made this packing 10% of its time; gathers alone packed ~20%
            // faster than the scalar loop below, and the transposes made X·Xᵀ of a 384 x 1536 X (B = Xᵀ) 6-16%
            // faster than the gathers on one Zen 5 core. Attention's key tiles of short rows (scoring's requests)
            // are partial panels: element by element, their Kᵀ was most of scoring's attention. With AVX2's
            // gathers (-XX:UseAVX=2) it was slower than the scalar loop, so that path keeps the loop.
            int src = bOff + p0 + j * bCol, whole = L == 16 ? kc / 16 * 16 : 0;
            for (int half = 0; half < 2; half++) {
                int rows = Math.min(16, nr - half * 16);
                for (int kk = 0; kk < whole; kk += 16) {
                    if (rows > 0) {
                        transpose16(b, src + kk + half * 16 * bCol, bCol, rows, null, pb, dst + kk * NR + half * 16, NR);
                    } else {
                        for (int t = 0; t < 16; t++) FloatVector.zero(S).intoMemorySegment(pb, 4L * (dst + (kk + t) * NR + half * 16), ORDER);
                    }
                }
            }
            int kk = whole;
            if (kk < kc && nr == NR) {
                for (int jj = 0; jj < NR; jj++) map[jj] = jj * bCol;
                for (int d = dst + kk * NR; kk < kc; kk++, d += NR) {
                    FloatVector.fromArray(S, b, src + kk, map, 0).intoMemorySegment(pb, 4L * d, ORDER);
                    FloatVector.fromArray(S, b, src + kk, map, L).intoMemorySegment(pb, 4L * (d + L), ORDER);
                }
            }
            for (int d = dst + kk * NR; kk < kc; kk++, d += NR) { // a partial panel's last k
                for (int jj = 0; jj < NR; jj++) pb.setAtIndex(FLOAT, d + jj, jj < nr ? b[src + kk + jj * bCol] : 0f);
            }
            return;
        }
        if (bRow == 1 && nr == NR) { // B = Wᵀ: NR rows of W read as NR sequential streams, each packed k-row written whole
            int src = bOff + p0 + j * bCol;
            for (int kk = 0, d = dst; kk < kc; kk++, d += NR) {
                for (int jj = 0, o = src + kk; jj < NR; jj++, o += bCol) pb.setAtIndex(FLOAT, d + jj, b[o]);
            }
            return;
        }
        for (int jj = 0; jj < NR; jj++) {
            if (jj < nr) {
                int src = bOff + p0 * bRow + (j + jj) * bCol;
                for (int kk = 0; kk < kc; kk++) pb.setAtIndex(FLOAT, dst + kk * NR + jj, b[src + kk * bRow]);
            } else {
                for (int kk = 0; kk < kc; kk++) pb.setAtIndex(FLOAT, dst + kk * NR + jj, 0f);
            }
        }
    }

    private static void kernel(float[] pa, int ai, int as, MemorySegment pb, long bo, int kc, float[] c, int ci, int ldc, boolean acc) {
        if (MR == 12) kernel12(pa, ai, as, pb, bo, kc, c, ci, ldc, acc);
        else {
            assert as == 4 : "the 4-row kernel reads A packed";
            kernel4(pa, ai, pb, bo, kc, c, ci, ldc, acc);
        }
    }

    // The kernels are written out register by register: C2 keeps Vector API values in registers only
    // when every use is inlined in one method (a helper taking vectors, even a small store, made the
    // 8-row kernel box its accumulators and run 5x slower). Each sums over k from zero and adds C at the
    // end, so every element's rounding is the same whichever FMA kernel the machine runs.

    /** 4 x 2L: 8 accumulators (16 vector registers, AVX2; also the kernel where there is no FMA). */
    private static void kernel4(float[] pa, int ai, MemorySegment pb, long bo, int kc, float[] c, int ci, int ldc, boolean acc) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int kk = 0; kk < kc; kk++, ai += 4, bo += 4 * NR) {
            FloatVector b0 = FloatVector.fromMemorySegment(S, pb, bo, ORDER), b1 = FloatVector.fromMemorySegment(S, pb, bo + 4 * L, ORDER);
            FloatVector a;
            if (FMA) { // a constant: C2 keeps one branch
                a = FloatVector.broadcast(S, pa[ai]);      c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
                a = FloatVector.broadcast(S, pa[ai + 1]);  c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
                a = FloatVector.broadcast(S, pa[ai + 2]);  c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
                a = FloatVector.broadcast(S, pa[ai + 3]);  c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
            } else { // without FMA hardware the Vector API's fma falls back to a slow software path
                a = FloatVector.broadcast(S, pa[ai]);      c00 = a.mul(b0).add(c00); c01 = a.mul(b1).add(c01);
                a = FloatVector.broadcast(S, pa[ai + 1]);  c10 = a.mul(b0).add(c10); c11 = a.mul(b1).add(c11);
                a = FloatVector.broadcast(S, pa[ai + 2]);  c20 = a.mul(b0).add(c20); c21 = a.mul(b1).add(c21);
                a = FloatVector.broadcast(S, pa[ai + 3]);  c30 = a.mul(b0).add(c30); c31 = a.mul(b1).add(c31);
            }
        }
        if (acc) {
            c00 = c00.add(FloatVector.fromArray(S, c, ci)); c01 = c01.add(FloatVector.fromArray(S, c, ci + L));
            c10 = c10.add(FloatVector.fromArray(S, c, ci + ldc)); c11 = c11.add(FloatVector.fromArray(S, c, ci + ldc + L));
            c20 = c20.add(FloatVector.fromArray(S, c, ci + 2 * ldc)); c21 = c21.add(FloatVector.fromArray(S, c, ci + 2 * ldc + L));
            c30 = c30.add(FloatVector.fromArray(S, c, ci + 3 * ldc)); c31 = c31.add(FloatVector.fromArray(S, c, ci + 3 * ldc + L));
        }
        c00.intoArray(c, ci); c01.intoArray(c, ci + L);
        c10.intoArray(c, ci + ldc); c11.intoArray(c, ci + ldc + L);
        c20.intoArray(c, ci + 2 * ldc); c21.intoArray(c, ci + 2 * ldc + L);
        c30.intoArray(c, ci + 3 * ldc); c31.intoArray(c, ci + 3 * ldc + L);
    }

    /** 12 x 2L: 24 accumulators (32 vector registers, AVX-512). */
    private static void kernel12(float[] pa, int ai, int as, MemorySegment pb, long bo, int kc, float[] c, int ci, int ldc, boolean acc) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        FloatVector c80 = c00, c81 = c00, c90 = c00, c91 = c00, c100 = c00, c101 = c00, c110 = c00, c111 = c00;
        for (int kk = 0; kk < kc; kk++, ai += as, bo += 4 * NR) {
            FloatVector b0 = FloatVector.fromMemorySegment(S, pb, bo, ORDER), b1 = FloatVector.fromMemorySegment(S, pb, bo + 4 * L, ORDER);
            FloatVector a;
            a = FloatVector.broadcast(S, pa[ai]);      c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, pa[ai + 1]);  c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, pa[ai + 2]);  c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, pa[ai + 3]);  c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, pa[ai + 4]);  c40 = a.fma(b0, c40); c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, pa[ai + 5]);  c50 = a.fma(b0, c50); c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(S, pa[ai + 6]);  c60 = a.fma(b0, c60); c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(S, pa[ai + 7]);  c70 = a.fma(b0, c70); c71 = a.fma(b1, c71);
            a = FloatVector.broadcast(S, pa[ai + 8]);  c80 = a.fma(b0, c80); c81 = a.fma(b1, c81);
            a = FloatVector.broadcast(S, pa[ai + 9]);  c90 = a.fma(b0, c90); c91 = a.fma(b1, c91);
            a = FloatVector.broadcast(S, pa[ai + 10]); c100 = a.fma(b0, c100); c101 = a.fma(b1, c101);
            a = FloatVector.broadcast(S, pa[ai + 11]); c110 = a.fma(b0, c110); c111 = a.fma(b1, c111);
        }
        if (acc) {
            c00 = c00.add(FloatVector.fromArray(S, c, ci)); c01 = c01.add(FloatVector.fromArray(S, c, ci + L));
            c10 = c10.add(FloatVector.fromArray(S, c, ci + ldc)); c11 = c11.add(FloatVector.fromArray(S, c, ci + ldc + L));
            c20 = c20.add(FloatVector.fromArray(S, c, ci + 2 * ldc)); c21 = c21.add(FloatVector.fromArray(S, c, ci + 2 * ldc + L));
            c30 = c30.add(FloatVector.fromArray(S, c, ci + 3 * ldc)); c31 = c31.add(FloatVector.fromArray(S, c, ci + 3 * ldc + L));
            c40 = c40.add(FloatVector.fromArray(S, c, ci + 4 * ldc)); c41 = c41.add(FloatVector.fromArray(S, c, ci + 4 * ldc + L));
            c50 = c50.add(FloatVector.fromArray(S, c, ci + 5 * ldc)); c51 = c51.add(FloatVector.fromArray(S, c, ci + 5 * ldc + L));
            c60 = c60.add(FloatVector.fromArray(S, c, ci + 6 * ldc)); c61 = c61.add(FloatVector.fromArray(S, c, ci + 6 * ldc + L));
            c70 = c70.add(FloatVector.fromArray(S, c, ci + 7 * ldc)); c71 = c71.add(FloatVector.fromArray(S, c, ci + 7 * ldc + L));
            c80 = c80.add(FloatVector.fromArray(S, c, ci + 8 * ldc)); c81 = c81.add(FloatVector.fromArray(S, c, ci + 8 * ldc + L));
            c90 = c90.add(FloatVector.fromArray(S, c, ci + 9 * ldc)); c91 = c91.add(FloatVector.fromArray(S, c, ci + 9 * ldc + L));
            c100 = c100.add(FloatVector.fromArray(S, c, ci + 10 * ldc)); c101 = c101.add(FloatVector.fromArray(S, c, ci + 10 * ldc + L));
            c110 = c110.add(FloatVector.fromArray(S, c, ci + 11 * ldc)); c111 = c111.add(FloatVector.fromArray(S, c, ci + 11 * ldc + L));
        }
        c00.intoArray(c, ci); c01.intoArray(c, ci + L);
        c10.intoArray(c, ci + ldc); c11.intoArray(c, ci + ldc + L);
        c20.intoArray(c, ci + 2 * ldc); c21.intoArray(c, ci + 2 * ldc + L);
        c30.intoArray(c, ci + 3 * ldc); c31.intoArray(c, ci + 3 * ldc + L);
        c40.intoArray(c, ci + 4 * ldc); c41.intoArray(c, ci + 4 * ldc + L);
        c50.intoArray(c, ci + 5 * ldc); c51.intoArray(c, ci + 5 * ldc + L);
        c60.intoArray(c, ci + 6 * ldc); c61.intoArray(c, ci + 6 * ldc + L);
        c70.intoArray(c, ci + 7 * ldc); c71.intoArray(c, ci + 7 * ldc + L);
        c80.intoArray(c, ci + 8 * ldc); c81.intoArray(c, ci + 8 * ldc + L);
        c90.intoArray(c, ci + 9 * ldc); c91.intoArray(c, ci + 9 * ldc + L);
        c100.intoArray(c, ci + 10 * ldc); c101.intoArray(c, ci + 10 * ldc + L);
        c110.intoArray(c, ci + 11 * ldc); c111.intoArray(c, ci + 11 * ldc + L);
    }

    /** 12 x L, one of a tile's two halves (bo and ci at that half): 12 accumulators, the same sums as {@link #kernel12}'s. */
    private static void kernel12Half(float[] pa, int ai, int as, MemorySegment pb, long bo, int kc, float[] c, int ci, int ldc, boolean acc) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int kk = 0; kk < kc; kk++, ai += as, bo += 4 * NR) {
            FloatVector b = FloatVector.fromMemorySegment(S, pb, bo, ORDER);
            c0 = FloatVector.broadcast(S, pa[ai]).fma(b, c0);
            c1 = FloatVector.broadcast(S, pa[ai + 1]).fma(b, c1);
            c2 = FloatVector.broadcast(S, pa[ai + 2]).fma(b, c2);
            c3 = FloatVector.broadcast(S, pa[ai + 3]).fma(b, c3);
            c4 = FloatVector.broadcast(S, pa[ai + 4]).fma(b, c4);
            c5 = FloatVector.broadcast(S, pa[ai + 5]).fma(b, c5);
            c6 = FloatVector.broadcast(S, pa[ai + 6]).fma(b, c6);
            c7 = FloatVector.broadcast(S, pa[ai + 7]).fma(b, c7);
            c8 = FloatVector.broadcast(S, pa[ai + 8]).fma(b, c8);
            c9 = FloatVector.broadcast(S, pa[ai + 9]).fma(b, c9);
            c10 = FloatVector.broadcast(S, pa[ai + 10]).fma(b, c10);
            c11 = FloatVector.broadcast(S, pa[ai + 11]).fma(b, c11);
        }
        if (acc) {
            c0 = c0.add(FloatVector.fromArray(S, c, ci)); c1 = c1.add(FloatVector.fromArray(S, c, ci + ldc));
            c2 = c2.add(FloatVector.fromArray(S, c, ci + 2 * ldc)); c3 = c3.add(FloatVector.fromArray(S, c, ci + 3 * ldc));
            c4 = c4.add(FloatVector.fromArray(S, c, ci + 4 * ldc)); c5 = c5.add(FloatVector.fromArray(S, c, ci + 5 * ldc));
            c6 = c6.add(FloatVector.fromArray(S, c, ci + 6 * ldc)); c7 = c7.add(FloatVector.fromArray(S, c, ci + 7 * ldc));
            c8 = c8.add(FloatVector.fromArray(S, c, ci + 8 * ldc)); c9 = c9.add(FloatVector.fromArray(S, c, ci + 9 * ldc));
            c10 = c10.add(FloatVector.fromArray(S, c, ci + 10 * ldc)); c11 = c11.add(FloatVector.fromArray(S, c, ci + 11 * ldc));
        }
        c0.intoArray(c, ci); c1.intoArray(c, ci + ldc); c2.intoArray(c, ci + 2 * ldc); c3.intoArray(c, ci + 3 * ldc);
        c4.intoArray(c, ci + 4 * ldc); c5.intoArray(c, ci + 5 * ldc); c6.intoArray(c, ci + 6 * ldc); c7.intoArray(c, ci + 7 * ldc);
        c8.intoArray(c, ci + 8 * ldc); c9.intoArray(c, ci + 9 * ldc); c10.intoArray(c, ci + 10 * ldc); c11.intoArray(c, ci + 11 * ldc);
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }
}
