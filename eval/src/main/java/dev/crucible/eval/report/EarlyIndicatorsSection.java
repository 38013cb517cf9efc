package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import dev.crucible.eval.analysis.EarlyIndicators;
import dev.crucible.eval.analysis.Series;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Across three or more runs: which metric, early, ranks the runs as their final score does. */
final class EarlyIndicatorsSection implements Section.Whole {
    @Override
    public void write(StringBuilder h, List<Run> runs, Path outDir) {
        if (runs.size() < 3) return;
        String target = null;
        for (String t : List.of("lambada_openai/acc", "cloze/target_logprob", "induction/induction_gain")) {
            String tt = t;
            if (runs.stream().allMatch(r -> r.series().stream().anyMatch(s -> (s.task() + "/" + s.metric()).equals(tt)))) {
                target = t;
                break;
            }
        }
        if (target == null) return;
        Map<String, List<Series>> byRun = new java.util.LinkedHashMap<>();
        for (Run r : runs) byRun.put(r.name(), r.series());
        List<EarlyIndicators.Indicator> ind = EarlyIndicators.rank(byRun, target, 0.1);
        if (ind.isEmpty()) return;
        h.append("<h2>Early indicators</h2><p>Which metric, read at 10% of each run's tokens, ranks the runs as their final ")
                .append(esc(target)).append(" does (Spearman ρ across ").append(runs.size()).append(" runs), and how often random pairings of the runs reach that ρ "
                        + "(one-sided p; Holm-adjusted over the ").append(ind.size()).append(" metrics ranked; with n runs no p is below 1/n!):</p>"
                        + "<table><tr><th class=l>metric</th><th>ρ</th><th>p</th><th>p, Holm</th></tr>\n");
        for (var i : ind.subList(0, Math.min(10, ind.size()))) {
            h.append("<tr><td class=l>").append(esc(i.metric())).append("</td><td>").append(String.format(Locale.ROOT, "%.2f</td><td>%.3g</td><td>%.3g", i.rho(), i.p(),
                    i.pHolm())).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }
}
