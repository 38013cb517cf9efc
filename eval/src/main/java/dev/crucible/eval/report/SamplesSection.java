package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Text sampled from each checkpoint (prompts in bold). */
final class SamplesSection implements Section.PerRun {
    @Override
    public void write(StringBuilder h, Run r) {
        if (r.generations().isEmpty()) return;
        h.append("<h3>Samples</h3>\n");
        for (Map.Entry<Long, List<Run.Generation>> e : new TreeMap<>(r.generations()).entrySet()) {
            h.append("<h4>step ").append(e.getKey()).append("</h4>\n");
            for (Run.Generation g : e.getValue()) {
                h.append("<pre><b>").append(esc(g.prompt())).append("</b>").append(esc(g.text())).append("</pre>\n");
            }
        }
    }
}
