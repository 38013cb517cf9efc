package dev.crucible.eval.analysis;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Which metrics move together over a checkpoint series, and whether a group's members predict an
 * unseen one. Trajectories are oriented so that up is better (by {@link MetricDirection}; metrics of
 * unknown direction are left out), compared on the checkpoints they share by Spearman's ρ, and grouped by complete
 * linkage: every pair inside a group correlates at least at the threshold. The held-out test is a
 * forecast: fit a member on the first half of the checkpoints as a linear function of the mean of
 * the other members (z-scored), predict the second half, and compare the error with carrying the
 * member's last known value forward.
 */
public final class Groups {
    private Groups() {}

    public record Forecast(String member, double error, double naiveError) {
        public boolean beatsNaive() {
            return error < naiveError;
        }
    }

    public record Group(List<String> members, double minRho, List<Forecast> forecasts) {}

    static String key(Series s) {
        return s.task() + "/" + s.metric();
    }

    /**
     * Each series' oriented values at the steps all of them share, after leaving out the series that
     * lack a step most of them have ({@link #sparse}): one series scored at a single checkpoint would
     * otherwise leave every series one step, and every ρ undefined. A step a series lists twice counts once
     * (its last value).
     */
    static Map<String, double[]> aligned(List<Series> series) {
        List<Series> kept = dense(series);
        TreeSet<Long> steps = null;
        for (Series s : kept) {
            TreeSet<Long> own = new TreeSet<>();
            for (Series.Point p : s.points()) own.add(p.step());
            if (steps == null) steps = own;
            else steps.retainAll(own);
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Series s : kept) {
            double[] v = new double[steps.size()];
            int i = 0;
            Map<Long, Double> byStep = new java.util.HashMap<>();
            for (Series.Point p : s.points()) byStep.put(p.step(), p.value());
            for (long st : steps) v[i++] = (MetricDirection.lowerIsBetter(s.metric()) ? -1 : 1) * byStep.get(st);
            out.put(key(s), v);
        }
        return out;
    }

    /** The series that have every step more than half of the series have. */
    private static List<Series> dense(List<Series> series) {
        Map<Long, Integer> count = new java.util.HashMap<>();
        for (Series s : series) for (long step : s.points().stream().map(Series.Point::step).distinct().toList()) count.merge(step, 1, Integer::sum);
        java.util.Set<Long> common = new java.util.HashSet<>();
        count.forEach((step, c) -> {
            if (2 * c > series.size()) common.add(step);
        });
        return series.stream().filter(s -> s.points().stream().map(Series.Point::step).collect(java.util.stream.Collectors.toSet()).containsAll(common)).toList();
    }

    /** The task/metric names left out of groups for lacking checkpoints most of the other series have (a variant scored at a few, say). */
    public static List<String> sparse(List<Series> series) {
        List<Series> oriented = series.stream().filter(s -> MetricDirection.known(s.metric())).toList();
        List<Series> kept = dense(oriented);
        return oriented.stream().filter(s -> !kept.contains(s)).map(Groups::key).distinct().toList();
    }

    /** Groups among the series whose metric direction is known; the others are left out (see {@link #unoriented}). */
    public static List<Group> find(List<Series> series, double threshold) {
        Map<String, double[]> v = aligned(series.stream().filter(s -> MetricDirection.known(s.metric())).toList());
        List<String> names = new ArrayList<>(v.keySet());
        int n = names.size();
        double[][] rho = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) rho[i][j] = i == j ? 1 : Analysis.spearman(v.get(names.get(i)), v.get(names.get(j)));
        List<List<Integer>> clusters = new ArrayList<>();
        for (int i = 0; i < n; i++) clusters.add(new ArrayList<>(List.of(i)));
        while (true) {
            int bi = -1, bj = -1;
            double best = threshold;
            for (int a = 0; a < clusters.size(); a++) {
                for (int b = a + 1; b < clusters.size(); b++) {
                    double link = Double.POSITIVE_INFINITY; // complete linkage: the weakest pair
                    for (int x : clusters.get(a)) for (int y : clusters.get(b)) link = Math.min(link, Double.isNaN(rho[x][y]) ? -1 : rho[x][y]);
                    if (link >= best) {
                        best = link;
                        bi = a;
                        bj = b;
                    }
                }
            }
            if (bi < 0) break;
            clusters.get(bi).addAll(clusters.remove(bj));
        }
        List<Group> out = new ArrayList<>();
        for (List<Integer> c : clusters) {
            if (c.size() < 2) continue;
            double min = 1;
            for (int x : c) for (int y : c) min = Math.min(min, rho[x][y]);
            List<String> members = c.stream().map(names::get).toList();
            List<Forecast> forecasts = new ArrayList<>();
            if (c.size() >= 3) for (String m : members) forecasts.add(forecast(m, members, v));
            out.add(new Group(members, min, forecasts));
        }
        out.sort(Comparator.comparingInt((Group g) -> -g.members().size()));
        return out;
    }

    /** The task/metric names the analysis cannot orient, so leaves out of groups and early indicators. */
    public static List<String> unoriented(List<Series> series) {
        return series.stream().filter(s -> !MetricDirection.known(s.metric())).map(Groups::key).distinct().toList();
    }

    static double[] z(double[] x) {
        double mean = java.util.Arrays.stream(x).average().orElse(0), var = 0;
        for (double a : x) var += (a - mean) * (a - mean);
        double sd = Math.sqrt(var / Math.max(1, x.length - 1));
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = sd > 0 ? (x[i] - mean) / sd : 0;
        return out;
    }

    static Forecast forecast(String member, List<String> group, Map<String, double[]> v) {
        double[] y = v.get(member);
        int n = y.length, half = n / 2;
        double[] x = new double[n];
        for (String o : group) {
            if (o.equals(member)) continue;
            double[] zo = z(v.get(o));
            for (int i = 0; i < n; i++) x[i] += zo[i] / (group.size() - 1);
        }
        // least squares y = a + b x on the first half
        double mx = 0, my = 0;
        for (int i = 0; i < half; i++) {
            mx += x[i] / half;
            my += y[i] / half;
        }
        double sxy = 0, sxx = 0;
        for (int i = 0; i < half; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
        }
        double b = sxx > 0 ? sxy / sxx : 0, a = my - b * mx;
        double err = 0, naive = 0;
        for (int i = half; i < n; i++) {
            err += Math.abs(a + b * x[i] - y[i]);
            naive += Math.abs(y[half - 1] - y[i]);
        }
        return new Forecast(member, err / Math.max(1, n - half), naive / Math.max(1, n - half));
    }
}
