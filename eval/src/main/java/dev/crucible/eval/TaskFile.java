package dev.crucible.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.crucible.data.JsonLine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tasks declared in YAML, for data in JSON lines:
 *
 * <pre>
 * tasks:
 *   - name: my_arc                 # multiple choice by log-likelihood (acc, acc_norm, acc_bytes, gold log-prob, Brier)
 *     kind: multiple_choice
 *     data: arc.jsonl              # relative to this file
 *     prompt: "Question: {question}\nAnswer:"
 *     choices: "{choices.text}"    # a list field, or a list of templates
 *     gold: "{answerKey}"          # an index, or (with labels) a label
 *     labels: "{choices.label}"
 *     group: science
 *   - {name: my_pairs, kind: minimal_pairs, data: pairs.jsonl, good: "{good}", bad: "{bad}"}
 *   - {name: my_cloze, kind: cloze, data: passages.jsonl, text: "{text}"}      # the last word is the target
 *   - {name: my_ppl, kind: perplexity, data: docs.jsonl, text: "{text}"}       # bits per byte
 *   - {name: my_qa, kind: generation, data: qa.jsonl, prompt: "Q: {q}\nA:", target: "{a}", until: ["\n"], max_tokens: 16}
 * </pre>
 *
 * Templates replace {field} (dots reach into objects) with the record's value. Every problem names
 * the file, the task and, for data, the line.
 */
public final class TaskFile {
    private TaskFile() {}

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION); // a key given twice is refused, not the last kept
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern FIELD = Pattern.compile("\\{([A-Za-z0-9_.]+)}");
    private static final Set<String> KEYS = Set.of("name", "kind", "data", "prompt", "choices", "gold", "labels", "group", "good", "bad", "text", "target",
            "until", "max_tokens");

    public static List<Task> load(Path file) throws IOException {
        JsonNode root;
        try {
            root = YAML.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + ": not valid YAML (" + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.path("tasks").isArray()) throw new IOException(file + ": a task file has a list 'tasks'");
        List<Task> out = new ArrayList<>();
        int i = 0;
        for (JsonNode t : root.get("tasks")) {
            i++;
            String name = t.path("name").asText("");
            String where = file + ": task " + i + (name.isEmpty() ? "" : " (" + name + ")");
            if (name.isEmpty()) throw new IOException(where + ": needs a name");
            for (Iterator<String> it = t.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!KEYS.contains(k)) throw new IOException(where + ": unknown key '" + k + "' (allowed: " + String.join(", ", new java.util.TreeSet<>(KEYS)) + ")");
            }
            Path data = file.toAbsolutePath().getParent().resolve(require(t, "data", where));
            if (!Files.isRegularFile(data)) throw new IOException(where + ": data file " + data + " not found");
            String group = t.path("group").asText(name);
            String kind = require(t, "kind", where);
            out.add(switch (kind) {
                case "multiple_choice" -> multipleChoice(t, name, group, data, where);
                case "minimal_pairs" -> {
                    List<String[]> pairs = new ArrayList<>();
                    for (Record r : records(data)) pairs.add(new String[] {fill(require(t, "good", where), r), fill(require(t, "bad", where), r)});
                    yield Blimp.pairs(name, group, pairs);
                }
                case "cloze" -> {
                    List<String[]> passages = new ArrayList<>();
                    for (Record r : records(data)) {
                        String text = fill(require(t, "text", where), r);
                        int sp = text.lastIndexOf(' ');
                        if (sp <= 0) throw new IOException(r.where() + ": text has no last word to predict");
                        passages.add(new String[] {text.substring(0, sp), text.substring(sp)});
                    }
                    yield Lambada.cloze(name, passages);
                }
                case "perplexity" -> {
                    List<String> docs = new ArrayList<>();
                    for (Record r : records(data)) docs.add(fill(require(t, "text", where), r));
                    yield new RollingPerplexity(name, docs);
                }
                case "generation" -> {
                    List<ExactMatch.Example> ex = new ArrayList<>();
                    for (Record r : records(data)) ex.add(new ExactMatch.Example(fill(require(t, "prompt", where), r), fill(require(t, "target", where), r)));
                    List<String> until = new ArrayList<>();
                    JsonNode stops = t.path("until");
                    if (stops.isTextual()) until.add(stops.asText()); // one stop string, as the harness takes it
                    else if (stops.isArray()) {
                        for (JsonNode u : stops) {
                            if (!u.isTextual()) throw new IOException(where + ": until must be a string or a list of strings, got " + stops);
                            until.add(u.asText());
                        }
                    } else if (!stops.isMissingNode()) throw new IOException(where + ": until must be a string or a list of strings, got " + stops);
                    JsonNode max = t.path("max_tokens");
                    if (!max.isMissingNode() && !(max.isIntegralNumber() && max.asLong() >= 1 && max.asLong() <= Integer.MAX_VALUE)) {
                        throw new IOException(where + ": max_tokens must be a whole number of at least 1, got " + max);
                    }
                    yield new ExactMatch(name, group, ex, until, max.asInt(32));
                }
                default -> throw new IOException(where + ": unknown kind '" + kind + "' (multiple_choice, minimal_pairs, cloze, perplexity, generation)");
            });
        }
        return out;
    }

    record Record(JsonNode node, String where) {}

    static List<Record> records(Path data) throws IOException {
        List<Record> out = new ArrayList<>();
        int lineNo = 0;
        for (String line : Files.readAllLines(data, StandardCharsets.UTF_8)) {
            lineNo++;
            if (line.isBlank()) continue;
            try {
                out.add(new Record(JsonLine.parse(JSON, line), data + ":" + lineNo));
            } catch (IOException e) {
                throw new IOException(data + ":" + lineNo + ": not a JSON object" + (e instanceof JsonLine.TrailingContent ? " (" + e.getMessage() + ")" : ""));
            }
        }
        if (out.isEmpty()) throw new IOException(data + ": no records");
        return out;
    }

    static String require(JsonNode t, String key, String where) throws IOException {
        if (!t.path(key).isTextual()) throw new IOException(where + ": needs '" + key + "'");
        return t.get(key).asText();
    }

    static JsonNode field(Record r, String path) throws IOException {
        JsonNode n = r.node();
        for (String part : path.split("\\.")) n = n.path(part);
        if (n.isMissingNode() || n.isNull()) throw new IOException(r.where() + ": no field '" + path + "'");
        return n;
    }

    /** The template with each {field} replaced by the record's value. */
    static String fill(String template, Record r) throws IOException {
        Matcher m = FIELD.matcher(template);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            JsonNode v = field(r, m.group(1));
            m.appendReplacement(sb, Matcher.quoteReplacement(v.isValueNode() ? v.asText() : v.toString()));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** A list: a template that is exactly one {field} holding an array, or a list of templates. */
    static List<String> list(JsonNode spec, Record r, String where) throws IOException {
        List<String> out = new ArrayList<>();
        if (spec.isArray()) {
            for (JsonNode x : spec) out.add(fill(x.asText(), r));
            return out;
        }
        Matcher m = FIELD.matcher(spec.asText());
        if (!m.matches()) throw new IOException(where + ": a list is one {field} holding a list, or a list of templates");
        JsonNode v = field(r, m.group(1));
        if (!v.isArray()) throw new IOException(r.where() + ": field '" + m.group(1) + "' is not a list");
        for (JsonNode x : v) out.add(x.asText());
        return out;
    }

    static Task multipleChoice(JsonNode t, String name, String group, Path data, String where) throws IOException {
        String prompt = require(t, "prompt", where), gold = require(t, "gold", where);
        if (!t.has("choices")) throw new IOException(where + ": needs 'choices'");
        List<MultipleChoice.Question> qs = new ArrayList<>();
        for (Record r : records(data)) {
            String filled = fill(prompt, r);
            List<String> choices = list(t.get("choices"), r, where);
            String g = fill(gold, r);
            int index;
            if (t.has("labels")) {
                index = list(t.get("labels"), r, where).indexOf(g);
                if (index < 0) throw new IOException(r.where() + ": gold '" + g + "' is not one of the labels");
            } else {
                try {
                    index = Integer.parseInt(g.strip());
                } catch (NumberFormatException e) {
                    throw new IOException(r.where() + ": gold '" + g + "' is not an index (give 'labels' to look it up)");
                }
            }
            if (index < 0 || index >= choices.size()) throw new IOException(r.where() + ": gold " + index + " is not one of the " + choices.size() + " choices");
            qs.add(new MultipleChoice.Question(filled, choices, index));
        }
        return new MultipleChoice(name, group, qs);
    }
}
