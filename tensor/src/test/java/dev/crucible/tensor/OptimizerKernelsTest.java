package dev.crucible.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The optimizers' kernels against their double-precision references and the seed spec's numbers. */
class OptimizerKernelsTest {
    static final WorkerPool POOL = new WorkerPool(3);
    static final Gemm GEMM = new Gemm(POOL);

    @AfterAll
    static void close() {
        POOL.close();
    }

    /** A random orthogonal n×n matrix (Gram–Schmidt of a Gaussian one), in double. */
    static double[] orthogonal(SplittableRandom rng, int n) {
        double[] q = new double[n * n];
        for (int c = 0; c < n; c++) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = rng.nextGaussian();
            for (int pass = 0; pass < 2; pass++) {
                for (int p = 0; p < c; p++) {
                    double d = 0;
                    for (int i = 0; i < n; i++) d += v[i] * q[i * n + p];
                    for (int i = 0; i < n; i++) v[i] -= d * q[i * n + p];
                }
            }
            double norm = 0;
            for (double x : v) norm += x * x;
            for (int i = 0; i < n; i++) q[i * n + c] = v[i] / Math.sqrt(norm);
        }
        return q;
    }

    /** U·diag(s)·Vᵀ for the first s.length columns of orthogonal U (m×m) and V (n×n). */
    static double[] withSingularValues(double[] u, double[] v, double[] s, int m, int n) {
        double[] g = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int k = 0; k < s.length; k++) acc += u[i * m + k] * s[k] * v[j * n + k];
                g[i * n + j] = acc;
            }
        }
        return g;
    }

    /**
     * Newton–Schulz on one worker (several matrices orthogonalised at once, one per worker) gives the
     * bits it gives on the whole pool: square, wide and tall matrices, Gram form and standard, with the
     * workers busy on different matrices at the same time.
     */
    @Test
    void newtonSchulzOnOneWorkerGivesThePoolsBits() {
        SplittableRandom rng = new SplittableRandom(5);
        int[][] shapes = {{96, 96}, {64, 200}, {200, 64}, {130, 77}, {48, 384}, {33, 33}};
        float[][] g = new float[shapes.length][], pooled = new float[shapes.length][], serial = new float[shapes.length][];
        NewtonSchulz whole = new NewtonSchulz(GEMM);
        for (int i = 0; i < shapes.length; i++) {
            g[i] = Check.randomFloats(rng, shapes[i][0] * shapes[i][1], 1);
            pooled[i] = new float[g[i].length];
            serial[i] = new float[g[i].length];
            whole.quintic(g[i], 0, shapes[i][0], shapes[i][1], 5, pooled[i], 0);
        }
        NewtonSchulz[] perWorker = new NewtonSchulz[POOL.size()];
        for (int w = 0; w < perWorker.length; w++) perWorker[w] = new NewtonSchulz(GEMM, w);
        POOL.forRange(shapes.length, shapes.length, (s, e, chunk, w) -> {
            for (int i = s; i < e; i++) perWorker[w].quintic(g[i], 0, shapes[i][0], shapes[i][1], 5, serial[i], 0);
        });
        for (int i = 0; i < shapes.length; i++) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(pooled[i], serial[i], shapes[i][0] + " x " + shapes[i][1]);
        }
    }

    /** Muon's fused momentum pass: the scalar formula's bits, and the sum of squares Vec.sumOfSquares gives for its output. */
    @Test
    void nesterovMomentumIsTheFormulaAndSumsItsOutput() {
        SplittableRandom rng = new SplittableRandom(8);
        for (int n : new int[] {1, Vec.L + 3, Vec.SQUARES_BLOCK, 2 * Vec.SQUARES_BLOCK + 5 * Vec.L + 7}) {
            for (float factor : new float[] {1f, 1e25f}) { // 1e25: squares past float's range
                float[] grads = Check.randomFloats(rng, n + 3, 2), mom = Check.randomFloats(rng, n, 1), u = new float[n];
                for (int i = 0; i < grads.length; i++) grads[i] *= factor;
                float[] expectedMom = mom.clone(), expectedU = new float[n];
                float scale = 0.75f, gain = 0.05f, beta = 0.95f;
                for (int i = 0; i < n; i++) {
                    float g = grads[3 + i] * scale * gain;
                    expectedMom[i] = beta * expectedMom[i] + g;
                    expectedU[i] = g + beta * expectedMom[i];
                }
                double ss = Momentum.nesterov(grads, 3, scale, gain, beta, mom, u, n);
                org.junit.jupiter.api.Assertions.assertArrayEquals(expectedMom, mom, "momentum, n = " + n);
                org.junit.jupiter.api.Assertions.assertArrayEquals(expectedU, u, "update, n = " + n);
                assertEquals(Vec.sumOfSquares(u, 0, n), ss, 0.0, "sum of squares, n = " + n + ", factor " + factor);
                double exact = 0;
                for (float x : u) exact += (double) x * x;
                assertEquals(exact, ss, 2e-6 * exact, "n = " + n + ", factor " + factor);
            }
        }
    }

    /** The spec's test: NS5 maps singular values {1, 0.25} of a 2×3 matrix to {0.737355, 0.742865}, singular vectors kept. */
    @Test
    void quinticNewtonSchulzActsOnEachSingularValue() {
        SplittableRandom rng = new SplittableRandom(5);
        double[] u = orthogonal(rng, 2), v = orthogonal(rng, 3);
        for (boolean tall : new boolean[] {false, true}) {
            double[] g = withSingularValues(u, v, new double[] {1, 0.25}, 2, 3);
            double[] expected = withSingularValues(u, v, new double[] {0.737355, 0.742865}, 2, 3);
            int rows = tall ? 3 : 2, cols = tall ? 2 : 3;
            if (tall) {
                g = Reference.transpose(g, 2, 3);
                expected = Reference.transpose(expected, 2, 3);
            }
            float[] out = new float[6];
            new NewtonSchulz(GEMM).quintic(Check.toFloat(g), 0, rows, cols, 5, out, 0);
            Check.close("NS5 " + rows + "x" + cols, expected, out, 1e-5, 0);
            Check.close("NS5 reference", expected, Reference.newtonSchulz5(g, rows, cols, 5), 1e-5, 0);
        }
        // and on matrices the size of a model's, against the double reference: wide and tall (the Gram
        // form), square (the standard form), and a single step (the standard form for every shape)
        NewtonSchulz ns = new NewtonSchulz(GEMM); // one instance throughout: its scratch buffers change size
        for (int[] shape : new int[][] {{96, 40, 5}, {33, 130, 5}, {48, 48, 5}, {40, 96, 1}, {130, 33, 2}}) {
            float[] g = Check.randomFloats(rng, shape[0] * shape[1], 0.02), out = new float[g.length];
            ns.quintic(g, 0, shape[0], shape[1], shape[2], out, 0);
            Check.close("NS" + shape[2] + " " + shape[0] + "x" + shape[1], Reference.newtonSchulz5(Check.toDouble(g), shape[0], shape[1], shape[2]),
                    out, 2e-5, 1e-4);
        }
    }

    /**
     * Gradients are far from Gaussian: their spectra decay, and a few directions dominate. The Gram
     * form squares the spectrum (R = X·Xᵀ), so small singular values sit near float32's rounding of
     * R's largest; the update must still match the double iteration to 1e-3 of its norm (measured:
     * 2.7e-4 for the decaying spectra here, 1e-4 for rank 6).
     */
    @Test
    void gramNewtonSchulzIsAccurateOnIllConditionedMatrices() {
        SplittableRandom rng = new SplittableRandom(9);
        NewtonSchulz ns = new NewtonSchulz(GEMM);
        for (int[] shape : new int[][] {{64, 256}, {256, 64}}) {
            int rows = shape[0], cols = shape[1], p = Math.min(rows, cols);
            for (int rank : new int[] {p, 6}) {
                double[] u = orthogonal(rng, rows), v = orthogonal(rng, cols), s = new double[rank];
                for (int k = 0; k < rank; k++) s[k] = rank == p ? Math.pow(0.85, k) : 1 + k; // down to 3e-5 of the largest
                float[] g = Check.toFloat(withSingularValues(u, v, s, rows, cols));
                // also times 1e19 (squares overflow float32) and 5e-8 (a norm near its 1e-7 epsilon), where X is
                // normalised before any product, and near either end of the range where the norm is applied to
                // g·gᵀ instead (1e14, 1e-6): the double iteration's update every time
                for (float factor : new float[] {1f, 1e19f, 5e-8f, 1e14f, 1e-6f}) {
                    float[] scaled = g.clone(), out = new float[g.length];
                    for (int i = 0; i < scaled.length; i++) scaled[i] *= factor;
                    ns.quintic(scaled, 0, rows, cols, 5, out, 0);
                    double[] ref = Reference.newtonSchulz5(Check.toDouble(scaled), rows, cols, 5);
                    double err = 0, norm = 0;
                    for (int i = 0; i < ref.length; i++) {
                        err += (out[i] - ref[i]) * (out[i] - ref[i]);
                        norm += ref[i] * ref[i];
                    }
                    double rel = Math.sqrt(err / norm);
                    assertTrue(rel < 1e-3, "NS5 of a " + rows + "x" + cols + " matrix of rank " + rank + " times " + factor + ": relative error " + rel);
                }
            }
        }
    }

    @Test
    void coupledNewtonSchulzGivesTheInverseSquareRoot() {
        SplittableRandom rng = new SplittableRandom(6);
        int rows = 3, cols = 5;
        double[] a = Check.toDouble(Check.randomFloats(rng, rows * cols, 1));
        double[] gram = Reference.product(a, Reference.transpose(a, rows, cols), rows, cols, rows);
        float[] z = new float[rows * rows];
        double norm = new NewtonSchulz(GEMM).inverseSqrt(Check.toFloat(gram), rows, 30, z);
        double[] polar = Reference.product(Check.toDouble(z), a, rows, rows, cols);
        for (int i = 0; i < polar.length; i++) polar[i] /= Math.sqrt(norm);
        Check.close("(A·Aᵀ)^(-1/2)·A", Reference.polar(a, rows, cols), polar, 1e-5, 0);
    }

    /**
     * The randomised SVD against an exact one (eigenvectors of GᵀG in double) on matrices with a
     * decaying spectrum, like gradients': singular values to 1e-5 relative, and the same top-r
     * subspace (the projectors P·Pᵀ agree to 1e-4).
     */
    @Test
    void randomizedSvdMatchesAnExactSvd() {
        SplittableRandom rng = new SplittableRandom(7);
        RandomizedSvd svd = new RandomizedSvd(GEMM);
        for (int[] shape : new int[][] {{60, 24}, {20, 75}}) {
            int m = shape[0], n = shape[1], k = Math.min(m, n), r = 6;
            double[] s = new double[k];
            for (int i = 0; i < k; i++) s[i] = Math.pow(0.7, i);
            double[] g = withSingularValues(orthogonal(rng, m), orthogonal(rng, n), s, m, n);
            RandomizedSvd.Result got = svd.top(Check.toFloat(g), 0, m, n, r, 11);
            SymmetricEigen.Result exact = SymmetricEigen.of(Reference.product(Reference.transpose(g, m, n), g, n, m, n), n);
            for (int i = 0; i < r; i++) assertEquals(Math.sqrt(exact.values()[i]), got.s()[i], 1e-5 * got.s()[0], "sigma " + i);
            double[] pExact = new double[n * n], pGot = new double[n * n];
            for (int a = 0; a < n; a++) {
                for (int b = 0; b < n; b++) {
                    for (int i = 0; i < r; i++) {
                        pExact[a * n + b] += exact.vectors()[a * n + i] * exact.vectors()[b * n + i];
                        pGot[a * n + b] += (double) got.vt()[i * n + a] * got.vt()[i * n + b];
                    }
                }
            }
            Check.close("right projector " + m + "x" + n, pExact, pGot, 1e-4, 0);
            // left vectors: G·v_i = σ_i·u_i
            for (int i = 0; i < r; i++) {
                for (int row = 0; row < m; row++) {
                    double gv = 0;
                    for (int c = 0; c < n; c++) gv += g[row * n + c] * got.vt()[i * n + c];
                    assertEquals(gv, got.s()[i] * got.u()[row * r + i], 1e-5, "u " + i);
                }
            }
        }
    }

    @Test
    void sinkhornMatchesItsReference() {
        SplittableRandom rng = new SplittableRandom(9);
        for (int[] shape : new int[][] {{7, 11}, {40, 33}, {3, 70}}) {
            int rows = shape[0], cols = shape[1];
            float[] a = Check.randomFloats(rng, rows * cols + 5, 1);
            double[] expected = java.util.Arrays.copyOfRange(Check.toDouble(a), 5, 5 + rows * cols);
            Reference.sinkhorn(expected, rows, cols, 5);
            Sinkhorn.normalize(a, 5, rows, cols, 5, new float[cols]);
            Check.close("SinkGD " + rows + "x" + cols, expected, 0, a, 5, rows * cols, 1e-6, 1e-5);
        }
    }

    /** The spec's SPAM numbers: with v = 1e-4 and θ = 5000, g = −3 clips to −0.707107 and g = 0.5 stays; the kernel against the reference. */
    @Test
    void spamClipsSpikesAgainstTheSecondMoment() {
        float[] p = new float[2], g = {-3f, 0.5f}, m = new float[2], v = {1e-4f, 1e-4f};
        Spam.update(p, g, m, v, 0, 2, 0, 1e-3f, 1f, 0.9f, 0.999f, 1e-6f, 0f, 5000f, 1f, 30);
        assertEquals(-0.707107, m[0] / 0.1, 1e-5);
        assertEquals(0.5, m[1] / 0.1, 1e-6);

        SplittableRandom rng = new SplittableRandom(8);
        int n = 70_001;
        float[] fp = Check.randomFloats(rng, n, 1), fg = new float[n], fm = new float[n], fv = new float[n];
        double[] dp = Check.toDouble(fp), dm = new double[n], dv = new double[n];
        for (int t = 1; t <= 4; t++) {
            for (int i = 0; i < n; i++) fg[i] = (float) (rng.nextGaussian() * (rng.nextInt(50) == 0 ? 100 : 1)); // some spikes
            float theta = t >= 2 ? 50f : 0f, warm = 0.25f * t;
            Spam.update(fp, fg, fm, fv, 0, n, 0, 1e-2f, warm, 0.9f, 0.999f, 1e-6f, 0.1f, theta, 0.5f, t);
            Reference.spam(dp, Check.toDouble(fg), dm, dv, 1e-2, warm, 0.9, 0.999, 1e-6, 0.1, theta, 0.5, t);
        }
        Check.close("spam params", dp, fp, 1e-6, 1e-4);
        Check.close("spam m", dm, fm, 1e-6, 1e-4);
        boolean clipped = false;
        for (int i = 0; i < n && !clipped; i++) clipped = Math.abs(fg[i]) * 0.5 > Math.sqrt(50 * dv[i]);
        assertTrue(clipped, "the test has spikes that clip");
    }

    /**
     * A range cut anywhere gives the bits of one pass: every element is computed by the same
     * expression in the vector loop and the scalar tail, so the optimizer's parts (and before them, chunks
     * whose bounds moved with the thread count) cannot change a result. The first step (v = 0) is where
     * a differently ordered g²·(1 − β2) showed.
     */
    @Test
    void elementwiseOptimizersGiveTheSameBitsWhereverARangeIsCut() {
        SplittableRandom rng = new SplittableRandom(9);
        int n = 10_007;
        int[] cuts = {0, 1, 18, 37, 500, 4_099, 9_990, n};
        float[] p0 = Check.randomFloats(rng, n, 1);
        for (boolean spam : new boolean[] {false, true}) {
            float[] whole = p0.clone(), cut = p0.clone(), mw = new float[n], vw = new float[n], mc = new float[n], vc = new float[n];
            for (int t = 1; t <= 3; t++) {
                float[] g = Check.randomFloats(rng, n, 1);
                step(spam, whole, g, mw, vw, 0, n, t);
                for (int c = 0; c + 1 < cuts.length; c++) step(spam, cut, g, mc, vc, cuts[c], cuts[c + 1], t);
                String what = (spam ? "SPAM" : "AdamW") + " step " + t;
                assertArrayEquals(whole, cut, what + ": params");
                assertArrayEquals(mw, mc, what + ": m");
                assertArrayEquals(vw, vc, what + ": v");
            }
        }
    }

    private static void step(boolean spam, float[] p, float[] g, float[] m, float[] v, int s, int e, int t) {
        if (spam) Spam.update(p, g, m, v, s, e, s, 1e-2f, 0.5f, 0.9f, 0.999f, 1e-6f, 0.1f, t >= 2 ? 1f : 0f, 0.7f, t);
        else AdamW.update(p, g, m, v, s, e, s, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.7f, t);
    }
}
