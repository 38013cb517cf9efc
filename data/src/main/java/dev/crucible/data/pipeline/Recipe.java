package dev.crucible.data.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A data recipe: inputs (with metadata to attach), the output, and the steps in order.
 *
 * <pre>
 * inputs:
 *   - builtin:europarl
 *   - {path: corpus/code.zip, meta: {domain: code}}
 *   - {path: web.parquet, text_field: content}
 * output: {dir: clean/, compression: gzip, shard_docs: 50000, partition_by: lang}
 * on_malformed: skip        # or fail (default)
 * threads: 0                # 0: all cores
 * trace_samples: 10         # per step
 * ops:
 *   - text_length_filter: {min_len: 10}
 *   - minhash_dedup: {}
 * </pre>
 */
public record Recipe(String source, List<Input> inputs, Output output, boolean skipMalformed, int threads, int traceSamples,
                     List<Operators.Step> steps) {

    /** textField: the JSON field or Parquet column holding the text ("text"). */
    public record Input(String path, Map<String, String> meta, String textField) {}

    /**
     * location: a directory, or for the Spark engine also a Hadoop file-system address (s3a://...);
     * compression: gzip, zstd or none; partition_by: a metadata key whose value names a sub-directory.
     */
    public record Output(String location, String compression, int shardDocs, String partitionBy) {
        /** The location as a local path (the local engine's only kind). */
        public Path dir() {
            return Path.of(location);
        }
    }

    private static final java.util.regex.Pattern ADDRESS = java.util.regex.Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+:.*");

    /** Whether an input or output names a file system by its scheme (hdfs://, s3a://, file:...) rather than a local path or a builtin: corpus. */
    public static boolean isAddress(String path) {
        return !path.startsWith("builtin:") && ADDRESS.matcher(path).matches();
    }

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION); // a key given twice is refused, not the last kept
    private static final Set<String> TOP = Set.of("inputs", "output", "on_malformed", "threads", "trace_samples", "ops");
    private static final Set<String> OUTPUT = Set.of("dir", "compression", "shard_docs", "partition_by");

    /** A recipe that cannot be used; the message names the file and, where it can, the line. */
    public static final class RecipeException extends IllegalArgumentException {
        public RecipeException(String message) {
            super(message);
        }
    }

    public static Recipe load(Path file) {
        try {
            return parse(file.toString(), Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new RecipeException(file + ": no such file");
        } catch (IOException e) {
            throw new RecipeException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    @SuppressWarnings("unchecked")
    public static Recipe parse(String source, String text) {
        Object root;
        try {
            root = YAML.readValue(text, Object.class);
        } catch (JsonProcessingException e) {
            var l = e.getLocation();
            throw new RecipeException(source + (l != null ? ":" + l.getLineNr() : "") + ": not valid YAML: " + e.getOriginalMessage().replace('\n', ' '));
        }
        if (!(root instanceof Map<?, ?> top)) throw new RecipeException(source + ": a recipe is a mapping with inputs, output and ops");
        for (Object k : top.keySet()) {
            if (!TOP.contains(String.valueOf(k))) throw new RecipeException(at(source, text, k + ":") + ": unknown key '" + k + "' (allowed: " + String.join(", ", new java.util.TreeSet<>(TOP)) + ")");
        }
        List<Input> inputs = new ArrayList<>();
        if (!(top.get("inputs") instanceof List<?> ins) || ins.isEmpty()) throw new RecipeException(source + ": 'inputs' must be a non-empty list");
        for (Object in : ins) {
            if (in instanceof String s) {
                inputs.add(new Input(s, Map.of(), "text"));
            } else if (in instanceof Map<?, ?> m && m.get("path") instanceof String p) {
                Object meta = m.get("meta");
                for (Object k : m.keySet()) {
                    if (!k.equals("path") && !k.equals("meta") && !k.equals("text_field")) {
                        throw new RecipeException(at(source, text, k + ":") + ": unknown key '" + k + "' in an input (allowed: meta, path, text_field)");
                    }
                }
                if (meta != null && !(meta instanceof Map)) throw new RecipeException(at(source, text, p) + ": 'meta' of input " + p + " must be a mapping");
                Map<String, String> mm = new LinkedHashMap<>();
                if (meta != null) ((Map<Object, Object>) meta).forEach((k, v) -> mm.put(String.valueOf(k), String.valueOf(v)));
                inputs.add(new Input(p, mm, m.get("text_field") == null ? "text" : String.valueOf(m.get("text_field"))));
            } else {
                throw new RecipeException(source + ": each input is a path or {path: ..., meta: {...}}, got " + in);
            }
        }
        Map<String, Object> out = top.get("output") instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
        if (out == null || !(out.get("dir") instanceof String dir)) throw new RecipeException(source + ": 'output' must be a mapping with at least 'dir'");
        for (String k : out.keySet()) if (!OUTPUT.contains(k)) throw new RecipeException(at(source, text, k + ":") + ": unknown key 'output." + k + "' (allowed: " + String.join(", ", new java.util.TreeSet<>(OUTPUT)) + ")");
        String compression = String.valueOf(out.getOrDefault("compression", "gzip"));
        if (!List.of("gzip", "zstd", "none").contains(compression)) {
            throw new RecipeException(at(source, text, "compression:") + ": output.compression must be gzip, zstd or none, got '" + compression + "'");
        }
        int shardDocs = out.get("shard_docs") instanceof Integer i ? i : out.containsKey("shard_docs") ? -1 : 100_000;
        if (shardDocs < 1) throw new RecipeException(at(source, text, "shard_docs:") + ": output.shard_docs must be a positive integer");
        Object partition = out.get("partition_by");
        Output output = new Output(dir, compression, shardDocs, partition == null ? null : String.valueOf(partition));
        Object mal = top.get("on_malformed") == null ? "fail" : top.get("on_malformed");
        if (!mal.equals("skip") && !mal.equals("fail")) throw new RecipeException(at(source, text, "on_malformed:") + ": on_malformed must be skip or fail, got '" + mal + "'");
        int threads = intOr(top.get("threads"), 0, source, text, "threads");
        int traceSamples = intOr(top.get("trace_samples"), 10, source, text, "trace_samples");
        List<Operators.Step> steps = new ArrayList<>();
        Object ops = top.get("ops");
        if (ops != null && !(ops instanceof List)) throw new RecipeException(at(source, text, "ops:") + ": 'ops' must be a list of operators");
        Map<String, Integer> seen = new LinkedHashMap<>();
        for (Object op : ops == null ? List.of() : (List<?>) ops) {
            String name;
            Object params;
            if (op instanceof String s) {
                name = s;
                params = null;
            } else if (op instanceof Map<?, ?> m && m.size() == 1) {
                name = String.valueOf(m.keySet().iterator().next());
                params = m.values().iterator().next();
            } else {
                throw new RecipeException(source + ": each op is 'name: {params}', got " + op);
            }
            int occurrence = seen.merge(name, 1, Integer::sum);
            String where = at(source, text, name, occurrence);
            if (params != null && !(params instanceof Map)) throw new RecipeException(where + ": " + name + ": parameters must be a mapping, got " + params);
            try {
                steps.add(Operators.create(name, (Map<String, ?>) params));
            } catch (Params.ParamException e) {
                throw new RecipeException(keyAt(source, text, name, occurrence, e.key()) + ": " + name + ": " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw new RecipeException(where + ": " + name + ": " + e.getMessage());
            }
        }
        Set<String> labels = new java.util.HashSet<>();
        List<Operators.Step> unique = new ArrayList<>();
        for (Operators.Step s : steps) {
            // the same operator twice gets a numbered label, so statistics and trace stay apart
            String label = s.label();
            for (int k = 2; !labels.add(label); k++) label = s.label() + "#" + k;
            unique.add(label.equals(s.label()) ? s : relabel(s, label));
        }
        return new Recipe(source, inputs, output, mal.equals("skip"), threads, traceSamples, unique);
    }

    private static Operators.Step relabel(Operators.Step s, String label) {
        return switch (s) {
            case Operators.PerDoc p -> new Operators.PerDoc(p.op(), label);
            case Operators.Dedupe d -> new Operators.Dedupe(d.dedup(), d.where(), label);
        };
    }

    /**
     * text, the recipe this was parsed from, with what its operators resolved when they were made
     * ({@link Operator#pinned}) written into their parameters, for parsing again elsewhere (Spark's
     * executors parse the driver's recipe, and a run directory may have gained a checkpoint meanwhile);
     * text itself when nothing was resolved.
     */
    @SuppressWarnings("unchecked")
    public String pinnedText(String text) {
        if (steps.stream().allMatch(s -> !(s instanceof Operators.PerDoc p) || p.op().pinned().isEmpty())) return text;
        try {
            Map<String, Object> root = (Map<String, Object>) YAML.readValue(text, Object.class);
            List<Object> ops = (List<Object>) root.get("ops"); // one step per op, in order
            for (int i = 0; i < steps.size(); i++) {
                if (!(steps.get(i) instanceof Operators.PerDoc p) || p.op().pinned().isEmpty()) continue;
                Object op = ops.get(i);
                Map.Entry<?, ?> entry = op instanceof Map<?, ?> m ? m.entrySet().iterator().next() : Map.entry(op, Map.of());
                Map<String, Object> params = new LinkedHashMap<>(entry.getValue() == null ? Map.of() : (Map<String, Object>) entry.getValue());
                params.putAll(p.op().pinned());
                Map<String, Object> pinned = new LinkedHashMap<>();
                pinned.put(String.valueOf(entry.getKey()), params);
                ops.set(i, pinned);
            }
            return YAML.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": the text is not the recipe's (" + e.getOriginalMessage() + ")", e);
        }
    }

    public Recipe withOutputDir(Path dir) {
        return withOutput(dir.toString());
    }

    public Recipe withOutput(String location) {
        return new Recipe(source, inputs, new Output(location, output.compression(), output.shardDocs(), output.partitionBy()), skipMalformed, threads,
                traceSamples, steps);
    }

    private static int intOr(Object v, int dflt, String source, String text, String key) {
        if (v == null) return dflt;
        if (v instanceof Integer i && i >= 0) return i;
        throw new RecipeException(at(source, text, key + ":") + ": " + key + " must be a non-negative integer, got '" + v + "'");
    }

    private static String at(String source, String text, String needle) {
        return at(source, text, needle, 1);
    }

    /** "file:line" of the first line from the occurrence-th mention of op on that names key, else of the op itself. */
    private static String keyAt(String source, String text, String op, int occurrence, String key) {
        String opAt = at(source, text, op, occurrence);
        if (opAt.equals(source)) return source;
        String[] lines = text.split("\n", -1);
        java.util.regex.Pattern k = java.util.regex.Pattern.compile("(^|[\\s{,])" + java.util.regex.Pattern.quote(key) + "\\s*:");
        for (int i = Integer.parseInt(opAt.substring(source.length() + 1)) - 1; i < lines.length; i++) {
            String l = lines[i];
            int hash = l.indexOf('#');
            if (hash >= 0) l = l.substring(0, hash);
            if (i > 0 && l.stripLeading().startsWith("- ") && !opAt.equals(source + ":" + (i + 1))) break; // the next op
            if (k.matcher(l).find()) return source + ":" + (i + 1);
        }
        return opAt;
    }

    /** "file:line" of the occurrence-th line that mentions needle, or just "file". */
    private static String at(String source, String text, String needle, int occurrence) {
        String[] lines = text.split("\n", -1);
        int seen = 0;
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i];
            int hash = l.indexOf('#');
            if (hash >= 0) l = l.substring(0, hash);
            if (l.contains(needle) && ++seen == occurrence) return source + ":" + (i + 1);
        }
        return source;
    }
}
