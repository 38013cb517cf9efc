package dev.crucible.eval.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.crucible.data.JsonlTable;
import dev.crucible.eval.analysis.BlimpMeans;
import dev.crucible.eval.analysis.Series;
import dev.crucible.eval.analysis.Stability;
import dev.crucible.eval.analysis.Trajectories;
import dev.crucible.model.ModelConfig;
import dev.crucible.train.RunConfig;
import dev.crucible.train.RunConfigs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What a report knows of one run: its training metrics, its evaluation series, its checkpoints, the
 * training FLOPs at each, sampled generations, and a line describing it. Read from a run directory
 * ({@link #read}) or from published lm-evaluation-harness results ({@link #fromLmEval}).
 */
public record Run(String name, Path dir, List<Stability.Row> metrics, List<Series> series, long[] checkpointSteps,
                  Map<Long, Double> flopsAtStep, Map<Long, List<Generation>> generations, String description, List<LayerRow> layers,
                  List<Series> quantised) {

    /** The suffix results tables give the tasks of the checkpoints' 4-bit variant (eval --quantize w4). */
    public static final String W4 = "@w4";

    public record Generation(String prompt, String text) {}

    /** One row of diagnostics.jsonl: a layer at a diagnosed step. */
    public record LayerRow(long step, long tokens, int layer, double gradNorm, double updateRatio, double angularDistance, double kurtosis) {}

    /** Reads a run directory: metrics.jsonl, eval/results.jsonl, checkpoints/, config.yaml. */
    public static Run read(Path dir, Map<Long, List<Generation>> generations) throws IOException {
        Path metrics = dir.resolve("metrics.jsonl"), results = dir.resolve("eval").resolve("results.jsonl");
        if (!Files.exists(metrics) && !Files.exists(results)) throw new IOException(dir + ": neither metrics.jsonl nor eval/results.jsonl: not a run directory");
        List<Stability.Row> rows = Files.exists(metrics) ? Stability.read(metrics) : List.of();
        List<Series> all = Files.exists(results) ? Trajectories.fromResultsJsonl(results) : List.of();
        // the 4-bit variant's series stand apart (under their tasks' own names), so no mean or chart mixes them in
        List<Series> series = new java.util.ArrayList<>(), quantised = new java.util.ArrayList<>();
        for (Series s : all) {
            if (!s.task().endsWith(W4)) series.add(s);
            else quantised.add(new Series(s.run(), s.task().substring(0, s.task().length() - W4.length()), s.metric(), s.chance(), s.points()));
        }
        Map<Long, Double> flops = new TreeMap<>();
        if (Files.exists(results)) {
            for (JsonlTable.Row row : JsonlTable.read(results)) {
                JsonNode r = row.value();
                if (r.path("flops").isNumber()) flops.put(r.get("step").asLong(), r.get("flops").asDouble());
            }
        }
        long[] steps;
        Path cks = dir.resolve("checkpoints");
        if (Files.isDirectory(cks)) {
            try (Stream<Path> s = Files.list(cks)) {
                steps = s.map(p -> p.getFileName().toString()).filter(n -> n.matches("step-\\d+")).mapToLong(n -> Long.parseLong(n.substring(5))).sorted().toArray();
            }
        } else {
            steps = series.stream().flatMap(x -> x.points().stream()).mapToLong(Series.Point::step).distinct().sorted().toArray();
        }
        String name = dir.toAbsolutePath().normalize().getFileName().toString();
        Path parent = dir.toAbsolutePath().normalize().getParent();
        if (name.equals("run") && parent != null) name = parent.getFileName().toString();
        else if (name.matches("seed-\\d+") && parent != null) name = parent.getFileName() + "/" + name; // a sweep's variant/seed-N
        List<LayerRow> layers = new java.util.ArrayList<>();
        Path diagnostics = dir.resolve("diagnostics.jsonl");
        if (Files.exists(diagnostics)) {
            for (JsonlTable.Row row : JsonlTable.read(diagnostics)) {
                JsonNode r = row.value();
                layers.add(new LayerRow(r.path("step").asLong(), r.path("tokens").asLong(), r.path("layer").asInt(), r.path("grad_norm").asDouble(Double.NaN),
                        r.path("update_ratio").asDouble(Double.NaN), r.path("angular_distance").asDouble(Double.NaN), r.path("kurtosis").asDouble(Double.NaN)));
            }
        }
        return new Run(name, dir, rows, List.copyOf(series), steps, flops, generations == null ? Map.of() : generations,
                describe(dir.resolve("config.yaml")), List.copyOf(layers), List.copyOf(quantised));
    }

    /** The model and the training in one line, from the run's resolved config. */
    private static String describe(Path cfgFile) {
        if (!Files.exists(cfgFile)) return "";
        RunConfig c;
        ModelConfig m;
        try {
            c = RunConfigs.readSaved(cfgFile);
            m = c.model().resolve();
        } catch (IllegalArgumentException e) {
            return "config.yaml not readable by this version: " + e.getMessage();
        }
        return String.format(Locale.ROOT, "%s-style, %d layers, d_model %d, %d heads, vocabulary %d, context %d; %d steps of %d sequences x %d tokens, %s lr %s (%s)",
                m.style().id(), m.nLayer(), m.dModel(), m.nHead(), m.vocabSize(), m.contextLength(), c.training().steps(), c.training().microBatch(),
                c.training().seqLen(), c.optimizer().name(), c.optimizer().lr(), c.schedule().kind());
    }

    /**
     * A run known only from lm-evaluation-harness result files (e.g. Pythia's): its series, and, with a
     * parameter count, training FLOPs as 6 x parameters x tokens, so runs of different sizes align on compute.
     */
    public static Run fromLmEval(Path dir, String name, long tokensPerStep, long params) throws IOException {
        List<Series> series = Trajectories.fromLmEval(dir, name, tokensPerStep);
        long[] steps = series.stream().flatMap(x -> x.points().stream()).mapToLong(Series.Point::step).distinct().sorted().toArray();
        Map<Long, Double> flops = new TreeMap<>();
        if (params > 0) for (long st : steps) flops.put(st, 6.0 * params * st * tokensPerStep);
        return new Run(name, dir, List.of(), series, steps, flops, Map.of(),
                "lm-evaluation-harness results" + (params > 0 ? String.format(Locale.ROOT, ", %,d parameters", params) : ""), List.of(), List.of());
    }

    /** The series of one task and metric, or null. */
    public Series find(String task, String metric) {
        for (Series s : series) if (s.task().equals(task) && s.metric().equals(metric)) return s;
        return null;
    }

    /** Mean BLiMP accuracy over paradigms, or null when the run has none. */
    public Series blimp() {
        return BlimpMeans.overall(name, series);
    }

    public List<Series> blimpPhenomena() {
        return BlimpMeans.phenomena(name, series);
    }

    /** The series a report shows one by one: BLiMP as its means (not 67 paradigms), then every other series. */
    public List<Series> summarisedSeries() {
        return BlimpMeans.summarised(name, series);
    }

    /** Training FLOPs per token (from the results table), or NaN when unknown. */
    public double flopsPerToken() {
        for (Series s : series) {
            for (Series.Point p : s.points()) {
                Double f = flopsAtStep.get(p.step());
                if (f != null && p.tokens() > 0) return f / p.tokens();
            }
        }
        return Double.NaN;
    }
}
