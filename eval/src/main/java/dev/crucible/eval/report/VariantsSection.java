package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import dev.crucible.eval.analysis.Analysis;
import dev.crucible.eval.analysis.MetricDirection;
import dev.crucible.eval.analysis.SeedStatistics;
import dev.crucible.eval.analysis.Series;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A sweep's variants side by side, each over its seeds: when each headline capability emerges (the
 * step in every seed), training health (checkpoints flagged of those written), the depth profile at
 * the last diagnosed step (the deeper half's mean contribution, the peak output kurtosis) and the
 * 4-bit gap of each headline metric at the last checkpoint evaluated both ways; means with the half-
 * width of their 95% interval over seeds. Shown for runs named VARIANT/seed-N ({@link Variants}).
 */
final class VariantsSection implements Section.Whole {

    @Override
    public void write(StringBuilder h, List<Run> runs, Path outDir) {
        Variants variants = Variants.of(runs);
        if (variants.isEmpty()) return;
        java.util.Set<List<String>> headlines = variants.headlines();
        List<List<String>> emerging = headlines.stream().filter(tm -> MetricDirection.of(tm.get(1)) == MetricDirection.HIGHER_IS_BETTER).toList();
        List<List<String>> quantised = headlines.stream().filter(tm -> variants.byVariant().values().stream().flatMap(List::stream)
                .anyMatch(r -> Variants.findQuantised(r, tm.get(0), tm.get(1)) != null)).toList();
        h.append("<h2>Variants side by side, over seeds</h2>\n<p>Emergence: the step at which each seed's score first exceeds its start (or chance) by ")
                .append(Analysis.Z).append(" standard errors and still does at the next checkpoint (– where it never does). Health: checkpoints with a ")
                .append("spike, a worse validation loss or a capability falling while loss was flat, of all checkpoints of the seeds. Layers at the last ")
                .append("diagnosed step: the deeper half's mean angular distance between a layer's input and output, and the largest excess kurtosis of ")
                .append("a layer's output. 4-bit gap: how much worse the checkpoint scores with 4-bit weights (positive is worse). Means ± the half-width ")
                .append("of the 95% interval over seeds.</p>\n<table><tr><th class=l>variant</th><th>seeds</th>");
        for (List<String> tm : emerging) h.append("<th>").append(esc(tm.get(0))).append(" emerges at step</th>");
        h.append("<th>checkpoints flagged</th><th>deeper half's contribution</th><th>peak kurtosis</th>");
        for (List<String> tm : quantised) h.append("<th>4-bit gap, ").append(esc(tm.get(0) + " " + tm.get(1))).append("</th>");
        h.append("</tr>\n");
        for (Map.Entry<String, List<Run>> v : variants.byVariant().entrySet()) {
            List<Run> seeds = v.getValue();
            h.append("<tr><td class=l>").append(esc(v.getKey())).append("</td><td>").append(seeds.size()).append("</td>");
            for (List<String> tm : emerging) {
                List<String> steps = new ArrayList<>();
                for (Run r : seeds) {
                    Series s = Variants.find(r, tm.get(0), tm.get(1));
                    if (s == null || s.points().isEmpty()) {
                        steps.add("");
                        continue;
                    }
                    double chance = s.chance();
                    long e = Analysis.emergence(s, Double.isNaN(chance) ? s.first().value() : chance);
                    steps.add(e < 0 ? "–" : Long.toString(e));
                }
                h.append("<td>").append(esc(String.join(", ", steps))).append("</td>");
            }
            int flagged = 0, total = 0;
            List<Double> deep = new ArrayList<>(), kurt = new ArrayList<>();
            for (Run r : seeds) {
                for (String verdict : HealthSection.verdicts(r)) {
                    total++;
                    if (HealthSection.flagged(verdict)) flagged++;
                }
                int layers = r.layers().stream().mapToInt(x -> x.layer() + 1).max().orElse(0);
                if (layers == 0) continue;
                double[] ang = LayersComparisonSection.lastStep(r, layers, Run.LayerRow::angularDistance);
                double[] k = LayersComparisonSection.lastStep(r, layers, Run.LayerRow::kurtosis);
                Arrays.stream(ang, layers / 2, layers).filter(Double::isFinite).average().ifPresent(deep::add);
                Arrays.stream(k).filter(Double::isFinite).max().ifPresent(kurt::add);
            }
            h.append("<td>").append(total == 0 ? "" : flagged + " of " + total).append("</td><td>").append(pm(deep, "%.3f")).append("</td><td>")
                    .append(pm(kurt, "%.2f")).append("</td>");
            for (List<String> tm : quantised) {
                List<Double> gaps = new ArrayList<>();
                for (Run r : seeds) {
                    Series full = Variants.find(r, tm.get(0), tm.get(1));
                    Series q = Variants.findQuantised(r, tm.get(0), tm.get(1));
                    if (full == null || q == null) continue;
                    for (int i = q.points().size() - 1; i >= 0; i--) {
                        Series.Point f = full.at(q.points().get(i).step());
                        if (f == null) continue;
                        gaps.add(QuantisationSection.worse(f.value(), q.points().get(i).value(), MetricDirection.lowerIsBetter(tm.get(1))));
                        break;
                    }
                }
                h.append("<td>").append(pm(gaps, "%.4f")).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    /** Mean ± the half-width of its 95% interval over seeds; the mean alone for one seed; empty for none. */
    private static String pm(List<Double> values, String format) {
        if (values.isEmpty()) return "";
        SeedStatistics.Estimate e = SeedStatistics.estimate(values, 0.95);
        return Double.isNaN(e.halfWidth()) ? String.format(Locale.ROOT, format, e.mean())
                : String.format(Locale.ROOT, format + " ± " + format, e.mean(), e.halfWidth());
    }
}
