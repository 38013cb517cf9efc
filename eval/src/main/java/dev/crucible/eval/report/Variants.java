package dev.crucible.eval.report;

import dev.crucible.eval.analysis.BlimpMeans;
import dev.crucible.eval.analysis.Headline;
import dev.crucible.eval.analysis.Series;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A sweep's runs grouped by variant: runs named VARIANT/seed-N (as `compare SWEEP_DIR` names them), in order of first appearance. */
record Variants(Map<String, List<Run>> byVariant) {
    private static final Pattern NAME = Pattern.compile("(.+)/seed-\\d+");

    /** The grouping, or an empty one unless every run is named VARIANT/seed-N and some variant has two seeds or more. */
    static Variants of(List<Run> runs) {
        Map<String, List<Run>> m = new LinkedHashMap<>();
        for (Run r : runs) {
            Matcher x = NAME.matcher(r.name());
            if (!x.matches()) return new Variants(Map.of());
            m.computeIfAbsent(x.group(1), k -> new ArrayList<>()).add(r);
        }
        return new Variants(m.values().stream().anyMatch(l -> l.size() >= 2) ? m : Map.of());
    }

    boolean isEmpty() {
        return byVariant.isEmpty();
    }

    /** Every run's headline capability metrics, as (task, metric) pairs in order of first appearance. */
    Set<List<String>> headlines() {
        Set<List<String>> out = new LinkedHashSet<>();
        for (List<Run> runs : byVariant.values()) {
            for (Run r : runs) for (Series s : Headline.of(r.summarisedSeries())) out.add(List.of(s.task(), s.metric()));
        }
        return out;
    }

    /** A run's summarised series of this task and metric (BLiMP's means included), or null. */
    static Series find(Run r, String task, String metric) {
        return find(r.summarisedSeries(), task, metric);
    }

    /** The same of the run's checkpoints with 4-bit weights (eval --quantize w4), or null. */
    static Series findQuantised(Run r, String task, String metric) {
        return find(BlimpMeans.summarised(r.name(), r.quantised()), task, metric);
    }

    private static Series find(List<Series> series, String task, String metric) {
        for (Series s : series) if (s.task().equals(task) && s.metric().equals(metric)) return s;
        return null;
    }
}
