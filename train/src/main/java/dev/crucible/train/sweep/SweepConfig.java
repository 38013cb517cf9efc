package dev.crucible.train.sweep;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * A sweep, as written in sweep.yaml: a base run config (base, relative to the sweep file), keys set
 * for every run (set: dotted key → value, e.g. a shorter training.steps), the seeds every variant
 * runs with, and the variants: a grid (dotted run-config key → the values it takes;
 * every combination is a variant) or a list of named variants (name → dotted key → value). baseline:
 * the variant the others are compared with (default: the first). out: the sweep directory.
 * eval: the tasks to evaluate every checkpoint of every run on, as `crucible eval --run` does (paths
 * in them, probes:DIR and task files, relative to the sweep file).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SweepConfig(String base, Map<String, Object> set, List<Long> seeds, Map<String, List<Object>> grid, Map<String, Map<String, Object>> variants, String baseline,
                          String out, Eval eval) {
    public SweepConfig {
        if (base == null || base.isBlank()) throw new IllegalArgumentException("base: missing (the run config every variant starts from)");
        if (set == null) set = Map.of();
        if (seeds == null) seeds = List.of(1337L);
        if (seeds.isEmpty()) throw new IllegalArgumentException("seeds: give at least one");
        if (seeds.stream().anyMatch(java.util.Objects::isNull)) throw new IllegalArgumentException("seeds: an empty entry");
        if (seeds.stream().distinct().count() != seeds.size()) throw new IllegalArgumentException("seeds: a seed appears twice: " + seeds);
        if (grid != null && variants != null) throw new IllegalArgumentException("variants: give a grid or named variants, not both");
        if (grid != null) {
            if (grid.isEmpty()) throw new IllegalArgumentException("grid: empty (give at least one key and its values)");
            grid.forEach((k, v) -> {
                if (v == null || v.isEmpty()) throw new IllegalArgumentException("grid." + k + ": no values");
            });
        }
        if (variants != null && variants.isEmpty()) throw new IllegalArgumentException("variants: empty (give at least one)");
        if (out == null) out = "runs/sweep";
    }

    /**
     * Evaluation of every checkpoint: tasks as `crucible eval --tasks` names them, their data directory,
     * examples per task (0 = all), and quantize: w4 to evaluate each checkpoint again with 4-bit weights
     * (the comparison's 4-bit gap).
     */
    public record Eval(List<String> tasks, String data, Integer limit, String quantize) {
        public Eval {
            if (tasks == null || tasks.isEmpty()) throw new IllegalArgumentException("tasks: give at least one (e.g. [induction])");
            if (limit == null) limit = 0;
            if (limit < 0) throw new IllegalArgumentException("limit: must be >= 0 (0 = all), got " + limit);
            if (quantize != null) dev.crucible.model.WeightQuantizer.named(quantize); // refused here, before any run, when it names no variant
        }
    }
}
