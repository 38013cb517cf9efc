package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import dev.crucible.eval.analysis.Stability;
import java.util.List;
import java.util.Map;

/**
 * A verdict per checkpoint on training health: loss and gradient-norm spikes, the validation trend,
 * and capabilities that got worse while validation loss was flat.
 */
final class HealthSection implements Section.PerRun {
    @Override
    public void write(StringBuilder h, Run r) {
        if (r.metrics().isEmpty() || r.checkpointSteps().length == 0) return;
        Map<Long, List<String>> falling = Stability.worseWhileLossFlat(r.metrics(), r.summarisedSeries(), r.checkpointSteps());
        h.append("<h3>Training health per checkpoint</h3><ul>");
        List<String> verdicts = Stability.verdicts(r.metrics(), r.checkpointSteps());
        for (int i = 0; i < verdicts.size(); i++) {
            String v = verdicts.get(i);
            for (String f : falling.getOrDefault(r.checkpointSteps()[i], List.of())) v += "; " + f;
            boolean bad = v.contains("WORSE") || v.contains("spike") || v.contains("while validation loss was flat");
            h.append("<li").append(bad ? " class=bad" : "").append(">").append(esc(v)).append("</li>");
        }
        h.append("</ul>\n");
    }
}
