package dev.crucible.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.crucible.data.pipeline.Recipe;
import dev.crucible.data.pipeline.RecipeRun;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Spark engine against the local one: the same files with the same bytes, the same counts and trace. */
class SparkRecipeRunTest {
    static final ObjectMapper JSON = new ObjectMapper();
    final JavaSparkContext sc = TestSpark.context();

    @TempDir
    Path dir;

    /**
     * Documents with planted duplicates across three files: exact copies, near-copies (a few words
     * changed, so MinHash links them) and chains (a~b, b~c, with a and c too far apart to match
     * directly: connected components must join them, and keep the first).
     */
    static void plantedCorpus(Path corpus) throws IOException {
        Files.createDirectories(corpus);
        SplittableRandom rng = new SplittableRandom(7);
        String[] vocab = new String[400];
        for (int i = 0; i < vocab.length; i++) vocab[i] = "w" + Integer.toString(i * 7919 % 100_003, 36);
        List<String> bases = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            StringBuilder sb = new StringBuilder();
            int words = 100 + rng.nextInt(40);
            for (int w = 0; w < words; w++) sb.append(w > 0 ? " " : "").append(vocab[rng.nextInt(vocab.length)]);
            bases.add(sb.toString());
        }
        List<List<String>> files = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        int n = 0;
        for (int i = 0; i < bases.size(); i++) {
            String base = bases.get(i);
            files.get(i % 3).add(line(n++, base, i % 2 == 0 ? "en" : "fr"));
            if (i % 4 == 0) files.get((i + 1) % 3).add(line(n++, base, "en")); // exact copy
            if (i % 5 == 0) files.get((i + 2) % 3).add(line(n++, mutate(base, 4, rng), "fr")); // near copy
            if (i % 7 == 0) { // a chain: each link a few words from the last
                String link = base;
                for (int k = 0; k < 3; k++) {
                    link = mutate(link, 9, rng);
                    files.get((i + k) % 3).add(line(n++, link, "de"));
                }
            }
            if (i % 9 == 0) files.get(i % 3).add(line(n++, "short " + i, "en")); // the length filter's
        }
        files.get(1).add(2, "{\"id\": \"broken\", \"text\": ");
        Files.createDirectories(corpus.resolve("ab"));
        Files.write(corpus.resolve("ab/part-0.jsonl"), files.get(0), StandardCharsets.UTF_8);
        Files.write(corpus.resolve("ab/part-1.jsonl"), files.get(1), StandardCharsets.UTF_8);
        Files.write(corpus.resolve("c.jsonl"), files.get(2), StandardCharsets.UTF_8);
    }

    static String line(int id, String text, String lang) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", id);
        o.put("text", text);
        o.putObject("source").put("lang", lang).put("n", id);
        return JSON.writeValueAsString(o);
    }

    static String mutate(String text, int words, SplittableRandom rng) {
        String[] w = text.split(" ");
        for (int i = 0; i < words; i++) w[rng.nextInt(w.length)] = "x" + rng.nextInt(1000);
        return String.join(" ", w);
    }

    static String recipe(Object corpus, Path out, String onMalformed) {
        return """
                inputs:
                  - {path: %s/ab, meta: {site: ab}}
                  - {path: %s/c.jsonl, meta: {site: c}}
                output: {dir: %s, compression: gzip, shard_docs: 7, partition_by: site}
                on_malformed: %s
                trace_samples: 3
                ops:
                  - whitespace_normalization_mapper: {}
                  - text_length_filter: {min_len: 40}
                  - exact_dedup: {}
                  - minhash_dedup: {n_grams: 3, num_buckets: 20, hashes_per_bucket: 3}
                  - words_num_filter: {min_num: 110}
                """.formatted(corpus, corpus, out, onMalformed);
    }

    @Test
    void plantedDuplicatesComeOutAsTheLocalEngineWritesThem() throws IOException {
        Path corpus = dir.resolve("corpus");
        plantedCorpus(corpus);
        String text = recipe(corpus, dir.resolve("unused"), "skip");
        RecipeRun.Summary local = RecipeRun.run(Recipe.parse("planted.yaml", text).withOutputDir(dir.resolve("local")), null);
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        RecipeRun.Summary spark = SparkRecipeRun.run(Recipe.parse("planted.yaml", text).withOutputDir(dir.resolve("spark")), text, sc,
                new java.io.PrintStream(log, true, StandardCharsets.UTF_8));
        // the phase table: each de-duplication's shuffle (its keys), and the write's (every kept document once)
        String table = log.toString(StandardCharsets.UTF_8);
        for (String phase : new String[] {"step 4: minhash_dedup", "write"}) {
            String row = table.lines().filter(l -> l.startsWith(phase + " ")).findFirst().orElseThrow(() -> new AssertionError(table));
            String[] cols = row.substring(44).trim().split("\\s+");
            assertTrue(Double.parseDouble(cols[2]) > 0 && Double.parseDouble(cols[2]) == Double.parseDouble(cols[3]), row);
        }
        assertTrue(table.contains("GB per GB of input text"), table);
        assertSameOutput(dir.resolve("local"), dir.resolve("spark"));
        assertEquals(local.docsOut(), spark.docsOut());
        // the planted duplicates were found: exact and near copies and the chains' later links
        Map<String, Long> removed = new TreeMap<>();
        for (var s : spark.steps()) removed.put(s.label, s.removed);
        assertTrue(removed.entrySet().stream().anyMatch(e -> e.getKey().startsWith("exact_dedup") && e.getValue() >= 10), removed.toString());
        assertTrue(removed.entrySet().stream().anyMatch(e -> e.getKey().startsWith("minhash_dedup") && e.getValue() >= 20), removed.toString());
        assertEquals(1, spark.inputs().getFirst().malformed());
    }

    /** Inputs and output named by Hadoop addresses (file:// here; hdfs://, s3a://... on a cluster) give what the same local files give. */
    @Test
    void hadoopAddressesReadAndWriteAsLocalFilesDo() throws IOException {
        Path corpus = dir.resolve("corpus");
        plantedCorpus(corpus);
        String plain = recipe(corpus, dir.resolve("unused"), "skip"), address = recipe(corpus.toUri().toString().replaceAll("/$", ""), dir.resolve("unused"), "skip");
        assertTrue(address.contains("file:///"), address);
        RecipeRun.run(Recipe.parse("r.yaml", plain).withOutputDir(dir.resolve("local")), null);
        String output = dir.resolve("spark").toUri().toString(); // written through Hadoop's file system too
        RecipeRun.Summary s = SparkRecipeRun.run(Recipe.parse("r.yaml", address).withOutput(output), address, sc, null);
        assertEquals(shards(dir.resolve("local")), shards(dir.resolve("spark")));
        try (Stream<Path> files = Files.walk(dir.resolve("spark"))) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().endsWith(".crc")).toList(), "no checksum files beside the shards");
        }
        IOException local = assertThrows(IOException.class, () -> RecipeRun.run(Recipe.parse("r.yaml", address).withOutputDir(dir.resolve("l2")), null));
        assertTrue(local.getMessage().startsWith("input file:///") && local.getMessage().contains("run with --engine spark"), local.getMessage());
        assertEquals(withoutTimings(dir.resolve("local")).get("steps"), withoutTimings(dir.resolve("spark")).get("steps"));
        assertEquals(1, s.inputs().getFirst().malformed());
        assertTrue(s.inputs().getFirst().malformedExamples().getFirst().startsWith("file:" + corpus.resolve("ab/part-1.jsonl") + ":3: "),
                s.inputs().getFirst().malformedExamples().toString());
    }

    /** The shipped default recipe, whole: Europarl by language and java.base's sources, 21k documents, 71 MB. */
    @Test
    void theDefaultCorpusComesOutAsTheLocalEngineWritesIt() throws IOException {
        String text;
        try (InputStream in = Recipe.class.getResourceAsStream("/dev/crucible/data/pipeline/default-corpus.yaml")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        RecipeRun.run(Recipe.parse("default-corpus.yaml", text).withOutputDir(dir.resolve("local")), null);
        SparkRecipeRun.run(Recipe.parse("default-corpus.yaml", text).withOutputDir(dir.resolve("spark")), text, sc, null);
        assertSameOutput(dir.resolve("local"), dir.resolve("spark"));
    }

    @Test
    void aMalformedRecordFailsTheRunNamingItsFileAndLine() throws IOException {
        Path corpus = dir.resolve("corpus");
        plantedCorpus(corpus);
        String text = recipe(corpus, dir.resolve("out"), "fail");
        IOException local = assertThrows(IOException.class, () -> RecipeRun.run(Recipe.parse("r.yaml", text).withOutputDir(dir.resolve("local")), null));
        IOException spark = assertThrows(IOException.class,
                () -> SparkRecipeRun.run(Recipe.parse("r.yaml", text).withOutputDir(dir.resolve("spark")), text, sc, null));
        assertEquals(local.getMessage(), spark.getMessage());
        assertTrue(spark.getMessage().contains(corpus.resolve("ab/part-1.jsonl") + ":3: not a JSON object"), spark.getMessage());
        assertFalse(Files.exists(dir.resolve("spark")), "a failed run leaves no output");
    }

    /** Every shard's decompressed bytes, the summary without its timings, and the trace. */
    static void assertSameOutput(Path local, Path spark) throws IOException {
        Map<String, String> a = shards(local), b = shards(spark);
        assertFalse(a.isEmpty());
        assertEquals(a.keySet(), b.keySet());
        for (String f : a.keySet()) assertEquals(a.get(f), b.get(f), f);
        assertEquals(withoutTimings(local), withoutTimings(spark));
        assertEquals(Files.readString(local.resolve(RecipeRun.TRACE)), Files.readString(spark.resolve(RecipeRun.TRACE)));
    }

    static Map<String, String> shards(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".jsonl.gz")).toList()) {
                try (InputStream in = new GZIPInputStream(Files.newInputStream(f))) {
                    out.put(dir.relativize(f).toString(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    static JsonNode withoutTimings(Path dir) throws IOException {
        ObjectNode s = (ObjectNode) JSON.readTree(dir.resolve(RecipeRun.SUMMARY).toFile());
        s.remove(List.of("seconds", "threads"));
        for (JsonNode step : s.get("steps")) ((ObjectNode) step).remove("cpu_seconds");
        ((ObjectNode) s.get("output")).remove("dir");
        return s;
    }
}
