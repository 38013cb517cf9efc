package dev.crucible.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs survive: a real training process killed with SIGKILL at random moments (some right as a
 * checkpoint write begins) and resumed, again and again, ends with the same metrics, weights and
 * optimizer state, bit for bit, as a run that was never interrupted.
 */
class ResumeTest {
    @TempDir
    Path dir;

    static final String CONFIG = """
            model: {style: llama, vocab_size: 256, context_length: 32, n_layer: 2, n_head: 4, n_kv_head: 2, d_model: 48}
            data: {train: train.bin, val: val.bin}
            training: {seq_len: 32, micro_batch: 4, batch_tokens: 256, steps: 30, seed: 9, threads: 2}
            optimizer: {lr: 3.0e-3}
            schedule: {kind: cosine, warmup_steps: 3}
            eval: {every: 7, batches: 2}
            checkpoint: {every: 5, log_spaced_until: 4}
            log: {every: 1}
            out: %s
            """;

    private Path setup(String out) throws IOException {
        if (!Files.exists(dir.resolve("train.bin"))) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; sb.length() < 30_000; i++) sb.append("resume ").append(i % 13).append(" exactly where it stopped. ");
            TrainerTest.byteShards(sb.toString().getBytes(StandardCharsets.UTF_8), dir.resolve("train.bin"), dir.resolve("val.bin"));
        }
        Path cfg = dir.resolve(out + ".yaml");
        Files.writeString(cfg, CONFIG.formatted(out));
        return cfg;
    }

    /** Starts a training JVM and kills it (SIGKILL) after it has printed killAfter lines; returns whether it finished first. */
    private boolean runAndKill(List<String> args, int killAfter) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), TrainProcess.class.getName()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            int lines = 0;
            String line;
            while ((line = r.readLine()) != null) {
                out.append(line).append('\n');
                if (line.startsWith("step ") || line.startsWith("checkpoint: writing")) lines++;
                boolean atWrite = line.startsWith("checkpoint: writing") && killAfter < 0;
                if (lines == killAfter || atWrite) {
                    p.destroyForcibly(); // SIGKILL: no shutdown hooks, no flushing
                    p.waitFor();
                    return false;
                }
            }
        }
        int rc = p.waitFor();
        assertEquals(0, rc, "training process failed:\n" + out);
        return true;
    }

    @Test
    void killedAndResumedRunIsBitIdenticalToAnUninterruptedOne() throws Exception {
        Path refCfg = setup("reference");
        Trainer.Summary ref = Trainer.start(ConfigLoader.load(refCfg, RunConfig.class), dir, new PrintStream(new ByteArrayOutputStream()));

        Path cfg = setup("killed");
        Path run = dir.resolve("killed");
        Random rng = new Random(42);
        boolean finished = runAndKill(List.of("start", cfg.toString()), 1 + rng.nextInt(8));
        int kills = finished ? 0 : 1;
        for (int attempt = 0; !finished && attempt < 12; attempt++) {
            // Alternate: kill after a random number of lines, or at the moment a checkpoint write starts.
            int killAfter = attempt >= 8 ? Integer.MAX_VALUE : attempt % 3 == 2 ? -1 : 2 + rng.nextInt(10);
            for (Path ck : Checkpoints.list(run)) Checkpoints.verify(ck); // earlier checkpoints are never damaged
            finished = runAndKill(List.of("resume", run.toString()), killAfter);
            if (!finished) kills++;
        }
        assertTrue(finished, "run did not finish");
        assertTrue(kills >= 4, "the run was killed " + kills + " times");

        ObjectMapper json = new ObjectMapper();
        List<String> a = Files.readAllLines(ref.runDir().resolve("metrics.jsonl")), b = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(a.size(), b.size(), "metrics rows");
        for (int i = 0; i < a.size(); i++) {
            JsonNode ra = json.readTree(a.get(i)), rb = json.readTree(b.get(i));
            for (String k : new String[] {"step", "tokens", "train_loss", "val_loss", "lr", "grad_norm"}) {
                assertEquals(ra.get(k), rb.get(k), k + " in row " + i + ": " + a.get(i) + " vs " + b.get(i));
            }
        }
        List<Path> refCks = Checkpoints.list(ref.runDir()), cks = Checkpoints.list(run);
        assertEquals(refCks.stream().map(Path::getFileName).toList(), cks.stream().map(Path::getFileName).toList(),
                "checkpoints at 1, 2, 4, 5, 10, ..., 30");
        for (int i = 0; i < refCks.size(); i++) {
            for (String f : new String[] {"model.safetensors", "optimizer.safetensors"}) {
                assertEquals(Checkpoints.sha256(refCks.get(i).resolve(f)), Checkpoints.sha256(cks.get(i).resolve(f)), cks.get(i) + "/" + f);
            }
        }
    }

    @Test
    void changedConfigIsRefusedWithTheKeysThatDiffer() throws Exception {
        Path cfg = setup("short");
        Files.writeString(cfg, Files.readString(cfg).replace("steps: 30", "steps: 5"));
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Trainer.start(ConfigLoader.load(cfg, RunConfig.class), dir, quiet);
        Path longer = dir.resolve("longer.yaml");
        Files.writeString(longer, Files.readString(cfg).replace("steps: 5", "steps: 8").replace("lr: 3.0e-3", "lr: 1.0e-3"));
        RunConfig changed = ConfigLoader.load(longer, RunConfig.class);
        String msg = assertThrows(IllegalArgumentException.class, () -> Trainer.resume(dir.resolve("short"), changed, dir, false, quiet)).getMessage();
        assertTrue(msg.contains("training.steps: 5 -> 8") && msg.contains("optimizer.lr: 0.003 -> 0.001") && msg.contains("--allow-config-change"), msg);
        Trainer.Summary s = Trainer.resume(dir.resolve("short"), changed, dir, true, quiet);
        assertEquals(8, s.steps());
        assertTrue(Files.isDirectory(Checkpoints.dirFor(dir.resolve("short"), 8)));
    }

    @Test
    void corruptCheckpointIsSkippedForTheOneBefore() throws Exception {
        Path cfg = setup("corrupt");
        Files.writeString(cfg, Files.readString(cfg).replace("steps: 30", "steps: 10"));
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Trainer.start(ConfigLoader.load(cfg, RunConfig.class), dir, quiet);
        Path run = dir.resolve("corrupt");
        Path last = Checkpoints.dirFor(run, 10);
        byte[] bytes = Files.readAllBytes(last.resolve("model.safetensors"));
        bytes[bytes.length - 1] ^= 1;
        Files.write(last.resolve("model.safetensors"), bytes);
        String msg = assertThrows(IOException.class, () -> Checkpoints.verify(last)).getMessage();
        assertTrue(msg.contains("SHA-256 differs"), msg);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Trainer.resume(run, null, null, false, new PrintStream(log, true, StandardCharsets.UTF_8));
        String out = log.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("skipping checkpoint") && out.contains("resuming at step 5"), out);
        Checkpoints.verify(last); // rewritten by the resumed run
    }
}
