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

    /**
     * Which run keeps its deeper half contributing most, and which has the most heavy-tailed layer
     * (named only above excess kurtosis 1; ReLU makes light tails all 0). Non-finite values (a
     * diverged run) are left out.
     */
    static String sentence(List<Run> runs) {
        Run deepest = null, tailed = null;
        double bestDeep = Double.NEGATIVE_INFINITY, bestKurt = Double.NEGATIVE_INFINITY;
        for (Run r : runs) {
            int layers = 0;
            for (Run.LayerRow row : r.layers()) layers = Math.max(layers, row.layer() + 1);
            double[] ang = lastStep(r, layers, Run.LayerRow::angularDistance), kurt = lastStep(r, layers, Run.LayerRow::kurtosis);
            java.util.OptionalDouble deep = java.util.Arrays.stream(ang, layers / 2, layers).filter(Double::isFinite).average();
            java.util.OptionalDouble peak = java.util.Arrays.stream(kurt).filter(Double::isFinite).max();
            if (deep.isPresent() && deep.getAsDouble() > bestDeep) {
                bestDeep = deep.getAsDouble();
                deepest = r;
            }
            if (peak.isPresent() && peak.getAsDouble() > bestKurt) {
                bestKurt = peak.getAsDouble();
                tailed = r;
            }
        }
        String a = deepest == null ? "No run has finite layer contributions."
                : String.format(Locale.ROOT, "%s keeps its deeper half contributing most (mean angular distance %.3f).", deepest.name(), bestDeep);
        String k = tailed != null && bestKurt > HEAVY_TAIL
                ? String.format(Locale.ROOT, " %s has the most heavy-tailed layer output (excess kurtosis %.2f).", tailed.name(), bestKurt)
                : String.format(Locale.ROOT, " No run has a layer output with excess kurtosis above %.0f.", HEAVY_TAIL);
        return a + k;
    }

    static final double HEAVY_TAIL = 1;

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
