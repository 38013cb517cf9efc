package dev.crucible.eval.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.pipeline.Operators;
import dev.crucible.data.pipeline.Params;
import dev.crucible.data.pipeline.Recipe;
import dev.crucible.data.pipeline.RecipeRun;
import dev.crucible.eval.Evaluator;
import dev.crucible.eval.Metric;
import dev.crucible.eval.RollingPerplexity;
import dev.crucible.eval.TestCheckpoints;
import dev.crucible.tensor.WorkerPool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PerplexityFilterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path tmp;

    @Test
    void scoresAreTheRollingPerplexityTasksAndARecipeKeepsTheBand() throws Exception {
        Path model = TestCheckpoints.byteLevel(tmp.resolve("m"), 3);
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < 24; i++) docs.add(("document " + i + ": ").repeat(1 + i % 5) + "the end"); // 20 to 90 bytes: one to three windows of 32
        var filter = (PerplexityFilter) ((Operators.PerDoc) Operators.create("perplexity_filter", Params.of("model", model.toString()).asMap())).op();
        double[] bpb = new double[docs.size()];
        try (WorkerPool pool = new WorkerPool(2)) {
            for (int i = 0; i < docs.size(); i++) {
                bpb[i] = filter.measure(docs.get(i));
                var r = Evaluator.evaluate(model, List.of(new RollingPerplexity("doc", List.of(docs.get(i)))), 0, 1, pool);
                Metric m = r.getFirst().metrics().getFirst();
                assertEquals("bits_per_byte", m.name());
                assertEquals(m.value(), bpb[i], 1e-9, "the eval task's bits per byte for document " + i);
            }
        }
        // scored together, each document gets what it gets alone (rows are scored independently)
        assertEquals(java.util.Arrays.toString(bpb), java.util.Arrays.toString(filter.measureAll(docs)));
        double[] sorted = bpb.clone();
        java.util.Arrays.sort(sorted);
        double cut = (sorted[11] + sorted[12]) / 2;
        Path in = tmp.resolve("in.jsonl");
        List<String> lines = new ArrayList<>();
        for (String d : docs) lines.add(JSON.writeValueAsString(java.util.Map.of("text", d)));
        lines.add("{\"text\": \"\"}");
        Files.write(in, lines);
        byte[] first = null;
        for (int threads : new int[] {1, 2}) {
            Path recipe = tmp.resolve("r" + threads + ".yaml"), out = tmp.resolve("o" + threads);
            Files.writeString(recipe, "inputs: [" + in + "]\noutput: {dir: " + out + ", compression: none}\nthreads: " + threads
                    + "\nops:\n  - perplexity_filter: {model: " + model + ", max: " + cut + "}\n");
            RecipeRun.Summary s = RecipeRun.run(Recipe.load(recipe), null);
            assertEquals(12, s.docsOut());
            assertEquals("{\"no_tokens\":1,\"too_high\":12}", JSON.readTree(out.resolve(RecipeRun.SUMMARY).toFile()).get("steps").get(0).get("rules").toString());
            byte[] bytes = Files.readAllBytes(out.resolve("part-00000.jsonl"));
            if (first == null) first = bytes;
            else assertEquals(-1, java.util.Arrays.mismatch(first, bytes), "threads change nothing");
            for (String l : Files.readAllLines(out.resolve("part-00000.jsonl"))) assertTrue(JSON.readTree(l).get("bits_per_byte").asDouble() <= cut);
        }
        // token perplexity of a prefix
        var ppl = (PerplexityFilter) ((Operators.PerDoc) Operators.create("perplexity_filter",
                Params.of("model", model.toString(), "metric", "perplexity", "max_tokens", 8).asMap())).op();
        assertEquals(ppl.measure(docs.get(3).substring(0, 8)), ppl.measure(docs.get(3)), 1e-9, "only the first 8 (byte) tokens count");
        // a run directory stands for its latest checkpoint
        TestCheckpoints.byteLevel(tmp.resolve("run/checkpoints/step-0000001"), 9);
        TestCheckpoints.byteLevel(tmp.resolve("run/checkpoints/step-0000002"), 3);
        var latest = (PerplexityFilter) ((Operators.PerDoc) Operators.create("perplexity_filter", Params.of("model", tmp.resolve("run").toString()).asMap())).op();
        assertEquals(bpb[5], latest.measure(docs.get(5)), 1e-12, "step 2 has the seed-3 weights");
        var e = assertThrows(IllegalArgumentException.class, () -> Operators.create("perplexity_filter", Params.of("model", tmp.resolve("none").toString()).asMap()));
        assertTrue(e.getMessage().contains("none: cannot load the model"), e.getMessage());
    }

    /**
     * A recipe whose filter names a run directory, parsed again from its pinned text (as Spark's executors parse the
     * driver's) after the run wrote a newer checkpoint, scores with the checkpoint the first parse resolved; a
     * recipe that resolved nothing keeps its text.
     */
    @Test
    void theRecipeAsResolvedKeepsItsCheckpointWhenANewerOneLands() throws Exception {
        Path run = tmp.resolve("run"), first = TestCheckpoints.byteLevel(run.resolve("checkpoints/step-0000001"), 9);
        String text = """
                inputs: [in.jsonl]
                output: {dir: out}
                ops:
                  - text_length_filter: {min_len: 1}
                  - perplexity_filter: {model: %s, max: 100, where: {domain: prose}}
                  - exact_dedup
                """.formatted(run);
        Recipe driver = Recipe.parse("r.yaml", text);
        assertTrue(filter(driver).toString().contains("perplexity_filter(" + first + ")"), filter(driver).toString());
        String pinned = driver.pinnedText(text);
        TestCheckpoints.byteLevel(run.resolve("checkpoints/step-0000002"), 3);
        Recipe executor = Recipe.parse("r.yaml", pinned), unpinned = Recipe.parse("r.yaml", text);
        assertTrue(filter(executor).toString().contains("perplexity_filter(" + first + ")"), pinned);
        assertTrue(filter(unpinned).toString().contains("step-0000002"), filter(unpinned).toString());
        assertEquals(driver.steps().stream().map(Operators.Step::label).toList(), executor.steps().stream().map(Operators.Step::label).toList());
        assertEquals(java.util.Map.of(), filter(executor).pinned(), "a checkpoint names itself");
        String plain = "inputs: [in.jsonl]\noutput: {dir: out}\nops:\n  - perplexity_filter: {model: " + first + "}\n";
        assertEquals(plain, Recipe.parse("p.yaml", plain).pinnedText(plain));
    }

    /** The second step's operator (where-wrapped). */
    private static dev.crucible.data.pipeline.Operator filter(Recipe r) {
        return ((Operators.PerDoc) r.steps().get(1)).op();
    }
}
