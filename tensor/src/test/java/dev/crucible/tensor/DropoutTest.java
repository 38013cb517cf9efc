package dev.crucible.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Masks are a function of (key, index): the same in backward, for any thread count, and about the asked rate. */
class DropoutTest {
    @Test
    void masksAreReproducibleScaledAndAtTheAskedRate() {
        int n = 200_000;
        float p = 0.3f;
        float[] ones = new float[n];
        Arrays.fill(ones, 1f);
        float[] a = ones.clone(), b = ones.clone(), c = ones.clone();
        long key = Dropout.key(1337, 42, 0, 3, 1);
        try (WorkerPool one = new WorkerPool(1); WorkerPool three = new WorkerPool(3)) {
            new Dropout(one).apply(a, 0, n, key, p);
            new Dropout(three).apply(b, 0, n, key, p);
            new Dropout(three).apply(c, 0, n, Dropout.key(1337, 43, 0, 3, 1), p);
        }
        assertArrayEquals(a, b, "the mask does not depend on the thread count");
        long dropped = 0, differ = 0;
        for (int i = 0; i < n; i++) {
            assertTrue(a[i] == 0f || a[i] == 1f / (1f - p), "kept values are scaled by 1/(1 - p)");
            if (a[i] == 0f) dropped++;
            if ((a[i] == 0f) != (c[i] == 0f)) differ++;
        }
        assertEquals(p, dropped / (double) n, 0.005, "the drop rate");
        assertEquals(2 * p * (1 - p), differ / (double) n, 0.01, "another step draws an independent mask");
    }
}
