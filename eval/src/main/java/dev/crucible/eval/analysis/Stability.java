package dev.crucible.eval.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import dev.crucible.data.JsonlTable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Optimisation health from a run's metrics.jsonl: spikes in training loss and gradient norm, each
 * judged by a robust z-score against the preceding window (median and MAD, so one earlier spike does
 * not hide the next), and whether validation loss still improves. Summed up per checkpoint in words.
 */
public final class Stability {
    private Stability() {}

    /** Robust z-score above which a value is a spike. */
    public static final double SPIKE_Z = 6.0;
    /** Logged rows in the window a value is compared against. */
    public static final int WINDOW = 20;

    /** bySource: the validation metrics of each data source of a mixture (val_loss/NAME, val_bpb/NAME), by key. */
    public record Row(long step, long tokens, double trainLoss, double gradNorm, double valLoss, Map<String, Double> bySource) {
        public Row(long step, long tokens, double trainLoss, double gradNorm, double valLoss) {
            this(step, tokens, trainLoss, gradNorm, valLoss, Map.of());
        }
    }

    public record Spike(long step, String metric, double value, double z) {}

    public static List<Row> read(Path metrics) throws IOException {
        List<Row> rows = new ArrayList<>();
        for (JsonlTable.Row row : JsonlTable.read(metrics)) {
            JsonNode r = row.value();
            Map<String, Double> bySource = new TreeMap<>();
            r.fields().forEachRemaining(e -> {
                if (e.getKey().startsWith("val_") && e.getKey().contains("/") && e.getValue().isNumber()) bySource.put(e.getKey(), e.getValue().asDouble());
            });
            rows.add(new Row(r.path("step").asLong(), r.path("tokens").asLong(-1), num(r, "train_loss"), num(r, "grad_norm"), num(r, "val_loss"),
                    bySource));
        }
        return rows;
    }

    private static double num(JsonNode r, String k) {
        return r.path(k).isNumber() ? r.get(k).asDouble() : Double.NaN;
    }

    /**
     * Robust z-score of x against values: (x − median) / (1.4826 · MAD). Where more than half the window
     * is one value (MAD 0), the mean absolute deviation from the median stands in (· 1.2533, the same
     * scale for normal data); a window of one value throughout makes any departure infinitely far (a
     * gradient norm logged as 0.00000 for twenty steps, then 50, is a spike, not "no judgement").
     */
    public static double robustZ(double x, double[] values) {
        double med = median(values);
        double[] dev = Arrays.stream(values).map(v -> Math.abs(v - med)).toArray();
        double scale = 1.4826 * median(dev);
        if (scale == 0) scale = 1.2533 * Arrays.stream(dev).average().orElse(0);
        if (scale > 0) return (x - med) / scale;
        return x == med ? 0 : Math.copySign(Double.POSITIVE_INFINITY, x - med);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Steps where training loss or gradient norm jumps above its recent window (the first WINDOW/2 rows have no judgement). */
    public static List<Spike> spikes(List<Row> rows) {
        List<Spike> out = new ArrayList<>();
        for (String metric : new String[] {"train_loss", "grad_norm"}) {
            List<double[]> vals = new ArrayList<>();
            for (Row r : rows) {
                double v = metric.equals("train_loss") ? r.trainLoss() : r.gradNorm();
                if (Double.isNaN(v)) continue;
                if (vals.size() >= WINDOW / 2) {
                    double[] window = vals.subList(Math.max(0, vals.size() - WINDOW), vals.size()).stream().mapToDouble(a -> a[1]).toArray();
                    double z = robustZ(v, window);
                    if (z > SPIKE_Z) out.add(new Spike(r.step(), metric, v, z));
                }
                vals.add(new double[] {r.step(), v});
            }
        }
        out.sort((a, b) -> Long.compare(a.step(), b.step()));
        return out;
    }

    /** A sentence per checkpoint step: spikes since the previous one, and the validation trend. */
    public static List<String> verdicts(List<Row> rows, long[] checkpointSteps) {
        List<Spike> spikes = spikes(rows);
        List<String> out = new ArrayList<>();
        long prev = 0;
        double prevVal = Double.NaN;
        for (long ck : checkpointSteps) {
            long from = prev;
            List<Spike> here = spikes.stream().filter(s -> s.step() > from && s.step() <= ck).toList();
            double val = Double.NaN;
            for (Row r : rows) if (r.step() <= ck && !Double.isNaN(r.valLoss())) val = r.valLoss();
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "step %d: ", ck));
            if (here.isEmpty()) sb.append("no loss or gradient spikes");
            else {
                sb.append(here.size()).append(here.size() == 1 ? " spike (" : " spikes (");
                for (int i = 0; i < Math.min(3, here.size()); i++) {
                    Spike s = here.get(i);
                    sb.append(i > 0 ? ", " : "").append(String.format(Locale.ROOT, "%s %.3g at step %d, %s", s.metric().replace('_', ' '), s.value(), s.step(),
                            Double.isInfinite(s.z()) ? "after a constant window" : String.format(Locale.ROOT, "z %.0f", s.z())));
                }
                sb.append(here.size() > 3 ? ", ...)" : ")");
            }
            if (!Double.isNaN(val) && !Double.isNaN(prevVal)) {
                double change = (val - prevVal) / prevVal;
                sb.append(String.format(Locale.ROOT, "; validation loss %.4f, %s", val,
                        change < -0.005 ? String.format(Locale.ROOT, "improving (%.1f%%)", 100 * change)
                                : change > 0.005 ? String.format(Locale.ROOT, "WORSE (+%.1f%%)", 100 * change) : "flat (plateau?)"));
            } else if (!Double.isNaN(val)) {
                sb.append(String.format(Locale.ROOT, "; validation loss %.4f", val));
            }
            out.add(sb.toString());
            prev = ck;
            if (!Double.isNaN(val)) prevVal = val;
        }
        return out;
    }

    /** Validation loss at the last logged step at or before each point of s (NaN before the first). */
    public static double[] valLossAt(List<Row> rows, Series s) {
        double[] out = new double[s.points().size()];
        for (int i = 0; i < out.length; i++) {
            long step = s.points().get(i).step();
            double v = Double.NaN;
            for (Row row : rows) if (row.step() <= step && !Double.isNaN(row.valLoss())) v = row.valLoss();
            out[i] = v;
        }
        return out;
    }

    /**
     * Per checkpoint: metrics that got significantly worse (by more than Analysis.Z standard errors of
     * the difference; a fall where higher is better, a rise where lower is) since the previous
     * checkpoint while validation loss moved by less than half a percent: a capability lost that the
     * loss curve does not show. Metrics of unknown direction are not watched.
     */
    public static Map<Long, List<String>> worseWhileLossFlat(List<Row> rows, List<Series> watched, long[] checkpoints) {
        Map<Long, Double> val = new TreeMap<>();
        for (Row row : rows) if (!Double.isNaN(row.valLoss())) val.put(row.step(), row.valLoss());
        Map<Long, List<String>> out = new TreeMap<>();
        for (int i = 1; i < checkpoints.length; i++) {
            Double a = val.get(checkpoints[i - 1]), b = val.get(checkpoints[i]);
            if (a == null || b == null || Math.abs(b - a) / a >= 0.005) continue;
            for (Series s : watched) {
                MetricDirection dir = MetricDirection.of(s.metric());
                if (dir == MetricDirection.UNKNOWN) continue;
                Series.Point p = s.at(checkpoints[i - 1]), c = s.at(checkpoints[i]);
                if (p == null || c == null) continue;
                double se = Math.sqrt(sq(p.stderr()) + sq(c.stderr()));
                double worse = dir == MetricDirection.HIGHER_IS_BETTER ? p.value() - c.value() : c.value() - p.value();
                if (se > 0 && worse > Analysis.Z * se) {
                    out.computeIfAbsent(checkpoints[i], k -> new ArrayList<>()).add(String.format(Locale.ROOT,
                            "%s %s %s from %.4g to %.4g (%.1f standard errors worse) while validation loss was flat (%.4f -> %.4f)",
                            s.task(), s.metric(), c.value() < p.value() ? "fell" : "rose", p.value(), c.value(), worse / se, a, b));
                }
            }
        }
        return out;
    }

    private static double sq(double x) {
        return Double.isNaN(x) ? 0 : x * x;
    }
}
