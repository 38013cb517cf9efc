package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import dev.crucible.eval.analysis.Analysis;
import dev.crucible.eval.analysis.MetricDirection;
import dev.crucible.eval.analysis.Series;
import dev.crucible.eval.analysis.Stability;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One row per capability metric: chance, first, best and final value, the final value normalised
 * against chance, when it emerges, its rank correlation with validation loss, and a verdict.
 */
final class CapabilityTable implements Section.PerRun {
    @Override
    public void write(StringBuilder h, Run r) {
        List<Series> rows = new ArrayList<>();
        for (Series s : r.summarisedSeries()) if (!s.metric().equals("byte_perplexity") && !s.metric().equals("word_perplexity")) rows.add(s);
        if (rows.isEmpty()) return;
        h.append("<table><tr><th class=l>task</th><th class=l>metric</th><th>chance</th><th>first</th><th>best</th><th>at step</th><th>final</th>")
                .append("<th>final, normalised</th><th>emerges at step</th><th>ρ with val loss</th><th class=l>verdict</th></tr>\n");
        for (Series s : rows) {
            var direction = MetricDirection.of(s.metric());
            boolean lower = direction != MetricDirection.HIGHER_IS_BETTER;
            double chance = s.chance();
            Series.Point best = s.first();
            for (Series.Point p : s.points()) if (lower ? p.value() < best.value() : p.value() > best.value()) best = p;
            double rho = Analysis.spearman(s.values(), Stability.valLossAt(r.metrics(), s));
            String verdict;
            long emerges = -1;
            if (direction == MetricDirection.UNKNOWN) {
                verdict = String.format(Locale.ROOT, "direction unknown (not a metric Crucible or lm-evaluation-harness is known to report): from %.4g to %.4g",
                        s.first().value(), s.last().value());
            } else if (lower) {
                verdict = String.format(Locale.ROOT, "%s from %.4g to %.4g", s.last().value() < s.first().value() ? "improves" : "does not improve", s.first().value(), s.last().value());
            } else {
                double base = Double.isNaN(chance) ? s.first().value() : chance;
                emerges = Analysis.emergence(s, base);
                verdict = Analysis.verdict(s, base);
            }
            boolean decline = !lower && Analysis.peak(s).significantDecline();
            h.append("<tr><td class=l>").append(esc(s.task())).append("</td><td class=l>").append(esc(s.metric())).append("</td><td>")
                    .append(Double.isNaN(chance) ? "" : Html.fmt(chance)).append("</td><td>").append(Html.fmt(s.first().value())).append("</td><td>").append(Html.fmt(best.value()))
                    .append("</td><td>").append(direction == MetricDirection.UNKNOWN ? "" : Long.toString(best.step())).append("</td><td>").append(Html.fmt(s.last().value())).append("</td><td>")
                    // (score − chance) / (max − chance): 0 at chance, 1 perfect; for accuracies, whose maximum is 1
                    .append(!Double.isNaN(chance) && s.metric().startsWith("acc") ? String.format(Locale.ROOT, "%.3f", Analysis.normalised(s.last().value(), chance, 1)) : "")
                    .append("</td><td>").append(lower ? "" : emerges < 0 ? "–" : Long.toString(emerges)).append("</td><td>").append(Double.isNaN(rho) ? "" : String.format(Locale.ROOT, "%.2f", rho))
                    .append("</td><td class=l").append(decline ? " style=\"color:#b00020\"" : "").append(">").append(esc(verdict)).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }
}
