package dev.crucible.data.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.crucible.data.Documents;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Runs a recipe end to end: reads the inputs, runs the steps, writes the JSONL shards, then
 * {@code _summary.json} (per input and per step: documents and bytes in and out, time, the rules
 * that fired) and {@code _trace.jsonl} (sampled removals and changes). Everything is written to
 * {@code <dir>.partial} and moved into place at the end, so an interrupted run leaves no
 * half-written output that looks finished.
 */
public final class RecipeRun {
    private RecipeRun() {}

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    public static final String SUMMARY = "_summary.json", TRACE = "_trace.jsonl";

    public record InputCounts(String path, long docs, long bytes, long malformed, List<String> malformedExamples) {}

    public record Summary(Recipe recipe, List<InputCounts> inputs, List<StepStats> steps, Map<String, JsonlShardWriter.Counts> output,
                          double seconds, int threads) {
        public long docsOut() {
            return output.values().stream().mapToLong(JsonlShardWriter.Counts::docs).sum();
        }

        public long bytesOut() {
            return output.values().stream().mapToLong(JsonlShardWriter.Counts::bytes).sum();
        }
    }

    public static Summary run(Recipe recipe, PrintStream log) throws IOException {
        for (Recipe.Input in : recipe.inputs()) refuseAddress("input", in.path());
        refuseAddress("output", recipe.output().location());
        Path out = recipe.output().dir().toAbsolutePath().normalize();
        if (Files.isDirectory(out) && !Files.exists(out.resolve(SUMMARY)) && Files.list(out).findAny().isPresent()) {
            throw new IOException(out + " exists and is not the output of a recipe (no " + SUMMARY + "); refusing to replace it");
        }
        Path partial = out.resolveSibling(out.getFileName() + ".partial");
        deleteTree(partial);
        Files.createDirectories(partial);
        int threads = dev.crucible.tensor.WorkerPool.threadsFor(recipe.threads());
        long t0 = System.nanoTime();
        List<InputCounts> inputCounts = new ArrayList<>();
        JsonlShardWriter writer = new JsonlShardWriter(partial, recipe.output().compression(), recipe.output().shardDocs(), recipe.output().partitionBy());
        Pipeline pipeline = new Pipeline(recipe.steps(), threads, recipe.traceSamples(), partial.resolve("tmp"));
        try (pipeline; writer) {
            Pipeline.Feeder feeder = pipeline.start(writer);
            long[] lastLog = {System.nanoTime()};
            for (Recipe.Input in : recipe.inputs()) {
                long[] n = {0, 0, 0};
                List<String> examples = new ArrayList<>();
                Documents.Malformed malformed = recipe.skipMalformed() ? (where, problem) -> {
                    n[2]++;
                    if (examples.size() < 5) examples.add(where + ": " + problem);
                } : Documents.Malformed.FAIL;
                Documents.readRecords(Path.of(in.path()), (name, text, fields) -> {
                    n[0]++;
                    n[1] += TextStats.utf8Length(text);
                    feeder.accept(document(in, name, text, fields));
                    long now = System.nanoTime();
                    if (log != null && now - lastLog[0] > 5e9) {
                        lastLog[0] = now;
                        double sec = (now - t0) / 1e9;
                        log.printf(Locale.ROOT, "  read %,d documents, %.1f MB (%.1f MB/s) ...%n", pipeline.docsIn(), pipeline.bytesIn() / 1e6, pipeline.bytesIn() / 1e6 / sec);
                    }
                }, malformed, in.textField());
                inputCounts.add(new InputCounts(in.path(), n[0], n[1], n[2], examples));
                if (log != null && n[2] > 0) log.printf(Locale.ROOT, "  %s: skipped %,d malformed record(s), e.g. %s%n", in.path(), n[2], examples.getFirst());
            }
            feeder.finish();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        deleteTree(partial.resolve("tmp"));
        Summary summary = new Summary(recipe, inputCounts, pipeline.stats(), writer.counts(), (System.nanoTime() - t0) / 1e9, threads);
        writeReport(partial, summary, pipeline.trace());
        deleteTree(out);
        Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE);
        return summary;
    }

    private static void refuseAddress(String what, String path) throws IOException {
        if (Recipe.isAddress(path)) {
            throw new IOException(what + " " + path + ": a file-system address; the local engine reads and writes local paths (run with --engine spark)");
        }
    }

    /** The document an input's record becomes (the same in every engine). */
    public static Doc document(Recipe.Input in, String name, String text, com.fasterxml.jackson.databind.node.ObjectNode fields) {
        // source files get their programming language from the extension, unless the input says otherwise
        String code = in.meta().containsKey("lang") ? null : Documents.sourceLanguage(name);
        // the record's own id when it is a string or a number; its place otherwise
        com.fasterxml.jackson.databind.JsonNode ownId = fields == null ? null : fields.get("id");
        String id = ownId != null && (ownId.isTextual() || ownId.isNumber()) ? ownId.asText() : name;
        Doc doc = new Doc(id, text, in.meta(), fields == null ? Map.of() : Doc.fieldsOf(fields));
        return code == null ? doc : doc.withMeta("lang", code);
    }

    /** _trace.jsonl and _summary.json into dir (every engine's last step before moving dir into place). */
    public static void writeReport(Path dir, Summary summary, List<TraceEntry> trace) throws IOException {
        writeTrace(dir.resolve(TRACE), trace);
        JSON.writeValue(dir.resolve(SUMMARY).toFile(), toJson(summary));
    }

    static void writeTrace(Path file, List<TraceEntry> trace) throws IOException {
        ObjectMapper line = new ObjectMapper();
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (TraceEntry t : trace) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("step", t.step());
                m.put("doc", t.doc());
                m.put("action", t.action());
                m.put("rule", t.rule());
                m.put("detail", t.detail());
                m.put(t.after() == null ? "text" : "before", t.before());
                if (t.after() != null) m.put("after", t.after());
                if (!t.fields().isEmpty()) { // the input record's other fields, as they came
                    Map<String, Object> f = new LinkedHashMap<>();
                    t.fields().forEach((k, v) -> f.put(k, new com.fasterxml.jackson.databind.util.RawValue(v)));
                    m.put("fields", f);
                }
                w.write(line.writeValueAsString(m));
                w.write('\n');
            }
        }
    }

    static Map<String, Object> toJson(Summary s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("recipe", s.recipe().source());
        m.put("seconds", s.seconds());
        m.put("threads", s.threads());
        List<Object> ins = new ArrayList<>();
        for (InputCounts c : s.inputs()) {
            Map<String, Object> i = new LinkedHashMap<>();
            i.put("path", c.path());
            i.put("docs", c.docs());
            i.put("bytes", c.bytes());
            i.put("malformed", c.malformed());
            i.put("malformed_examples", c.malformedExamples());
            ins.add(i);
        }
        m.put("inputs", ins);
        List<Object> steps = new ArrayList<>();
        for (StepStats st : s.steps()) {
            Map<String, Object> i = new LinkedHashMap<>();
            i.put("step", st.label);
            i.put("docs_in", st.docsIn);
            i.put("docs_out", st.docsOut);
            i.put("removed", st.removed);
            i.put("changed", st.changed);
            i.put("bytes_in", st.bytesIn);
            i.put("bytes_out", st.bytesOut);
            i.put("cpu_seconds", st.nanos / 1e9);
            i.put("rules", st.rules);
            steps.add(i);
        }
        m.put("steps", steps);
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("dir", s.recipe().output().location());
        o.put("docs", s.docsOut());
        o.put("bytes", s.bytesOut());
        Map<String, Object> parts = new LinkedHashMap<>();
        s.output().forEach((k, c) -> parts.put(k.isEmpty() ? "." : k, Map.of("docs", c.docs(), "bytes", c.bytes(), "shards", c.shards())));
        o.put("partitions", parts);
        m.put("output", o);
        return m;
    }

    /** The summary as a table a person reads. */
    public static String table(Summary s) {
        StringBuilder sb = new StringBuilder();
        long docsIn = s.inputs().stream().mapToLong(InputCounts::docs).sum(), bytesIn = s.inputs().stream().mapToLong(InputCounts::bytes).sum();
        sb.append(String.format(Locale.ROOT, "%-44s %10s %10s %9s %9s %10s %8s%n", "step", "docs in", "docs out", "removed", "changed", "MB out", "cpu s"));
        for (StepStats st : s.steps()) {
            sb.append(String.format(Locale.ROOT, "%-44s %,10d %,10d %,9d %,9d %10.2f %8.2f%n", st.label.length() > 44 ? st.label.substring(0, 43) + "…" : st.label,
                    st.docsIn, st.docsOut, st.removed, st.changed, st.bytesOut / 1e6, st.nanos / 1e9));
            if (!st.rules.isEmpty()) sb.append("    ").append(st.rules).append('\n');
        }
        sb.append(String.format(Locale.ROOT, "%,d documents (%.1f MB) in -> %,d documents (%.1f MB) out in %.1f s on %d threads (%.2f MB/s per thread)%n",
                docsIn, bytesIn / 1e6, s.docsOut(), s.bytesOut() / 1e6, s.seconds(), s.threads(), bytesIn / 1e6 / s.seconds() / s.threads()));
        return sb.toString();
    }

    /** Deletes a file or a directory with everything under it; nothing when it does not exist. */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }
}
