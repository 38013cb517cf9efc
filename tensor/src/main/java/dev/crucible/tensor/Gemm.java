package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packed, register-tiled single-precision matrix multiply: C[M,N] (+)= A[M,K] · B[K,N], where A and B
 * are strided views of flat arrays, so one micro-kernel serves all three training forms
 * ({@code Y = X·Wᵀ}, {@code dX = dY·W}, {@code dW = dYᵀ·X}) and the per-head products of attention.
 *
 * <p>Layout follows Goto/BLIS: for each block of NC columns and KC depth, the B block is packed once
 * into NR-column panels (in parallel, into a buffer shared by all workers), then tiles of MC rows
 * are independent tasks that pack their A block into MR-row panels and run, for each B panel and
 * each A panel, a 4 x (2 vectors)
 * micro-kernel with 8 accumulators. The textbook AVX2 tile is 6 x 16 (12 accumulators), but C2 then
 * spills accumulators to the stack and runs at half speed; 4 x 16 reaches ~92 GFLOP/s on one Zen 3
 * core (bench matmul). Each C element is reduced over K in the same order whatever the thread
 * count, so results are bit-identical across runs and thread counts.
 */
public final class Gemm {
    static final VectorSpecies<Float> S = Cpu.SPECIES;
    static final int L = S.length();
    static final boolean FMA = Cpu.HAS_FMA;
    /** Micro-tile: MR rows of C by NR columns (two vectors). */
    public static final int MR = 4, NR = 2 * L;
    static final int KC = 256, MC = 24 * MR, NC = 4096, NC_SERIAL = 256;
    /** Packing either operand costs about as much per element as a few FMAs: keep tasks' blocks large. */
    private static final int MIN_TASK_PANELS = 4;

    private final WorkerPool pool;
    private final float[][] packA, packB, edge;
    private final float[] sharedB = new float[KC * roundUp(NC, NR)];

    public Gemm(WorkerPool pool) {
        this.pool = pool;
        int n = pool.size();
        packA = new float[n][MC * KC];
        packB = new float[n][roundUp(NC_SERIAL, NR) * KC];
        edge = new float[n][MR * NR];
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
        multiply(m, n, k, a, aOff, aRow, aCol, b, bOff, bRow, bCol, c, cOff, ldc, accumulate, false);
    }

    /**
     * C[n,n] = A·B for a product known to be symmetric (X·Xᵀ, or a power of a symmetric matrix): the
     * micro-tiles on and below the diagonal are computed, the upper triangle is their mirror, so the
     * result is exactly symmetric at a little over half the cost.
     */
    public void multiplySymmetric(int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow, int bCol,
                                  float[] c, int cOff, int ldc) {
        multiply(n, n, k, a, aOff, aRow, aCol, b, bOff, bRow, bCol, c, cOff, ldc, false, true);
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) c[cOff + i * ldc + j] = c[cOff + j * ldc + i];
        }
    }

    private void multiply(int m, int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow,
                          int bCol, float[] c, int cOff, int ldc, boolean accumulate, boolean lowerTriangle) {
        if (m <= 0 || n <= 0) return;
        if (k <= 0) {
            if (!accumulate) for (int i = 0; i < m; i++) java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
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
        jobLower = lowerTriangle;
        try {
            for (int j0 = 0; j0 < n; j0 += NC) {
                int nb = Math.min(NC, n - j0), panels = ceilDiv(nb, NR);
                // Tasks: row tiles of at most MC rows, times column groups of B panels when there are too few
                // row tiles; the count is kept a multiple of the workers so that no core idles in the last round.
                int mTiles = ceilDiv(m, MC);
                if (mTiles < 2 * threads) mTiles = Math.min(ceilDiv(m, MR), 2 * threads);
                int mStep = roundUp(ceilDiv(m, mTiles), MR), mT = ceilDiv(m, mStep);
                int gT = 1;
                while (gT < panels && (mT * gT < 4 * threads || (mT * gT) % threads != 0) && ceilDiv(panels, gT + 1) >= MIN_TASK_PANELS) gT++;
                int gStep = ceilDiv(panels, gT);
                jobJ0 = j0;
                jobNb = nb;
                jobPanels = panels;
                jobMStep = mStep;
                jobGStep = gStep;
                jobGTasks = ceilDiv(panels, gStep);
                for (int p0 = 0; p0 < k; p0 += KC) {
                    jobP0 = p0;
                    jobKc = Math.min(KC, k - p0);
                    jobAcc = accumulate || p0 > 0;
                    pool.forRange(panels, Math.min(panels, 4 * threads), packSharedB);
                    pool.run(mT * jobGTasks, multiplyTile);
                }
            }
        } finally {
            jobA = jobB = jobC = null; // do not keep the caller's arrays reachable
        }
    }

    // The product multiply() is working on. The two tasks below read it, so that a call allocates no
    // closures; the pool's volatile hand-off publishes these fields to the workers.
    private int jobM, jobAOff, jobARow, jobACol, jobBOff, jobBRow, jobBCol, jobCOff, jobLdc;
    private int jobJ0, jobNb, jobPanels, jobMStep, jobGStep, jobGTasks, jobP0, jobKc;
    private float[] jobA, jobB, jobC;
    private boolean jobAcc, jobLower;

    private final WorkerPool.RangeTask packSharedB = this::packSharedB;
    private final WorkerPool.Task multiplyTile = this::multiplyTile;

    private void packSharedB(int s, int e, int chunk, int w) {
        for (int q = s; q < e; q++) {
            packBPanel(sharedB, q * jobKc * NR, jobB, jobBOff, jobBRow, jobBCol, jobP0, jobKc, jobJ0 + q * NR, Math.min(NR, jobNb - q * NR));
        }
    }

    private void multiplyTile(int t, int w) {
        int i0 = (t / jobGTasks) * jobMStep, q0 = (t % jobGTasks) * jobGStep;
        int mb = Math.min(jobM - i0, jobMStep), q1 = Math.min(jobPanels, q0 + jobGStep);
        if (jobLower) { // panels that start right of this tile's last row lie above the diagonal
            int last = i0 + mb - 1 - jobJ0;
            q1 = last < 0 ? 0 : Math.min(q1, last / NR + 1);
            if (q1 <= q0) return;
        }
        float[] pa = packA[w];
        packA(pa, jobA, jobAOff, jobARow, jobACol, i0, mb, jobP0, jobKc);
        panels(pa, sharedB, w, i0, mb, jobKc, jobJ0, jobNb, q0, q1, jobC, jobCOff, jobLdc, jobAcc, jobLower);
    }

    /**
     * The same product computed entirely by the calling worker (for use inside a parallel task, e.g.
     * one attention head). With {@code lowerTriangle}, micro-tiles strictly above the diagonal of C
     * are skipped and left untouched (causal attention scores).
     */
    public void multiplySerial(int worker, int m, int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b,
                               int bOff, int bRow, int bCol, float[] c, int cOff, int ldc, boolean accumulate,
                               boolean lowerTriangle) {
        if (m <= 0 || n <= 0) return;
        for (int i0 = 0; i0 < m; i0 += MC) {
            int i1 = Math.min(m, i0 + MC);
            for (int j0 = 0; j0 < n; j0 += NC_SERIAL) {
                if (lowerTriangle && j0 > i1 - 1) continue;
                block(worker, i0, i1, j0, Math.min(n, j0 + NC_SERIAL), k, a, aOff, aRow, aCol, b, bOff, bRow, bCol, c, cOff, ldc,
                        accumulate, lowerTriangle);
            }
        }
    }

    private void block(int w, int i0, int i1, int j0, int j1, int k, float[] a, int aOff, int aRow, int aCol,
                       float[] b, int bOff, int bRow, int bCol, float[] c, int cOff, int ldc, boolean accumulate,
                       boolean lowerTriangle) {
        float[] pa = packA[w], pb = packB[w];
        int mb = i1 - i0, nb = j1 - j0, panels = ceilDiv(nb, NR);
        for (int p0 = 0; p0 < k; p0 += KC) {
            int kc = Math.min(KC, k - p0);
            for (int q = 0; q < panels; q++) packBPanel(pb, q * kc * NR, b, bOff, bRow, bCol, p0, kc, j0 + q * NR, Math.min(NR, nb - q * NR));
            packA(pa, a, aOff, aRow, aCol, i0, mb, p0, kc);
            panels(pa, pb, w, i0, mb, kc, j0, nb, 0, panels, c, cOff, ldc, accumulate || p0 > 0, lowerTriangle);
        }
    }

    /** Micro-kernels over B panels [q0, q1) (outer: a B panel stays in L1) and all A panels of the packed block. */
    private void panels(float[] pa, float[] pb, int w, int i0, int mb, int kc, int j0, int nb, int q0, int q1, float[] c, int cOff,
                        int ldc, boolean acc, boolean lowerTriangle) {
        float[] tmp = edge[w];
        for (int q = q0; q < q1; q++) {
            int jr = q * NR, nr = Math.min(NR, nb - jr), pbOff = q * kc * NR;
            for (int ir = 0; ir < mb; ir += MR) {
                int mr = Math.min(MR, mb - ir);
                int row = i0 + ir, col = j0 + jr;
                if (lowerTriangle && col > row + mr - 1) continue;
                int paOff = ir * kc;
                if (mr == MR && nr == NR) {
                    kernel(pa, paOff, pb, pbOff, kc, c, cOff + row * ldc + col, ldc, acc);
                } else {
                    kernel(pa, paOff, pb, pbOff, kc, tmp, 0, NR, false);
                    for (int r = 0; r < mr; r++) {
                        int co = cOff + (row + r) * ldc + col;
                        for (int j = 0; j < nr; j++) c[co + j] = acc ? c[co + j] + tmp[r * NR + j] : tmp[r * NR + j];
                    }
                }
            }
        }
    }

    /**
     * A block rows [i0, i0+mb) x k [p0, p0+kc) into MR-row panels: panel q, element (k, r) at
     * q*kc*MR + k*MR + r. Loops run along whichever direction A is contiguous in.
     */
    private static void packA(float[] pa, float[] a, int aOff, int aRow, int aCol, int i0, int mb, int p0, int kc) {
        for (int ir = 0; ir < mb; ir += MR) {
            int mr = Math.min(MR, mb - ir), d = ir * kc;
            int src = aOff + (i0 + ir) * aRow + p0 * aCol;
            if (mr == MR && aRow == 1) { // A stored k-major (a transposed view): MR contiguous values per k
                for (int kk = 0; kk < kc; kk++, d += MR, src += aCol) {
                    pa[d] = a[src];
                    pa[d + 1] = a[src + 1];
                    pa[d + 2] = a[src + 2];
                    pa[d + 3] = a[src + 3];
                }
            } else if (mr == MR) { // four row streams, written contiguously
                int s1 = src + aRow, s2 = src + 2 * aRow, s3 = src + 3 * aRow;
                for (int kk = 0, o = 0; kk < kc; kk++, d += MR, o += aCol) {
                    pa[d] = a[src + o];
                    pa[d + 1] = a[s1 + o];
                    pa[d + 2] = a[s2 + o];
                    pa[d + 3] = a[s3 + o];
                }
            } else {
                for (int kk = 0; kk < kc; kk++, d += MR) {
                    for (int r = 0; r < MR; r++) pa[d + r] = r < mr ? a[src + r * aRow + kk * aCol] : 0f;
                }
            }
        }
    }

    /** One NR-column panel of B: columns [j, j+nr) x k [p0, p0+kc) at dst, element (k, jj) at dst + k*NR + jj. */
    private static void packBPanel(float[] pb, int dst, float[] b, int bOff, int bRow, int bCol, int p0, int kc, int j, int nr) {
        if (bCol == 1 && nr == NR) {
            for (int kk = 0; kk < kc; kk++) {
                int src = bOff + (p0 + kk) * bRow + j, d = dst + kk * NR;
                FloatVector.fromArray(S, b, src).intoArray(pb, d);
                FloatVector.fromArray(S, b, src + L).intoArray(pb, d + L);
            }
            return;
        }
        if (bRow == 1 && nr == NR) { // B = Wᵀ: NR rows of W read as NR sequential streams, each packed k-row written whole
            int src = bOff + p0 + j * bCol;
            for (int kk = 0, d = dst; kk < kc; kk++, d += NR) {
                for (int jj = 0, o = src + kk; jj < NR; jj++, o += bCol) pb[d + jj] = b[o];
            }
            return;
        }
        for (int jj = 0; jj < NR; jj++) {
            if (jj < nr) {
                int src = bOff + p0 * bRow + (j + jj) * bCol;
                for (int kk = 0; kk < kc; kk++) pb[dst + kk * NR + jj] = b[src + kk * bRow];
            } else {
                for (int kk = 0; kk < kc; kk++) pb[dst + kk * NR + jj] = 0f;
            }
        }
    }

    /** 4 x 2L micro-kernel: C[4, 2L] (+)= Apanel[4, kc] · Bpanel[kc, 2L], 8 vector accumulators. */
    private static void kernel(float[] pa, int ai, float[] pb, int bi, int kc, float[] c, int ci, int ldc, boolean acc) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int kk = 0; kk < kc; kk++, ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bi), b1 = FloatVector.fromArray(S, pb, bi + L);
            FloatVector a;
            if (FMA) {
                a = FloatVector.broadcast(S, pa[ai]);     c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
                a = FloatVector.broadcast(S, pa[ai + 1]); c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
                a = FloatVector.broadcast(S, pa[ai + 2]); c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
                a = FloatVector.broadcast(S, pa[ai + 3]); c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
            } else {
                a = FloatVector.broadcast(S, pa[ai]);     c00 = a.mul(b0).add(c00); c01 = a.mul(b1).add(c01);
                a = FloatVector.broadcast(S, pa[ai + 1]); c10 = a.mul(b0).add(c10); c11 = a.mul(b1).add(c11);
                a = FloatVector.broadcast(S, pa[ai + 2]); c20 = a.mul(b0).add(c20); c21 = a.mul(b1).add(c21);
                a = FloatVector.broadcast(S, pa[ai + 3]); c30 = a.mul(b0).add(c30); c31 = a.mul(b1).add(c31);
            }
        }
        store(c, ci, c00, c01, acc);
        store(c, ci + ldc, c10, c11, acc);
        store(c, ci + 2 * ldc, c20, c21, acc);
        store(c, ci + 3 * ldc, c30, c31, acc);
    }

    private static void store(float[] c, int i, FloatVector v0, FloatVector v1, boolean acc) {
        if (acc) {
            v0 = v0.add(FloatVector.fromArray(S, c, i));
            v1 = v1.add(FloatVector.fromArray(S, c, i + L));
        }
        v0.intoArray(c, i);
        v1.intoArray(c, i + L);
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }
}
