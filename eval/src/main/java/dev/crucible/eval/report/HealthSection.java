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
        h.append("<h3>Training health per checkpoint</h3><ul>");
        for (String v : verdicts(r)) h.append("<li").append(flagged(v) ? " class=bad" : "").append(">").append(esc(v)).append("</li>");
        h.append("</ul>\n");
    }

    /** The verdict of each checkpoint, with the capabilities that fell while validation loss was flat. */
    static List<String> verdicts(Run r) {
        if (r.metrics().isEmpty() || r.checkpointSteps().length == 0) return List.of();
        Map<Long, List<String>> falling = Stability.worseWhileLossFlat(r.metrics(), watched(r), r.checkpointSteps());
        List<String> verdicts = new java.util.ArrayList<>(Stability.verdicts(r.metrics(), r.checkpointSteps()));
        for (int i = 0; i < verdicts.size(); i++) {
            for (String f : falling.getOrDefault(r.checkpointSteps()[i], List.of())) verdicts.set(i, verdicts.get(i) + "; " + f);
        }
        return verdicts;
    }

    /** Whether a verdict flags the checkpoint (a spike, validation loss worse, a capability falling while loss is flat). */
    static boolean flagged(String verdict) {
        // "no loss or gradient spikes" is the one verdict without a spike: the word alone flagged every checkpoint
        return verdict.contains("WORSE") || !verdict.contains("no loss or gradient spikes") || verdict.contains("while validation loss was flat");
    }

    /**
     * The capabilities whose fall while loss is flat is reported: BLiMP's overall mean (its phenomena
     * and paradigms are too many to test one by one at 2 standard errors) and every other metric, but
     * the perplexities that restate bits per byte.
     */
    static List<dev.crucible.eval.analysis.Series> watched(Run r) {
        List<dev.crucible.eval.analysis.Series> out = new java.util.ArrayList<>();
        if (r.blimp() != null) out.add(r.blimp());
        for (var s : r.series()) {
            if (dev.crucible.eval.analysis.BlimpMeans.isParadigm(s) || s.metric().equals("byte_perplexity") || s.metric().equals("word_perplexity")) continue;
            out.add(s);
        }
        return out;
    }
}
