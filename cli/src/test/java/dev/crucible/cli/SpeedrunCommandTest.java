package dev.crucible.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.ShardSet;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The speedrun on a stand-in for the cleaned corpus (its English documents written by hand, so the
 * default recipe is not run here): the held-out set is every tenth document's first 128 windows of
 * 256 bytes, a recipe races to the finish line and stops there, the result is appended, and recipes
 * that would be scored on other windows are refused.
 */
class SpeedrunCommandTest {
    @TempDir
    Path dir;

    @Test
    void aRecipeRacesToTheFinishLineAndTheResultIsKept() throws Exception {
        Path clean = Files.createDirectories(dir.resolve("sr/data/clean/en"));
        Files.writeString(dir.resolve("sr/data/clean/_summary.json"), "{}");
        StringBuilder docs = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            String text = ("Document " + i + ": the committee adopted the report on agriculture, and the house agreed. ").repeat(12);
            docs.append(new ObjectMapper().writeValueAsString(java.util.Map.of("id", "d" + i, "text", text))).append('\n');
        }
        Files.writeString(clean.resolve("part-00000.jsonl"), docs);
        Path recipe = dir.resolve("small.yaml");
        Files.writeString(recipe, """
                model: {style: llama, context_length: 256, n_layer: 1, n_head: 2, n_kv_head: 1, d_model: 32}
                training: {seq_len: 256, micro_batch: 4, batch_tokens: 1024, steps: 200, seed: 1, threads: 1}
                optimizer: {name: adamw, lr: 1.0e-2}
                schedule: {kind: constant, warmup_steps: 5}
                eval: {every: 5}
                """);
        CommandsTest.Result r = CommandsTest.run("speedrun", "--out", dir.resolve("sr").toString(), "--recipe", recipe.toString(), "--target", "5.0");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("speedrun: reached"), r.out());
        try (ShardSet val = ShardSet.open(dir, "sr/data/val.bin")) {
            assertEquals(128 * 256 + 1, val.totalTokens(), "the held-out set: 128 windows of 256 bytes");
        }
        JsonNode data = new ObjectMapper().readTree(dir.resolve("sr/data/data.json").toFile());
        assertEquals(64, data.get("val_sha256").asText().length());
        List<String> results = Files.readAllLines(dir.resolve("sr/results.jsonl"));
        assertEquals(1, results.size());
        JsonNode row = new ObjectMapper().readTree(results.getFirst());
        assertTrue(row.get("reached").asBoolean() && row.get("steps").asInt() < 200 && row.get("steps").asInt() % 5 == 0, row.toString());
        assertTrue(row.get("final_val_bpb").asDouble() <= 5.0 && row.get("training_seconds").asDouble() > 0, row.toString());
        Path attempt = Path.of(row.get("run").asText());
        String raced = Files.readString(Path.of(attempt + ".yaml"));
        assertTrue(raced.contains("stop_below: 3.46573") && raced.contains("batches: 32"), raced);
        // a second attempt reuses the data and appends its own row
        CommandsTest.Result again = CommandsTest.run("speedrun", "--out", dir.resolve("sr").toString(), "--recipe", recipe.toString(), "--target", "5.0");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("data: reusing"), again.out());
        List<String> both = Files.readAllLines(dir.resolve("sr/results.jsonl"));
        assertEquals(2, both.size());
        assertTrue(!new ObjectMapper().readTree(both.get(0)).get("run").equals(new ObjectMapper().readTree(both.get(1)).get("run")), "each attempt its own directory");
        // windows of another length, or a micro-batch that does not divide the held-out windows: refused
        Files.writeString(recipe, Files.readString(recipe).replace("seq_len: 256", "seq_len: 128"));
        CommandsTest.Result shorter = CommandsTest.run("speedrun", "--out", dir.resolve("sr").toString(), "--recipe", recipe.toString());
        assertEquals(2, shorter.code());
        assertTrue(shorter.err().contains("training.seq_len is 128"), shorter.err());
        Files.writeString(recipe, Files.readString(recipe).replace("seq_len: 128", "seq_len: 256").replace("micro_batch: 4", "micro_batch: 3")
                .replace("batch_tokens: 1024", "batch_tokens: 768"));
        CommandsTest.Result odd = CommandsTest.run("speedrun", "--out", dir.resolve("sr").toString(), "--recipe", recipe.toString());
        assertEquals(2, odd.code());
        assertTrue(odd.err().contains("micro_batch must divide 128"), odd.err());
        assertTrue(CommandsTest.run("speedrun", "--print-recipe").out().contains("model: {style: llama"), "the record recipe");
        assertTrue(Files.readString(dir.resolve("sr/results.jsonl")).lines().allMatch(l -> l.contains("\"target_bpb\":5.0")));
        assertEquals("Document 0:", first(dir, "sr/data/val.bin", 11), "the first document is held out");
        assertEquals("Document 1:", first(dir, "sr/data/train.bin", 11), "the second trains");
    }

    private static String first(Path dir, String shard, int n) throws java.io.IOException {
        try (ShardSet s = ShardSet.open(dir, shard)) {
            int[] t = new int[n];
            s.shards().getFirst().read(0, t, 0, n);
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) b[i] = (byte) t[i];
            return new String(b, StandardCharsets.UTF_8);
        }
    }
}
