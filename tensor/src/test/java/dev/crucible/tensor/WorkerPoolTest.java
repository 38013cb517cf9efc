package dev.crucible.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class WorkerPoolTest {
    @Test
    void forRangeSplitsTheSameWayWhateverThePoolSize() {
        for (int threads : new int[] {1, 2, 4}) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                int n = 1003, chunks = 7;
                int[] chunkOf = new int[n];
                AtomicIntegerArray visits = new AtomicIntegerArray(n);
                pool.forRange(n, chunks, (s, e, ch, w) -> {
                    for (int i = s; i < e; i++) {
                        chunkOf[i] = ch;
                        visits.incrementAndGet(i);
                    }
                });
                for (int ch = 0; ch < chunks; ch++) {
                    for (int i = n * ch / chunks; i < n * (ch + 1) / chunks; i++) {
                        assertEquals(1, visits.get(i), "index " + i + " on " + threads + " threads");
                        assertEquals(ch, chunkOf[i], "chunk of index " + i + " on " + threads + " threads");
                    }
                }
            }
        }
    }

    /** A task that itself uses the pool runs that work inline, and the outer job is not disturbed. */
    @Test
    void nestedUseRunsInlineWithoutDisturbingTheOuterJob() {
        try (WorkerPool pool = new WorkerPool(4)) {
            int outer = 64, inner = 100;
            long[] sums = new long[outer];
            pool.forRange(outer, outer, (s, e, ch, w) -> {
                for (int o = s; o < e; o++) {
                    assertTrue(pool.insideTask());
                    int oo = o;
                    long[] partial = new long[inner];
                    pool.forRange(inner, 10, (s2, e2, ch2, w2) -> {
                        for (int i = s2; i < e2; i++) partial[i] = (long) oo * i;
                    });
                    long[] viaRun = new long[1];
                    pool.run(3, (t, w3) -> viaRun[0] += oo);
                    long sum = 0;
                    for (long p : partial) sum += p;
                    sums[o] = sum + viaRun[0];
                }
            });
            long[] want = new long[outer];
            for (int o = 0; o < outer; o++) want[o] = (long) o * (inner * (inner - 1) / 2) + 3L * o;
            assertArrayEquals(want, sums);
            assertTrue(!pool.insideTask(), "outside any task again");
        }
    }

    @Test
    void aFailingTaskFailsTheCallAndThePoolStaysUsable() {
        try (WorkerPool pool = new WorkerPool(2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.run(8, (t, w) -> {
                if (t == 5) throw new IllegalArgumentException("task 5");
            }));
            assertEquals("task 5", e.getMessage());
            int[] ran = new int[8];
            pool.run(8, (t, w) -> ran[t]++);
            assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 1, 1}, ran);
        }
    }

    @Test
    void theParallelMultiplyRefusesToRunInsideATask() {
        try (WorkerPool pool = new WorkerPool(2)) {
            Gemm gemm = new Gemm(pool);
            float[] a = new float[16], b = new float[16], c = new float[16];
            String[] message = new String[1];
            pool.run(2, (t, w) -> {
                try {
                    gemm.multiply(4, 4, 4, a, 0, 4, 1, b, 0, 4, 1, c, 0, 4, false);
                } catch (IllegalStateException e) {
                    message[0] = e.getMessage();
                }
            });
            assertTrue(message[0] != null && message[0].contains("multiplySerial"), String.valueOf(message[0]));
        }
    }
}
