package dev.crucible.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quickstart end to end on a reduced budget (3% of the default corpus, a tiny model, seconds of
 * training), interrupted with SIGKILL in three stages (tokenizer training, a checkpoint write,
 * evaluation) and rerun until it finishes; then every artifact is checked for consistency, and a
 * further rerun must reuse everything.
 */
class QuickstartTest {
    @TempDir
    Path dir;

    static final String TINY = """
            # a model small enough for a test
            model: {style: gpt2, vocab_size: 512, context_length: 64, n_layer: 2, n_head: 2, d_model: 32}
            training: {seq_len: 64, micro_batch: 8, batch_tokens: 512}
            """;

    List<String> args() {
        List<String> a = new ArrayList<>(List.of("quickstart", "--out", dir.resolve("qs").toString(), "--minutes", "0.25", "--corpus-percent", "3",
                "--vocab-size", "512", "--recipe", dir.resolve("tiny.yaml").toString(), "--threads", "2"));
        String data = System.getProperty("crucible.data");
        if (data != null && Files.isDirectory(Path.of(data, "blimp"))) a.addAll(List.of("--tasks-dir", data));
        return a;
    }

    /** What one quickstart process printed, and whether it was killed (false: it finished by itself). */
    record Outcome(String out, boolean killed) {}

    /** Runs the quickstart in its own JVM and kills it right after a line containing `killAt` (null: let it finish). */
    Outcome runAndKill(String killAt) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                out.append(line).append('\n');
                if (killAt != null && line.contains(killAt)) {
                    p.destroyForcibly(); // SIGKILL: no shutdown hooks, nothing flushed
                    p.waitFor();
                    return new Outcome(out.toString(), true);
                }
            }
        }
        assertEquals(0, p.waitFor(), out.toString());
        return new Outcome(out.toString(), false);
    }

    /** Kills the quickstart at killAt and checks that the kill landed: the process was still running when the line came. */
    String killAt(String killAt) throws Exception {
        Outcome o = runAndKill(killAt);
        assertTrue(o.killed(), "the quickstart finished before printing '" + killAt + "', so it was never killed there:\n" + o.out());
        return o.out();
    }

    @Test
    void interruptedAnywhereItFinishesConsistentlyAndAReRunReusesEverything() throws Exception {
        Files.writeString(dir.resolve("tiny.yaml"), TINY);
        String first = killAt("tokenizer: training");
        assertTrue(first.contains("[1/5]"), first);
        String second = killAt("checkpoint: writing step 8");
        assertTrue(second.contains("tokenizer: reusing") || second.contains("tokenizer: training"), second);
        String third = killAt("(2/");
        assertTrue(third.contains("[4/5]"), third);
        CommandsTest.Result fin = CommandsTest.run(args().toArray(String[]::new));
        assertEquals(0, fin.code(), fin.out() + fin.err());
        assertTrue(fin.out().contains("training: finished earlier"), fin.out());

        Path qs = dir.resolve("qs"), run = qs.resolve("tiny");
        // data: cleaned, tokenized, per-domain validation and held-out text
        JsonNode summary = new ObjectMapper().readTree(qs.resolve("data/clean/_summary.json").toFile());
        long in = summary.get("inputs").get(0).get("docs").asLong() + summary.get("inputs").get(1).get("docs").asLong();
        assertEquals(in, summary.get("steps").get(0).get("docs_in").asLong());
        assertTrue(Files.exists(qs.resolve("data/shards/train_000000.bin")));
        assertTrue(Files.exists(qs.resolve("data/shards/val_java_000000.bin")));
        assertTrue(Files.exists(qs.resolve("data/shards/heldout/en.jsonl")));
        assertTrue(Files.exists(qs.resolve("data/tokenizer.json")));
        // every checkpoint evaluated exactly once, with the same tasks
        Set<String> checkpoints = new TreeSet<>();
        try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
            s.forEach(p -> checkpoints.add(p.getFileName().toString()));
        }
        assertTrue(checkpoints.size() >= 5, checkpoints.toString());
        Set<String> rows = new HashSet<>();
        Set<Long> stepsWithResults = new TreeSet<>();
        Set<String> tasksAtFirst = new TreeSet<>(), tasksAtLast = new TreeSet<>();
        ObjectMapper json = new ObjectMapper();
        long firstStep = Long.parseLong(checkpoints.iterator().next().substring(5)), lastStep = Long.parseLong(((TreeSet<String>) checkpoints).last().substring(5));
        for (String line : Files.readAllLines(run.resolve("eval/results.jsonl"))) {
            JsonNode r = json.readTree(line);
            assertTrue(rows.add(r.get("step") + "/" + r.get("task") + "/" + r.get("metric")), "duplicate row " + line);
            stepsWithResults.add(r.get("step").asLong());
            if (r.get("step").asLong() == firstStep) tasksAtFirst.add(r.get("task").asText());
            if (r.get("step").asLong() == lastStep) tasksAtLast.add(r.get("task").asText());
        }
        assertEquals(checkpoints.size(), stepsWithResults.size());
        for (String ck : checkpoints) assertTrue(Files.exists(run.resolve("eval").resolve(ck + ".json")), ck);
        assertEquals(tasksAtFirst, tasksAtLast);
        assertTrue(tasksAtFirst.containsAll(List.of("bpb_en", "bpb_java", "cloze", "icl_score", "induction")), tasksAtFirst.toString());
        // training made progress: validation loss fell
        List<Double> val = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode r = json.readTree(line);
            if (r.has("val_loss")) val.add(r.get("val_loss").asDouble());
        }
        assertTrue(val.getLast() < val.getFirst() - 0.3, val.toString());
        // the report lists every checkpoint
        String html = Files.readString(qs.resolve("tiny-report/report.html"));
        for (String ck : checkpoints) assertTrue(html.contains("<tr><td>" + Long.parseLong(ck.substring(5)) + "</td>"), ck);
        assertTrue(Files.exists(qs.resolve("tiny-report/charts/bpb.png")));
        // a rerun reuses every stage
        CommandsTest.Result again = CommandsTest.run(args().toArray(String[]::new));
        assertEquals(0, again.code(), again.err());
        for (String reuse : List.of("clean: reusing", "tokenizer: reusing", "shards: reusing", "config: reusing", "training: finished earlier", "is evaluated")) {
            assertTrue(again.out().contains(reuse), reuse + " missing in\n" + again.out());
        }
    }
}
