package dev.crucible.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class MatVecTest {
    static final WorkerPool POOL = new WorkerPool(2);

    @AfterAll
    static void close() {
        POOL.close();
    }

    /**
     * Rows computed together (by four-row groups and their remainder) get the bits each row gets alone, for widths with and without a tail past the last whole vector, output
     * counts that leave outputs over, with and without a bias; and each is its dot product within rounding.
     */
    @Test
    void rowsTogetherGiveTheBitsOfEachRowAlone() {
        SplittableRandom rng = new SplittableRandom(9);
        MatVec mv = new MatVec(POOL);
        for (int c : new int[] {16, 37, 100, 384}) {
            for (int oc : new int[] {1, 5, 13, 64, 1027}) {
                float[] w = Check.randomFloats(rng, oc * c, 1), bias = Check.randomFloats(rng, oc + 3, 1);
                for (int rows = 1; rows <= 9; rows++) {
                    boolean biased = rng.nextBoolean();
                    int xStride = c + rng.nextInt(3), yStride = oc + rng.nextInt(3);
                    float[] x = Check.randomFloats(rng, rows * xStride, 1), y = new float[rows * yStride + 1];
                    mv.forward(y, 1, yStride, w, 0, x, 0, xStride, biased ? bias : null, 3, rows, c, oc);
                    for (int r = 0; r < rows; r++) {
                        float[] alone = new float[oc];
                        mv.forward(alone, 0, oc, w, 0, x, r * xStride, c, biased ? bias : null, 3, 1, c, oc);
                        float[] together = java.util.Arrays.copyOfRange(y, 1 + r * yStride, 1 + r * yStride + oc);
                        assertArrayEquals(alone, together, "row " + r + " of " + rows + ", c " + c + ", oc " + oc);
                        for (int o = 0; o < oc; o += 7) {
                            double dot = biased ? bias[3 + o] : 0;
                            for (int i = 0; i < c; i++) dot += (double) w[o * c + i] * x[r * xStride + i];
                            assertEquals(dot, together[o], 1e-4 * Math.sqrt(c) + 1e-5, "output " + o);
                        }
                    }
                }
            }
        }
    }
}
