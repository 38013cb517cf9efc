package dev.crucible.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
    @Test
    void warmupThenCosineToMinimum() {
        LrSchedule s = new LrSchedule(LrSchedule.Kind.COSINE, 1.0, 10, 0.1, 0.2, 110);
        assertEquals(0.1, s.at(0), 1e-12);
        assertEquals(1.0, s.at(9), 1e-12);
        assertEquals(1.0, s.at(10), 1e-12);
        assertEquals(0.55, s.at(60), 1e-12); // half way: (1 + 0.1) / 2
        assertEquals(0.1, s.at(110), 1e-12);
    }

    @Test
    void warmupStableDecay() {
        LrSchedule s = new LrSchedule(LrSchedule.Kind.WSD, 1.0, 10, 0.0, 0.2, 100);
        assertEquals(1.0, s.at(50), 1e-12);
        assertEquals(1.0, s.at(79), 1e-12);
        assertEquals(1 - 1.0 / 20, s.at(80), 1e-12);
        assertEquals(0.5, s.at(89), 1e-12);
        assertEquals(0.0, s.at(99), 1e-12);
    }

    @Test
    void constantAfterWarmup() {
        LrSchedule s = new LrSchedule(LrSchedule.Kind.CONSTANT, 3e-4, 0, 0.1, 0.2, 10);
        assertEquals(3e-4, s.at(0), 0);
        assertEquals(3e-4, s.at(9), 0);
    }
}
