package dev.crucible.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A small sweep end to end: 2 variants x 2 seeds, two at a time, and again one at a time killed mid-way with SIGKILL, resumed, evaluated and compared. */
class SweepCommandTest {
    @TempDir
    Path dir;

    @Test
    void aKilledSweepResumesToWhatAnUninterruptedOneComputesAndComparesItsVariants() throws Exception {
        CommandsTest.byteShards(dir, "sweep %d over seeds and variants. ", 20_000);
        Files.writeString(dir.resolve("base.yaml"), """
                model: {style: gpt2, vocab_size: 256, context_length: 32, n_layer: 1, n_head: 2, d_model: 16}
                data: {train: train.bin, val: val.bin}
                training: {seq_len: 32, micro_batch: 4, steps: 8, threads: 1}
                optimizer: {lr: 3.0e-3}
                schedule: {warmup_steps: 2}
                eval: {every: 4, batches: 2}
                checkpoint: {every: 4}
                log: {every: 1}
                """);
        String sweep = """
                base: base.yaml
                seeds: [1, 2]
                variants:
                  base: {}
                  fast: {optimizer.lr: 1.0e-2}
                eval: {tasks: [induction], limit: 4, quantize: w4}
                out: %s
                """;
        Files.writeString(dir.resolve("ref.yaml"), sweep.formatted("ref"));
        Files.writeString(dir.resolve("killed.yaml"), sweep.formatted("killed"));
        // the reference two runs at a time: what it computes must not depend on that either
        CommandsTest.Result ref = CommandsTest.run("sweep", dir.resolve("ref.yaml").toString(), "--parallel", "2");
        assertEquals(0, ref.code(), ref.err());
        assertTrue(Files.readString(dir.resolve("ref/fast/seed-2/sweep.log")).contains("done: 8 steps"), "each parallel run's output in its sweep.log");

        // killed in the third run, then run again to the end
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "sweep", dir.resolve("killed.yaml").toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        boolean killed = false;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            int runs = 0, steps = 0;
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("=== run")) runs++;
                if (runs == 3 && line.startsWith("step 5/")) {
                    p.destroyForcibly();
                    p.waitFor();
                    killed = true;
                    break;
                }
            }
        }
        assertTrue(killed, "the sweep was killed in its third run");
        CommandsTest.Result resumed = CommandsTest.run("sweep", dir.resolve("killed.yaml").toString());
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("=== run 1/4: base, seed 1") && resumed.out().contains(": finished"), resumed.out());

        for (String run : new String[] {"base/seed-1", "fast/seed-1", "base/seed-2", "fast/seed-2"}) {
            assertEquals(metrics(dir.resolve("ref").resolve(run)), metrics(dir.resolve("killed").resolve(run)), run + ": bit-identical to the uninterrupted sweep");
            assertEquals(Files.readAllLines(dir.resolve("ref").resolve(run).resolve("eval/results.jsonl")).size(),
                    Files.readAllLines(dir.resolve("killed").resolve(run).resolve("eval/results.jsonl")).size(), run + ": every checkpoint evaluated once");
        }
        JsonNode c = new ObjectMapper().readTree(dir.resolve("killed/comparison.json").toFile());
        assertEquals("base", c.get("baseline").asText());
        List<String> rows = new ArrayList<>();
        for (JsonNode row : c.get("rows")) rows.add(row.get("metric").asText() + " " + row.get("variant").asText());
        assertTrue(rows.containsAll(List.of("val_loss base", "val_loss fast", "induction:induction_gain base", "induction:induction_gain fast")), rows.toString());
        JsonNode fast = c.get("rows").get(1), base = c.get("rows").get(0);
        assertEquals("val_loss fast", fast.get("metric").asText() + " " + fast.get("variant").asText());
        assertEquals(2, fast.get("seeds").asInt());
        assertTrue(fast.get("ci95_half_width").asDouble() > 0 && fast.has("difference_ci95_half_width") && fast.has("p"), fast.toString());
        assertFalse(base.has("difference"), "the baseline has no difference from itself");
        assertTrue(Files.readString(dir.resolve("killed/comparison.md")).contains("| val_loss | fast | 2 |"), "the table");
        // the sweep edited after its runs started: refused, naming the run and the key, nothing trained
        Files.writeString(dir.resolve("killed.yaml"), sweep.formatted("killed").replace("1.0e-2", "2.0e-2"));
        CommandsTest.Result edited = CommandsTest.run("sweep", dir.resolve("killed.yaml").toString());
        assertEquals(2, edited.code());
        assertTrue(edited.err().contains("fast/seed-1 was started under another config") && edited.err().contains("optimizer.lr: 0.01 -> 0.02"), edited.err());
        // another evaluation than the runs so far had: refused; a variant whose data is missing: refused before any run starts
        Files.writeString(dir.resolve("ref.yaml"), sweep.formatted("ref").replace("limit: 4", "limit: 2"));
        CommandsTest.Result evalChanged = CommandsTest.run("sweep", dir.resolve("ref.yaml").toString());
        assertEquals(2, evalChanged.code());
        assertTrue(evalChanged.err().contains("eval differs from what"), evalChanged.err());
        Files.writeString(dir.resolve("missing.yaml"), sweep.formatted("missing").replace("fast: {optimizer.lr: 1.0e-2}", "fast: {data.train: nowhere.bin}"));
        CommandsTest.Result missing = CommandsTest.run("sweep", dir.resolve("missing.yaml").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("variant 'fast': data: no token shards match") && !Files.exists(dir.resolve("missing/base/seed-1/metrics.jsonl")),
                missing.err());
        CommandsTest.Result cmp = CommandsTest.run("compare", dir.resolve("killed").toString());
        assertEquals(0, cmp.code(), cmp.err());
        assertTrue(cmp.out().contains("fast (optimizer.lr: 0.003 -> 0.01): "), cmp.out());
        String html = Files.readString(dir.resolve("killed/compare/report.html"));
        assertTrue(html.contains("<h2>Variants against the baseline, over seeds</h2>") && html.contains("<p>fast (optimizer.lr: 0.003 -&gt; 0.01): "),
                "the sentences per variant in the report");
        assertTrue(Files.size(dir.resolve("killed/compare/charts/loss-over-seeds.png")) > 1000, "the loss of each variant with its band over seeds");
        assertTrue(Files.size(dir.resolve("killed/compare/charts/induction-induction_gain-over-seeds.png")) > 1000, "the capability with its band");
        assertTrue(html.contains("<h2>Variants side by side, over seeds</h2>") && html.contains("<th>4-bit gap, induction induction_gain</th>"),
                "emergence, health, layers and the 4-bit gap per variant (eval.quantize: w4)");

        // the same runs named by hand (as for runs a bench script made, one per seed): the sweep's comparison, row for row
        String baseRuns = dir.resolve("ref/base/seed-1") + "," + dir.resolve("ref/base/seed-2"), fastRuns = dir.resolve("ref/fast/seed-2") + "," + dir.resolve("ref/fast/seed-1");
        CommandsTest.Result byHand = CommandsTest.run("compare", "--variant", "base=" + baseRuns, "--variant", "fast=" + fastRuns, "--out", dir.resolve("by-hand").toString());
        assertEquals(0, byHand.code(), byHand.err());
        assertEquals(c.get("rows"), new ObjectMapper().readTree(dir.resolve("by-hand/comparison.json").toFile()).get("rows"), "paired by each run's seed");
        assertTrue(byHand.out().contains("fast (optimizer.lr: 0.003 -> 0.01): ") && Files.exists(dir.resolve("by-hand/report.html")), byHand.out());
        CommandsTest.Result twice = CommandsTest.run("compare", "--variant", "base=" + baseRuns, "--variant", "fast=" + dir.resolve("ref/fast/seed-1") + "," + dir.resolve("killed/fast/seed-1"));
        assertEquals(2, twice.code());
        assertTrue(twice.err().contains("--variant fast has two runs of seed 1"), twice.err());
        CommandsTest.Result notRun = CommandsTest.run("compare", "--variant", "base=" + baseRuns, "--variant", "fast=" + dir.resolve("nowhere"), "--baseline", "base");
        assertEquals(2, notRun.code());
        assertTrue(notRun.err().contains(dir.resolve("nowhere") + " has no config.yaml"), notRun.err());
        CommandsTest.Result noBaseline = CommandsTest.run("compare", "--variant", "base=" + baseRuns, "--variant", "fast=" + fastRuns, "--baseline", "other");
        assertEquals(2, noBaseline.code());
        assertTrue(noBaseline.err().contains("--baseline other is none of the --variant names [base, fast]"), noBaseline.err());
        CommandsTest.Result one = CommandsTest.run("compare", "--variant", "base=" + baseRuns, "--out", dir.resolve("one").toString());
        assertEquals(2, one.code());
        assertTrue(one.err().contains("two or more --variant groups") && !Files.exists(dir.resolve("one")), "refused before anything is written: " + one.err());
        CommandsTest.Result empty = CommandsTest.run("compare", "--variant", "base=" + baseRuns + ",", "--variant", "fast=" + fastRuns);
        assertEquals(2, empty.code());
        assertTrue(empty.err().contains("no empty RUN"), empty.err());
    }

    /** metrics.jsonl without the timing columns. */
    private static List<String> metrics(Path run) throws java.io.IOException {
        return Files.readAllLines(run.resolve("metrics.jsonl")).stream().map(l -> l.replaceAll(",\"(tokens_per_s|mfu|elapsed_s)\":[0-9.eE-]+", "")).toList();
    }
}
