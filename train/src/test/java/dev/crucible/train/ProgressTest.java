package dev.crucible.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** MFU against the FMA probe: a reading above 1 (the probe ran while a neighbour held the cores) takes the probe again. */
class ProgressTest {
    @Test
    void anMfuAboveOneTakesTheProbeAgain() {
        int[] probes = {0};
        Trainer.Progress p = new Trainer.Progress(() -> {
            probes[0]++;
            return 200; // GFLOP/s, the machine's real rate
        }, 50, 1e9, 0, 0); // the first reading was taken under contention: 50
        assertEquals(0.5, p.mfu(25), 1e-12, "25 tokens/s x 1 GFLOP = 25 GFLOP/s of 50");
        assertEquals(0, probes[0]);
        assertEquals(0.4, p.mfu(80), 1e-12, "80 GFLOP/s would be 160% of 50: probed again, 40% of 200");
        assertEquals(1, probes[0]);
        assertEquals(0.5, p.mfu(100), 1e-12);
        assertEquals(1, probes[0], "the new reading is kept");
    }
}
