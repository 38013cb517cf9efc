package dev.crucible.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-example records in lm-evaluation-harness's {@code --log_samples} shape
 * ({@code samples_<task>_<date>.jsonl}): doc_id, the doc, the target, each request's arguments
 * (gen_args_i: arg_0 the context, arg_1 the continuation or the generation settings), the model's
 * responses ([log-likelihood, greedy] per request; the text for a generation), filtered_resps,
 * filter "none", the metric names and each metric's value for this example. The harness's hashes of
 * the doc, prompt and target are left out (they hash Python's JSON rendering).
 */
public final class Samples {
    private Samples() {}

    /** Receives each example's record, in example order. */
    @FunctionalInterface
    public interface Sink {
        void add(Map<String, Object> record);
    }

    /** A log-likelihood request's context and continuation, as text. */
    public record Args(String context, String continuation) {}

    /** A record for log-likelihood requests: responses [log-likelihood, greedy] in the requests' order. */
    public static Map<String, Object> loglikelihood(int docId, Map<String, Object> doc, Object target, List<Args> args, List<LogLikelihood.Score> scores,
                                                   Map<String, Double> metrics) {
        Map<String, Object> arguments = new LinkedHashMap<>();
        List<Object> resps = new ArrayList<>(), filtered = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("arg_0", args.get(i).context());
            a.put("arg_1", args.get(i).continuation());
            arguments.put("gen_args_" + i, a);
            List<Object> r = List.of(scores.get(i).logProb(), scores.get(i).greedy());
            resps.add(List.of(r));
            filtered.add(r);
        }
        return record(docId, doc, target, arguments, resps, filtered, metrics);
    }

    /** A record for a rolling log-likelihood (a whole text): the response is the summed log-likelihood alone, as the harness writes it. */
    public static Map<String, Object> rolling(int docId, Map<String, Object> doc, String text, double logLikelihood, Map<String, Double> metrics) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("arg_0", text);
        Map<String, Object> arguments = new LinkedHashMap<>();
        arguments.put("gen_args_0", a);
        return record(docId, doc, text, arguments, List.of(List.of(logLikelihood)), List.of(logLikelihood), metrics);
    }

    /** A record for a generation: the context, the stop sequences and token limit, and the text produced. */
    public static Map<String, Object> generation(int docId, Map<String, Object> doc, Object target, String context, List<String> until, int maxTokens,
                                                String response, Map<String, Double> metrics) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("until", until);
        settings.put("max_gen_toks", maxTokens);
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("arg_0", context);
        a.put("arg_1", settings);
        Map<String, Object> arguments = new LinkedHashMap<>();
        arguments.put("gen_args_0", a);
        return record(docId, doc, target, arguments, List.of(List.of(response)), List.of(response), metrics);
    }

    private static Map<String, Object> record(int docId, Map<String, Object> doc, Object target, Map<String, Object> arguments, List<Object> resps,
                                              List<Object> filtered, Map<String, Double> metrics) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("doc_id", docId);
        r.put("doc", doc);
        r.put("target", target);
        r.put("arguments", arguments);
        r.put("resps", resps);
        r.put("filtered_resps", filtered);
        r.put("filter", "none");
        r.put("metrics", List.copyOf(metrics.keySet()));
        r.putAll(metrics);
        return r;
    }

    /** lm-evaluation-harness's file name: samples_TASK_DATE.jsonl, DATE an ISO time with '-' for ':'. */
    public static String fileName(String task, java.time.LocalDateTime when) {
        return "samples_" + task + "_" + when.toString().replace(':', '-') + ".jsonl";
    }

    public static void write(Path file, List<Map<String, Object>> records) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>(records.size());
        for (Map<String, Object> r : records) lines.add(json.writeValueAsString(r));
        Files.createDirectories(file.toAbsolutePath().getParent());
        dev.crucible.io.AtomicWrite.writeLines(file, lines);
    }

    /** key, value, key, value... as an ordered map. */
    static Map<String, Object> doc(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    static Map<String, Double> metrics(Object... kv) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], ((Number) kv[i + 1]).doubleValue());
        return m;
    }
}
