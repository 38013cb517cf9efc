package dev.crucible.eval.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The statistics of a sweep against known answers: Student's t tables and a worked paired test. */
class SeedStatisticsTest {
    @Test
    void studentTMatchesTheTables() {
        // two-sided 95% critical values: df 1 -> 12.706, 2 -> 4.303, 4 -> 2.776, 30 -> 2.042
        assertEquals(12.7062, StudentT.quantile(0.975, 1), 1e-4);
        assertEquals(4.3027, StudentT.quantile(0.975, 2), 1e-4);
        assertEquals(2.7764, StudentT.quantile(0.975, 4), 1e-4);
        assertEquals(2.0423, StudentT.quantile(0.975, 30), 1e-4);
        assertEquals(0.05, StudentT.twoSidedP(2.7764451, 4), 1e-6);
        assertEquals(0.5, StudentT.cdf(0, 3), 1e-15);
        assertEquals(0.75, StudentT.cdf(1, 1), 1e-12, "Cauchy: 1/2 + atan(1)/pi");
        assertEquals(1 - StudentT.cdf(1.3, 7), StudentT.cdf(-1.3, 7), 1e-14, "symmetric");
        assertEquals(Math.log(24), StudentT.logGamma(5), 1e-12);
    }

    /**
     * Four seeds of a variant and its baseline: differences −0.03, −0.02, −0.04, −0.03 have mean −0.03,
     * sd 0.008165, t = −7.348 on 3 df, p = 0.0052; the 95% interval ±0.0130. Unpaired, the seeds'
     * spread (0.1 between them) would hide it.
     */
    @Test
    void aPairedTestSeesADifferenceTheSeedsSpreadWouldHide() {
        Map<Long, Double> base = Map.of(1L, 5.00, 2L, 5.10, 3L, 4.90, 4L, 5.20), variant = Map.of(1L, 4.97, 2L, 5.08, 3L, 4.86, 4L, 5.17);
        SeedStatistics.Difference d = SeedStatistics.paired(variant, base, 0.95);
        assertEquals(4, d.n());
        assertEquals(-0.03, d.mean(), 1e-12);
        assertEquals(-7.3485, d.t(), 1e-3);
        assertEquals(0.00522, d.p(), 5e-5);
        assertEquals(3.1824 * 0.0081650 / 2, d.halfWidth(), 1e-5);
        assertTrue(d.significant(0.05));
        SeedStatistics.Estimate e = SeedStatistics.estimate(List.of(5.00, 5.10, 4.90, 5.20), 0.95);
        assertTrue(e.halfWidth() > 0.2, "the seeds' own spread: " + e);
        // a seed only one of them ran does not pair; one seed has no interval
        SeedStatistics.Difference one = SeedStatistics.paired(Map.of(1L, 4.9, 9L, 1.0), base, 0.95);
        assertEquals(1, one.n());
        assertTrue(Double.isNaN(one.p()) && Double.isNaN(one.halfWidth()));
        assertFalse(SeedStatistics.paired(base, base, 0.95).significant(0.05), "no difference at all");
    }
}
