package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import dev.crucible.eval.analysis.Analysis;
import dev.crucible.eval.analysis.BlimpMeans;
import dev.crucible.eval.analysis.MetricDirection;
import dev.crucible.eval.analysis.Series;
import dev.crucible.eval.analysis.Stability;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** "In short": plain sentences per run on loss, each capability's verdict, BLiMP's phenomena, bits per byte and health. */
final class SummarySection implements Section.Whole {
    @Override
    public void write(StringBuilder h, List<Run> runs, Path outDir) {
        h.append("<h2>In short</h2>\n<ul>");
        for (Run r : runs) for (String s : summary(r)) h.append("<li>").append(runs.size() > 1 ? "<b>" + esc(r.name()) + "</b>: " : "").append(esc(s)).append("</li>");
        h.append("</ul>\n");
    }

    /** Plain sentences: loss, each probe's verdict, health. */
    static List<String> summary(Run r) {
        List<String> out = new ArrayList<>();
        List<Stability.Row> val = r.metrics().stream().filter(x -> !Double.isNaN(x.valLoss())).toList();
        if (val.size() >= 2) {
            out.add(String.format(Locale.ROOT, "Validation loss fell from %.3f (untrained) to %.3f after %s tokens (step %d).", val.getFirst().valLoss(),
                    val.getLast().valLoss(), Chart.si(val.getLast().tokens()), val.getLast().step()));
        }
        for (Series s : r.series()) {
            if (BlimpMeans.isParadigm(s) || s.points().size() < 2) continue;
            if (MetricDirection.of(s.metric()) != MetricDirection.HIGHER_IS_BETTER) continue;
            double chance = s.chance();
            out.add(s.task() + " " + s.metric() + " " + Analysis.verdict(s, Double.isNaN(chance) ? s.first().value() : chance) + ".");
        }
        Series blimp = r.blimp();
        if (blimp != null && blimp.points().size() >= 2) {
            out.add("BLiMP (mean of paradigms) " + Analysis.verdict(blimp, 0.5) + ".");
            List<String> above = new ArrayList<>(), not = new ArrayList<>();
            double z = Analysis.threshold(r.blimpPhenomena().size()); // twelve phenomena tested at once
            for (Series ph : r.blimpPhenomena()) {
                Series.Point last = ph.last();
                String name = ph.task().substring(6).replace('_', ' ');
                if (last.value() - 0.5 > z * last.stderr()) {
                    long at = Analysis.emergence(ph, 0.5);
                    above.add(name + String.format(Locale.ROOT, " (%.2f ± %.2f%s)", last.value(), last.stderr(), at >= 0 ? ", rising from step " + at : ""));
                } else {
                    not.add(name);
                }
            }
            if (!above.isEmpty()) out.add("BLiMP phenomena significantly above chance at the last checkpoint: " + String.join("; ", above) + ".");
            if (!not.isEmpty()) out.add("BLiMP phenomena not significantly above chance at the last checkpoint: " + String.join(", ", not) + ".");
        }
        List<Series> bpb = r.series().stream().filter(s -> s.task().startsWith("bpb_") && s.metric().equals("bits_per_byte") && s.points().size() >= 2).toList();
        if (!bpb.isEmpty()) {
            Series best = bpb.stream().min((a, b) -> Double.compare(a.last().value(), b.last().value())).get();
            Series worst = bpb.stream().max((a, b) -> Double.compare(a.last().value(), b.last().value())).get();
            out.add(String.format(Locale.ROOT, "Held-out bits per byte ends lowest on %s (%.2f) and highest on %s (%.2f), over %d domains.", best.task().substring(4),
                    best.last().value(), worst.task().substring(4), worst.last().value(), bpb.size()));
        }
        if (!r.metrics().isEmpty() && r.checkpointSteps().length > 0) {
            List<Stability.Spike> spikes = Stability.spikes(r.metrics());
            out.add(spikes.isEmpty() ? "No loss or gradient-norm spikes." : spikes.size() + " loss or gradient-norm spike(s); see the health table.");
        }
        return out;
    }
}
