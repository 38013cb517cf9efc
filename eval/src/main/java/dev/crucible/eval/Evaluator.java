package dev.crucible.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.crucible.data.tokenizer.TextEncoding;
import dev.crucible.io.AtomicWrite;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.Model;
import dev.crucible.model.ModelConfig;
import dev.crucible.tensor.WorkerPool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Evaluates one model directory on tasks and writes lm-evaluation-harness-shaped results. */
public final class Evaluator {
    private Evaluator() {}

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public record TaskResult(Task task, List<Metric> metrics, double seconds) {}

    public static List<TaskResult> evaluate(Path modelDir, List<Task> tasks, int limit, int batch, WorkerPool pool) throws IOException {
        return evaluate(modelDir, tasks, limit, batch, pool, null);
    }

    /** As above, with the weights first quantised when quantizer is not null (a "w4" variant of the checkpoint). */
    public static List<TaskResult> evaluate(Path modelDir, List<Task> tasks, int limit, int batch, WorkerPool pool,
                                            dev.crucible.model.WeightQuantizer quantizer) throws IOException {
        return evaluate(modelDir, tasks, limit, batch, pool, quantizer, null);
    }

    /** As above, writing each task's per-example records to samplesDir/samples_TASK_DATE.jsonl when samplesDir is not null. */
    public static List<TaskResult> evaluate(Path modelDir, List<Task> tasks, int limit, int batch, WorkerPool pool,
                                            dev.crucible.model.WeightQuantizer quantizer, Path samplesDir) throws IOException {
        try (HfCheckpoint ck = HfCheckpoint.open(modelDir)) {
            ModelConfig c = ck.config();
            Model model = Model.forInference(c, batch, c.contextLength(), pool);
            ck.load(model.layout(), model.params);
            if (quantizer != null) System.arraycopy(quantizer.apply(model.layout(), model.params), 0, model.params, 0, model.params.length);
            model.packWeights();
            TextEncoding enc = TextEncoding.forModel(modelDir, c.vocabSize());
            LogLikelihood scorer = new LogLikelihood(model, ck.endOfSequence());
            List<TaskResult> out = new java.util.ArrayList<>();
            for (Task t : tasks) {
                long t0 = System.nanoTime();
                List<java.util.Map<String, Object>> records = samplesDir == null ? null : new java.util.ArrayList<>();
                List<Metric> m = t.evaluate(scorer, enc, limit, records == null ? null : records::add);
                out.add(new TaskResult(t, m, (System.nanoTime() - t0) / 1e9));
                if (records != null) Samples.write(samplesDir.resolve(Samples.fileName(t.name(), java.time.LocalDateTime.now())), records);
            }
            return out;
        }
    }

    /** results.json as lm-evaluation-harness writes it ("results" → task → "metric,none" and "metric_stderr,none"). */
    public static Map<String, Object> resultsJson(Path modelDir, List<TaskResult> results, Map<String, Object> extra) {
        Map<String, Object> res = new LinkedHashMap<>(), samples = new LinkedHashMap<>(), groups = new LinkedHashMap<>(),
                chance = new LinkedHashMap<>();
        for (TaskResult r : results) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("alias", r.task().name());
            for (Metric x : r.metrics()) {
                m.put(x.name() + ",none", x.value());
                m.put(x.name() + "_stderr,none", Double.isNaN(x.stderr()) ? "N/A" : x.stderr());
            }
            res.put(r.task().name(), m);
            int n = r.metrics().isEmpty() ? 0 : r.metrics().get(0).n();
            samples.put(r.task().name(), Map.of("original", r.task().size(), "effective", n));
            groups.put(r.task().name(), r.task().group());
            Map<String, Object> c = new LinkedHashMap<>();
            for (Metric x : r.metrics()) if (!Double.isNaN(r.task().chance(x.name()))) c.put(x.name(), r.task().chance(x.name()));
            chance.put(r.task().name(), c);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("results", res);
        out.put("n-samples", samples);
        out.put("groups", groups);
        out.put("chance", chance); // the score of guessing, for normalised scores (score − chance) / (max − chance)
        out.put("config", Map.of("model", "crucible", "model_args", modelDir.toAbsolutePath().toString()));
        out.putAll(extra);
        return out;
    }

    public static void write(Path file, Map<String, Object> json) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        AtomicWrite.write(file, tmp -> JSON.writeValue(tmp.toFile(), json));
    }
}
