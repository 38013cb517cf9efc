package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import dev.crucible.eval.analysis.Groups;
import dev.crucible.eval.analysis.Series;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Metrics that move together over the checkpoints (ρ >= 0.8, complete linkage), and the held-out forecast. */
final class MetricGroupsSection implements Section.PerRun {
    @Override
    public void write(StringBuilder h, Run r) {
        List<Series> candidates = new ArrayList<>();
        for (Series s : r.summarisedSeries()) {
            if (s.metric().equals("byte_perplexity") || s.metric().equals("word_perplexity") || s.metric().equals("perplexity")) continue;
            candidates.add(s);
        }
        if (candidates.size() < 3 || r.checkpointSteps().length < 4) return;
        List<Groups.Group> groups = Groups.find(candidates, 0.8);
        h.append("<h3>Metrics that move together</h3>");
        List<String> unoriented = Groups.unoriented(candidates);
        if (!unoriented.isEmpty()) h.append("<p>Left out, as their direction (is higher better?) is unknown: ").append(esc(String.join(", ", unoriented))).append(".</p>\n");
        List<String> sparse = Groups.sparse(candidates);
        if (!sparse.isEmpty()) h.append("<p>Left out, as they lack checkpoints most metrics have: ").append(esc(String.join(", ", sparse))).append(".</p>\n");
        if (groups.isEmpty()) {
            h.append("<p>No two metrics correlate at ρ ≥ 0.8 over the checkpoints.</p>\n");
            return;
        }
        h.append("<table><tr><th class=l>group (every pair ρ ≥ 0.8)</th><th>weakest ρ</th><th class=l>held-out forecast: members the others predict better than their last value</th></tr>\n");
        for (Groups.Group g : groups) {
            String forecast = g.forecasts().isEmpty() ? "(needs three members)" : g.forecasts().stream().filter(Groups.Forecast::beatsNaive)
                    .count() + " of " + g.forecasts().size();
            h.append("<tr><td class=l>").append(esc(String.join(", ", g.members()))).append("</td><td>").append(String.format(Locale.ROOT, "%.2f", g.minRho()))
                    .append("</td><td class=l>").append(esc(forecast)).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }
}
