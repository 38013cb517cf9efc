package dev.crucible.tensor;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Query rows against their KV caches (one row per sequence, each at its own length), against the softmax formula in double, over GQA ratios, odd head sizes and pos = 0. */
class DecodeAttentionTest {
    @Test
    void equalsTheSoftmaxFormula() {
        SplittableRandom rng = new SplittableRandom(7);
        int[][] shapes = {{1, 1, 8}, {4, 4, 16}, {6, 2, 64}, {8, 1, 13}, {12, 4, 33}};
        int[] pos = {0, 37, 300, 5, 129}; // one row at each: the rows of a call are sequences of different lengths
        int rows = pos.length, maxT = 301, qOff = 3, outOff = 2;
        int[] cacheOff = {5, 0, 17, 2, 9}; // each row's cache at its own offset
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int[] sh : shapes) {
                int nh = sh[0], nkv = sh[1], hs = sh[2], kvw = nkv * hs, qStride = nh * hs + 7, outStride = nh * hs + 1;
                float[] q = Check.randomFloats(rng, qOff + rows * qStride, 1);
                float[][] k = new float[rows][], v = new float[rows][];
                for (int r = 0; r < rows; r++) {
                    k[r] = Check.randomFloats(rng, cacheOff[r] + (pos[r] + 1) * kvw, 1);
                    v[r] = Check.randomFloats(rng, cacheOff[r] + (pos[r] + 1) * kvw, 1);
                }
                float[] out = new float[outOff + rows * outStride];
                new DecodeAttention(pool, maxT).forward(rows, q, qOff, qStride, k, v, cacheOff, kvw, pos, nh, nkv, hs, out, outOff, outStride);
                for (int r = 0; r < rows; r++) {
                    double[] expected = new double[nh * hs];
                    for (int h = 0; h < nh; h++) {
                        int kv = cacheOff[r] + h / (nh / nkv) * hs, qh = qOff + r * qStride + h * hs;
                        double[] s = new double[pos[r] + 1];
                        double max = Double.NEGATIVE_INFINITY, sum = 0;
                        for (int t = 0; t <= pos[r]; t++) {
                            for (int i = 0; i < hs; i++) s[t] += (double) q[qh + i] * k[r][kv + t * kvw + i];
                            s[t] /= Math.sqrt(hs);
                            max = Math.max(max, s[t]);
                        }
                        for (int t = 0; t <= pos[r]; t++) sum += s[t] = Math.exp(s[t] - max);
                        for (int t = 0; t <= pos[r]; t++) for (int i = 0; i < hs; i++) expected[h * hs + i] += s[t] / sum * v[r][kv + t * kvw + i];
                    }
                    Check.close("nh " + nh + " nkv " + nkv + " hs " + hs + " pos " + pos[r], expected, 0, out, outOff + r * outStride, nh * hs, 2e-6, 1e-5);
                    float[] axpy = headByHead(q, qOff + r * qStride, k[r], v[r], cacheOff[r], kvw, pos[r], nh, nkv, hs);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(axpy, java.util.Arrays.copyOfRange(out, outOff + r * outStride, outOff + r * outStride + nh * hs),
                            "the same bits as through Vec.axpy: nh " + nh + " nkv " + nkv + " hs " + hs + " pos " + pos[r]);
                }
            }
        }
    }

    /** Head by head, the output accumulated through memory by Vec.axpy, position after position: the sums the kernel keeps in registers. */
    private static float[] headByHead(float[] q, int qOff, float[] k, float[] v, int cacheOff, int kvw, int pos, int nh, int nkv, int hs) {
        float[] out = new float[nh * hs], sc = new float[pos + 1];
        float scale = (float) (1.0 / Math.sqrt(hs));
        for (int h = 0; h < nh; h++) {
            int kv = cacheOff + h / (nh / nkv) * hs;
            for (int t = 0; t <= pos; t++) sc[t] = Vec.dot(q, qOff + h * hs, k, kv + t * kvw, hs) * scale;
            float inv = 1f / Vec.expInPlace(sc, 0, pos + 1, 1f, Vec.max(sc, 0, pos + 1));
            for (int t = 0; t <= pos; t++) Vec.axpy(sc[t] * inv, v, kv + t * kvw, out, h * hs, hs);
        }
        return out;
    }
}
