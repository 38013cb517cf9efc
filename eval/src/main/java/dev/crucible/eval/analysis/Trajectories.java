package dev.crucible.eval.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.JsonlTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Loads checkpoint series: lm-evaluation-harness result files (v0.3 keys "acc"/"acc_stderr" as in
 * Pythia's published evals, or v0.4 "acc,none"/"acc_stderr,none"), one file per checkpoint with the
 * step in its name or in model_args' revision=stepN; and Crucible's eval/results.jsonl.
 */
public final class Trajectories {
    private Trajectories() {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern STEP = Pattern.compile("step[_-]?(\\d+)");

    /** Every *.json under dir (recursively) as a checkpoint of run; tokens = step · tokensPerStep. */
    public static List<Series> fromLmEval(Path dir, String run, long tokensPerStep) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        if (files.isEmpty()) throw new IOException(dir + ": no lm-evaluation-harness result files (*.json)");
        Map<String, List<Series.Point>> byKey = new TreeMap<>();
        for (Path f : files) {
            JsonNode root;
            try {
                root = JSON.readTree(f.toFile());
            } catch (IOException e) {
                throw new IOException(f + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
            }
            JsonNode results = root.path("results");
            if (!results.isObject()) throw new IOException(f + ": no \"results\" object (not an lm-evaluation-harness result file)");
            long step = step(f, root);
            for (var t = results.fields(); t.hasNext(); ) {
                var task = t.next();
                for (var m = task.getValue().fields(); m.hasNext(); ) {
                    var metric = m.next();
                    String name = metric.getKey().replace(",none", "");
                    if (name.endsWith("_stderr") || !metric.getValue().isNumber()) continue;
                    JsonNode se = task.getValue().get(metric.getKey().replace(",none", "") + "_stderr");
                    if (se == null) se = task.getValue().get(name + "_stderr,none");
                    double stderr = se != null && se.isNumber() ? se.asDouble() : Double.NaN;
                    byKey.computeIfAbsent(task.getKey() + "\u0000" + name, k -> new ArrayList<>())
                            .add(new Series.Point(step, step * tokensPerStep, metric.getValue().asDouble(), stderr));
                }
            }
        }
        List<Series> out = new ArrayList<>();
        byKey.forEach((k, pts) -> {
            pts.sort(Comparator.comparingLong(Series.Point::step));
            String[] tm = k.split("\u0000");
            out.add(new Series(run, tm[0], tm[1], Analysis.chance(tm[0], tm[1]), List.copyOf(pts)));
        });
        return out;
    }

    private static long step(Path f, JsonNode root) throws IOException {
        Matcher m = STEP.matcher(f.getFileName().toString());
        if (m.find()) return Long.parseLong(m.group(1));
        m = STEP.matcher(root.path("config").path("model_args").asText(""));
        if (m.find()) return Long.parseLong(m.group(1));
        throw new IOException(f + ": cannot tell the checkpoint's step (no 'stepN' in the file name or in config.model_args)");
    }

    /** Crucible's flat table (eval/results.jsonl): run, step, tokens, task, metric, value, stderr, chance. */
    public static List<Series> fromResultsJsonl(Path file) throws IOException {
        Map<String, List<Series.Point>> byKey = new TreeMap<>();
        Map<String, Double> chance = new TreeMap<>();
        for (JsonlTable.Row row : JsonlTable.read(file)) {
            JsonNode r = row.value();
            for (String k : new String[] {"run", "step", "task", "metric", "value"}) {
                if (!r.has(k)) throw new IOException(file + ":" + row.line() + ": missing '" + k + "'");
            }
            double se = r.path("stderr").isNumber() ? r.get("stderr").asDouble() : Double.NaN;
            // a variant of the checkpoints (w4: quantised weights) is its own series, task@variant
            String task = r.get("task").asText() + (r.path("variant").isTextual() ? "@" + r.get("variant").asText() : "");
            String key = r.get("run").asText() + "\u0000" + task + "\u0000" + r.get("metric").asText();
            // tables written before rows carried it: the chance levels of lm-evaluation-harness's tasks by name
            chance.put(key, r.path("chance").isNumber() ? r.get("chance").asDouble() : Analysis.chance(r.get("task").asText(), r.get("metric").asText()));
            byKey.computeIfAbsent(key, x -> new ArrayList<>())
                    .add(new Series.Point(r.get("step").asLong(), r.path("tokens").asLong(-1), r.get("value").asDouble(), se));
        }
        List<Series> out = new ArrayList<>();
        byKey.forEach((k, pts) -> {
            pts.sort(Comparator.comparingLong(Series.Point::step));
            String[] p = k.split("\u0000");
            out.add(new Series(p[0], p[1], p[2], chance.get(k), List.copyOf(pts)));
        });
        return out;
    }
}
