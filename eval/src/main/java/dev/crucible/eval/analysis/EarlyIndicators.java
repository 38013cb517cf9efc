package dev.crucible.eval.analysis;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Across several runs: which metric, read at an early point of training, best predicts the runs'
 * final quality. Each metric's value at the first checkpoint at or after a fraction of each run's
 * tokens (of each run's steps when its tokens are not known) is rank-correlated (Spearman) across runs
 * with a target's final value, both oriented so that up is better; metrics of unknown direction are
 * left out. Each ρ comes with how often random pairings of the runs reach it (one-sided, exact over
 * every pairing up to {@link #EXACT_RUNS} runs): with 3 runs a perfect ρ = 1 happens to one pairing
 * in 6, so a list of dozens of metrics always holds "perfect" indicators by chance. Holm's adjustment
 * over the metrics ranked says which stand out from that.
 */
public final class EarlyIndicators {
    private EarlyIndicators() {}

    /** p: one-sided P(ρ ≥ rho) over random pairings of the runs; pHolm: p adjusted by Holm's method over every metric ranked. */
    public record Indicator(String metric, double rho, int runs, double p, double pHolm) {}

    /** Up to this many runs the p-value counts every pairing (8! = 40,320); above, Student's t approximation, as scipy's spearmanr. */
    static final int EXACT_RUNS = 8;

    /** byRun: each run's series; target: task/metric of the final quality; at: fraction of tokens (0, 1]. */
    public static List<Indicator> rank(Map<String, List<Series>> byRun, String target, double at) {
        List<String> runs = new ArrayList<>(byRun.keySet());
        double[] finals = new double[runs.size()];
        for (int r = 0; r < runs.size(); r++) {
            Series t = find(byRun.get(runs.get(r)), target);
            finals[r] = t == null ? Double.NaN : oriented(t, t.last().value());
        }
        java.util.Set<String> metrics = new java.util.TreeSet<>();
        for (List<Series> l : byRun.values()) for (Series s : l) if (MetricDirection.known(s.metric())) metrics.add(Groups.key(s));
        List<Indicator> out = new ArrayList<>();
        for (String m : metrics) {
            List<double[]> pairs = new ArrayList<>();
            for (int r = 0; r < runs.size(); r++) {
                Series s = find(byRun.get(runs.get(r)), m);
                if (s == null || Double.isNaN(finals[r])) continue;
                // by tokens where the table has them; a table without (tokens -1) by steps, rather than every point failing the test and the last taken
                boolean byTokens = s.last().tokens() > 0;
                long total = byTokens ? s.last().tokens() : s.last().step(), want = (long) Math.ceil(at * total);
                Series.Point early = s.points().stream().filter(p -> (byTokens ? p.tokens() : p.step()) >= want).findFirst().orElse(s.last());
                pairs.add(new double[] {oriented(s, early.value()), finals[r]});
            }
            if (pairs.size() < 3) continue;
            double[] x = pairs.stream().mapToDouble(p -> p[0]).toArray(), y = pairs.stream().mapToDouble(p -> p[1]).toArray();
            double rho = Analysis.spearman(x, y);
            if (!Double.isNaN(rho)) out.add(new Indicator(m, rho, pairs.size(), pValue(x, y, rho), Double.NaN));
        }
        double[] adjusted = Holm.adjust(out.stream().mapToDouble(Indicator::p).toArray());
        for (int i = 0; i < out.size(); i++) {
            Indicator d = out.get(i);
            out.set(i, new Indicator(d.metric(), d.rho(), d.runs(), d.p(), adjusted[i]));
        }
        out.sort(Comparator.comparingDouble((Indicator i) -> -i.rho()));
        return out;
    }

    /** One-sided P(ρ ≥ rho) when the runs' early values are paired with their final values at random. */
    static double pValue(double[] x, double[] y, double rho) {
        int n = x.length;
        if (n > EXACT_RUNS) {
            if (rho >= 1) return 0;
            double t = rho * Math.sqrt((n - 2) / (1 - rho * rho));
            return 1 - StudentT.cdf(t, n - 2);
        }
        // ranks follow their values, so spearman(x, an order of y) is Pearson's r of x's ranks with that order of y's:
        // ranked once, not once per pairing
        double[] rx = Analysis.ranks(x), ry = Analysis.ranks(y);
        long[] counts = new long[2]; // pairings, and those that reach rho
        permute(ry, n, rx, rho, counts);
        return (double) counts[1] / counts[0];
    }

    /** Every order of ry's first k ranks (Heap's algorithm), each counted against rho. */
    private static void permute(double[] ry, int k, double[] rx, double rho, long[] counts) {
        if (k <= 1) {
            counts[0]++;
            if (Analysis.pearson(rx, ry) >= rho - 1e-12) counts[1]++; // the observed pairing counts itself, as a permutation test does
            return;
        }
        for (int i = 0; i < k - 1; i++) {
            permute(ry, k - 1, rx, rho, counts);
            int j = k % 2 == 0 ? i : 0;
            double tmp = ry[j];
            ry[j] = ry[k - 1];
            ry[k - 1] = tmp;
        }
        permute(ry, k - 1, rx, rho, counts);
    }

    static double oriented(Series s, double v) {
        return MetricDirection.lowerIsBetter(s.metric()) ? -v : v;
    }

    static Series find(List<Series> l, String key) {
        for (Series s : l) if (Groups.key(s).equals(key)) return s;
        return null;
    }
}
