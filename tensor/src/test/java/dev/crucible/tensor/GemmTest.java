package dev.crucible.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Packed GEMM against a double-precision product, over odd shapes and every stride form. */
class GemmTest {
    static final WorkerPool POOL = new WorkerPool(3);
    static final Gemm GEMM = new Gemm(POOL);

    @AfterAll
    static void close() {
        POOL.close();
    }

    /** Float rounding of a k-term dot product of values in [−1, 1]: well under 1e-5·k. */
    static double tol(int k) {
        return 2e-6 * k + 1e-6;
    }

    @Test
    void rowMajorProductsOverOddShapes() {
        SplittableRandom rng = new SplittableRandom(1);
        int[] sizes = {1, 2, 5, 6, 7, 15, 16, 17, 33, 97, 130, 300};
        for (int trial = 0; trial < 60; trial++) {
            int m = sizes[rng.nextInt(sizes.length)], n = sizes[rng.nextInt(sizes.length)], k = sizes[rng.nextInt(sizes.length)];
            if (trial == 0) { m = 257; n = 513; k = 300; } // spans several KC blocks and tiles
            float[] a = Check.randomFloats(rng, m * k, 1), b = Check.randomFloats(rng, k * n, 1);
            boolean acc = rng.nextBoolean();
            float[] c = Check.randomFloats(rng, m * n, 1);
            double[] expected = Check.toDouble(c);
            Reference.matmul(expected, Check.toDouble(a), Check.toDouble(b), m, n, k, acc);
            GEMM.multiply(m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, acc);
            Check.close("C[" + m + "x" + n + "] k=" + k + " acc=" + acc, expected, c, tol(k), 0);
        }
    }

    /** A product known to be symmetric (X·Xᵀ, A·A) from its lower triangle: equal to the full product, exactly symmetric. */
    @Test
    void symmetricProductsFromTheLowerTriangle() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int[] nk : new int[][] {{1, 3}, {7, 5}, {33, 17}, {130, 300}, {385, 97}, {400, 3 * Gemm.KC + 5}, {Gemm.NC + 50, 2}}) { // the last spans two column blocks
            int n = nk[0], k = nk[1];
            float[] x = Check.randomFloats(rng, n * k, 1), c = Check.randomFloats(rng, n * n, 1);
            double[] expected = new double[n * n];
            Reference.matmul(expected, Check.toDouble(x), Reference.transpose(Check.toDouble(x), n, k), n, n, k, false);
            GEMM.multiplySymmetric(n, k, x, 0, k, 1, x, 0, 1, k, c, 0, n);
            Check.close("X·Xᵀ [" + n + "x" + k + "]", expected, c, tol(k), 0);
            for (int i = 0; i < n; i++) for (int j = 0; j < i; j++) assertEquals(c[i * n + j], c[j * n + i], "symmetric");
            if (n > 1000) continue;
            float[] serial = Check.randomFloats(rng, n * n, 1);
            GEMM.multiplySymmetricSerial(0, n, k, x, 0, k, 1, x, 0, 1, k, serial, 0, n); // one worker, its own blocking and mirror
            assertArrayEquals(c, serial, "X·Xᵀ [" + n + "x" + k + "] on one worker");
            // an exactly symmetric left operand read by rows or through its transpose: the same bits (Newton–Schulz relies on it)
            float[] byRows = new float[n * k], byColumns = new float[n * k];
            GEMM.multiplySerial(0, n, k, n, c, 0, n, 1, x, 0, k, 1, byRows, 0, k, false, Gemm.Triangle.NONE);
            GEMM.multiplySerial(0, n, k, n, c, 0, 1, n, x, 0, k, 1, byColumns, 0, k, false, Gemm.Triangle.NONE);
            assertArrayEquals(byRows, byColumns, "(X·Xᵀ)·X [" + n + "x" + k + "] with its left operand read either way");
        }
    }

    /**
     * Right operands packed beforehand (by the pool or by one worker, into a buffer packed before with
     * other values): the bits of the same products packing B themselves, serial or pooled, symmetric or
     * not, over KC blocks, several serial column blocks and one that would straddle two NC blocks.
     */
    @Test
    void productsWithBPackedBeforehandGiveTheSameBits() {
        SplittableRandom rng = new SplittableRandom(7);
        for (int[] nk : new int[][] {{1, 3}, {33, 17}, {385, 97}, {400, 3 * Gemm.KC + 5}, {Gemm.NC + 50, 40}}) {
            int n = nk[0], k = nk[1], m = n > 1000 ? 30 : n;
            float[] x = Check.randomFloats(rng, n * k, 1), a = Check.randomFloats(rng, m * k, 1), stale = Check.randomFloats(rng, n * k, 1);
            PackedMatrix bySerial = new PackedMatrix(k, n), byPool = new PackedMatrix(k, n);
            GEMM.packSerial(0, bySerial, stale, 0, 1, k); // then overwritten
            GEMM.packSerial(0, bySerial, x, 0, 1, k); // B = Xᵀ, read through its strides
            GEMM.pack(byPool, stale, 0, 1, k);
            GEMM.pack(byPool, x, 0, 1, k);
            for (Gemm.Triangle lower : new Gemm.Triangle[] {Gemm.Triangle.NONE, Gemm.Triangle.C_LOWER}) {
                if (lower == Gemm.Triangle.C_LOWER && m != n) continue;
                float[] c0 = Check.randomFloats(rng, m * n, 1), expected = c0.clone(), serial = c0.clone(), pooled = c0.clone();
                boolean acc = lower == Gemm.Triangle.NONE && rng.nextBoolean();
                GEMM.multiplySerial(0, m, n, k, a, 0, k, 1, x, 0, 1, k, expected, 0, n, acc, lower);
                GEMM.multiplySerial(0, m, a, 0, k, 1, bySerial, serial, 0, n, acc, lower);
                assertArrayEquals(expected, serial, "A·Xᵀ " + m + "x" + n + "x" + k + " on one worker, lower " + lower);
                GEMM.multiplySerial(0, m, a, 0, k, 1, byPool, pooled, 0, n, acc, lower);
                assertArrayEquals(expected, pooled, "A·Xᵀ " + m + "x" + n + "x" + k + " packed by the pool, lower " + lower);
                float[] at = new float[k * m], kMajor = c0.clone(); // A stored transposed: read in place on AVX-512
                for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) at[p * m + i] = a[i * k + p];
                GEMM.multiplySerial(0, m, at, 0, 1, m, bySerial, kMajor, 0, n, acc, lower);
                assertArrayEquals(expected, kMajor, "(Aᵀ)ᵀ·Xᵀ " + m + "x" + n + "x" + k + " on one worker, lower " + lower);
            }
            if (n > 1000) continue;
            float[] expected = new float[n * n], serial = new float[n * n], pooled = new float[n * n], pooledPacked = new float[n * n];
            GEMM.multiplySymmetricSerial(0, n, k, x, 0, k, 1, x, 0, 1, k, expected, 0, n);
            GEMM.multiplySymmetricSerial(0, x, 0, k, 1, bySerial, serial, 0, n);
            assertArrayEquals(expected, serial, "X·Xᵀ [" + n + "x" + k + "] on one worker");
            GEMM.multiplySymmetric(n, k, x, 0, k, 1, x, 0, 1, k, pooled, 0, n);
            GEMM.multiplySymmetric(x, 0, k, 1, byPool, pooledPacked, 0, n);
            assertArrayEquals(pooled, pooledPacked, "X·Xᵀ [" + n + "x" + k + "] on the pool");
            assertArrayEquals(expected, pooled, "X·Xᵀ [" + n + "x" + k + "] on the pool and on one worker");
        }
    }

    @Test
    void transposedViewsAndOffsets() {
        SplittableRandom rng = new SplittableRandom(2);
        for (int trial = 0; trial < 30; trial++) {
            int m = 1 + rng.nextInt(70), n = 1 + rng.nextInt(70), k = 1 + rng.nextInt(300);
            int aOff = rng.nextInt(5), bOff = rng.nextInt(5), cOff = rng.nextInt(5), ldc = n + rng.nextInt(3);
            double[] ad = Check.toDouble(Check.randomFloats(rng, m * k, 1)), bd = Check.toDouble(Check.randomFloats(rng, k * n, 1));
            // A stored transposed ([k, m]) and B stored transposed ([n, k]).
            float[] at = new float[aOff + m * k], bt = new float[bOff + k * n];
            for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) at[aOff + p * m + i] = (float) ad[i * k + p];
            for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bt[bOff + j * k + p] = (float) bd[p * n + j];
            double[] expected = new double[m * n];
            Reference.matmul(expected, ad, bd, m, n, k, false);
            float[] c = new float[cOff + m * ldc];
            GEMM.multiply(m, n, k, at, aOff, 1, m, bt, bOff, 1, k, c, cOff, ldc, false);
            float[] packed = new float[m * n];
            for (int i = 0; i < m; i++) System.arraycopy(c, cOff + i * ldc, packed, i * n, n);
            Check.close("Aᵀ·Bᵀ " + m + "x" + n + "x" + k, expected, packed, tol(k), 0);
        }
    }

    /**
     * multiplySerial with C's lower triangle (symmetric products): every element on or below the
     * diagonal is the product, and every micro-tile (MR rows x NR columns) strictly above it is left
     * as it was, as the method promises.
     */
    @Test
    void serialLowerTriangleMatchesOnAndBelowTheDiagonalAndLeavesTilesAboveIt() {
        SplittableRandom rng = new SplittableRandom(3);
        for (int t : new int[] {1, 5, 7, 16, 31, 100, 257, 300, 800}) { // 800: past one serial column block
            int k = 24;
            float[] a = Check.randomFloats(rng, t * k, 1), b = Check.randomFloats(rng, k * t, 1);
            double[] expected = new double[t * t];
            Reference.matmul(expected, Check.toDouble(a), Check.toDouble(b), t, t, k, false);
            float[] c = new float[t * t], full = new float[t * t];
            java.util.Arrays.fill(c, 12345f);
            GEMM.multiplySerial(0, t, t, k, a, 0, k, 1, b, 0, t, 1, c, 0, t, false, Gemm.Triangle.C_LOWER);
            GEMM.multiplySerial(0, t, t, k, a, 0, k, 1, b, 0, t, 1, full, 0, t, false, Gemm.Triangle.NONE);
            for (int i = 0; i < t; i++) {
                Check.close("row " + i + " of " + t, expected, i * t, c, i * t, i + 1, tol(k), 0);
                for (int j = 0; j <= i; j++) assertEquals(Float.floatToIntBits(full[i * t + j]), Float.floatToIntBits(c[i * t + j]), "C[" + i + "," + j + "]: the full product's bits");
            }
            int untouched = 0;
            for (int i = 0; i < t; i++) {
                for (int j = i + 1; j < t; j++) {
                    if (j / Gemm.NR * Gemm.NR <= i / Gemm.MR * Gemm.MR + Gemm.MR - 1) continue; // a tile the diagonal crosses
                    assertEquals(12345f, c[i * t + j], 0f, "C[" + i + "," + j + "] of " + t + "x" + t + " lies in a tile above the diagonal");
                    untouched++;
                }
            }
            if (t >= 100) assertTrue(untouched > t * t / 4, "most of the upper triangle is skipped: " + untouched);
        }
    }

    /**
     * multiplySerial with C's upper triangle (causal attention's transposed scores): every element on or above
     * the diagonal is the product, on square and rectangular C, and every micro-tile strictly below it is left as it was.
     */
    @Test
    void serialUpperTriangleMatchesOnAndAboveTheDiagonalAndLeavesTilesBelowIt() {
        SplittableRandom rng = new SplittableRandom(4);
        for (int[] mn : new int[][] {{1, 1}, {5, 5}, {7, 3}, {16, 16}, {31, 40}, {100, 100}, {128, 128}, {257, 100}, {300, 300}, {90, 800}}) {
            int m = mn[0], n = mn[1], k = 24;
            float[] a = Check.randomFloats(rng, m * k, 1), b = Check.randomFloats(rng, k * n, 1);
            float[] full = new float[m * n], c = new float[m * n];
            GEMM.multiplySerial(0, m, n, k, a, 0, k, 1, b, 0, n, 1, full, 0, n, false, Gemm.Triangle.NONE);
            java.util.Arrays.fill(c, 12345f);
            GEMM.multiplySerial(0, m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, false, Gemm.Triangle.C_UPPER);
            int untouched = 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    String where = "C[" + i + "," + j + "] of " + m + "x" + n;
                    if (j >= i) assertEquals(Float.floatToIntBits(full[i * n + j]), Float.floatToIntBits(c[i * n + j]), where + " on or above the diagonal");
                    else if (j / Gemm.NR * Gemm.NR + Gemm.NR - 1 < i / Gemm.MR * Gemm.MR) { // a tile wholly below the diagonal
                        assertEquals(12345f, c[i * n + j], 0f, where + " lies in a tile below the diagonal");
                        untouched++;
                    }
                }
            }
            if (m >= 100 && n >= 100) assertTrue(untouched > Math.min(m, n) * Math.min(m, n) / 4, "most of the lower triangle is skipped: " + untouched);
        }
    }

    /** Rows written k-major (attention's keys and query tiles, read in place by the products): every element where it belongs. */
    @Test
    void transposeWritesRowsKMajor() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int rows : new int[] {1, 15, 16, 17, 130}) {
            for (int cols : new int[] {1, 16, 20, 64}) {
                int lda = cols + 3, ldd = Gemm.roundUp(rows, 16), off = 2;
                float[] a = Check.randomFloats(rng, off + rows * lda, 1), d = new float[cols * ldd + 16];
                Gemm.transpose(a, off, lda, rows, cols, d, 0, ldd);
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) assertEquals(a[off + r * lda + c], d[c * ldd + r], 0f, "element " + r + "," + c + " of " + rows + "x" + cols);
                }
            }
        }
        if (Gemm.L == 16) {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Gemm.transpose(new float[40 * 16], 0, 16, 40, 16, new float[16 * 48], 0, 40));
        }
    }

    /**
     * A layer's output with its bias: the bias added as the first KC block is stored gives the bits of C
     * filled with the bias rows and the product added to it, pooled over row tiles or column groups, with B
     * packed beforehand, on edge tiles, over several KC blocks, and for an empty sum.
     */
    @Test
    void biasAddedInTheProductGivesTheBitsOfCFilledWithIt() {
        SplittableRandom rng = new SplittableRandom(9);
        for (int[] mnk : new int[][] {{1, 1, 1}, {13, 70, 33}, {300, 45, 2 * Gemm.KC + 9}, {30, 1100, 384}, {2048 / 8, 200, 0}, {100, 2 * Gemm.NR, 50}}) {
            int m = mnk[0], n = mnk[1], k = mnk[2], biasOff = 3;
            float[] a = Check.randomFloats(rng, m * k, 1), b = Check.randomFloats(rng, k * n, 1), bias = Check.randomFloats(rng, biasOff + n, 1);
            String what = m + "x" + n + "x" + k;
            float[] expected = new float[m * n];
            for (int i = 0; i < m; i++) System.arraycopy(bias, biasOff, expected, i * n, n);
            GEMM.multiply(m, n, k, a, 0, k, 1, b, 0, n, 1, expected, 0, n, true);
            float[] c = Check.randomFloats(rng, m * n, 1);
            GEMM.multiply(m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, bias, biasOff);
            assertArrayEquals(expected, c, "bias + A·B " + what);
            c = Check.randomFloats(rng, m * n, 1);
            GEMM.multiply(m, a, 0, k, 1, GEMM.pack(k, n, b, 0, n, 1), c, 0, n, bias, biasOff);
            assertArrayEquals(expected, c, "bias + A·B with B packed beforehand " + what);
            float[] plain = new float[m * n], none = Check.randomFloats(rng, m * n, 1);
            GEMM.multiply(m, n, k, a, 0, k, 1, b, 0, n, 1, plain, 0, n, false);
            GEMM.multiply(m, n, k, a, 0, k, 1, b, 0, n, 1, none, 0, n, null, 0);
            assertArrayEquals(plain, none, "no bias: A·B " + what);
        }
    }

    /**
     * Columns of a matrix packed once (attention's keys, packed per head and used a tile at a time): the bits
     * of the product with those columns alone, over KC blocks, views that end inside a panel of the matrix or
     * cross one of its NC-column blocks, and the lower triangle of a square view; a view that does not start
     * a panel or leaves the matrix is refused.
     */
    @Test
    void columnsOfAPackedMatrixGiveTheBitsOfThoseColumnsAlone() {
        SplittableRandom rng = new SplittableRandom(9);
        for (int[] knm : new int[][] {{64, 300, 128}, {Gemm.KC + 70, 200, 37}, {40, Gemm.NC + 200, 30}}) {
            int k = knm[0], total = knm[1], m = knm[2];
            float[] b = Check.randomFloats(rng, total * k, 1), a = Check.randomFloats(rng, m * k, 1);
            PackedMatrix packed = new PackedMatrix(k, total);
            GEMM.packSerial(0, packed, b, 0, 1, k); // B = the rows of b, transposed (attention's Kᵀ)
            int[][] views = {{0, total}, {32, 64}, {64, 45}, {128, total - 128}, {Gemm.NC - 64, 128}};
            for (int[] view : views) {
                int first = view[0], n = view[1];
                if (first + n > total) continue;
                for (Gemm.Triangle triangle : new Gemm.Triangle[] {Gemm.Triangle.NONE, Gemm.Triangle.C_LOWER, Gemm.Triangle.C_UPPER}) {
                    boolean acc = triangle == Gemm.Triangle.NONE && rng.nextBoolean();
                    float[] c0 = Check.randomFloats(rng, m * n, 1), expected = c0.clone(), c = c0.clone();
                    GEMM.multiplySerial(0, m, n, k, a, 0, k, 1, b, first * k, 1, k, expected, 0, n, acc, triangle);
                    GEMM.multiplySerial(0, m, a, 0, k, 1, packed, first, n, c, 0, n, acc, triangle);
                    assertArrayEquals(expected, c, "columns [" + first + ", " + (first + n) + ") of a packed " + k + " x " + total + ", " + triangle);
                }
            }
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> GEMM.multiplySerial(0, m, a, 0, k, 1, packed, 1, 8, new float[m * 8], 0, 8, false, Gemm.Triangle.NONE));
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> GEMM.multiplySerial(0, m, a, 0, k, 1, packed, 32, total, new float[m * total], 0, total, false, Gemm.Triangle.NONE));
        }
    }

    /**
     * A left operand zero on one side of its diagonal (causal attention's probabilities, and their
     * transpose): the product that skips those terms gives the full product's bits, with A packed or read
     * in place, C overwritten or added to, over several KC blocks, and with B packed beforehand.
     */
    @Test
    void triangularLeftOperandsGiveTheFullProductsBits() {
        SplittableRandom rng = new SplittableRandom(8);
        for (int[] mnk : new int[][] {{1, 5, 1}, {8, 64, 8}, {13, 40, 13}, {128, 64, 128}, {100, 33, 70}, {70, 33, 100}, {2 * Gemm.KC + 30, 70, 2 * Gemm.KC + 30}}) {
            int m = mnk[0], n = mnk[1], k = mnk[2];
            for (Gemm.Triangle triangle : new Gemm.Triangle[] {Gemm.Triangle.A_LOWER, Gemm.Triangle.A_UPPER}) {
                float[] a = Check.randomFloats(rng, m * k, 1), b = Check.randomFloats(rng, k * n, 1);
                for (int i = 0; i < m; i++) {
                    for (int p = 0; p < k; p++) if (triangle == Gemm.Triangle.A_LOWER ? p > i : p < i) a[i * k + p] = 0f;
                }
                float[] at = new float[k * m + 2 * Gemm.MR]; // A stored k-major, room for the last panel's reads: read in place on AVX-512
                for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) at[p * m + i] = a[i * k + p];
                PackedMatrix packed = GEMM.pack(k, n, b, 0, n, 1);
                for (boolean acc : new boolean[] {false, true}) {
                    String what = triangle + " " + m + "x" + n + "x" + k + (acc ? ", added to C" : "");
                    float[] c0 = Check.randomFloats(rng, m * n, 1), expected = c0.clone();
                    GEMM.multiplySerial(0, m, n, k, a, 0, k, 1, b, 0, n, 1, expected, 0, n, acc, Gemm.Triangle.NONE);
                    float[] c = c0.clone();
                    GEMM.multiplySerial(0, m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, acc, triangle);
                    assertArrayEquals(expected, c, what + ", A packed");
                    c = c0.clone();
                    GEMM.multiplySerial(0, m, n, k, at, 0, 1, m, b, 0, n, 1, c, 0, n, acc, triangle);
                    assertArrayEquals(expected, c, what + ", A k-major");
                    c = c0.clone();
                    GEMM.multiplySerial(0, m, at, 0, 1, m, packed, c, 0, n, acc, triangle);
                    assertArrayEquals(expected, c, what + ", B packed beforehand");
                }
            }
        }
    }

    /**
     * Every element is the float sum over k of fused products, from zero within each KC block, added to C
     * block by block: bit for bit, in every stride form, over several rounds of the shared packed B. The
     * 4-row (AVX2) and 12-row (AVX-512) tiles both meet this one definition, so the GEMM gives the same
     * bits on either machine (the rest of a training step sums in vectors of the machine's width).
     */
    @Test
    void everyElementIsTheKOrderedFusedSumBitForBit() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Cpu.HAS_FMA, "defined for FMA hardware");
        SplittableRandom rng = new SplittableRandom(6);
        for (int trial = 0; trial < 12; trial++) {
            int m = 1 + rng.nextInt(40), n = 1 + rng.nextInt(70), k = 1 + rng.nextInt(2 * Gemm.KC + 40);
            if (trial == 0) { m = 29; n = 65; k = 2 * Gemm.KC + 7; }
            if (trial == 1) { m = 30; n = 1100; k = 2000; } // one row tile: the workers split the columns, each packing its own B
            if (trial == 4) { m = 290; n = 1100; k = 2000; } // row tiles share one packed B, more KC blocks than it holds at once
            if (trial == 2) { m = 300; n = 800; k = 5 * Gemm.KC + 3; } // on one worker: several row and column blocks, KC blocks packed in spans
            if (trial == 3) { m = 40; n = Gemm.NC + 700; k = Gemm.KC + 9; } // two column blocks, the workers splitting the columns of each
            float[] a = Check.randomFloats(rng, m * k, 1), b = Check.randomFloats(rng, k * n, 1), c0 = Check.randomFloats(rng, m * n, 1);
            boolean acc = rng.nextBoolean();
            float[] expected = c0.clone();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    for (int p0 = 0; p0 < k; p0 += Gemm.KC) {
                        float s = 0f;
                        for (int p = p0; p < Math.min(k, p0 + Gemm.KC); p++) s = Math.fma(a[i * k + p], b[p * n + j], s);
                        expected[i * n + j] = acc || p0 > 0 ? expected[i * n + j] + s : s;
                    }
                }
            }
            float[] at = new float[m * k], bt = new float[k * n];
            for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) at[p * m + i] = a[i * k + p];
            for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bt[j * k + p] = b[p * n + j];
            float[] c = c0.clone();
            GEMM.multiply(m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, acc);
            assertArrayEquals(expected, c, "A·B " + m + "x" + n + "x" + k);
            c = c0.clone();
            GEMM.multiply(m, n, k, at, 0, 1, m, b, 0, n, 1, c, 0, n, acc);
            assertArrayEquals(expected, c, "(Aᵀ)ᵀ·B " + m + "x" + n + "x" + k);
            c = c0.clone();
            GEMM.multiply(m, n, k, a, 0, k, 1, bt, 0, 1, k, c, 0, n, acc);
            assertArrayEquals(expected, c, "A·(Bᵀ)ᵀ " + m + "x" + n + "x" + k);
            c = c0.clone();
            GEMM.multiplySerial(0, m, n, k, at, 0, 1, m, bt, 0, 1, k, c, 0, n, acc, Gemm.Triangle.NONE);
            assertArrayEquals(expected, c, "(Aᵀ)ᵀ·(Bᵀ)ᵀ on one worker " + m + "x" + n + "x" + k);
            c = c0.clone();
            GEMM.multiplySerial(0, m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, acc, Gemm.Triangle.NONE); // row-major A: packed by transposing rows
            assertArrayEquals(expected, c, "A·B on one worker " + m + "x" + n + "x" + k);
            // Aᵀ inside a larger array: its last row panel's reads past m stay in the array (read in place on AVX-512,
            // the extra rows' NaNs dropped) rather than running off its end (packed)
            float[] atPadded = new float[5 + m * k + 2 * Gemm.MR];
            java.util.Arrays.fill(atPadded, Float.NaN);
            System.arraycopy(at, 0, atPadded, 5, m * k);
            c = c0.clone();
            GEMM.multiply(m, n, k, atPadded, 5, 1, m, b, 0, n, 1, c, 0, n, acc);
            assertArrayEquals(expected, c, "(Aᵀ)ᵀ·B with room after Aᵀ " + m + "x" + n + "x" + k);
            c = c0.clone();
            GEMM.multiplySerial(0, m, n, k, atPadded, 5, 1, m, b, 0, n, 1, c, 0, n, acc, Gemm.Triangle.NONE);
            assertArrayEquals(expected, c, "(Aᵀ)ᵀ·B with room after Aᵀ, on one worker " + m + "x" + n + "x" + k);
            c = c0.clone();
            GEMM.multiply(m, a, 0, k, 1, GEMM.pack(k, n, b, 0, n, 1), c, 0, n, acc);
            assertArrayEquals(expected, c, "A·B with B packed beforehand " + m + "x" + n + "x" + k);
            c = c0.clone();
            GEMM.multiply(m, at, 0, 1, m, GEMM.pack(k, n, bt, 0, 1, k), c, 0, n, acc);
            assertArrayEquals(expected, c, "(Aᵀ)ᵀ·(Bᵀ)ᵀ with B packed beforehand " + m + "x" + n + "x" + k);
        }
    }

    /**
     * Products of many rows end in row tiles that shrink (guided scheduling), the smallest in two column halves where
     * there are columns enough: every element computed once, the one-worker bits.
     */
    @Test
    void shrinkingRowTilesGiveTheOneWorkerBits() {
        SplittableRandom rng = new SplittableRandom(6);
        for (int[] mnk : new int[][] {{1000, 70, 40}, {2053, 33, 300}, {3 * Gemm.MC + 7, 2 * Gemm.NR + 3, 17}, {2053, 16 * Gemm.NR + 5, 300},
                {1000, 8 * Gemm.NR, 2 * Gemm.KC + 3}}) {
            int m = mnk[0], n = mnk[1], k = mnk[2];
            float[] a = Check.randomFloats(rng, m * k, 1), b = Check.randomFloats(rng, k * n, 1), c0 = Check.randomFloats(rng, m * n, 1);
            for (boolean acc : new boolean[] {false, true}) {
                float[] one = c0.clone(), pooled = c0.clone();
                GEMM.multiplySerial(0, m, n, k, a, 0, k, 1, b, 0, n, 1, one, 0, n, acc, Gemm.Triangle.NONE);
                GEMM.multiply(m, n, k, a, 0, k, 1, b, 0, n, 1, pooled, 0, n, acc);
                assertArrayEquals(one, pooled, m + "x" + n + "x" + k + " acc=" + acc);
            }
        }
    }

    /**
     * Products of a few rows split over column groups, A packed once by a shared pass for all of them (row-major A;
     * A stored k-major is read in place instead; an A past the shared buffer's reach packed by each group; one pass
     * serving several NC-column blocks): the bits of one worker packing A itself, with B as given or transposed,
     * accumulated, with a bias.
     */
    @Test
    void fewRowsOverColumnGroupsGiveTheOneWorkerBits() {
        SplittableRandom rng = new SplittableRandom(10);
        for (int[] mnk : new int[][] {{1, 1500, 40}, {13, 1000, 300}, {256, 1600, 2 * Gemm.KC + 5}, {100, 2 * 2 * Gemm.MC + 7, 3000}, {7, 800, 9000}, {256, 416, 31 * Gemm.KC + 100}, {13, 2 * Gemm.NC + 100, 300}}) {
            int m = mnk[0], n = mnk[1], k = mnk[2], biasOff = 2;
            float[] a = Check.randomFloats(rng, m * k, 1), b = Check.randomFloats(rng, k * n, 1), c0 = Check.randomFloats(rng, m * n, 1);
            float[] at = new float[m * k], bt = new float[k * n], bias = Check.randomFloats(rng, biasOff + n, 1);
            for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) at[p * m + i] = a[i * k + p];
            for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bt[j * k + p] = b[p * n + j];
            String what = m + "x" + n + "x" + k;
            for (boolean acc : new boolean[] {false, true}) {
                float[] one = c0.clone(), pooled = c0.clone(), pooledT = c0.clone(), pooledAt = c0.clone();
                GEMM.multiplySerial(0, m, n, k, a, 0, k, 1, b, 0, n, 1, one, 0, n, acc, Gemm.Triangle.NONE);
                GEMM.multiply(m, n, k, a, 0, k, 1, b, 0, n, 1, pooled, 0, n, acc);
                GEMM.multiply(m, n, k, a, 0, k, 1, bt, 0, 1, k, pooledT, 0, n, acc);
                GEMM.multiply(m, n, k, at, 0, 1, m, b, 0, n, 1, pooledAt, 0, n, acc);
                assertArrayEquals(one, pooled, "A·B " + what + " acc=" + acc);
                assertArrayEquals(one, pooledT, "A·(Bᵀ)ᵀ " + what + " acc=" + acc);
                assertArrayEquals(one, pooledAt, "(Aᵀ)ᵀ·B " + what + " acc=" + acc);
            }
            float[] expected = new float[m * n], c = c0.clone();
            for (int i = 0; i < m; i++) System.arraycopy(bias, biasOff, expected, i * n, n);
            GEMM.multiplySerial(0, m, n, k, a, 0, k, 1, b, 0, n, 1, expected, 0, n, true, Gemm.Triangle.NONE);
            GEMM.multiply(m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, bias, biasOff);
            assertArrayEquals(expected, c, "bias + A·B " + what);
        }
    }

    @Test
    void resultDoesNotDependOnThreadCount() {
        SplittableRandom rng = new SplittableRandom(4);
        int m = 203, n = 150, k = 611;
        float[] a = Check.randomFloats(rng, m * k, 1), b = Check.randomFloats(rng, k * n, 1);
        float[] c1 = new float[m * n], c4 = new float[m * n];
        try (WorkerPool one = new WorkerPool(1); WorkerPool four = new WorkerPool(4)) {
            new Gemm(one).multiply(m, n, k, a, 0, k, 1, b, 0, n, 1, c1, 0, n, false);
            new Gemm(four).multiply(m, n, k, a, 0, k, 1, b, 0, n, 1, c4, 0, n, false);
        }
        assertArrayEquals(c1, c4);
    }
}
