package dev.crucible.tensor;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** One query row against a KV cache, against the softmax formula in double, over GQA ratios, odd head sizes and pos = 0. */
class DecodeAttentionTest {
    @Test
    void equalsTheSoftmaxFormula() {
        SplittableRandom rng = new SplittableRandom(7);
        int[][] shapes = {{1, 1, 8, 0}, {4, 4, 16, 37}, {6, 2, 64, 300}, {8, 1, 13, 5}, {12, 4, 33, 129}};
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int[] sh : shapes) {
                int nh = sh[0], nkv = sh[1], hs = sh[2], pos = sh[3], kvw = nkv * hs, cacheOff = 5;
                float[] q = Check.randomFloats(rng, 3 + nh * hs, 1);
                float[] k = Check.randomFloats(rng, cacheOff + (pos + 1) * kvw, 1), v = Check.randomFloats(rng, cacheOff + (pos + 1) * kvw, 1);
                float[] out = new float[2 + nh * hs];
                new DecodeAttention(pool, pos + 1).forward(q, 3, k, v, cacheOff, kvw, pos, nh, nkv, hs, out, 2);
                double[] expected = new double[2 + nh * hs];
                for (int h = 0; h < nh; h++) {
                    int kv = cacheOff + h / (nh / nkv) * hs;
                    double[] s = new double[pos + 1];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int t = 0; t <= pos; t++) {
                        for (int i = 0; i < hs; i++) s[t] += (double) q[3 + h * hs + i] * k[kv + t * kvw + i];
                        s[t] /= Math.sqrt(hs);
                        max = Math.max(max, s[t]);
                    }
                    for (int t = 0; t <= pos; t++) sum += s[t] = Math.exp(s[t] - max);
                    for (int t = 0; t <= pos; t++) for (int i = 0; i < hs; i++) expected[2 + h * hs + i] += s[t] / sum * v[kv + t * kvw + i];
                }
                Check.close("nh " + nh + " nkv " + nkv + " hs " + hs + " pos " + pos, expected, out, 2e-6, 1e-5);
            }
        }
    }
}
