package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Two or more recipes' layers side by side: each run's per-layer contribution (angular distance) and
 * output kurtosis at its last diagnosed step, a row per run, so that what a normaliser placement or an
 * outlier-safe option does to the depth profile reads across one table (the per-run heat maps show
 * the same over time).
 */
final class LayersComparisonSection implements Section.Whole {

    @Override
    public void write(StringBuilder h, List<Run> runs, Path outDir) {
        List<Run> diagnosed = runs.stream().filter(r -> !r.layers().isEmpty()).toList();
        if (diagnosed.size() < 2) return;
        int layers = 0;
        for (Run r : diagnosed) for (Run.LayerRow row : r.layers()) layers = Math.max(layers, row.layer() + 1);
        h.append("<h2>Layers, run by run</h2>\n<p>At each run's last diagnosed step. ").append(esc(sentence(diagnosed))).append("</p>\n");
        table(h, diagnosed, layers, "Layer contribution: angular distance between a layer's input and output", Run.LayerRow::angularDistance, "%.3f");
        table(h, diagnosed, layers, "Excess kurtosis of each layer's output", Run.LayerRow::kurtosis, "%.2f");
    }

    /** Rows of run r at its last diagnosed step, by layer (NaN where the run has no such layer). */
    static double[] lastStep(Run r, int layers, ToDoubleFunction<Run.LayerRow> metric) {
        long last = lastStep(r);
        double[] v = new double[layers];
        java.util.Arrays.fill(v, Double.NaN);
        for (Run.LayerRow row : r.layers()) if (row.step() == last) v[row.layer()] = metric.applyAsDouble(row);
        return v;
    }

    private static long lastStep(Run r) {
        long last = Long.MIN_VALUE;
        for (Run.LayerRow row : r.layers()) last = Math.max(last, row.step());
        return last;
    }

    /** Which run keeps its deeper half contributing most, and which has the most heavy-tailed layer. */
    static String sentence(List<Run> runs) {
        Run deepest = null, tailed = null;
        double bestDeep = -1, bestKurt = -1;
        for (Run r : runs) {
            int layers = 0;
            for (Run.LayerRow row : r.layers()) layers = Math.max(layers, row.layer() + 1);
            double[] ang = lastStep(r, layers, Run.LayerRow::angularDistance), kurt = lastStep(r, layers, Run.LayerRow::kurtosis);
            double deep = 0;
            for (int l = layers / 2; l < layers; l++) deep += ang[l] / (layers - layers / 2);
            double peak = java.util.Arrays.stream(kurt).max().orElse(0);
            if (deep > bestDeep) {
                bestDeep = deep;
                deepest = r;
            }
            if (peak > bestKurt) {
                bestKurt = peak;
                tailed = r;
            }
        }
        return String.format(Locale.ROOT, "%s keeps its deeper half contributing most (mean angular distance %.3f); %s has the most heavy-tailed layer output (excess kurtosis %.2f).",
                deepest.name(), bestDeep, tailed.name(), bestKurt);
    }

    private static void table(StringBuilder h, List<Run> runs, int layers, String title, ToDoubleFunction<Run.LayerRow> metric, String format) {
        h.append("<table><caption>").append(esc(title)).append("</caption><tr><th class=l>run</th><th>step</th>");
        for (int l = 0; l < layers; l++) h.append("<th>layer ").append(l).append("</th>");
        h.append("</tr>\n");
        for (Run r : runs) {
            h.append("<tr><td class=l>").append(esc(r.name())).append("</td><td>").append(lastStep(r)).append("</td>");
            for (double v : lastStep(r, layers, metric)) h.append("<td>").append(Double.isNaN(v) ? "" : String.format(Locale.ROOT, format, v)).append("</td>");
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }
}
