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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs survive: a real training process killed with SIGKILL at random moments (some right as a
 * checkpoint write begins) and resumed, again and again, ends with the same metrics, weights and
 * optimizer state, bit for bit, as a run that was never interrupted (with dropout on from step 3:
 * its masks are a function of seed and step, so no random state is saved).
 */
class ResumeTest {
    @TempDir
    Path dir;

    static final String CONFIG = """
            model: {style: llama, vocab_size: 256, context_length: 32, n_layer: 2, n_head: 4, n_kv_head: 2, d_model: 48, dropout: 0.1}
            data: {train: train.bin, val: val.bin}
            training: {seq_len: 32, micro_batch: 4, batch_tokens: 256, steps: 30, seed: 9, threads: 2, dropout_from_step: 3}
            optimizer: {lr: 3.0e-3}
            schedule: {kind: cosine, warmup_steps: 3}
            eval: {every: 7, batches: 2}
            checkpoint: {every: 5, log_spaced_until: 4}
            log: {every: 1}
            out: %s
            """;

    private Path setup(String out) throws IOException {
        return setup(out, "{lr: 3.0e-3}");
    }

    private Path setup(String out, String optimizer) throws IOException {
        if (!Files.exists(dir.resolve("train.bin"))) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; sb.length() < 30_000; i++) sb.append("resume ").append(i % 13).append(" exactly where it stopped. ");
            TrainerTest.byteShards(sb.toString().getBytes(StandardCharsets.UTF_8), dir.resolve("train.bin"), dir.resolve("val.bin"));
        }
        Path cfg = dir.resolve(out + ".yaml");
        Files.writeString(cfg, CONFIG.replace("optimizer: {lr: 3.0e-3}", "optimizer: " + optimizer).formatted(out));
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

    /**
     * With AdamW (the default), and with a recipe that holds every other kind of optimizer state at once:
     * GaLore's projector and projected moments on the hidden matrices, Muon's momentum on the embedding,
     * SPAM's moments (with resets and clipping) on the norm gains.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"{lr: 3.0e-3}", "{name: galore, lr: 3.0e-3, rank: 8, update_gap: 4, groups: {embedding: {name: muon, lr: 0.01}, "
            + "norm: {name: spam, lr: 3.0e-3, reset_interval: 7, reset_warmup: 3, clip_delay: 2, theta: 5}}}"})
    void killedAndResumedRunIsBitIdenticalToAnUninterruptedOne(String optimizer) throws Exception {
        killAndCompare(setup("reference", optimizer), setup("killed", optimizer));
    }

    /**
     * The training regimes at once: a model grown x2 from a small run's checkpoint, distilling from that
     * small model for the first 12 steps on the rows it selects (SALT_DS), on a mixture of two sources (one limited to a subset of its
     * tokens, so it repeats) with validation per source.
     */
    @Test
    void killedAndResumedGrowingDistillingMixingRunIsBitIdentical() throws Exception {
        setup("unused");
        Files.write(dir.resolve("old.bin"), Files.readAllBytes(dir.resolve("val.bin")));
        Path smallCfg = dir.resolve("small.yaml");
        Files.writeString(smallCfg, CONFIG.formatted("small").replace("n_layer: 2", "n_layer: 1").replace("steps: 30", "steps: 6")
                .replace("dropout: 0.1", "dropout: 0.0"));
        Trainer.Summary small = Trainer.start(ConfigLoader.load(smallCfg, RunConfig.class), dir, new PrintStream(new ByteArrayOutputStream()));
        Path ck = Checkpoints.dirFor(small.runDir(), 6);
        java.util.function.Function<String, Path> regimes = out -> {
            Path f = dir.resolve(out + ".yaml");
            try {
                Files.writeString(f, CONFIG.formatted(out).replaceFirst("model: .*\n", "")
                        .replace("data: {train: train.bin, val: val.bin}", "data: {sources: [{name: new, train: train.bin, val: val.bin, weight: 0.8}, "
                                + "{name: old, train: old.bin, val: val.bin, weight: 0.2, max_unique_tokens: 640}]}")
                        .replace(", dropout_from_step: 3}", ", grow_from: {checkpoint: " + ck + ", factor: 2}, distill: {teacher: " + ck
                                + ", weight: 0.5, temperature: 2.0, until_step: 12, select: {low: 0.1, high: 0.9, sample: 32}}}"));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return f;
        };
        killAndCompare(regimes.apply("reference"), regimes.apply("killed"));
        JsonNode last = new ObjectMapper().readTree(Files.readAllLines(dir.resolve("killed").resolve("metrics.jsonl")).getLast());
        assertTrue(last.has("val_loss/new") && last.has("val_loss/old") && last.get("epochs/old").asDouble() > 1, last.toString());
    }

    private void killAndCompare(Path refCfg, Path cfg) throws Exception {
        Trainer.Summary ref = Trainer.start(ConfigLoader.load(refCfg, RunConfig.class), dir, new PrintStream(new ByteArrayOutputStream()));
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
            for (String k : new String[] {"step", "tokens", "train_loss", "val_loss", "lr", "grad_norm", "kd_loss", "val_loss/old", "epochs/old", "epochs"}) {
                assertEquals(ra.get(k), rb.get(k), k + " in row " + i + ": " + a.get(i) + " vs " + b.get(i));
            }
        }
        assertEquals(Files.readAllLines(ref.runDir().resolve("diagnostics.jsonl")), Files.readAllLines(run.resolve("diagnostics.jsonl")),
                "per-layer diagnostics, bit for bit");
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
        // killed after the allowed change but before its first checkpoint: a plain resume continues under the
        // config.yaml the trainer wrote, from a checkpoint trained under the one before
        Checkpoints.deleteRecursively(Checkpoints.dirFor(dir.resolve("short"), 8));
        Trainer.Summary again = Trainer.resume(dir.resolve("short"), null, null, false, quiet);
        assertEquals(8, again.steps());
    }

    /** Raising the steps of an infinite-schedule run keeps its cool-down and anneal where the run has them: only the constant phase grows. */
    @Test
    void moreStepsOnResumeLengthenOnlyTheInfiniteSchedulesConstantPhase() throws Exception {
        Path cfg = setup("inf");
        Files.writeString(cfg, Files.readString(cfg).replace("steps: 30", "steps: 10").replace("schedule: {kind: cosine, warmup_steps: 3}",
                "schedule: {kind: infinite, warmup_steps: 1}"));
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Trainer.start(ConfigLoader.load(cfg, RunConfig.class), dir, quiet);
        RunConfig.Schedule written = RunConfigs.readSaved(dir.resolve("inf").resolve(RunConfigFile.FILE)).schedule();
        assertEquals(1, written.cooldownSteps(), "a tenth of 10 steps, written out in the run's config.yaml");
        assertEquals(2, written.annealSteps());
        Path longer = dir.resolve("inf-longer.yaml");
        Files.writeString(longer, Files.readString(cfg).replace("steps: 10", "steps: 40"));
        RunConfig changed = ConfigLoader.load(longer, RunConfig.class);
        String msg = assertThrows(IllegalArgumentException.class, () -> Trainer.resume(dir.resolve("inf"), changed, dir, false, quiet)).getMessage();
        assertTrue(msg.contains("training.steps: 10 -> 40") && !msg.contains("cooldown_steps") && !msg.contains("anneal_steps"), msg);
        Trainer.resume(dir.resolve("inf"), changed, dir, true, quiet);
        RunConfig.Schedule after = RunConfigs.readSaved(dir.resolve("inf").resolve(RunConfigFile.FILE)).schedule();
        assertEquals(1, after.cooldownSteps(), "not a tenth of 40");
        assertEquals(2, after.annealSteps());
    }

    /** The saved position is a place in a permutation of the shards' windows: shards that changed since are refused, not read from there. */
    @Test
    void changedShardsAreRefusedOnResume() throws Exception {
        Path cfg = setup("shards");
        Files.writeString(cfg, Files.readString(cfg).replace("steps: 30", "steps: 6"));
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Trainer.start(ConfigLoader.load(cfg, RunConfig.class), dir, quiet);
        Checkpoints.deleteRecursively(Checkpoints.dirFor(dir.resolve("shards"), 6)); // as if killed after step 5's checkpoint
        StringBuilder more = new StringBuilder();
        for (int i = 0; more.length() < 40_000; i++) more.append("other words ").append(i % 7).append(". ");
        TrainerTest.byteShards(more.toString().getBytes(StandardCharsets.UTF_8), dir.resolve("train.bin"), dir.resolve("val-other.bin"));
        String msg = assertThrows(IllegalArgumentException.class, () -> Trainer.resume(dir.resolve("shards"), null, null, false, quiet)).getMessage();
        assertTrue(msg.contains("data source 'train': its shards hold") && msg.contains("when the checkpoint was written"), msg);
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

    /**
     * An I/O error while training from a good checkpoint (here: the shards moved away) stops with that
     * error; it used to be taken for a bad checkpoint, so older ones were tried and metrics.jsonl cut
     * back each time, ending in "no complete checkpoint".
     */
    @Test
    void ioErrorWhileTrainingIsNotTakenForABadCheckpoint() throws Exception {
        Path cfg = setup("moved");
        Files.writeString(cfg, Files.readString(cfg).replace("steps: 30", "steps: 10"));
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Trainer.start(ConfigLoader.load(cfg, RunConfig.class), dir, quiet);
        Path run = dir.resolve("moved");
        long rows = Files.readAllLines(run.resolve("metrics.jsonl")).size();
        Path longer = dir.resolve("moved-longer.yaml");
        Files.writeString(longer, Files.readString(cfg).replace("steps: 10", "steps: 12"));
        RunConfig changed = ConfigLoader.load(longer, RunConfig.class);
        Files.move(dir.resolve("train.bin"), dir.resolve("train.bin.away"));
        try {
            IOException e = assertThrows(IOException.class, () -> Trainer.resume(run, changed, dir, true, quiet));
            assertTrue(e.getMessage().contains("train.bin") && !e.getMessage().contains("no complete checkpoint"), e.getMessage());
        } finally {
            Files.move(dir.resolve("train.bin.away"), dir.resolve("train.bin"));
        }
        assertEquals(rows, Files.readAllLines(run.resolve("metrics.jsonl")).size(), "metrics.jsonl is left as it was");
    }

    /**
     * A second trainer on a run directory that a trainer holds is refused, naming the holder: a
     * trainer in another process (the OS file lock), and one in this JVM (which must not open the
     * file, or it would drop the holder's lock).
     */
    @Test
    void aRunHeldByAnotherTrainerIsRefused() throws Exception {
        Path cfg = setup("held");
        Files.writeString(cfg, Files.readString(cfg).replace("steps: 30", "steps: 400"));
        Path run = dir.resolve("held");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), TrainProcess.class.getName(), "start", cfg.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null && !line.startsWith("step 1/")) { /* until it trains */ }
            assertTrue(line != null, "the other trainer did not start");
            long rows = Files.readAllLines(run.resolve("metrics.jsonl")).size();
            String msg = assertThrows(IOException.class, () -> Trainer.resume(run, null, null, false, quiet)).getMessage();
            assertTrue(msg.contains("in use by another trainer (process " + p.pid() + ")"), msg);
            assertTrue(Files.readAllLines(run.resolve("metrics.jsonl")).size() >= rows, "the refused trainer truncated nothing");
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
        try (RunLock held = RunLock.acquire(run)) {
            String msg = assertThrows(IOException.class, () -> Trainer.resume(run, null, null, false, quiet)).getMessage();
            assertTrue(msg.contains("in use by another trainer (process " + ProcessHandle.current().pid() + ")"), msg);
            String again = assertThrows(IOException.class, () -> RunLock.acquire(run)).getMessage();
            assertTrue(again.contains("in use"), again);
        }
        Files.writeString(cfg, Files.readString(cfg).replace("steps: 400", "steps: 2"));
        Trainer.resume(run, ConfigLoader.load(cfg, RunConfig.class), dir, true, quiet); // free again: the killed holder left no stale lock
    }

    /** config.yaml edited by hand after a checkpoint: its hash no longer matches the checkpoint's, and resuming says so. */
    @Test
    void editedRunConfigIsNoticedByItsHash() throws Exception {
        Path cfg = setup("edited");
        Files.writeString(cfg, Files.readString(cfg).replace("steps: 30", "steps: 5"));
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Trainer.start(ConfigLoader.load(cfg, RunConfig.class), dir, quiet);
        Path run = dir.resolve("edited");
        Path saved = run.resolve("config.yaml");
        Files.writeString(saved, Files.readString(saved).replace("lr: 0.003", "lr: 0.001"));
        String msg = assertThrows(IllegalArgumentException.class, () -> Trainer.resume(run, null, null, false, quiet)).getMessage();
        assertTrue(msg.contains("edited by hand") && msg.contains("--allow-config-change"), msg);
        Trainer.resume(run, null, null, true, quiet);
    }

    /**
     * Optimizer state is stored per tensor and state name, shaped as model.safetensors stores the
     * tensor; a run directory as the earlier version left it (config.yaml with hidden_size and
     * decay_embeddings, two flat AdamW buffers, the config hash of that file) resumes without any flag,
     * to the same weights as the run in today's format.
     */
    @Test
    void optimizerStateIsNamedPerTensorAndARunOfTheEarlierFormatStillResumes() throws Exception {
        Path cfg = setup("named");
        Files.writeString(cfg, Files.readString(cfg).replace("steps: 30", "steps: 6"));
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Trainer.start(ConfigLoader.load(cfg, RunConfig.class), dir, quiet);
        Path run = dir.resolve("named");
        Path ck = Checkpoints.dirFor(run, 5);
        dev.crucible.model.ModelConfig mc = ConfigLoader.load(run.resolve("config.yaml"), RunConfig.class).model().resolve();
        dev.crucible.model.ParamLayout layout = new dev.crucible.model.ParamLayout(mc);
        float[] m = new float[layout.size()], v = new float[layout.size()];
        try (dev.crucible.model.Safetensors.Reader r = dev.crucible.model.Safetensors.open(ck.resolve("optimizer.safetensors"))) {
            assertEquals("adamw", r.metadata().get("optimizer"));
            dev.crucible.model.Safetensors.Entry down = r.entry("model.layers.0.mlp.down_proj.weight.exp_avg");
            assertEquals(List.of(48L, (long) mc.intermediateSize()), java.util.Arrays.stream(down.shape()).boxed().toList());
            assertTrue(r.entries().containsKey("model.layers.1.self_attn.k_proj.weight.exp_avg_sq"), r.entries().keySet().toString());
            for (dev.crucible.model.HfFormat.HfTensor h : dev.crucible.model.HfFormat.tensors(layout)) {
                dev.crucible.model.HfFormat.insert(h, dev.crucible.model.HfFormat.read(r, h.hfName() + ".exp_avg", h.shape()), m);
                dev.crucible.model.HfFormat.insert(h, dev.crucible.model.HfFormat.read(r, h.hfName() + ".exp_avg_sq", h.shape()), v);
            }
        }
        // The same run at step 5 as the earlier version wrote it.
        Path old = dir.resolve("old");
        Path oldCk = Checkpoints.dirFor(old, 5);
        Files.createDirectories(oldCk);
        try (var files = Files.list(ck)) {
            for (Path f : files.toList()) Files.copy(f, oldCk.resolve(f.getFileName()));
        }
        String oldConfig = Files.readString(run.resolve("config.yaml")).replace(run.toString(), old.toString())
                .replace("intermediate_size:", "hidden_size:").replace("  name: adamw\n", "").replace("  groups: {}\n", "")
                .replace("  weight_decay: 0.1\n", "  weight_decay: 0.1\n  decay_embeddings: false\n")
                .replaceAll("(?m)^  (norm_placement|mix_ln_fraction|norm_scaling|qk_norm|norm|z_loss): .*\n", "") // keys added since
                .replaceAll("(?m)^diagnostics:\n(  .*\n)*", "");
        assertTrue(oldConfig.contains("hidden_size:") && oldConfig.contains("decay_embeddings: false") && !oldConfig.contains("groups")
                && !oldConfig.contains("norm_placement") && !oldConfig.contains("diagnostics"), oldConfig);
        Files.writeString(old.resolve("config.yaml"), oldConfig);
        Files.copy(run.resolve("metrics.jsonl"), old.resolve("metrics.jsonl"));
        dev.crucible.model.Safetensors.write(oldCk.resolve("optimizer.safetensors"), List.of(
                new dev.crucible.model.Safetensors.Source("adamw.exp_avg", new int[] {m.length}, () -> m),
                new dev.crucible.model.Safetensors.Source("adamw.exp_avg_sq", new int[] {v.length}, () -> v)),
                java.util.Map.of("optimizer_step", "5"));
        com.fasterxml.jackson.databind.node.ObjectNode state = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(
                oldCk.resolve("trainer_state.json").toFile());
        state.remove("flops"); // not recorded then
        state.put("config_sha256", Checkpoints.sha256(old.resolve("config.yaml"))); // what the earlier trainer stored: the file's hash
        ((com.fasterxml.jackson.databind.node.ObjectNode) state.get("files").get("optimizer.safetensors"))
                .put("bytes", Files.size(oldCk.resolve("optimizer.safetensors")))
                .put("sha256", Checkpoints.sha256(oldCk.resolve("optimizer.safetensors")));
        new ObjectMapper().writeValue(oldCk.resolve("trainer_state.json").toFile(), state);

        Files.delete(Checkpoints.dirFor(run, 6).resolve("trainer_state.json")); // resume both from step 5
        Trainer.resume(run, null, null, false, quiet);
        // with the config the run was started from, written today: keys the old file lacks are not changes
        Trainer.resume(old, ConfigLoader.load(cfg, RunConfig.class).withOut(old.toString()), dir, false, quiet);
        assertEquals(oldConfig, Files.readString(old.resolve("config.yaml")), "the old config.yaml is left as it was");
        assertEquals(Checkpoints.sha256(Checkpoints.dirFor(run, 6).resolve("model.safetensors")),
                Checkpoints.sha256(Checkpoints.dirFor(old, 6).resolve("model.safetensors")), "same weights after the resumed step");
    }

    /**
     * Every optimizer's state is in the checkpoint by tensor name: a run stopped after step 4 and
     * resumed ends at step 8 with the same weights and optimizer state, bit for bit, as the run that
     * went through. Covers every state shape: SPAM's moments with a reset and its warm-up crossing
     * the stop, GaLore's projector refreshed before and after it, Muon's momentum on a GPT-2 model
     * (HF's transposed Conv1D) and on Llama's split projections beside AdamW groups, and the
     * stateless SWAN and SinkGD.
     */
    @Test
    void everyOptimizerResumesBitIdentically() throws Exception {
        String llama = "{style: llama, vocab_size: 256, context_length: 32, n_layer: 2, n_head: 4, n_kv_head: 2, d_model: 48}";
        String gpt2 = "{style: gpt2, vocab_size: 256, context_length: 32, n_layer: 2, n_head: 4, d_model: 48}";
        String neox = "{style: gpt_neox, vocab_size: 256, context_length: 32, n_layer: 2, n_head: 4, d_model: 64}"; // state of a qkv grouped by head
        String[][] cases = {
                {llama, "{name: spam, lr: 3.0e-3, reset_interval: 3, reset_warmup: 2, clip_delay: 2, theta: 5}"},
                {llama, "{name: galore, rank: 8, update_gap: 3}"},
                {gpt2, "{name: muon}"},
                {llama, "{name: muon, shape_scale: moonlight, lr: 3.0e-3, weight_decay: 0.1, groups: {embedding: {name: spam, lr: 3.0e-3}}}"},
                {llama, "{name: swan}"},
                {gpt2, "{name: sinkgd}"},
                {neox, "{name: muon}"}};
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        setup("unused");
        for (int c = 0; c < cases.length; c++) {
            String name = "opt" + c;
            Path cfg = dir.resolve(name + ".yaml");
            Files.writeString(cfg, """
                    model: %s
                    data: {train: train.bin, val: val.bin}
                    training: {seq_len: 32, micro_batch: 4, batch_tokens: 128, steps: 8, seed: 3, threads: 2}
                    optimizer: %s
                    schedule: {kind: cosine, warmup_steps: 2}
                    eval: {every: 0}
                    checkpoint: {every: 4}
                    log: {every: 1}
                    out: %s
                    """.formatted(cases[c][0], cases[c][1], name));
            Trainer.Summary s = Trainer.start(ConfigLoader.load(cfg, RunConfig.class), dir, quiet);
            Path end = Checkpoints.dirFor(s.runDir(), 8);
            String model = Checkpoints.sha256(end.resolve("model.safetensors")), opt = Checkpoints.sha256(end.resolve("optimizer.safetensors"));
            try (dev.crucible.model.Safetensors.Reader r = dev.crucible.model.Safetensors.open(end.resolve("optimizer.safetensors"))) {
                String algorithm = cases[c][1].replaceAll("^\\{name: (\\w+).*", "$1");
                assertEquals(algorithm, r.metadata().get("optimizer"));
                boolean stateless = algorithm.equals("swan") || algorithm.equals("sinkgd");
                String probe = cases[c][0].contains("gpt2") ? "transformer.h.1.attn.c_attn.weight"
                        : cases[c][0].contains("gpt_neox") ? "gpt_neox.layers.1.attention.query_key_value.weight" : "model.layers.1.self_attn.k_proj.weight";
                boolean hasMatrixState = r.entries().keySet().stream().anyMatch(k -> k.startsWith(probe + "."));
                assertEquals(!stateless, hasMatrixState, algorithm + ": " + r.entries().keySet());
            }
            assertTrue(s.lastLoss() < s.firstLoss() - 0.1, cases[c][1] + " learns: loss " + s.firstLoss() + " -> " + s.lastLoss());
            Files.delete(end.resolve("trainer_state.json")); // the run stopped after step 4
            Trainer.resume(s.runDir(), null, null, false, quiet);
            assertEquals(model, Checkpoints.sha256(end.resolve("model.safetensors")), cases[c][1] + ": weights at step 8");
            assertEquals(opt, Checkpoints.sha256(end.resolve("optimizer.safetensors")), cases[c][1] + ": optimizer state at step 8");
        }
    }
}
