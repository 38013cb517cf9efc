package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import dev.crucible.eval.analysis.Series;
import dev.crucible.eval.analysis.Stability;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** One row per checkpoint: tokens, training FLOPs, validation loss and the main capabilities with their standard errors. */
final class CheckpointTable implements Section.PerRun {
    @Override
    public void write(StringBuilder h, Run r) {
        if (r.checkpointSteps().length == 0) return;
        List<Series> main = new ArrayList<>();
        Series blimp = r.blimp();
        if (blimp != null) main.add(blimp);
        for (String[] k : new String[][] {{"cloze", "target_logprob"}, {"icl_score", "loss_late_minus_early"}, {"induction", "induction_gain"}, {"lambada_openai", "acc"}}) {
            Series s = r.find(k[0], k[1]);
            if (s != null) main.add(s);
        }
        h.append("<h3>Checkpoints</h3><table><tr><th>step</th><th>tokens</th><th>FLOPs</th><th>val loss</th>");
        for (Series s : main) h.append("<th>").append(esc(s.task())).append("</th>");
        h.append("</tr>\n");
        for (long step : r.checkpointSteps()) {
            long tokens = -1;
            double val = Double.NaN;
            for (Stability.Row row : r.metrics()) {
                if (row.step() == step) tokens = row.tokens();
                if (row.step() <= step && !Double.isNaN(row.valLoss())) val = row.valLoss();
            }
            for (Series s : main) for (Series.Point p : s.points()) if (p.step() == step && tokens < 0) tokens = p.tokens();
            Double flops = r.flopsAtStep().get(step);
            h.append("<tr><td>").append(step).append("</td><td>").append(tokens < 0 ? "" : Chart.si(tokens)).append("</td><td>")
                    .append(flops == null ? "" : String.format(Locale.ROOT, "%.2e", flops)).append("</td><td>").append(Double.isNaN(val) ? "" : Html.fmt(val)).append("</td>");
            for (Series s : main) {
                Series.Point p = s.at(step);
                h.append("<td>").append(p == null ? "" : Html.fmt(p.value()) + (Double.isNaN(p.stderr()) ? "" : " ± " + Html.fmt(p.stderr()))).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }
}
