package dev.crucible.data.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.Documents;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineTest {
    @TempDir
    Path tmp;

    static List<Doc> europarl(int n) throws IOException {
        List<Doc> docs = new ArrayList<>();
        Documents.read(Path.of("builtin:europarl"), (name, text) -> {
            if (docs.size() < n) docs.add(new Doc(name, text));
        });
        return docs;
    }

    List<Doc> run(List<Operators.Step> steps, List<Doc> in, int threads, Pipeline[] keep) throws IOException {
        List<Doc> out = new ArrayList<>();
        Pipeline p = new Pipeline(steps, threads, 5, tmp.resolve("spill"));
        try (p) {
            Pipeline.Feeder f = p.start(out::add);
            for (Doc d : in) f.accept(d);
            f.finish();
        }
        if (keep != null) keep[0] = p;
        return out;
    }

    static List<Operators.Step> steps(Object... nameParams) {
        List<Operators.Step> s = new ArrayList<>();
        for (int i = 0; i < nameParams.length; i += 2) {
            @SuppressWarnings("unchecked") Map<String, Object> params = (Map<String, Object>) nameParams[i + 1];
            s.add(Operators.create((String) nameParams[i], params));
        }
        return s;
    }

    @Test
    void metadataIterateInKeyOrderSoOutputFieldsDoNotDependOnTheJvm() {
        Map<String, String> meta = new java.util.HashMap<>();
        for (String k : List.of("source", "lang", "lang_score", "domain", "a", "zeta", "m1", "m0", "quality", "b")) meta.put(k, k.toUpperCase());
        Doc doc = new Doc("id", "text", Map.copyOf(meta)).withMeta("c", "C");
        assertEquals(List.of("a", "b", "c", "domain", "lang", "lang_score", "m0", "m1", "quality", "source", "zeta"), List.copyOf(doc.meta().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> doc.meta().put("x", "y"));
    }

    @Test
    void theDedupSpillKeepsLoneSurrogatesSoOutputDoesNotDependOnADedupStep() throws IOException {
        // a JSON escape such as \\ud800 puts a lone surrogate into a document; UTF-8 cannot encode it
        Doc odd = new Doc("id\uD800", "half a pair \uD83D here, a whole one \uD83D\uDE00, and a low one \uDE00",
                Map.of("m", "\uDFFF"), Map.of("url", "x\uD800y"));
        List<Doc> in = List.of(new Doc("plain", "caf\u00e9 text"), odd, new Doc("again", "caf\u00e9 text"));
        List<Doc> without = run(steps("text_length_filter", Map.of("min_len", 1)), in, 1, null);
        List<Doc> with = run(steps("exact_dedup", Map.of(), "text_length_filter", Map.of("min_len", 1)), in, 1, null);
        assertEquals(List.of(in.get(0), odd, in.get(2)), without);
        assertEquals(List.of(in.get(0), odd), with, "the spilled documents come back char for char");
        assertEquals(odd.text(), with.get(1).text());
        assertEquals(odd.fields(), with.get(1).fields());
        assertEquals(odd.meta(), with.get(1).meta());
    }

    @Test
    void nothingIsLostAndThreadsDoNotChangeTheResult() throws IOException {
        List<Doc> in = new ArrayList<>(europarl(3000));
        for (int i = 0; i < 20; i++) {
            Doc d = in.get(i * 7);
            in.add(new Doc(d.id() + "-copy", d.text()));
            in.add(new Doc(d.id() + "-near", d.text().replaceFirst(" ", " near ")));
        }
        List<Operators.Step> steps = steps("whitespace_normalization_mapper", Map.of(), "language_id_score_filter", Map.of("min_score", 0.7),
                "gopher_quality_filter", Map.of("where", Map.of("lang", "en")), "exact_dedup", Map.of(), "text_length_filter", Map.of("min_len", 200),
                "minhash_dedup", Map.of(), "fineweb_quality_filter", Map.of("where", Map.of("lang", "de")));
        Pipeline[] p = new Pipeline[1];
        List<Doc> one = run(steps, in, 1, p);
        List<StepStats> stats = p[0].stats();
        long flowing = in.size();
        for (StepStats s : stats) {
            assertEquals(flowing, s.docsIn, s.label);
            assertEquals(s.docsIn, s.docsOut + s.removed, s.label);
            assertEquals(s.removed + s.changed, s.rules.values().stream().mapToLong(Long::longValue).sum(), s.label);
            flowing = s.docsOut;
        }
        assertEquals(flowing, one.size());
        assertTrue(one.size() > 1000 && one.size() < in.size(), "kept " + one.size());
        for (StepStats s : stats) assertTrue(s.removed + s.changed > 0, s.label + " did nothing");
        for (StepStats s : stats) {
            long traced = p[0].trace().stream().filter(t -> t.step().equals(s.label)).count();
            assertEquals(Math.min(5, s.removed + s.changed), traced, s.label);
        }
        List<Doc> four = run(steps, in, 4, p);
        assertEquals(one, four);
    }

    @Test
    void minhashFindsPlantedNearDuplicatesInARealCorpusAndNothingElse() throws IOException {
        List<Doc> base = europarl(2000).stream().filter(d -> TextStats.words(d.text()).size() >= 150).limit(600).toList();
        java.util.Random rnd = new java.util.Random(7);
        List<Doc> in = new ArrayList<>(base);
        Set<String> planted = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            Doc src = base.get(rnd.nextInt(base.size()));
            List<String> words = new ArrayList<>(TextStats.tokens(src.text()));
            for (int e = 0; e < 3; e++) words.set(rnd.nextInt(words.size()), "edited" + e); // a few edited words
            String id = "planted-" + i;
            planted.add(id);
            in.add(rnd.nextInt(in.size() - base.size() + 1) + base.size(), new Doc(id, String.join(" ", words)));
        }
        Pipeline[] p = new Pipeline[1];
        List<Doc> out = run(steps("minhash_dedup", Map.of()), in, 2, p);
        Set<String> kept = new HashSet<>();
        out.forEach(d -> kept.add(d.id()));
        for (Doc d : base) assertTrue(kept.contains(d.id()), "removed an original: " + d.id());
        long found = planted.stream().filter(id -> !kept.contains(id)).count();
        assertTrue(found >= 95, "recall " + found + "/100");
    }

    @Test
    void exactDedupKeepsTheFirstCopy() throws IOException {
        List<Doc> in = List.of(new Doc("a", "same"), new Doc("b", "other"), new Doc("c", "same"), new Doc("d", "Same"));
        Pipeline[] p = new Pipeline[1];
        List<Doc> out = run(steps("exact_dedup", Map.of()), in, 2, p);
        assertEquals(List.of("a", "b", "d"), out.stream().map(Doc::id).toList());
        assertEquals("duplicate of a", p[0].trace().getFirst().detail());
    }

    @Test
    void recipeRunWritesShardsSummaryAndTrace() throws IOException {
        Path jsonl = tmp.resolve("in.jsonl");
        Files.writeString(jsonl, """
                {"text": "The committee has voted on the report, and it was not what we expected of them."}
                not json
                {"text": "Der Ausschuss hat über den Bericht abgestimmt, und es war nicht das, was wir erwartet haben."}
                {"title": "no text field"}
                {"text": "short"}
                """);
        Path recipeFile = tmp.resolve("r.yaml");
        Files.writeString(recipeFile, """
                inputs:
                  - {path: %s, meta: {domain: prose}}
                output: {dir: %s, partition_by: lang}
                on_malformed: skip
                ops:
                  - text_length_filter: {min_len: 20}
                  - language_id_score_filter: {min_score: 0.5}
                """.formatted(jsonl, tmp.resolve("out")));
        RecipeRun.Summary s = RecipeRun.run(Recipe.load(recipeFile), null);
        assertEquals(2, s.inputs().getFirst().malformed());
        assertEquals(jsonl + ":2: not a JSON object (Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false'))",
                s.inputs().getFirst().malformedExamples().getFirst());
        assertEquals(2, s.docsOut());
        Path out = tmp.resolve("out");
        assertFalse(Files.exists(tmp.resolve("out.partial")));
        JsonNode en = firstLine(out.resolve("en/part-00000.jsonl.gz"));
        assertEquals("prose", en.get("domain").asText());
        assertEquals("en", en.get("lang").asText());
        assertTrue(Files.exists(out.resolve("de/part-00000.jsonl.gz")));
        JsonNode summary = new ObjectMapper().readTree(out.resolve("_summary.json").toFile());
        assertEquals(1, summary.get("steps").get(0).get("removed").asLong());
        assertTrue(Files.readString(out.resolve("_trace.jsonl")).contains("\"detail\":\"length 5.000 < min_len 20.00\""));
        // a rerun replaces its own earlier output
        RecipeRun.run(Recipe.load(recipeFile), null);
        // but not a directory that is not a recipe's output
        Path foreign = tmp.resolve("foreign");
        Files.createDirectories(foreign);
        Files.writeString(foreign.resolve("precious.txt"), "x");
        assertThrows(IOException.class, () -> RecipeRun.run(Recipe.load(recipeFile).withOutputDir(foreign), null));
        assertTrue(Files.exists(foreign.resolve("precious.txt")));
    }

    /**
     * A JSON-lines record keeps its own id and every other field (url, nested metadata) through every
     * operator, including a de-duplication that spills documents to disk, in the output and in the
     * trace; a record without an id is named by its place.
     */
    @Test
    void recordIdsAndFieldsSurviveEveryOperator() throws IOException {
        Path jsonl = tmp.resolve("records.jsonl");
        Files.writeString(jsonl, """
                {"id": "doc-7", "text": "Contact   me at someone@example.org about the report on the committee vote.", "url": "https://a.example/7", "meta": {"source": "cc", "n": [1, 2], "w": 1.10}}
                {"id": 8, "text": "short", "url": "https://a.example/8"}
                {"text": "The committee has voted on the report, and it was not what we expected of them.", "score": 0.5}
                {"id": "doc-9", "text": "The committee has voted on the report, and it was not what we expected of them.", "url": "https://a.example/9"}
                """);
        Path recipeFile = tmp.resolve("fields.yaml");
        Files.writeString(recipeFile, """
                inputs: [%s]
                output: {dir: %s, compression: none}
                ops:
                  - whitespace_normalization_mapper: {}
                  - remove_email_mapper: {}
                  - text_length_filter: {min_len: 20}
                  - exact_dedup: {}
                """.formatted(jsonl, tmp.resolve("fields")));
        RecipeRun.run(Recipe.load(recipeFile), null);
        List<JsonNode> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(tmp.resolve("fields/part-00000.jsonl"))) out.add(json.readTree(line));
        assertEquals(2, out.size(), out.toString());
        JsonNode first = out.get(0);
        assertEquals("doc-7", first.get("id").asText());
        assertEquals("https://a.example/7", first.get("url").asText());
        String line = Files.readAllLines(tmp.resolve("fields/part-00000.jsonl")).getFirst();
        assertTrue(line.contains("\"meta\":{\"source\":\"cc\",\"n\":[1,2],\"w\":1.10}"), "nested fields and their digits as they came: " + line);
        assertFalse(first.get("text").asText().contains("@"), "the operators did run: " + first);
        assertEquals(jsonl + ":3", out.get(1).get("id").asText(), "no id of its own: named by its place");
        assertEquals(0.5, out.get(1).get("score").asDouble());
        String trace = Files.readString(tmp.resolve("fields/_trace.jsonl"));
        assertTrue(Files.readAllLines(tmp.resolve("fields/part-00000.jsonl")).stream().noneMatch(l -> l.contains("\"id\":\"8\"")));
        assertTrue(trace.contains("\"doc\":\"8\"") && trace.contains("\"fields\":{\"id\":8,\"url\":\"https://a.example/8\"}"), trace);
        assertTrue(trace.contains("\"doc\":\"doc-9\"") && trace.contains("duplicate of " + jsonl + ":3"), trace);
    }

    @Test
    void zstdOutputReadsBackAsInput() throws IOException {
        List<Doc> docs = europarl(300);
        Path recipeFile = tmp.resolve("z.yaml");
        Files.writeString(recipeFile, "inputs: [builtin:europarl]\noutput: {dir: %s, compression: zstd, shard_docs: 100}\nops:\n  - sample_filter: {fraction: 0.02}\n"
                .formatted(tmp.resolve("z")));
        RecipeRun.Summary s = RecipeRun.run(Recipe.load(recipeFile), null);
        List<String> back = new ArrayList<>();
        Documents.read(tmp.resolve("z"), (name, text) -> back.add(text)); // _summary.json and _trace.jsonl are not documents
        assertEquals(s.docsOut(), back.size());
        assertTrue(back.size() > 200 && back.size() < 500, "about 2% of 17,597: " + back.size());
        Set<String> texts = new HashSet<>();
        Documents.read(Path.of("builtin:europarl"), (name, text) -> texts.add(text));
        assertTrue(texts.containsAll(back));
        assertTrue(docs.size() == 300);
    }

    static JsonNode firstLine(Path gz) throws IOException {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(gz)), StandardCharsets.UTF_8))) {
            return new ObjectMapper().readTree(r.readLine());
        }
    }

    @Test
    void recipeErrorsNameTheFileAndLine() {
        String ok = "inputs: [a.txt]\noutput: {dir: out}\nops:\n  - text_length_filter: {min_len: 10}\n";
        assertEquals(1, Recipe.parse("r.yaml", ok).steps().size());
        Recipe.RecipeException e = assertThrows(Recipe.RecipeException.class, () -> Recipe.parse("r.yaml",
                "inputs: [a.txt]\noutput: {dir: out}\nops:\n  - text_length_filter: {min_len: 10}\n  - text_length_filter: {min_lenn: 10}\n"));
        assertEquals("r.yaml:5: text_length_filter: unknown parameter 'min_lenn' (allowed: max_len, min_len, where)", e.getMessage());
        e = assertThrows(Recipe.RecipeException.class, () -> Recipe.parse("r.yaml", "inputs: [a.txt]\noutput: {dir: out}\nopz: []\n"));
        assertEquals("r.yaml:3: unknown key 'opz' (allowed: inputs, on_malformed, ops, output, threads, trace_samples)", e.getMessage());
        e = assertThrows(Recipe.RecipeException.class, () -> Recipe.parse("r.yaml", "inputs: [a.txt]\noutput: {dir: out}\nops:\n  - fancy_filter: {}\n"));
        assertTrue(e.getMessage().startsWith("r.yaml:4: fancy_filter: unknown operator 'fancy_filter'"), e.getMessage());
        e = assertThrows(Recipe.RecipeException.class, () -> Recipe.parse("r.yaml", "inputs: [a.txt\n"));
        assertTrue(e.getMessage().startsWith("r.yaml:1: not valid YAML"), e.getMessage());
        // a parameter given twice: YAML would keep the second, silently
        e = assertThrows(Recipe.RecipeException.class, () -> Recipe.parse("r.yaml",
                "inputs: [a.txt]\noutput: {dir: out}\nops:\n  - text_length_filter:\n      min_len: 10\n      min_len: 1000\n"));
        assertTrue(e.getMessage().startsWith("r.yaml:6: not valid YAML: Duplicate field 'min_len'"), e.getMessage());
        // the same operator twice gets distinct labels
        Recipe r = Recipe.parse("r.yaml", "inputs: [a.txt]\noutput: {dir: out}\nops:\n  - exact_dedup: {}\n  - exact_dedup: {}\n");
        assertEquals(List.of("exact_dedup", "exact_dedup#2"), r.steps().stream().map(Operators.Step::label).toList());
    }

    @Test
    void aNullParameterDisablesADatatroveCheckAndIsRefusedElsewhereWithItsLine() {
        String recipe = "inputs: [a.txt]\noutput: {dir: out}\nops:\n  - gopher_quality_filter:\n      min_doc_words: 10\n      max_doc_words: null\n"
                + "  - text_length_filter:\n      min_len: 10\n      max_len: ~\n";
        Recipe.RecipeException e = assertThrows(Recipe.RecipeException.class, () -> Recipe.parse("r.yaml", recipe));
        assertEquals("r.yaml:9: text_length_filter: parameter 'max_len' is null; leave it out for its default, or give a value", e.getMessage());
        Recipe r = Recipe.parse("r.yaml", recipe.substring(0, recipe.indexOf("  - text_length_filter")));
        Operator g = ((Operators.PerDoc) r.steps().getFirst()).op();
        String tooLongForTheDefault = "the cat sat with the dog. ".repeat(17_000); // 102,000 words
        assertFalse(g.apply(new Doc("d", tooLongForTheDefault)).removed(), "datatrove's None: no upper bound");
        Operator byDefault = ((Operators.PerDoc) Operators.create("gopher_quality_filter", Map.of())).op();
        assertEquals("long_doc", byDefault.apply(new Doc("d", tooLongForTheDefault)).rule());
    }
}
