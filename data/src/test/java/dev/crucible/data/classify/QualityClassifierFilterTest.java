package dev.crucible.data.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.pipeline.Recipe;
import dev.crucible.data.pipeline.RecipeRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QualityClassifierFilterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path tmp;

    @Test
    void aRecipeKeepsWhatTheClassifierScoresHighTheSameOnAnyNumberOfThreads() throws IOException {
        Path model = tmp.resolve("q.bin");
        FastTextTrainer.train(FastTextTest.toySet(400, 7), new FastTextTrainer.Options(16, 0.5, 5, 1, 2, 10_000, 0, 0, false, 3)).save(model);
        Path in = tmp.resolve("in.jsonl");
        List<String> lines = new ArrayList<>();
        var docs = FastTextTest.toySet(300, 9);
        for (int i = 0; i < docs.size(); i++) lines.add(JSON.writeValueAsString(java.util.Map.of("id", "d" + i, "text", docs.get(i).line().replace(" the ", "\nthe "))));
        Files.write(in, lines);
        byte[] first = null;
        for (int threads : new int[] {1, 2}) {
            Path recipe = tmp.resolve("r" + threads + ".yaml"), out = tmp.resolve("out" + threads);
            Files.writeString(recipe, "inputs: [" + in + "]\noutput: {dir: " + out + ", compression: none}\nthreads: " + threads
                    + "\nops:\n  - quality_classifier_filter: {model: " + model + ", min_score: 0.5}\n");
            RecipeRun.Summary s = RecipeRun.run(Recipe.load(recipe), null);
            assertEquals(150, s.docsOut(), "the positives (even documents) stay");
            byte[] bytes = Files.readAllBytes(out.resolve("part-00000.jsonl"));
            if (first == null) first = bytes;
            else assertEquals(-1, java.util.Arrays.mismatch(first, bytes), "threads change nothing");
            var kept = JSON.readTree(Files.readAllLines(out.resolve("part-00000.jsonl")).getFirst());
            assertTrue(kept.get("quality_score").asDouble() >= 0.5, kept.toString());
            assertEquals("{\"low_score\":150}", JSON.readTree(out.resolve(RecipeRun.SUMMARY).toFile()).get("steps").get(0).get("rules").toString());
        }
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, "inputs: [" + in + "]\noutput: {dir: " + tmp.resolve("o") + "}\nops:\n  - quality_classifier_filter: {model: " + model + ", label: __label__hq}\n");
        var e = assertThrows(Recipe.RecipeException.class, () -> Recipe.load(bad));
        assertTrue(e.getMessage().contains(":4: quality_classifier_filter: " + model + " has no label '__label__hq' (labels: __label__neg, __label__pos)")
                || e.getMessage().contains("(labels: __label__pos, __label__neg)"), e.getMessage());
    }
}
