package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packed, register-tiled single-precision matrix multiply: C[M,N] (+)= A[M,K] · B[K,N], where A and B
 * are strided views of flat arrays, so one micro-kernel serves all three training forms
 * ({@code Y = X·Wᵀ}, {@code dX = dY·W}, {@code dW = dYᵀ·X}) and the per-head products of attention.
 *
 * <p>Layout follows Goto/BLIS: C is cut into tiles that are independent tasks on the worker pool; a
 * task walks K in blocks of {@link #KC}, packs its A block into MR-row panels and its B block into
 * NR-column panels (zero padded, so edges need no special kernel), and runs a 4 x (2 vectors)
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
    static final int KC = 256, MC = 24 * MR, NC = 256;

    private final WorkerPool pool;
    private final float[][] packA, packB, edge;

    public Gemm(WorkerPool pool) {
        this.pool = pool;
        int n = pool.size();
        packA = new float[n][MC * KC];
        packB = new float[n][roundUp(NC, NR) * KC];
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
        if (m <= 0 || n <= 0) return;
        if (k <= 0) {
            if (!accumulate) for (int i = 0; i < m; i++) java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            return;
        }
        int threads = pool.size();
        int nTiles = ceilDiv(n, NC);
        int mc = MC;
        while (ceilDiv(m, mc) * nTiles < 4 * threads && mc > 2 * MR) mc -= MR;
        int mTiles = ceilDiv(m, mc);
        // Even tiles: split m and n into equal parts rounded to the micro-tile.
        int mStep = roundUp(ceilDiv(m, mTiles), MR), nStep = roundUp(ceilDiv(n, nTiles), NR);
        int mT = ceilDiv(m, mStep), nT = ceilDiv(n, nStep);
        pool.run(mT * nT, (t, w) -> {
            int i0 = (t / nT) * mStep, j0 = (t % nT) * nStep;
            block(w, i0, Math.min(m, i0 + mStep), j0, Math.min(n, j0 + nStep), k, a, aOff, aRow, aCol, b, bOff, bRow,
                    bCol, c, cOff, ldc, accumulate, false);
        });
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
            for (int j0 = 0; j0 < n; j0 += NC) {
                if (lowerTriangle && j0 > i1 - 1) continue;
                block(worker, i0, i1, j0, Math.min(n, j0 + NC), k, a, aOff, aRow, aCol, b, bOff, bRow, bCol, c, cOff, ldc,
                        accumulate, lowerTriangle);
            }
        }
    }

    private void block(int w, int i0, int i1, int j0, int j1, int k, float[] a, int aOff, int aRow, int aCol,
                       float[] b, int bOff, int bRow, int bCol, float[] c, int cOff, int ldc, boolean accumulate,
                       boolean lowerTriangle) {
        float[] pa = packA[w], pb = packB[w], tmp = edge[w];
        int mb = i1 - i0, nb = j1 - j0;
        if (k <= 0) return;
        for (int p0 = 0; p0 < k; p0 += KC) {
            int kc = Math.min(KC, k - p0);
            boolean acc = accumulate || p0 > 0;
            packB(pb, b, bOff, bRow, bCol, p0, kc, j0, nb);
            packA(pa, a, aOff, aRow, aCol, i0, mb, p0, kc);
            for (int jr = 0; jr < nb; jr += NR) {
                int nr = Math.min(NR, nb - jr);
                int pbOff = (jr / NR) * kc * NR;
                for (int ir = 0; ir < mb; ir += MR) {
                    int mr = Math.min(MR, mb - ir);
                    int row = i0 + ir, col = j0 + jr;
                    if (lowerTriangle && col > row + mr - 1) continue;
                    int paOff = (ir / MR) * kc * MR;
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
    }

    /** A block rows [i0, i0+mb) x k [p0, p0+kc) into MR-row panels: panel q, element (k, r) at q*kc*MR + k*MR + r. */
    private static void packA(float[] pa, float[] a, int aOff, int aRow, int aCol, int i0, int mb, int p0, int kc) {
        for (int ir = 0; ir < mb; ir += MR) {
            int mr = Math.min(MR, mb - ir);
            int base = (ir / MR) * kc * MR;
            for (int r = 0; r < MR; r++) {
                if (r < mr) {
                    int src = aOff + (i0 + ir + r) * aRow + p0 * aCol;
                    if (aCol == 1) {
                        for (int kk = 0; kk < kc; kk++) pa[base + kk * MR + r] = a[src + kk];
                    } else {
                        for (int kk = 0; kk < kc; kk++) pa[base + kk * MR + r] = a[src + kk * aCol];
                    }
                } else {
                    for (int kk = 0; kk < kc; kk++) pa[base + kk * MR + r] = 0f;
                }
            }
        }
    }

    /** B block k [p0, p0+kc) x cols [j0, j0+nb) into NR-column panels: panel p, element (k, j) at p*kc*NR + k*NR + j. */
    private static void packB(float[] pb, float[] b, int bOff, int bRow, int bCol, int p0, int kc, int j0, int nb) {
        for (int jr = 0; jr < nb; jr += NR) {
            int nr = Math.min(NR, nb - jr);
            int base = (jr / NR) * kc * NR;
            if (bCol == 1 && nr == NR) {
                for (int kk = 0; kk < kc; kk++) {
                    int src = bOff + (p0 + kk) * bRow + j0 + jr, dst = base + kk * NR;
                    FloatVector.fromArray(S, b, src).intoArray(pb, dst);
                    FloatVector.fromArray(S, b, src + L).intoArray(pb, dst + L);
                }
            } else {
                for (int j = 0; j < NR; j++) {
                    if (j < nr) {
                        int src = bOff + p0 * bRow + (j0 + jr + j) * bCol;
                        if (bRow == 1) {
                            for (int kk = 0; kk < kc; kk++) pb[base + kk * NR + j] = b[src + kk];
                        } else {
                            for (int kk = 0; kk < kc; kk++) pb[base + kk * NR + j] = b[src + kk * bRow];
                        }
                    } else {
                        for (int kk = 0; kk < kc; kk++) pb[base + kk * NR + j] = 0f;
                    }
                }
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
