package dev.crucible.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The clamp against torch.clamp's formula, forward and backward (the gradient passes where -c &lt;= x &lt;= c, bounds
 * included, NaN not), at lengths around the vector width and the 64-bit words, and over enough words to split them
 * between workers.
 */
class ClampTest {
    static final WorkerPool POOL = new WorkerPool(3);

    @AfterAll
    static void close() {
        POOL.close();
    }

    @Test
    void clampsAndPassesTheGradientInsideTheBoundsOnly() {
        SplittableRandom rng = new SplittableRandom(3);
        Clamp clamp = new Clamp(POOL);
        float c = 0.75f;
        for (int n : new int[] {1, 7, Cpu.SPECIES.length(), 63, 64, 65, 200, 1000, 64 * 300 + 5}) {
            float[] x = new float[n + 3], expected = new float[n + 3];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rng.nextGaussian() * 1.5);
            x[3] = c; // on the bound: kept, and its gradient passes
            if (n > 1) x[4] = -c;
            if (n > 2) x[5] = Float.NaN; // stays NaN; its gradient does not pass
            float[] before = x.clone();
            for (int i = 0; i < x.length; i++) expected[i] = i < 3 ? x[i] : Math.max(-c, Math.min(c, x[i]));
            int words = Clamp.words(n);
            long[] mask = new long[2 + words];
            mask[0] = mask[1 + words] = -1L; // the words around the given ones are left alone
            clamp.forward(x, 3, n, c, mask, 1);
            assertArrayEquals(expected, x, "n = " + n);
            assertEquals(-1L, mask[0]);
            assertEquals(-1L, mask[1 + words]);
            float[] dx = new float[n + 3], dexpected = new float[n + 3];
            for (int i = 0; i < dx.length; i++) dx[i] = dexpected[i] = 1 + i;
            for (int i = 3; i < n + 3; i++) if (!(before[i] >= -c && before[i] <= c)) dexpected[i] = 0;
            clamp.backward(dx, 3, n, mask, 1);
            assertArrayEquals(dexpected, dx, "gradient, n = " + n);
            float[] y = before.clone();
            clamp.forward(y, 3, n, c, null, 0); // no bits, the same values
            assertArrayEquals(expected, y);
        }
    }
}
