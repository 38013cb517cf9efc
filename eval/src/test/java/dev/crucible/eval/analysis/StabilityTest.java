package dev.crucible.eval.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StabilityTest {
    @Test
    void robustZByHand() {
        // median 2, absolute deviations [1, 0, 1] -> MAD 1, scale 1.4826
        assertEquals((10 - 2) / 1.4826, Stability.robustZ(10, new double[] {1, 2, 3}), 1e-12);
        assertEquals(0, Stability.robustZ(5, new double[] {2, 2, 2}), 0, "no spread, no judgement");
    }

    @Test
    void spikesAndVerdictsPerCheckpoint() {
        List<Stability.Row> rows = new ArrayList<>();
        for (int s = 1; s <= 60; s++) {
            double loss = 5.0 - 0.02 * s + 0.01 * ((s * 7) % 3); // a noisy, falling curve
            double grad = 1.0 + 0.01 * ((s * 5) % 4);
            if (s == 37) loss += 2.0; // a loss spike
            if (s == 45) grad = 9.0;  // a gradient spike
            double val = s % 20 == 0 ? (s == 60 ? 4.5 : 5.0 - 0.02 * s) : Double.NaN; // worse at the last checkpoint
            rows.add(new Stability.Row(s, s * 1024L, loss, grad, val));
        }
        List<Stability.Spike> spikes = Stability.spikes(rows);
        assertEquals(List.of(37L, 45L), spikes.stream().map(Stability.Spike::step).toList(), spikes.toString());
        assertEquals("train_loss", spikes.get(0).metric());
        List<String> v = Stability.verdicts(rows, new long[] {20, 40, 60});
        assertTrue(v.get(0).startsWith("step 20: no loss or gradient spikes; validation loss 4.6000"), v.get(0));
        assertTrue(v.get(1).contains("1 spike (train loss") && v.get(1).contains("at step 37") && v.get(1).contains("improving"), v.get(1));
        assertTrue(v.get(2).contains("grad norm 9.00 at step 45") && v.get(2).contains("WORSE"), v.get(2));
    }
}
