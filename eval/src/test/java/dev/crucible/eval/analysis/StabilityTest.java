package dev.crucible.eval.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StabilityTest {
    @Test
    void robustZByHand() {
        // median 2, absolute deviations [1, 0, 1] -> MAD 1, scale 1.4826
        assertEquals((10 - 2) / 1.4826, Stability.robustZ(10, new double[] {1, 2, 3}), 1e-12);
        assertEquals(0, Stability.robustZ(2, new double[] {2, 2, 2}), 0, "no spread, no departure");
        assertEquals(Double.POSITIVE_INFINITY, Stability.robustZ(50, new double[] {0, 0, 0, 0}), "a jump after a constant window is a spike");
        // three of five equal (MAD 0): the mean absolute deviation from the median, 2 / 5, scaled as for normal data
        assertEquals((3 - 1) / (1.2533 * 0.4), Stability.robustZ(3, new double[] {1, 1, 1, 0, 2}), 1e-12);
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

    /**
     * A capability that gets worse while validation loss is flat is flagged, in the metric's own
     * direction: a fall for accuracy, a rise for bits per byte (which the signal used to ignore).
     */
    @Test
    void flagsACapabilityGettingWorseWhileLossIsFlat() {
        List<Stability.Row> rows = List.of(new Stability.Row(10, 100, 3.0, 1, 3.000), new Stability.Row(20, 200, 3.0, 1, 2.999),
                new Stability.Row(30, 300, 2.9, 1, 2.5));
        Series acc = new Series("r", "cloze", "acc", 0, List.of(new Series.Point(10, 100, 0.40, 0.01), new Series.Point(20, 200, 0.30, 0.01),
                new Series.Point(30, 300, 0.20, 0.01)));
        Series bpb = new Series("r", "bpb_en", "bits_per_byte", Double.NaN, List.of(new Series.Point(10, 100, 2.0, 0.01),
                new Series.Point(20, 200, 2.2, 0.01), new Series.Point(30, 300, 2.0, 0.01)));
        Series better = new Series("r", "bpb_de", "bits_per_byte", Double.NaN, List.of(new Series.Point(10, 100, 2.2, 0.01),
                new Series.Point(20, 200, 2.0, 0.01), new Series.Point(30, 300, 1.9, 0.01)));
        Series unknown = new Series("r", "x", "mystery", Double.NaN, List.of(new Series.Point(10, 100, 5, 0.01),
                new Series.Point(20, 200, 1, 0.01), new Series.Point(30, 300, 1, 0.01)));
        Map<Long, List<String>> f = Stability.worseWhileLossFlat(rows, List.of(acc, bpb, better, unknown), new long[] {10, 20, 30});
        // 10 -> 20: loss flat, accuracy down and bits per byte up; 20 -> 30: worse again, but loss fell 17%: not this signal
        assertEquals(List.of(20L), List.copyOf(f.keySet()));
        assertEquals(2, f.get(20L).size(), f.toString());
        assertTrue(f.get(20L).get(0).startsWith("cloze acc fell from 0.4000 to 0.3000 (7.1 standard errors worse) while validation loss was flat"), f.toString());
        assertTrue(f.get(20L).get(1).startsWith("bpb_en bits_per_byte rose from 2.000 to 2.200 (14.1 standard errors worse)"), f.toString());
    }
}
