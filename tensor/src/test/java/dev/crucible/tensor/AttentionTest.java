package dev.crucible.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The tiled attention against the double-precision reference, with and without dropout, on odd shapes and thread counts. */
class AttentionTest {
    private static final WorkerPool POOL = new WorkerPool(2);
    private static final Gemm GEMM = new Gemm(POOL);

    @org.junit.jupiter.api.AfterAll
    static void close() {
        POOL.close();
    }

    /** Shapes around the tile size (128, once 64): T = 1, T not a multiple of the tile, several tiles, GQA ratios 1, 2, 4 and 8 (multi-query). */
    private static final int[][] CASES = {{1, 1, 1, 1, 4}, {2, 7, 3, 3, 8}, {1, 63, 4, 2, 6}, {1, 64, 2, 2, 16}, {2, 65, 4, 1, 10},
            {1, 130, 8, 2, 16}, {1, 200, 8, 1, 12}, {2, 129, 2, 2, 64}, {1, 300, 4, 2, 8}};

    @Test
    void equalsTheReferenceForwardAndBackward() {
        SplittableRandom rng = new SplittableRandom(21);
        Attention att = new Attention(GEMM);
        for (int[] cs : CASES) {
            int b = cs[0], t = cs[1], nh = cs[2], nkv = cs[3], hs = cs[4], w = Attention.qkvWidth(nh, nkv, hs);
            String what = "flash attention b" + b + " t" + t + " nh" + nh + " nkv" + nkv + " hs" + hs;
            float[] qkv = Check.randomFloats(rng, b * t * w, 2), out = new float[b * t * nh * hs], lse = new float[b * nh * t];
            java.util.Arrays.fill(out, Float.NaN);
            att.forward(out, 0, lse, 0, qkv, 0, b, t, nh, nkv, hs);
            double[] eo = new double[out.length], ep = new double[b * nh * t * t];
            Reference.attentionForward(eo, ep, Check.toDouble(qkv), b, t, nh, nkv, hs);
            Check.close(what + " out", eo, out, 1e-5, 1e-4);

            float[] dout = Check.randomFloats(rng, out.length, 1), dqkv = new float[qkv.length];
            java.util.Arrays.fill(dqkv, Float.NaN); // backward overwrites the whole gradient
            att.backward(dqkv, 0, dout, 0, out, 0, qkv, 0, lse, 0, b, t, nh, nkv, hs);
            double[] edqkv = new double[qkv.length];
            Reference.attentionBackward(edqkv, Check.toDouble(dout), Check.toDouble(qkv), ep, b, t, nh, nkv, hs);
            Check.close(what + " dqkv", edqkv, dqkv, 1e-4, 1e-3);
        }
    }

    @Test
    void withDropoutItEqualsTheReferenceWithTheSameMask() {
        SplittableRandom rng = new SplittableRandom(22);
        Attention att = new Attention(GEMM);
        for (int[] cs : CASES) {
            int b = cs[0], t = cs[1], nh = cs[2], nkv = cs[3], hs = cs[4], w = Attention.qkvWidth(nh, nkv, hs);
            String what = "dropout b" + b + " t" + t + " nh" + nh + " nkv" + nkv + " hs" + hs;
            long key = 77;
            float p = 0.25f;
            double[] mask = new double[b * nh * t * t];
            for (int i = 0; i < mask.length; i++) mask[i] = Dropout.keep(key, i, p) ? 1 / (1 - (double) p) : 0;
            float[] qkv = Check.randomFloats(rng, b * t * w, 2), dout = Check.randomFloats(rng, b * t * nh * hs, 1);
            float[] out = new float[dout.length], lse = new float[b * nh * t], dqkv = new float[qkv.length];
            java.util.Arrays.fill(dqkv, Float.NaN); // overwritten, not added to
            att.forward(out, 0, lse, 0, qkv, 0, b, t, nh, nkv, hs, key, p);
            double[] eo = new double[out.length], ep = new double[mask.length], edqkv = new double[qkv.length];
            Reference.attentionForward(eo, ep, Check.toDouble(qkv), b, t, nh, nkv, hs, mask);
            Check.close(what + " out", eo, out, 1e-5, 1e-4);
            att.backward(dqkv, 0, dout, 0, out, 0, qkv, 0, lse, 0, b, t, nh, nkv, hs, key, p);
            Reference.attentionBackward(edqkv, Check.toDouble(dout), Check.toDouble(qkv), ep, b, t, nh, nkv, hs, mask);
            Check.close(what + " dqkv", edqkv, dqkv, 1e-4, 1e-3);
        }
    }

    /**
     * Within one key tile the forward's log-sum-exp is, bit for bit, that of a softmax along each score row in
     * float: the row's maximum, then {@link Vec#expInPlace}'s sum (lane sums over whole vectors, then the rest one
     * by one). The forward holds its score tiles transposed and sums down their columns; this pins that order.
     */
    @Test
    void itsLogSumExpIsTheRowWiseSoftmaxsBitForBit() {
        SplittableRandom rng = new SplittableRandom(24);
        for (int[] cs : new int[][] {{1, 1, 1, 1, 4}, {2, 5, 2, 1, 16}, {1, 17, 3, 3, 40}, {1, 64, 2, 2, 64}, {1, 100, 4, 2, 24}, {2, Attention.BQ, 2, 1, 64}}) {
            int b = cs[0], t = cs[1], nh = cs[2], nkv = cs[3], hs = cs[4], w = Attention.qkvWidth(nh, nkv, hs);
            float scale = (float) (1.0 / Math.sqrt(hs));
            float[] qkv = Check.randomFloats(rng, b * t * w, 3), out = new float[b * t * nh * hs], lse = new float[b * nh * t], s = new float[t * t + Vec.L];
            new Attention(GEMM).forward(out, 0, lse, 0, qkv, 0, b, t, nh, nkv, hs);
            for (int bi = 0; bi < b; bi++) {
                for (int h = 0; h < nh; h++) {
                    int q = bi * t * w + h * hs, k = bi * t * w + (nh + h / (nh / nkv)) * hs;
                    GEMM.multiply(t, t, hs, qkv, q, w, 1, qkv, k, 1, w, s, 0, t, false); // Q·Kᵀ, each element the fused sum over the head in order
                    for (int i = 0; i < t; i++) {
                        float mx = scale * Vec.max(s, i * t, i + 1), sum = Vec.expInPlace(s, i * t, i + 1, scale, mx);
                        float expected = mx + (float) Math.log(sum), actual = lse[(bi * nh + h) * t + i];
                        org.junit.jupiter.api.Assertions.assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(actual),
                                "log-sum-exp of row " + i + ", head " + h + ", t " + t + ", hs " + hs + ": " + expected + " vs " + actual);
                    }
                }
            }
        }
    }

    @Test
    void theThreadCountChangesNothing() {
        SplittableRandom rng = new SplittableRandom(23);
        int b = 2, t = 150, nh = 4, nkv = 2, hs = 16, w = Attention.qkvWidth(nh, nkv, hs);
        float[] qkv = Check.randomFloats(rng, b * t * w, 2), dout = Check.randomFloats(rng, b * t * nh * hs, 1);
        float[][] outs = new float[2][], grads = new float[2][];
        int k = 0;
        for (int threads : new int[] {1, 3}) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                Attention att = new Attention(new Gemm(pool));
                float[] out = new float[b * t * nh * hs], lse = new float[b * nh * t], dqkv = new float[qkv.length];
                att.forward(out, 0, lse, 0, qkv, 0, b, t, nh, nkv, hs, 5, 0.1f);
                att.backward(dqkv, 0, dout, 0, out, 0, qkv, 0, lse, 0, b, t, nh, nkv, hs, 5, 0.1f);
                outs[k] = out;
                grads[k++] = dqkv;
            }
        }
        assertArrayEquals(outs[0], outs[1]);
        assertArrayEquals(grads[0], grads[1]);
    }
}
