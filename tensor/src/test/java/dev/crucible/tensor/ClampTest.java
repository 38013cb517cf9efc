package dev.crucible.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The clamp against torch.clamp's formula, forward and backward, at lengths around the vector width and the 64-bit words. */
class ClampTest {
    @Test
    void clampsAndPassesTheGradientInsideTheBoundsOnly() {
        SplittableRandom rng = new SplittableRandom(3);
        float c = 0.75f;
        for (int n : new int[] {1, 7, Cpu.SPECIES.length(), 63, 64, 65, 200, 1000}) {
            float[] x = new float[n + 3], expected = new float[n + 3];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rng.nextGaussian() * 1.5);
            x[3] = c; // on the bound: kept, and its gradient passes
            if (n > 1) x[4] = -c;
            float[] before = x.clone();
            for (int i = 0; i < x.length; i++) expected[i] = i < 3 ? x[i] : Math.max(-c, Math.min(c, x[i]));
            long[] mask = new long[2 + Clamp.words(n)];
            mask[0] = -1L; // words before the given one are left alone
            Clamp.forward(x, 3, n, c, mask, 1);
            assertArrayEquals(expected, x, "n = " + n);
            assertEquals(-1L, mask[0]);
            float[] dx = new float[n + 3], dexpected = new float[n + 3];
            for (int i = 0; i < dx.length; i++) dx[i] = dexpected[i] = 1 + i;
            for (int i = 3; i < n + 3; i++) if (Math.abs(before[i]) > c) dexpected[i] = 0;
            Clamp.backward(dx, 3, n, mask, 1);
            assertArrayEquals(dexpected, dx, "gradient, n = " + n);
            float[] y = before.clone();
            Clamp.forward(y, 3, n, c, null, 0); // no bits, the same values
            assertArrayEquals(expected, y);
        }
    }
}
