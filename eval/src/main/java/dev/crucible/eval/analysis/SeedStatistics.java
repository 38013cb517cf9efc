package dev.crucible.eval.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Means over seeds with confidence intervals, and the difference of a variant from the baseline
 * tested by a paired t-test over the seeds both ran (each seed fixes the initialisation and the data
 * order for every variant, so pairing removes what the seeds share). With one seed there is no
 * interval and no test.
 */
public final class SeedStatistics {
    private SeedStatistics() {}

    /** A mean over n values with the half-width of its two-sided confidence interval (NaN for n < 2) and the standard deviation. */
    public record Estimate(int n, double mean, double halfWidth, double sd) {}

    /** The difference variant − baseline over paired seeds, its interval, the paired t statistic and two-sided p-value. */
    public record Difference(int n, double mean, double halfWidth, double t, double p) {
        public boolean significant(double alpha) {
            return p < alpha;
        }
    }

    /** NaN values (a run without the metric yet) are left out. */
    public static Estimate estimate(List<Double> values, double confidence) {
        values = values.stream().filter(v -> !Double.isNaN(v)).toList();
        int n = values.size();
        double mean = values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        if (n < 2) return new Estimate(n, mean, Double.NaN, Double.NaN);
        double ss = 0;
        for (double v : values) ss += (v - mean) * (v - mean);
        double sd = Math.sqrt(ss / (n - 1));
        return new Estimate(n, mean, StudentT.quantile(0.5 + confidence / 2, n - 1) * sd / Math.sqrt(n), sd);
    }

    /** Paired over the seeds present in both maps (seed → value). */
    public static Difference paired(Map<Long, Double> variant, Map<Long, Double> baseline, double confidence) {
        List<Double> d = new ArrayList<>();
        for (Map.Entry<Long, Double> e : new TreeMap<>(variant).entrySet()) {
            Double b = baseline.get(e.getKey());
            if (b != null && !Double.isNaN(b) && !Double.isNaN(e.getValue())) d.add(e.getValue() - b);
        }
        Estimate est = estimate(d, confidence);
        if (est.n() < 2) return new Difference(est.n(), est.mean(), Double.NaN, Double.NaN, Double.NaN);
        if (est.sd() == 0) return new Difference(est.n(), est.mean(), 0, est.mean() == 0 ? 0 : Math.copySign(Double.POSITIVE_INFINITY, est.mean()),
                est.mean() == 0 ? 1 : 0);
        double t = est.mean() / (est.sd() / Math.sqrt(est.n()));
        return new Difference(est.n(), est.mean(), est.halfWidth(), t, StudentT.twoSidedP(t, est.n() - 1));
    }
}
