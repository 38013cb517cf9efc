package dev.crucible.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
    @Test
    void warmupThenCosineToMinimum() {
        LrSchedule s = new LrSchedule(LrSchedule.Kind.COSINE, 1.0, 10, 0.1, 0.2, 0.5, 0, 0, 110);
        assertEquals(0.1, s.at(0), 1e-12);
        assertEquals(1.0, s.at(9), 1e-12);
        assertEquals(1.0, s.at(10), 1e-12);
        assertEquals(0.55, s.at(60), 1e-12); // half way: (1 + 0.1) / 2
        assertEquals(0.1, s.at(110), 1e-12);
    }

    @Test
    void warmupStableDecay() {
        LrSchedule s = new LrSchedule(LrSchedule.Kind.WSD, 1.0, 10, 0.0, 0.2, 0.5, 0, 0, 100);
        assertEquals(1.0, s.at(50), 1e-12);
        assertEquals(1.0, s.at(79), 1e-12);
        assertEquals(1 - 1.0 / 20, s.at(80), 1e-12);
        assertEquals(0.5, s.at(89), 1e-12);
        assertEquals(0.0, s.at(99), 1e-12);
    }

    @Test
    void constantAfterWarmup() {
        LrSchedule s = new LrSchedule(LrSchedule.Kind.CONSTANT, 3e-4, 0, 0.1, 0.2, 0.5, 0, 0, 10);
        assertEquals(3e-4, s.at(0), 0);
        assertEquals(3e-4, s.at(9), 0);
    }

    /** The spec's test (seed-techniques.md section 8), in the paper's 1-based update count: eta(10) = 1e-3, eta(1000) = 1e-4. */
    @Test
    void rewarmReachesThePeakAfterWarmupAndTheMinimumAtTheLastStep() {
        LrSchedule s = new LrSchedule(LrSchedule.Kind.REWARM, 1e-3, 10, 0.1, 0.2, 0.5, 0, 0, 1000);
        assertEquals(1e-4, s.at(0), 1e-15);        // update 1 of the linear re-warming
        assertEquals(1e-3, s.at(9), 1e-15);        // update 10
        assertEquals(5.5e-4, s.at(10 + 494), 1e-15); // half way through the re-decay: (1e-3 + 1e-4) / 2
        assertEquals(1e-4, s.at(999), 1e-15);      // update 1000
        for (int k = 10; k < 999; k++) assertTrue(s.at(k + 1) < s.at(k), "re-decay is monotone at " + k);
    }

    @Test
    void infiniteWarmsUpCoolsDownStaysConstantAndAnnealsExponentially() {
        // 1000 steps: warm-up 10, cool-down 100, constant to 800, anneal over the last 200 from 0.5 to 0.05
        LrSchedule s = new LrSchedule(LrSchedule.Kind.INFINITE, 1.0, 10, 0.05, 0.2, 0.5, 100, 200, 1000);
        assertEquals(1.0, s.at(9), 1e-15);
        assertEquals(0.75, s.at(59), 1e-12);       // half way down the cosine cool-down from 1 to 0.5
        assertEquals(0.5, s.at(109), 1e-15);       // end of the cool-down
        assertEquals(0.5, s.at(110), 0);
        assertEquals(0.5, s.at(799), 0);           // the constant phase, as long as the run wants
        assertEquals(0.5 * Math.sqrt(0.1), s.at(899), 1e-12); // geometric half way: 0.5 * (0.05 / 0.5)^(1/2)
        assertEquals(0.05, s.at(999), 1e-15);
        assertNull(s.misfit());
        // extended to 10,000 steps (raised on resume): the same rates up to the old anneal, the anneal at the new end
        LrSchedule longer = new LrSchedule(LrSchedule.Kind.INFINITE, 1.0, 10, 0.05, 0.2, 0.5, 100, 200, 10_000);
        for (int k = 0; k < 800; k++) assertEquals(s.at(k), longer.at(k), 0, "step " + k);
        assertEquals(0.5, longer.at(999), 0);
        assertEquals(0.05, longer.at(9999), 1e-15);
    }

    @Test
    void infiniteRefusesPhasesThatDoNotFitOrAnAnnealToZero() {
        assertTrue(new LrSchedule(LrSchedule.Kind.INFINITE, 1.0, 50, 0.1, 0.5, 0.5, 30, 30, 100).misfit().contains("exceed training.steps 100"));
        assertTrue(new LrSchedule(LrSchedule.Kind.INFINITE, 1.0, 10, 0.0, 0.2, 0.5, 10, 20, 100).misfit().contains("must be > 0"));
        assertNull(new LrSchedule(LrSchedule.Kind.COSINE, 1.0, 50, 0.0, 0.5, 0.5, 0, 0, 100).misfit());
    }

    /** Settings that run but not as they read are named at the start of a run (the default warmup of 100 in a 50-step run). */
    @Test
    void cautionsForAWarmupAsLongAsTheRun() {
        LrSchedule longWarmup = new LrSchedule(LrSchedule.Kind.COSINE, 1.0, 100, 0.1, 0.2, 0.5, 0, 0, 50);
        assertEquals(0.5, longWarmup.at(49), 1e-12, "the last step is still warming up");
        assertTrue(longWarmup.caution().contains("warmup_steps 100 is not below training.steps 50"), longWarmup.caution());
        LrSchedule wsd = new LrSchedule(LrSchedule.Kind.WSD, 1.0, 90, 0.1, 0.2, 0.5, 0, 0, 100);
        assertEquals("the decay starts when warmup_steps 90 end, so it lasts 10 steps, not decay_fraction's 20", wsd.caution());
        assertNull(new LrSchedule(LrSchedule.Kind.WSD, 1.0, 80, 0.1, 0.2, 0.5, 0, 0, 100).caution());
        assertNull(new LrSchedule(LrSchedule.Kind.COSINE, 1.0, 10, 0.1, 0.2, 0.5, 0, 0, 100).caution());
    }
}
