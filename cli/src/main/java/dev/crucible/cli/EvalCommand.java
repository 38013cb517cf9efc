package dev.crucible.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.JsonlTable;
import dev.crucible.eval.Evaluator;
import dev.crucible.eval.Metric;
import dev.crucible.eval.Task;
import dev.crucible.eval.Tasks;
import dev.crucible.io.AtomicWrite;
import dev.crucible.tensor.WorkerPool;
import dev.crucible.train.Checkpoints;
import dev.crucible.train.tensorboard.EventFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true, subcommands = EvalCommand.Download.class,
        description = {"Evaluate a checkpoint, or every checkpoint of a run, on downstream tasks (lm-evaluation-harness semantics).",
                "Tasks: blimp (67 minimal-pair paradigms; or blimp_<paradigm>), lambada_openai (last-word accuracy and perplexity), piqa, "
                        + "hellaswag, arc_easy, arc_challenge (multiple choice), wikitext (bits per byte), induction (built in), "
                        + "probes:DIR (held-out probes of a tokenized corpus: per-domain bits per byte, cloze, in-context learning), FILE.yaml (tasks declared in YAML).",
                "With --run, writes <run>/eval/step-NNNNNNN.json per checkpoint (lm-evaluation-harness results shape) and appends to "
                        + "<run>/eval/results.jsonl (run, step, tokens, flops, [variant,] task, group, metric, chance, value, stderr, n); checkpoints already evaluated are skipped."})
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", description = "A model directory to evaluate.")
    Path checkpoint;
    @Option(names = "--run", description = "A run directory: evaluate each of its checkpoints not evaluated yet.")
    Path run;
    @Option(names = "--tasks", defaultValue = "blimp,lambada_openai", split = ",", description = "Tasks (default ${DEFAULT-VALUE}).")
    List<String> tasks;
    @Option(names = "--data", description = "Directory with the task data (laid out as ../shared/data: blimp/, lambada_openai/); not needed for induction and probes:DIR.")
    Path data;
    @Option(names = "--limit", defaultValue = "0", description = "Examples per task (0 = all).")
    int limit;
    @Option(names = "--batch", defaultValue = "8", description = "Sequences of the model's context length per forward pass; shorter requests are packed "
            + "into as many rows as those positions hold (scores do not depend on it).")
    int batch;
    @Option(names = "--threads", defaultValue = "0", description = "Worker threads (0 = all cores).")
    int threads;
    @Option(names = "--out", description = "With --checkpoint: where to write the results JSON (default: print a table only).")
    Path out;
    @Option(names = "--follow", description = "With --run: keep evaluating new checkpoints as a run in progress writes them, until its last step is evaluated.")
    boolean follow;
    @Option(names = "--poll-seconds", defaultValue = "30", description = "With --follow: how often to look for new checkpoints (default ${DEFAULT-VALUE}).")
    int pollSeconds;
    @Option(names = "--quantize", paramLabel = "w4", description = "Evaluate the checkpoints with their hidden matrices quantised to 4 bits (round to nearest, "
            + "symmetric per output channel, clip search; embeddings and LM head in full precision, as the Outlier-Safe Pre-Training paper "
            + "evaluates): rows of results.jsonl carry variant w4 beside the full-precision ones.")
    String quantize;
    @Option(names = "--log-samples", description = "Also write each example's record (lm-evaluation-harness's samples_TASK_DATE.jsonl: doc, "
            + "arguments, responses with log-likelihoods, per-example metrics): with --run under <run>/eval/samples/step-NNNNNNN/, with "
            + "--checkpoint beside --out.")
    boolean logSamples;

    @Override
    public Integer call() throws Exception {
        if ((checkpoint == null) == (run == null)) throw new UserError("give either --checkpoint DIR or --run RUN");
        dev.crucible.model.WeightQuantizer quantizer;
        try {
            quantizer = quantize == null ? null : dev.crucible.model.WeightQuantizer.named(quantize);
        } catch (IllegalArgumentException e) {
            throw new UserError("--" + e.getMessage());
        }
        List<Task> ts = Tasks.load(data, tasks);
        try (WorkerPool pool = new WorkerPool(WorkerPool.threadsFor(threads))) {
            if (checkpoint != null) {
                if (logSamples && out == null) throw new UserError("--log-samples with --checkpoint writes beside --out: give --out FILE");
                Path samples = logSamples ? out.toAbsolutePath().getParent() : null;
                List<Evaluator.TaskResult> r = Evaluator.evaluate(checkpoint, ts, limit, batch, pool, quantizer, samples);
                print(r);
                if (out != null) Evaluator.write(out, Evaluator.resultsJson(checkpoint, r, quantize == null ? Map.of() : Map.of("crucible", Map.of("variant", quantize))));
                return 0;
            }
            evaluateRun(run, ts, limit, batch, pool, System.out, quantize, quantizer, logSamples);
            if (follow) {
                if (!Files.exists(run.resolve("config.yaml"))) throw new UserError(run + ": no config.yaml: --follow needs a run directory the trainer writes");
                Path cks = run.resolve("checkpoints");
                Files.createDirectories(cks);
                try (java.nio.file.WatchService watch = cks.getFileSystem().newWatchService()) {
                    cks.register(watch, java.nio.file.StandardWatchEventKinds.ENTRY_CREATE);
                    // until the run is over (its last step, or eval.stop_below) and its newest checkpoint is evaluated
                    while (!(dev.crucible.train.Trainer.finished(run) && Files.exists(resultFile(run, Checkpoints.list(run).getLast(), quantize)))) {
                        // a run in progress: wake when the trainer renames a finished checkpoint into place (or at the poll interval)
                        java.nio.file.WatchKey key = watch.poll(pollSeconds, java.util.concurrent.TimeUnit.SECONDS);
                        if (key != null) {
                            key.pollEvents();
                            key.reset();
                        }
                        evaluateRun(run, ts, limit, batch, pool, System.out, quantize, quantizer, logSamples);
                    }
                }
                System.out.println("followed " + run + " to its last checkpoint (" + Checkpoints.state(Checkpoints.list(run).getLast()).step() + ")");
            }
        }
        return 0;
    }

    /**
     * Evaluates every checkpoint of the run that has no results yet, oldest first: lm-eval-shaped
     * JSON per checkpoint (written last: its presence marks the checkpoint done) and rows of the
     * flat table eval/results.jsonl. Returns the number of checkpoints evaluated.
     */
    static int evaluateRun(Path run, List<Task> ts, int limit, int batch, WorkerPool pool, java.io.PrintStream log) throws java.io.IOException {
        return evaluateRun(run, ts, limit, batch, pool, log, null, null, false);
    }

    /** As above for a variant of the checkpoints (variant "w4" with its quantizer; null: as trained). */
    static int evaluateRun(Path run, List<Task> ts, int limit, int batch, WorkerPool pool, java.io.PrintStream log, String variant,
                           dev.crucible.model.WeightQuantizer quantizer, boolean logSamples) throws java.io.IOException {
        List<Path> todo = new ArrayList<>();
        for (Path ck : Checkpoints.list(run)) if (!Files.exists(resultFile(run, ck, variant))) todo.add(ck);
        if (todo.isEmpty()) {
            log.println("every checkpoint of " + run + " is evaluated (" + run.resolve("eval") + ")");
            return 0;
        }
        long t0 = System.nanoTime();
        // TensorBoard: eval/TASK/METRIC (eval_w4/... for a variant) at the checkpoint's step, in <run>/eval (a run of its own for
        // TensorBoard: its loader follows one growing file per directory, and the trainer may be writing its own at the same time)
        try (EventFile events = new EventFile(run.resolve("eval"), variant == null ? "eval" : "eval_" + variant)) {
            for (int i = 0; i < todo.size(); i++) {
                Path ck = todo.get(i);
                Map<String, Object> meta = stepAndTokens(ck);
                if (variant != null) meta.put("variant", variant);
                Path samples = logSamples ? run.resolve("eval").resolve("samples").resolve(ck.getFileName() + (variant == null ? "" : "." + variant)) : null;
                List<Evaluator.TaskResult> r = Evaluator.evaluate(ck, ts, limit, batch, pool, quantizer, samples);
                Map<String, Object> extra = new LinkedHashMap<>();
                extra.put("crucible", meta);
                appendRows(run.resolve("eval").resolve("results.jsonl"), run, meta, r);
                Evaluator.write(resultFile(run, ck, variant), Evaluator.resultsJson(ck, r, extra));
                long step = ((Number) meta.get("step")).longValue();
                for (Evaluator.TaskResult tr : r) {
                    for (Metric m : tr.metrics()) events.scalar((variant == null ? "eval/" : "eval_" + variant + "/") + tr.task().name() + "/" + m.name(), step, m.value());
                }
                double elapsed = (System.nanoTime() - t0) / 1e9;
                log.printf(Locale.ROOT, "%s (%d/%d) %s | ETA %.0fs%n", ck.getFileName(), i + 1, todo.size(), summary(r), elapsed / (i + 1) * (todo.size() - i - 1));
            }
        }
        return todo.size();
    }

    /** The step a run ends at, from its config.yaml. */
    private static Path resultFile(Path run, Path ck, String variant) {
        return run.resolve("eval").resolve(ck.getFileName() + (variant == null ? "" : "." + variant) + ".json");
    }

    private static Map<String, Object> stepAndTokens(Path ck) throws java.io.IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        Path state = ck.resolve("trainer_state.json");
        if (Files.exists(state)) {
            JsonNode s = new ObjectMapper().readTree(state.toFile());
            m.put("step", s.path("step").asLong());
            m.put("tokens", s.path("tokens").asLong());
            if (s.path("flops").isNumber()) {
                m.put("flops", s.get("flops").asDouble()); // what the trainer counted (ParamLayout.flopsPerToken at its sequence length)
            } else { // a checkpoint from before the trainer recorded FLOPs: assume it trained at the full context
                try (dev.crucible.model.HfCheckpoint hf = dev.crucible.model.HfCheckpoint.open(ck)) {
                    dev.crucible.model.ModelConfig c = hf.config();
                    m.put("flops", new dev.crucible.model.ParamLayout(c).flopsPerToken(c.contextLength()) * s.path("tokens").asLong());
                }
            }
        } else {
            m.put("step", Long.parseLong(ck.getFileName().toString().replaceAll("\\D", "")));
        }
        return m;
    }

    /** The flat table: one row per (checkpoint, task, metric); rows of a checkpoint written again after a crash are replaced. */
    private static void appendRows(Path file, Path run, Map<String, Object> meta, List<Evaluator.TaskResult> results) throws java.io.IOException {
        Files.createDirectories(file.getParent());
        ObjectMapper json = new ObjectMapper();
        List<String> keep = new ArrayList<>();
        if (Files.exists(file)) {
            String variant = (String) meta.get("variant");
            for (JsonlTable.Row r : JsonlTable.read(file)) {
                boolean same = r.value().path("step").asText().equals(String.valueOf(meta.get("step")))
                        && java.util.Objects.equals(r.value().path("variant").textValue(), variant);
                if (!same) keep.add(r.text());
            }
        }
        for (Evaluator.TaskResult r : results) {
            for (Metric m : r.metrics()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("run", run.toAbsolutePath().normalize().getFileName().toString());
                row.putAll(meta);
                row.put("task", r.task().name());
                row.put("group", r.task().group());
                row.put("metric", m.name());
                double chance = r.task().chance(m.name());
                if (!Double.isNaN(chance)) row.put("chance", chance);
                row.put("value", m.value());
                row.put("stderr", Double.isNaN(m.stderr()) ? null : m.stderr());
                row.put("n", m.n());
                keep.add(json.writeValueAsString(row));
            }
        }
        AtomicWrite.writeLines(file, keep);
    }

    /** One line per checkpoint: BLiMP and held-out bits per byte as means, the other tasks' first metric. */
    static String summary(List<Evaluator.TaskResult> results) {
        StringBuilder sb = new StringBuilder();
        double blimp = results.stream().filter(r -> r.task().name().startsWith("blimp_")).mapToDouble(r -> r.metrics().get(0).value()).average().orElse(Double.NaN);
        if (!Double.isNaN(blimp)) sb.append(String.format(Locale.ROOT, "blimp acc %.3f", blimp));
        double[] bpb = results.stream().filter(r -> r.task().name().startsWith("bpb_")).mapToDouble(r -> r.metrics().get(0).value()).toArray();
        if (bpb.length > 0) {
            sb.append(String.format(Locale.ROOT, "%sbits/byte %.3f (mean of %d domains)", sb.isEmpty() ? "" : " | ", Arrays.stream(bpb).average().orElse(0), bpb.length));
        }
        for (Evaluator.TaskResult r : results) {
            if (r.task().name().startsWith("blimp_") || r.task().name().startsWith("bpb_")) continue;
            Metric m = r.metrics().get(0);
            sb.append(String.format(Locale.ROOT, "%s%s %s %.4g", sb.isEmpty() ? "" : " | ", r.task().name(), m.name(), m.value()));
        }
        return sb.toString();
    }

    private static void print(List<Evaluator.TaskResult> results) {
        System.out.printf(Locale.ROOT, "%-48s %-12s %10s %10s %6s%n", "task", "metric", "value", "stderr", "n");
        for (Evaluator.TaskResult r : results) {
            for (Metric m : r.metrics()) {
                System.out.printf(Locale.ROOT, "%-48s %-12s %10.4f %10.4f %6d%n", r.task().name(), m.name(), m.value(), m.stderr(), m.n());
            }
        }
        double[] blimp = results.stream().filter(r -> r.task().name().startsWith("blimp_")).mapToDouble(r -> r.metrics().get(0).value()).toArray();
        if (blimp.length > 1) System.out.printf(Locale.ROOT, "blimp (mean of %d paradigms): acc %.4f%n", blimp.length, Arrays.stream(blimp).average().orElse(0));
    }

    @Command(name = "download", mixinStandardHelpOptions = true,
            description = {"Fetch a public task's data from its usual source into a task data directory (the layout --data reads): "
                    + "blimp, lambada_openai, piqa, hellaswag, arc_easy, arc_challenge. The only command that uses the network; files "
                    + "already present are kept."})
    static final class Download implements java.util.concurrent.Callable<Integer> {
        @picocli.CommandLine.Parameters(arity = "1..*", paramLabel = "TASK", description = "Tasks to fetch.")
        List<String> tasks;
        @Option(names = "--data", defaultValue = "task-data", description = "Task data directory (default ${DEFAULT-VALUE}).")
        Path data;
        @Option(names = "--mirror", description = "Fetch from MIRROR/<host>/<path> instead of the original hosts (e.g. a local copy).")
        String mirror;

        @Override
        public Integer call() throws Exception {
            for (String t : tasks) {
                System.out.println(t + ":");
                try {
                    dev.crucible.eval.TaskDownload.download(t, data, mirror, System.out);
                } catch (IllegalArgumentException e) {
                    throw new UserError(e.getMessage());
                }
            }
            System.out.println("task data in " + data + " (crucible eval --data " + data + " --tasks " + String.join(",", tasks) + ")");
            return 0;
        }
    }
}
