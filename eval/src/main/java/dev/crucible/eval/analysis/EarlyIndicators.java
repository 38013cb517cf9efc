package dev.crucible.eval.analysis;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Across several runs: which metric, read at an early point of training, best predicts the runs'
 * final quality. Each metric's value at the first checkpoint at or after a fraction of each run's
 * tokens is rank-correlated (Spearman) across runs with a target's final value, both oriented so that
 * up is better; metrics of unknown direction are left out.
 */
public final class EarlyIndicators {
    private EarlyIndicators() {}

    public record Indicator(String metric, double rho, int runs) {}

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
                long total = s.last().tokens(), want = (long) Math.ceil(at * total);
                Series.Point early = s.points().stream().filter(p -> p.tokens() >= want).findFirst().orElse(s.last());
                pairs.add(new double[] {oriented(s, early.value()), finals[r]});
            }
            if (pairs.size() < 3) continue;
            double rho = Analysis.spearman(pairs.stream().mapToDouble(p -> p[0]).toArray(), pairs.stream().mapToDouble(p -> p[1]).toArray());
            if (!Double.isNaN(rho)) out.add(new Indicator(m, rho, pairs.size()));
        }
        out.sort(Comparator.comparingDouble((Indicator i) -> -i.rho()));
        return out;
    }

    static double oriented(Series s, double v) {
        return MetricDirection.lowerIsBetter(s.metric()) ? -v : v;
    }

    static Series find(List<Series> l, String key) {
        for (Series s : l) if (Groups.key(s).equals(key)) return s;
        return null;
    }
}
