package dev.crucible.eval.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Each task's headline metric, the one a comparison leads with (the rest stay in its JSON): for
 * multiple choice the length-normalised accuracy where the task has one (lm-evaluation-harness's
 * usual choice for PIQA, HellaSwag, ARC), else accuracy; for text, bits per byte; otherwise the task's
 * first metric of known direction (induction gain, the cloze log-probability, ...). BLiMP leads with
 * its overall mean, not its phenomena or paradigms.
 */
public final class Headline {
    private static final List<String> PREFERRED = List.of("acc_norm", "acc", "bits_per_byte");

    private Headline() {}

    /** The headline series of each task among series (already summarised: see {@link BlimpMeans#summarised}), in their order. */
    public static List<Series> of(List<Series> series) {
        Map<String, List<Series>> byTask = new LinkedHashMap<>();
        for (Series s : series) {
            if (s.task().startsWith("blimp:") || BlimpMeans.isParadigm(s)) continue;
            byTask.computeIfAbsent(s.task(), k -> new ArrayList<>()).add(s);
        }
        List<Series> out = new ArrayList<>();
        for (List<Series> task : byTask.values()) {
            Series pick = null;
            for (String m : PREFERRED) {
                for (Series s : task) if (pick == null && s.metric().equals(m)) pick = s;
            }
            for (Series s : task) if (pick == null && MetricDirection.known(s.metric())) pick = s;
            if (pick != null) out.add(pick);
        }
        return out;
    }
}
