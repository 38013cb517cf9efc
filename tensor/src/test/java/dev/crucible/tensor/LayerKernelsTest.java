package dev.crucible.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Every fast kernel against its double-precision reference on random shapes, including sizes that
 * are not multiples of the vector width. Tolerances: 2e-5 relative + small absolute for pointwise
 * ops (float rounding of a few operations), larger where long float sums are involved.
 */
class LayerKernelsTest {
    static final WorkerPool POOL = new WorkerPool(3);
    static final Gemm GEMM = new Gemm(POOL);

    @AfterAll
    static void close() {
        POOL.close();
    }

    static final int[][] SHAPES = {{1, 1, 1}, {2, 3, 5}, {1, 7, 17}, {3, 5, 8}, {2, 9, 33}, {4, 16, 64}, {1, 31, 100}};

    @Test
    void expIsAccurateAndTheSameInVectorAndScalarForm() {
        SplittableRandom rng = new SplittableRandom(9);
        float[] x = Check.randomFloats(rng, 64 * Vec.L, 30);
        float[] edges = {-100f, 100f, 0f, -87f, 88f, 1e-8f, -0f, -87.3f, 88.3f, Math.nextDown(-87.3f), Math.nextUp(88.3f), -1e30f, 1e30f,
                Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE};
        System.arraycopy(edges, 0, x, 0, edges.length);
        // and any bit pattern: the vector form's clamps and power of two are written for speed and must not change a bit
        for (int i = 32 * Vec.L; i < x.length; i++) x[i] = Float.intBitsToFloat(rng.nextInt());
        float[] vec = new float[x.length];
        for (int i = 0; i < x.length; i += Vec.L) Vec.exp(jdk.incubator.vector.FloatVector.fromArray(Vec.S, x, i)).intoArray(vec, i);
        for (int i = 0; i < x.length; i++) {
            float s = Vec.exp(x[i]);
            org.junit.jupiter.api.Assertions.assertEquals(Float.floatToIntBits(s), Float.floatToIntBits(vec[i]), "exp(" + x[i] + ") vector vs scalar");
            // Arguments are clamped to [−87.3, 88.3] (float range); kernels only need exp of x ≤ 0 and saturating sigmoids.
            double e = Math.exp(Math.min(Math.max(x[i], -87.3f), 88.3f));
            if (Float.isNaN(x[i])) org.junit.jupiter.api.Assertions.assertTrue(Float.isNaN(s), "exp(NaN)");
            else if (x[i] > -87) org.junit.jupiter.api.Assertions.assertEquals(e, s, 3e-7 * e, "exp(" + x[i] + ")");
            else org.junit.jupiter.api.Assertions.assertTrue(s < 1e-37, "exp(" + x[i] + ") underflows towards 0");
        }
    }

    @Test
    void sumOfSquaresIsExactEnoughAndNeverOverflows() {
        SplittableRandom rng = new SplittableRandom(12);
        for (int n : new int[] {0, 1, Vec.L - 1, Vec.L, 2 * Vec.L + 3, 1000, 3 * Vec.SQUARES_BLOCK + 4 * Vec.L + 5}) {
            float[] x = Check.randomFloats(rng, n + 5, 3);
            double expected = 0;
            for (int i = 0; i < n; i++) expected += (double) x[5 + i] * x[5 + i]; // from offset 5: the vector loads need no alignment
            assertEquals(expected, Vec.sumOfSquares(x, 5, n), 2e-6 * expected, "n = " + n); // float partials of 16 squares per lane
            float[] huge = x.clone();
            for (int i = 0; i < huge.length; i++) huge[i] *= 1e30f; // squares far above float's range
            assertEquals(expected * 1e60, Vec.sumOfSquares(huge, 5, n), 1e-6 * Math.max(1e60, expected * 1e60), "n = " + n + " times 1e30");
            float[] large = x.clone();
            for (int i = 0; i < large.length; i++) large[i] = 1.5e19f; // each square (2.25e38) in float's range, two of them past it
            assertEquals(n * 2.25e38, Vec.sumOfSquares(large, 5, n), 1e-6 * n * 2.25e38, "n = " + n + " squares near float's largest");
        }
    }

    @Test
    void linearAllThreeForms() {
        SplittableRandom rng = new SplittableRandom(10);
        Linear lin = new Linear(GEMM);
        for (int[] s : SHAPES) {
            int bt = s[0] * s[1], c = s[2], oc = 1 + rng.nextInt(70);
            float[] inp = Check.randomFloats(rng, bt * c, 1), w = Check.randomFloats(rng, oc * c, 1), bias = Check.randomFloats(rng, oc, 1);
            float[] out = new float[bt * oc];
            lin.forward(out, 0, inp, 0, w, 0, bias, 0, bt, c, oc);
            double[] eo = new double[bt * oc];
            Reference.linearForward(eo, Check.toDouble(inp), Check.toDouble(w), Check.toDouble(bias), bt, c, oc);
            Check.close("linear forward", eo, out, 1e-5 * c, 1e-5);

            float[] dout = Check.randomFloats(rng, bt * oc, 1), dinp = Check.randomFloats(rng, bt * c, 1);
            float[] dw = Check.randomFloats(rng, oc * c, 1), db = Check.randomFloats(rng, oc, 1);
            double[] edinp = Check.toDouble(dinp), edw = Check.toDouble(dw), edb = Check.toDouble(db);
            lin.backward(dinp, 0, true, dw, 0, true, db, 0, dout, 0, inp, 0, w, 0, bt, c, oc);
            Reference.linearBackward(edinp, edw, edb, Check.toDouble(dout), Check.toDouble(inp), Check.toDouble(w), bt, c, oc);
            Check.close("linear dinp", edinp, dinp, 1e-5 * oc, 1e-5);
            Check.close("linear dw", edw, dw, 1e-5 * bt, 1e-5);
            Check.close("linear dbias", edb, db, 1e-5 * bt, 1e-5);
            // dW written instead of added: the bits of adding to zeros, whatever dW held
            float[] written = Check.randomFloats(rng, oc * c, 1), added = new float[oc * c];
            lin.backward(null, 0, false, written, 0, false, null, 0, dout, 0, inp, 0, w, 0, bt, c, oc);
            lin.backward(null, 0, false, added, 0, true, null, 0, dout, 0, inp, 0, w, 0, bt, c, oc);
            assertArrayEquals(added, written, "dW written, " + bt + " x " + c + " x " + oc);
        }
    }

    /** The bias gradient adds each column's rows in order from zero, then to what it held: those bits, at any width. */
    @Test
    void biasGradientIsTheRowOrderSum() {
        SplittableRandom rng = new SplittableRandom(12);
        Linear lin = new Linear(GEMM);
        for (int oc : new int[] {5, 4 * Vec.L + 7, 12 * Vec.L + 3, 1536}) {
            int bt = 37, c = 3;
            float[] dout = Check.randomFloats(rng, bt * oc, 1), inp = Check.randomFloats(rng, bt * c, 1), db = Check.randomFloats(rng, oc, 1);
            float[] expected = db.clone();
            for (int j = 0; j < oc; j++) {
                float sum = 0f;
                for (int r = 0; r < bt; r++) sum += dout[r * oc + j];
                expected[j] += sum;
            }
            lin.backward(null, 0, false, new float[oc * c], 0, false, db, 0, dout, 0, inp, 0, new float[oc * c], 0, bt, c, oc);
            assertArrayEquals(expected, db, "bias gradient of " + oc + " columns");
        }
    }

    @Test
    void layerNormAndRmsNorm() {
        SplittableRandom rng = new SplittableRandom(11);
        Norms norms = new Norms(POOL);
        for (int[] s : SHAPES) {
            int rows = s[0] * s[1], c = s[2] + 1;
            float[] inp = Check.randomFloats(rng, rows * c, 2), w = Check.randomFloats(rng, c, 1), b = Check.randomFloats(rng, c, 1);
            float[] out = new float[rows * c], mean = new float[rows], rstd = new float[rows];
            norms.layerNormForward(out, 0, mean, rstd, 0, inp, 0, w, 0, b, 0, rows, c, 1e-5f);
            double[] eo = new double[rows * c], em = new double[rows], er = new double[rows];
            Reference.layerNormForward(eo, em, er, Check.toDouble(inp), Check.toDouble(w), Check.toDouble(b), rows, c, 1e-5);
            Check.close("layernorm out", eo, out, 1e-5, 1e-4);
            Check.close("layernorm rstd", er, rstd, 1e-6, 1e-5);

            float[] dout = Check.randomFloats(rng, rows * c, 1), dinp = Check.randomFloats(rng, rows * c, 1);
            float[] dw = new float[c], db = new float[c];
            double[] edinp = Check.toDouble(dinp), edw = new double[c], edb = new double[c];
            norms.layerNormBackward(dinp, 0, true, dw, 0, db, 0, dout, 0, inp, 0, w, 0, mean, rstd, 0, rows, c);
            Reference.layerNormBackward(edinp, edw, edb, Check.toDouble(dout), Check.toDouble(inp), Check.toDouble(w), em, er, rows, c);
            Check.close("layernorm dinp", edinp, dinp, 1e-4, 1e-4);
            Check.close("layernorm dw", edw, dw, 1e-5 * rows, 1e-4);
            Check.close("layernorm db", edb, db, 1e-5 * rows, 1e-4);
            // overwriting: the input gradient alone, whatever dinp held
            float[] over = Check.randomFloats(rng, rows * c, 1);
            double[] eover = new double[rows * c];
            norms.layerNormBackward(over, 0, false, new float[c], 0, new float[c], 0, dout, 0, inp, 0, w, 0, mean, rstd, 0, rows, c);
            Reference.layerNormBackward(eover, new double[c], new double[c], Check.toDouble(dout), Check.toDouble(inp), Check.toDouble(w), em, er, rows, c);
            Check.close("layernorm dinp, overwritten", eover, over, 1e-4, 1e-4);
            // in place, dinp the same buffer as dout (a post-norm sub-layer's backward)
            float[] inPlace = dout.clone();
            norms.layerNormBackward(inPlace, 0, false, new float[c], 0, new float[c], 0, inPlace, 0, inp, 0, w, 0, mean, rstd, 0, rows, c);
            assertArrayEquals(over, inPlace, "in place = into another buffer");

            norms.rmsNormForward(out, 0, rstd, 0, inp, 0, w, 0, rows, c, 1e-6f);
            Reference.rmsNormForward(eo, er, Check.toDouble(inp), Check.toDouble(w), rows, c, 1e-6);
            Check.close("rmsnorm out", eo, out, 1e-5, 1e-4);
            dinp = Check.randomFloats(rng, rows * c, 1);
            edinp = Check.toDouble(dinp);
            dw = new float[c];
            edw = new double[c];
            norms.rmsNormBackward(dinp, 0, true, dw, 0, dout, 0, inp, 0, w, 0, rstd, 0, rows, c);
            Reference.rmsNormBackward(edinp, edw, Check.toDouble(dout), Check.toDouble(inp), Check.toDouble(w), er, rows, c);
            Check.close("rmsnorm dinp", edinp, dinp, 1e-4, 1e-4);
            Check.close("rmsnorm dw", edw, dw, 1e-5 * rows, 1e-4);
            float[] overRms = Check.randomFloats(rng, rows * c, 1);
            double[] eoverRms = new double[rows * c];
            norms.rmsNormBackward(overRms, 0, false, new float[c], 0, dout, 0, inp, 0, w, 0, rstd, 0, rows, c);
            Reference.rmsNormBackward(eoverRms, new double[c], Check.toDouble(dout), Check.toDouble(inp), Check.toDouble(w), er, rows, c);
            Check.close("rmsnorm dinp, overwritten", eoverRms, overRms, 1e-4, 1e-4);
            float[] inPlaceRms = dout.clone();
            norms.rmsNormBackward(inPlaceRms, 0, false, new float[c], 0, inPlaceRms, 0, inp, 0, w, 0, rstd, 0, rows, c);
            assertArrayEquals(overRms, inPlaceRms, "in place = into another buffer");
        }
    }

    /**
     * The exact GELU's relative error over its whole range, tails included (transformers' float form, 1 + erf(x/√2),
     * loses the negative tail to cancellation; this one keeps it), against erfc in double, itself checked against
     * Python's math.erfc (C's erfc, within an ulp) on both sides of the switch at 2 and in the tails.
     */
    @Test
    void exactGeluAcrossItsRange() {
        double[][] known = {{0, 1}, {0.5, 0.4795001221869535}, {1, 0.15729920705028513}, {-1, 1.842700792949715}, {1.9999, 0.004679802092970608},
                {2, 0.004677734981047265}, {-2.5, 1.999593047982555}, {3, 2.2090496998585438e-05}, {5, 1.5374597944280351e-12},
                {10, 2.088487583762545e-45}};
        for (double[] k : known) assertEquals(k[1], Reference.erfc(k[0]), 1e-13 * k[1], "erfc(" + k[0] + ")"); // 1 − erf(z) below 2 loses bits as erfc shrinks
        Activations act = new Activations(POOL);
        int n = 40_001;
        float[] x = new float[n], out = new float[n], dx = new float[n], ones = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = -12f + 24f * i / (n - 1);
            ones[i] = 1f;
        }
        act.geluExactForward(out, 0, x, 0, n);
        act.geluExactBackward(dx, 0, x, 0, ones, 0, n);
        double[] e = new double[n], de = new double[n];
        Reference.geluExactForward(e, Check.toDouble(x), n);
        Reference.geluExactBackward(de, Check.toDouble(x), Check.toDouble(ones), n);
        // the exponential's float argument, −x²/2 + P, carries half an ulp of x²/2: a relative error of 6e-8·x²/2
        // in the tails (where transformers' own float form has long lost every digit: 1 + erf(−8.5) is 0 in float)
        double worst = 0, worstGrad = 0;
        float worstAt = 0;
        for (int i = 0; i < n; i++) {
            double allowed = 5e-7 + 6e-8 * x[i] * x[i] / 2, share = e[i] == 0 ? 0 : Math.abs(out[i] - e[i]) / Math.abs(e[i]) / allowed;
            if (share > worst) {
                worst = share;
                worstAt = x[i];
            }
            // the gradient Φ(x) + x·φ(x) is a sum of two terms of opposite signs for x < 0 (zero near x = −0.75): its
            // error is measured against the terms' magnitudes
            double terms = 0.5 * Reference.erfc(-x[i] / Math.sqrt(2)) + Math.abs(x[i]) * Math.exp(-0.5 * x[i] * x[i]) / Math.sqrt(2 * Math.PI);
            worstGrad = Math.max(worstGrad, Math.abs(dx[i] - de[i]) / terms / allowed);
        }
        assertTrue(worst < 1, "exact GELU's worst relative error on [-12, 12], as a share of what its argument's rounding allows: " + worst + " at x = " + worstAt);
        assertTrue(worstGrad < 1, "its gradient's, against its terms' magnitudes: " + worstGrad);
    }

    /**
     * Logit soft-capping against c·tanh(x/c) in double, over logits from 0 to far past the cap (both tanh forms and the switch
     * between them), rows padded as the logits buffer is, whole vectors and tails; its derivative and backward likewise; a NaN
     * stays a NaN.
     */
    @Test
    void softcapMatchesTanh() {
        SplittableRandom rng = new SplittableRandom(16);
        Softcap cap = new Softcap(POOL);
        for (int cols : new int[] {1, 7, Vec.L, 2 * Vec.L + 3, 1000}) {
            int rows = 5, ld = (cols + 15) / 16 * 16;
            for (float c : new float[] {30f, 15f, 1f}) {
                float[] x = new float[rows * ld], derivative = new float[rows * ld], grad = new float[rows * ld];
                for (int r = 0; r < rows; r++) {
                    for (int i = 0; i < cols; i++) {
                        // a spread of magnitudes: well inside, around the series' bound c/4, and far past the cap
                        double m = new double[] {1e-4 * c, c / 8.0, c / 4.0, c / 2.0, c, 8.0 * c}[rng.nextInt(6)];
                        x[r * ld + i] = (float) (m * (2 * rng.nextDouble() - 1));
                        grad[r * ld + i] = (float) rng.nextGaussian();
                    }
                }
                double[] expected = new double[cols], dExpected = new double[cols];
                float[] in = x.clone(), g0 = grad.clone();
                cap.forward(x, 0, ld, rows, cols, c, derivative);
                cap.backward(grad, 0, ld, rows, cols, derivative);
                for (int r = 0; r < rows; r++) {
                    for (int i = 0; i < cols; i++) expected[i] = in[r * ld + i];
                    Reference.softcapForward(expected, cols, c);
                    for (int i = 0; i < cols; i++) dExpected[i] = g0[r * ld + i];
                    Reference.softcapBackward(dExpected, expected, cols, c);
                    for (int i = 0; i < cols; i++) {
                        // x/c rounded, exp's 2e-7 (times 1.5 in 1 − E past the series), the division: under 8e-7 of the value
                        assertEquals(expected[i], x[r * ld + i], 8e-7 * Math.abs(expected[i]) + 1e-30, "cap " + c + " of " + in[r * ld + i]);
                        assertEquals(dExpected[i], grad[r * ld + i], 1e-6 * Math.abs(g0[r * ld + i]), "gradient through cap " + c + " at " + in[r * ld + i]);
                    }
                }
            }
        }
        // the edges, in whole vectors and in the tail: NaN, ±0, ±∞ and values far past float tanh's 1
        float[] edges = {Float.NaN, 0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e30f, -1e30f, 400f};
        int n = 2 * Vec.L + edges.length;
        float[] row = new float[n], derivative = new float[n];
        for (int i = 0; i < n; i++) row[i] = edges[i % edges.length];
        cap.forward(row, 0, n, 1, n, 30f, derivative);
        for (int i = 0; i < n; i++) {
            float in = edges[i % edges.length], out = row[i];
            if (Float.isNaN(in)) {
                assertTrue(Float.isNaN(out) && Float.isNaN(derivative[i]), "NaN at " + i);
            } else if (in == 0) {
                assertEquals(Float.floatToIntBits(in), Float.floatToIntBits(out), "the sign of zero at " + i);
                assertEquals(1f, derivative[i]);
            } else {
                assertEquals(Math.signum(in) * 30f, out, 0f, "capped at " + i);
                assertTrue(derivative[i] >= 0 && derivative[i] <= 1.1e-11, "derivative " + derivative[i] + " at " + in); // 4e^-26.7 at 400
            }
        }
        // 1 − tanh² where float tanh rounds to 1: 4E/(1 + E)² keeps it (at 10 c, 4e^-20 = 8.2e-9; 300 · float(1/30) is 10 + 5e-7,
        // which moves e^-2y by 1e-6)
        float[] far = new float[Vec.L];
        java.util.Arrays.fill(far, 300f);
        float[] farDerivative = new float[Vec.L];
        cap.forward(far, 0, Vec.L, 1, Vec.L, 30f, farDerivative);
        assertEquals(4 * Math.exp(-20), farDerivative[0], 3e-6 * 4 * Math.exp(-20));
    }

    @Test
    void geluSwigluAndGeglu() {
        SplittableRandom rng = new SplittableRandom(12);
        Activations act = new Activations(POOL);
        for (int n : new int[] {1, 7, 8, 9, 63, 1000, 70_001}) {
            float[] x = Check.randomFloats(rng, n, 5), out = new float[n], dout = Check.randomFloats(rng, n, 1), dx = new float[n];
            act.geluForward(out, 0, x, 0, n);
            double[] eo = new double[n], edx = new double[n];
            Reference.geluForward(eo, Check.toDouble(x), n);
            Check.close("gelu", eo, out, 1e-6, 1e-5);
            act.geluBackward(dx, 0, x, 0, dout, 0, n);
            Reference.geluBackward(edx, Check.toDouble(x), Check.toDouble(dout), n);
            Check.close("gelu backward", edx, dx, 1e-6, 1e-5);
        }
        for (int n : new int[] {1, 7, 8, 9, 63, 1000, 70_001}) {
            float[] x = Check.randomFloats(rng, n, 6), out = new float[n], dout = Check.randomFloats(rng, n, 1), dx = new float[n];
            act.geluExactForward(out, 0, x, 0, n);
            double[] eo = new double[n], edx = new double[n];
            Reference.geluExactForward(eo, Check.toDouble(x), n);
            Check.close("exact gelu", eo, out, 1e-7, 1e-6);
            act.geluExactBackward(dx, 0, x, 0, dout, 0, n);
            Reference.geluExactBackward(edx, Check.toDouble(x), Check.toDouble(dout), n);
            Check.close("exact gelu backward", edx, dx, 1e-7, 1e-6);
        }
        for (int[] s : SHAPES) {
            int rows = s[0] * s[1], hidden = s[2];
            float[] x = Check.randomFloats(rng, rows * 2 * hidden, 5), out = new float[rows * hidden];
            act.swigluForward(out, 0, x, 0, rows, hidden);
            double[] eo = new double[rows * hidden];
            Reference.swigluForward(eo, Check.toDouble(x), rows, hidden);
            Check.close("swiglu", eo, out, 1e-5, 1e-5);
            float[] dout = Check.randomFloats(rng, rows * hidden, 1), dx = new float[rows * 2 * hidden];
            double[] edx = new double[rows * 2 * hidden];
            act.swigluBackward(dx, 0, x, 0, dout, 0, rows, hidden);
            Reference.swigluBackward(edx, Check.toDouble(x), Check.toDouble(dout), rows, hidden);
            Check.close("swiglu backward", edx, dx, 1e-5, 1e-5);
            act.gegluForward(out, 0, x, 0, rows, hidden);
            Reference.gegluForward(eo, Check.toDouble(x), rows, hidden);
            Check.close("geglu", eo, out, 1e-5, 1e-5);
            act.gegluBackward(dx, 0, x, 0, dout, 0, rows, hidden);
            Reference.gegluBackward(edx, Check.toDouble(x), Check.toDouble(dout), rows, hidden);
            Check.close("geglu backward", edx, dx, 1e-5, 1e-5);
        }
    }

    /**
     * RoPE against the double-precision rotation, against the scalar float form (x1·cos − x2·sin with each product
     * rounded, the tables as transformers computes them) bit for bit, row by row (decoding's form) as on the whole
     * activation, and its inverse; half head sizes below, at and past whole vectors, whole heads and GPT-NeoX's
     * partial rotary (the first r dimensions of each head, the rest untouched).
     */
    @Test
    void ropeForwardAndInverse() {
        SplittableRandom rng = new SplittableRandom(14);
        int[][] shapes = {{10, 10}, {18, 18}, {2 * Vec.L + 2, 2 * Vec.L + 2}, {64, 64}, {128, 128}, {64, 16}, {64, 2 * Vec.L + 2}, {80, 20}, {10, 2}};
        for (int[] shape : shapes) {
            int hs = shape[0], rotary = shape[1];
            int b = 2, t = 19, nh = 4, nkv = 2, w = Attention.qkvWidth(nh, nkv, hs), half = rotary / 2;
            String what = "rope hs=" + hs + " rotary=" + rotary;
            Rope rope = rotary == hs ? new Rope(POOL, 32, hs, 10000) : new Rope(POOL, 32, hs, rotary, 10000, null);
            float[] x = Check.randomFloats(rng, b * t * w, 1), orig = x.clone(), scalar = x.clone(), rows = x.clone();
            double[] e = Check.toDouble(x);
            rope.forward(x, 0, b, t, nh, nkv, hs);
            Reference.rope(e, b, t, nh, nkv, hs, rotary, 10000, 1);
            Check.close(what, e, x, 1e-5, 1e-5);
            for (int row = 0; row < b * t; row++) {
                rope.rotateRow(rows, row * w, row % t, nh + nkv, hs);
                for (int h = 0; h < nh + nkv; h++) {
                    int x1 = row * w + h * hs, x2 = x1 + half;
                    for (int i = 0; i < half; i++) {
                        float angle = (float) (row % t) * (float) (1.0 / Math.pow(10000, (float) (2 * i) / rotary));
                        float c = (float) Math.cos(angle), sn = (float) Math.sin(angle), a = scalar[x1 + i], bb = scalar[x2 + i];
                        scalar[x1 + i] = a * c - bb * sn;
                        scalar[x2 + i] = bb * c + a * sn;
                    }
                }
            }
            assertArrayEquals(scalar, x, what + " against the scalar float form");
            assertArrayEquals(scalar, rows, what + " row by row");
            for (int row = 0; row < b * t; row++) { // the dimensions past the rotary ones, and the values, pass unchanged
                for (int h = 0; h < nh + 2 * nkv; h++) {
                    for (int i = h < nh + nkv ? rotary : 0; i < hs; i++) assertEquals(orig[row * w + h * hs + i], x[row * w + h * hs + i], what);
                }
            }
            rope.backward(x, 0, b, t, nh, nkv, hs);
            Check.close(what + ": the inverse restores the input", Check.toDouble(orig), x, 1e-5, 1e-5);
        }
        assertThrows(IllegalArgumentException.class, () -> new Rope(POOL, 32, 64, 15, 10000, null));
        assertThrows(IllegalArgumentException.class, () -> new Rope(POOL, 32, 64, 66, 10000, null));
        assertThrows(IllegalArgumentException.class, () -> new Rope(POOL, 32, 64, 0, 10000, null));
    }

    @Test
    void embeddingAndCrossEntropy() {
        SplittableRandom rng = new SplittableRandom(15);
        Embedding emb = new Embedding(POOL);
        CrossEntropy ce = new CrossEntropy(POOL);
        for (int[] s : SHAPES) {
            int b = s[0], t = s[1], c = s[2], vocab = 3 + rng.nextInt(200);
            int[] tok = rng.ints(b * t, 0, vocab).toArray();
            float[] wte = Check.randomFloats(rng, vocab * c, 1), wpe = Check.randomFloats(rng, t * c, 1), out = new float[b * t * c];
            for (float m : new float[] {1f, (float) Math.sqrt(c)}) { // Gemma's multiplier too
                emb.forward(out, 0, tok, 0, wte, 0, wpe, 0, b, t, c, vocab, m);
                double[] eo = new double[out.length];
                Reference.embeddingForward(eo, tok, Check.toDouble(wte), Check.toDouble(wpe), b, t, c, m);
                Check.close("embedding", eo, out, m == 1f ? 0 : 1e-6, 1e-6);
                float[] dout = Check.randomFloats(rng, out.length, 1), dwte = new float[wte.length], dwpe = new float[wpe.length];
                double[] edwte = new double[wte.length], edwpe = new double[wpe.length];
                emb.backward(dwte, 0, dwpe, 0, dout, 0, tok, 0, b, t, c, m);
                Reference.embeddingBackward(edwte, edwpe, Check.toDouble(dout), tok, b, t, c, m);
                Check.close("embedding dwte", edwte, dwte, 1e-5, 1e-5);
                Check.close("embedding dwpe", edwpe, dwpe, 1e-5, 1e-5);
            }

            int rows = b * t;
            float[] logits = Check.randomFloats(rng, rows * vocab, 8), losses = new float[rows];
            double[] el = new double[rows], ep = new double[logits.length], ed = new double[logits.length];
            Reference.crossEntropyForward(el, ep, Check.toDouble(logits), tok, rows, vocab);
            ce.forward(losses, 0, logits, 0, vocab, tok, 0, rows, vocab);
            Check.close("cross-entropy loss", el, losses, 1e-5, 1e-5);
            Check.close("softmax", ep, logits, 1e-7, 1e-5);
            ce.backward(logits, 0, vocab, tok, 0, rows, vocab, 0.25f);
            Reference.crossEntropyBackward(ed, ep, tok, rows, vocab, 0.25);
            Check.close("cross-entropy dlogits", ed, logits, 1e-7, 1e-5);
        }
    }

    /** The fused distillation kernel against its reference, rows ld apart as the model's logits are, for ω at both ends and between. */
    @Test
    void distillationMatchesItsReference() {
        SplittableRandom rng = new SplittableRandom(17);
        Distillation kd = new Distillation(POOL);
        for (double[] wt : new double[][] {{0.5, 1}, {0.3, 2}, {0, 1}, {1, 0.5}}) {
            int rows = 1 + rng.nextInt(40), vocab = 3 + rng.nextInt(300), ld = vocab + rng.nextInt(9);
            int[] tok = rng.ints(rows, 0, vocab).toArray();
            double[] zs = new double[rows * vocab], zt = new double[rows * vocab];
            float[] s = new float[rows * ld], t = new float[rows * ld];
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < vocab; i++) {
                    s[r * ld + i] = (float) (rng.nextGaussian() * 4);
                    t[r * ld + i] = (float) (rng.nextGaussian() * 4);
                    zs[r * vocab + i] = s[r * ld + i];
                    zt[r * vocab + i] = t[r * ld + i];
                }
            }
            float weight = (float) wt[0], temperature = (float) wt[1];
            double[] el = new double[rows], ps = new double[zs.length], pt = new double[zs.length], ed = new double[zs.length];
            Reference.distillationForward(el, ps, pt, zs, zt, tok, rows, vocab, weight, temperature);
            float[] losses = new float[rows], hard = new float[rows], soft = new float[rows];
            kd.forward(losses, hard, soft, s, 0, ld, t, 0, ld, tok, 0, rows, vocab, weight, temperature);
            Check.close("distillation loss " + weight + "/" + temperature, el, losses, 1e-5, 1e-5);
            for (int r = 0; r < rows; r++) {
                Check.close("p_S row " + r, ps, r * vocab, s, r * ld, vocab, 1e-7, 1e-5);
                Check.close("p_T row " + r, pt, r * vocab, t, r * ld, vocab, 1e-7, 1e-5);
                assertEquals(el[r], (1 - weight) * hard[r] + weight * soft[r], 1e-4, "the parts make the loss");
            }
            kd.backward(s, 0, ld, t, 0, ld, tok, 0, rows, vocab, weight, 0.25f);
            Reference.distillationBackward(ed, ps, pt, tok, rows, vocab, weight, 0.25);
            for (int r = 0; r < rows; r++) Check.close("distillation dlogits row " + r, ed, r * vocab, s, r * ld, vocab, 1e-7, 1e-5);
        }
    }

    @Test
    void adamWAndGradientNorm() {
        SplittableRandom rng = new SplittableRandom(16);
        int n = 200_003;
        float[] p = Check.randomFloats(rng, n, 1), g = Check.randomFloats(rng, n, 1), m = new float[n], v = new float[n];
        double[] ep = Check.toDouble(p), eg = Check.toDouble(g), em = new double[n], ev = new double[n];
        for (int step = 1; step <= 3; step++) {
            AdamW.update(p, g, m, v, 0, n, 0, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.5f, step);
            Reference.adamW(ep, eg, em, ev, 1e-3, 0.9, 0.95, 1e-8, 0.1, 0.5, step);
        }
        Check.close("adamw params", ep, p, 1e-6, 1e-5);
        Check.close("adamw m", em, m, 1e-7, 1e-5);
        double expected = 0;
        for (float x : g) expected += (double) x * x;
        double got = new SquaredNorm(POOL).of(g, 0, n);
        Check.close("sum of squares", new double[] {expected}, new double[] {got}, 0, 1e-5);
        try (WorkerPool one = new WorkerPool(1)) {
            assertArrayEquals(new double[] {got}, new double[] {new SquaredNorm(one).of(g, 0, n)});
        }
    }
}
