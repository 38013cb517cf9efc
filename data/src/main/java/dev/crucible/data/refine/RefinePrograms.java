package dev.crucible.data.refine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.pipeline.Doc;
import dev.crucible.data.pipeline.Operator;
import dev.crucible.data.pipeline.Params;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * refine_programs: runs a ProX refining program on each document ({@link ProgramExecutor}). The
 * program comes from rules ({@link RulePrograms}, the default), from a field of the input record
 * ({@code field: prox_program}: a string, as a refining model's output was stored), or from a side
 * file of JSON lines {@code {"id": ..., "program": ...}} keyed by document id ({@code file: PATH}).
 * {@code from: endpoint} asks an OpenAI-compatible completion endpoint for each chunk's program (the
 * document's lines numbered as ProX numbers them, in chunks of at most {@code chunk_chars}; the
 * endpoint keys of {@link dev.crucible.data.llm.EndpointParams}; a failed request keeps the document
 * as it is, counted "endpoint_failed").
 * {@code level: doc} reads document-level programs (drop_doc/keep_doc) instead. Every applied
 * program is kept for audit: in the trace's detail and, with {@code record: true} (the default), in
 * the output record's metadata "refine_program" with "refine_errors".
 *
 * <pre>
 * - refine_programs: {}                                   # rule-made programs, ProX's safety rules
 * - refine_programs: {from: field, field: chunk_program, threshold_2: 0.9}
 * - refine_programs: {from: file, file: programs.jsonl, level: doc}
 * - refine_programs: {from: endpoint, endpoint: http://localhost:8000/v1, model: refiner}
 * </pre>
 */
public record RefinePrograms(Function<Doc, String> programs, boolean docLevel, ProgramExecutor executor, boolean record, String source)
        implements Operator {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static RefinePrograms of(Params p) {
        String from = p.string("from", "rules");
        String level = p.string("level", "chunk");
        if (!level.equals("chunk") && !level.equals("doc")) throw new IllegalArgumentException("parameter 'level' must be chunk or doc, got '" + level + "'");
        ProgramExecutor executor = new ProgramExecutor(p.number("threshold_1", 0.0), p.number("threshold_2", 0.95), p.integer("error_op", 2));
        boolean record = p.bool("record", true);
        Function<Doc, String> programs;
        String source;
        switch (from) {
            case "rules" -> {
                RulePrograms d = RulePrograms.DEFAULT;
                RulePrograms rules = new RulePrograms(p.integer("nav_run", d.navRun()), p.integer("short_line_words", d.shortWords()),
                        p.number("symbol_ratio", d.symbolRatio()), p.integer("boilerplate_words", d.boilerplateWords()), p.bool("urls", d.urls()), p.bool("emails", d.emails()),
                        p.bool("punctuation_runs", d.punctuationRuns()));
                if (level.equals("doc")) throw new IllegalArgumentException("rules write chunk-level programs; level doc needs from: field or file");
                programs = doc -> rules.write(doc.text()).render();
                source = rules.toString();
            }
            case "field" -> {
                String field = p.string("field", "program");
                programs = doc -> fieldProgram(doc, field);
                source = "field " + field;
            }
            case "file" -> {
                String file = p.string("file", null);
                if (file == null) throw new IllegalArgumentException("from: file needs 'file: PATH' (JSON lines with id and program)");
                Map<String, String> byId = readSideFile(Path.of(file));
                programs = doc -> byId.get(doc.id());
                source = "file " + file;
            }
            case "endpoint" -> {
                if (level.equals("doc")) throw new IllegalArgumentException("from: endpoint writes chunk-level programs");
                var client = dev.crucible.data.llm.EndpointParams.client(p, "refine-cache", 256);
                String template = dev.crucible.data.llm.EndpointParams.template(p, DEFAULT_PROMPT);
                int chunkChars = p.integer("chunk_chars", 6000);
                if (chunkChars < 1) throw new IllegalArgumentException("chunk_chars must be positive");
                programs = doc -> {
                    StringBuilder all = new StringBuilder();
                    for (String chunk : numberedChunks(doc.text(), chunkChars)) {
                        var a = client.complete(template.replace("{text}", chunk));
                        if (a instanceof dev.crucible.data.llm.CompletionClient.Failure f) throw new Unavailable(f.why() + " (" + f.attempts() + " attempts)");
                        all.append(withoutFences(((dev.crucible.data.llm.CompletionClient.Text) a).text()).strip()).append('\n');
                    }
                    return all.toString();
                };
                source = "endpoint " + client.settings().base() + " model " + client.settings().model();
            }
            default -> throw new IllegalArgumentException("parameter 'from' must be rules, field, file or endpoint, got '" + from + "'");
        }
        return new RefinePrograms(programs, level.equals("doc"), executor, record, source);
    }

    @Override
    public String name() {
        return "refine_programs";
    }

    /** ProX's chunk prompt, with the language spelled out for a general model (ProX's own models were fine-tuned on "[doc]...[/doc]"). */
    public static final String DEFAULT_PROMPT = """
            Below is part of a web document, each line prefixed with its number in the whole document. Write a program that \
            cleans it, one operation per line, using only:
            remove_lines(line_start=N, line_end=M)   # remove lines N to M inclusive (navigation, ads, boilerplate, noise)
            normalize(source_str="...", target_str="...")   # replace a string everywhere
            keep_doc()   # nothing to change
            Answer with the program only.

            [doc]
            {text}
            [/doc]
            """;

    /** A chat model's answer without the Markdown code fences it often puts around a program (``` or ```python lines). */
    static String withoutFences(String answer) {
        StringBuilder sb = new StringBuilder();
        for (String line : answer.split("\n", -1)) if (!line.strip().startsWith("```")) sb.append(line).append('\n');
        return sb.toString();
    }

    /** A program that could not be had (the endpoint failed after its retries): the document stays as it is. */
    static final class Unavailable extends RuntimeException {
        Unavailable(String why) {
            super(why, null, false, false);
        }
    }

    /**
     * The document's lines prefixed "[NNN]" with their 0-based number in the whole document (ProX's
     * format), cut between lines into chunks of at most maxChars characters (a longer line is a chunk
     * of its own).
     */
    public static java.util.List<String> numberedChunks(String text, int maxChars) {
        java.util.List<String> out = new java.util.ArrayList<>();
        StringBuilder cur = new StringBuilder();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String l = String.format(java.util.Locale.ROOT, "[%03d]", i) + lines[i];
            if (!cur.isEmpty() && cur.length() + 1 + l.length() > maxChars) {
                out.add(cur.toString());
                cur.setLength(0);
            }
            if (!cur.isEmpty()) cur.append('\n');
            cur.append(l);
        }
        if (!cur.isEmpty()) out.add(cur.toString());
        return out;
    }

    @Override
    public Outcome apply(Doc doc) {
        String text;
        try {
            text = programs.apply(doc);
        } catch (Unavailable e) {
            return new Outcome(record ? doc.withMeta("refine_error", e.getMessage()) : doc, "endpoint_failed", e.getMessage());
        }
        if (text == null) return new Outcome(doc, "no_program", "no program for " + doc.id());
        if (docLevel) {
            if (ProgramExecutor.dropsDocument(text)) return Outcome.remove("dropped_by_program", text.strip());
            return new Outcome(record ? doc.withMeta("refine_program", text.strip()) : doc, "kept_by_program", text.strip());
        }
        RefiningProgram program = RefiningProgram.parse(text);
        ProgramExecutor.Result r = executor.execute(doc.text(), program);
        String audit = program.render() + (program.errors().isEmpty() ? "" : "\n# errors:\n" + String.join("\n", program.errors()));
        String words = r.wordsAfter() + " of " + r.wordsBefore() + " words left";
        return switch (r.verdict()) {
            case DROPPED_LITTLE_LEFT -> Outcome.remove("dropped_little_left", words + "\n" + audit);
            case DROPPED_TOO_SHORT -> Outcome.remove("dropped_too_short", words + "\n" + audit);
            case IGNORED -> new Outcome(recorded(doc, audit, r.errors()), "program_ignored", r.errors() + " errors\n" + audit);
            case REFINED -> {
                Doc out = recorded(doc.withText(r.text()), audit, r.errors());
                yield r.text().equals(doc.text()) ? Outcome.keep(out) : Outcome.changed(out, "refined", r.linesRemoved() + " lines removed, " + words + "\n" + audit);
            }
        };
    }

    private Doc recorded(Doc doc, String audit, int errors) {
        return record ? doc.withMeta("refine_program", audit).withMeta("refine_errors", Integer.toString(errors)) : doc;
    }

    private static String fieldProgram(Doc doc, String field) {
        String json = doc.fields().get(field);
        if (json == null) return null;
        try {
            JsonNode n = JSON.readTree(json);
            if (n.isNull()) return null;
            if (!n.isTextual()) throw new IllegalArgumentException("field '" + field + "' of document " + doc.id() + " is not a string");
            return n.asText();
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("field '" + field + "' of document " + doc.id() + " is not JSON", e);
        }
    }

    /** The side file: one JSON object per line with a string "id" and a string "program". */
    static Map<String, String> readSideFile(Path file) {
        Map<String, String> out = new HashMap<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            for (int no = 1; (line = r.readLine()) != null; no++) {
                if (line.isBlank()) continue;
                JsonNode n;
                try {
                    n = dev.crucible.data.JsonLine.parse(JSON, line);
                } catch (JsonProcessingException e) {
                    throw new IllegalArgumentException(file + ":" + no + ": not JSON (" + e.getOriginalMessage() + ")");
                } catch (dev.crucible.data.JsonLine.TrailingContent e) {
                    throw new IllegalArgumentException(file + ":" + no + ": " + e.getMessage());
                }
                if (!(n.get("id") instanceof JsonNode id) || !id.isValueNode() || !(n.get("program") instanceof JsonNode prog) || !prog.isTextual()) {
                    throw new IllegalArgumentException(file + ":" + no + ": each line needs \"id\" and a string \"program\"");
                }
                if (out.put(id.asText(), prog.asText()) != null) throw new IllegalArgumentException(file + ":" + no + ": a second program for id " + id.asText());
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read (" + e.getMessage() + ")");
        }
        return out;
    }
}
