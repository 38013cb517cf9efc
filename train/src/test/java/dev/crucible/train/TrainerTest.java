package dev.crucible.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.TokenShard;
import dev.crucible.model.HfFormat;
import dev.crucible.model.ParamLayout;
import dev.crucible.model.Safetensors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer end to end: metrics, checkpoints, determinism, and learning on real text. */
public class TrainerTest {
    @TempDir
    Path dir;

    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    /** Byte-level shards of a text: 90% train, the last 10% validation. */
    public static void byteShards(byte[] text, Path train, Path val) throws IOException {
        int split = text.length * 9 / 10;
        int[] tok = new int[text.length];
        for (int i = 0; i < text.length; i++) tok[i] = text[i] & 0xFF;
        TokenShard.write(train, tok, split, 256);
        int[] v = java.util.Arrays.copyOfRange(tok, split, tok.length);
        TokenShard.write(val, v, v.length, 256);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private Path config(String body) throws IOException {
        Path f = dir.resolve("run-" + System.nanoTime() + ".yaml");
        Files.writeString(f, body);
        return f;
    }

    private Trainer.Summary train(Path config) throws IOException {
        return Trainer.start(ConfigLoader.load(config, RunConfig.class), dir, QUIET);
    }

    private byte[] syntheticText() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < 40_000; i++) sb.append("the quick brown fox ").append(i % 7).append(" jumps over the lazy dog.\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    static final String SMALL = """
            model: {style: %s, vocab_size: 256, context_length: 32, n_layer: 2, n_head: 2, d_model: 32}
            data: {train: train.bin, val: val.bin}
            training: {seq_len: 32, micro_batch: 4, batch_tokens: 256, steps: 12, seed: 3, threads: 2}
            optimizer: {lr: 3.0e-3}
            schedule: {kind: %s, warmup_steps: 2}
            eval: {every: 5, batches: 2}
            checkpoint: {every: 6}
            log: {every: 3}
            out: %s
            """;

    /** eval.stop_below: the run ends at the first validation at or below it, with a checkpoint there; resuming it trains nothing. */
    @Test
    void aRunEndsAtTheFirstValidationBelowItsFinishLine() throws IOException {
        byteShards(syntheticText(), dir.resolve("train.bin"), dir.resolve("val.bin"));
        Trainer.Summary full = train(config(SMALL.formatted("gpt2", "constant", "full").replace("steps: 12", "steps: 40").replace("every: 5,", "every: 2,")));
        List<JsonNode> rows = new ArrayList<>();
        for (String l : Files.readAllLines(full.runDir().resolve("metrics.jsonl"))) rows.add(JSON.readTree(l));
        // the finish line: the validation loss at step 20, so the run must stop there, at the first validation that low
        double line = rows.stream().filter(r -> r.path("step").asInt() == 20).findFirst().orElseThrow().get("val_loss").asDouble();
        int first = rows.stream().filter(r -> r.has("val_loss") && r.get("val_loss").asDouble() <= line).mapToInt(r -> r.get("step").asInt()).min().orElseThrow();
        Path cfg = config(SMALL.formatted("gpt2", "constant", "stopped").replace("steps: 12", "steps: 40")
                .replace("every: 5,", "every: 2,").replace("batches: 2}", "batches: 2, stop_below: " + line + "}"));
        Trainer.Summary stopped = train(cfg);
        assertEquals(first, stopped.steps(), "ends at the first validation at or below " + line);
        assertTrue(stopped.trainingSeconds() > 0, "training time, pauses excluded: " + stopped.trainingSeconds());
        assertTrue(Files.isRegularFile(Checkpoints.dirFor(stopped.runDir(), first).resolve("trainer_state.json")), "a checkpoint where it ended");
        assertFalse(Files.exists(Checkpoints.dirFor(stopped.runDir(), 40)));
        assertTrue(stopped.stopped() && Trainer.finished(stopped.runDir()), "a run its finish line ended is finished (sweeps and eval --follow stop there)");
        assertFalse(full.stopped());
        Trainer.Summary again = Trainer.resume(stopped.runDir(), null, null, false, QUIET);
        assertEquals(first, again.steps(), "resuming a run that reached its finish line trains nothing");
        assertEquals(first, Files.readAllLines(stopped.runDir().resolve("metrics.jsonl")).stream().mapToInt(l -> {
            try {
                return JSON.readTree(l).get("step").asInt();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).max().orElseThrow());
    }

    @Test
    void writesMetricsAndLoadableCheckpointsAndIsDeterministic() throws IOException {
        byteShards(syntheticText(), dir.resolve("train.bin"), dir.resolve("val.bin"));
        Trainer.Summary a = train(config(SMALL.formatted("gpt2", "cosine", "a")));
        Trainer.Summary b = train(config(SMALL.formatted("gpt2", "cosine", "b")));
        List<String> ma = Files.readAllLines(a.runDir().resolve("metrics.jsonl")), mb = Files.readAllLines(b.runDir().resolve("metrics.jsonl"));
        assertEquals(ma.size(), mb.size());
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(ma.get(0));
        assertEquals(0, first.get("step").asInt());
        assertEquals(Math.log(256), first.get("val_loss").asDouble(), 0.15, "step 0 row: validation of the untrained model");
        for (int i = 1; i < ma.size(); i++) {
            JsonNode ra = json.readTree(ma.get(i)), rb = json.readTree(mb.get(i));
            for (String k : new String[] {"step", "tokens", "train_loss", "lr", "grad_norm"}) {
                assertNotNull(ra.get(k), "metrics row has " + k + ": " + ma.get(i));
                assertEquals(ra.get(k), rb.get(k), "same seed, same " + k + " at row " + i);
            }
            assertTrue(ra.has("tokens_per_s") && ra.has("mfu"), ma.get(i));
        }
        JsonNode last = json.readTree(ma.get(ma.size() - 1));
        assertEquals(12, last.get("step").asInt());
        assertEquals(12 * 256, last.get("tokens").asLong());
        assertTrue(last.has("val_loss"), "validation at the last step");
        assertTrue(a.lastLoss() < a.firstLoss(), "loss decreases: " + a.firstLoss() + " -> " + a.lastLoss());

        // Checkpoints at 6 and 12, each an HF directory whose weights load back.
        for (int step : new int[] {6, 12}) {
            Path ck = Checkpoints.dirFor(a.runDir(), step);
            assertTrue(Files.isRegularFile(ck.resolve("config.json")), ck + "/config.json");
            assertEquals("GPT2LMHeadModel", json.readTree(ck.resolve("config.json").toFile()).get("architectures").get(0).asText());
            ParamLayout layout = new ParamLayout(ConfigLoader.load(a.runDir().resolve("config.yaml"), RunConfig.class).model().resolve());
            assertEquals(step, Checkpoints.verify(ck).step());
            try (Safetensors.Reader r = Safetensors.open(ck.resolve("model.safetensors"))) {
                assertEquals("pt", r.metadata().get("format"));
                float[] p = new float[layout.size()];
                HfFormat.load(r, layout, p);
            }
        }
        float[] wa, wb;
        try (Safetensors.Reader ra = Safetensors.open(Checkpoints.dirFor(a.runDir(), 12).resolve("model.safetensors"));
             Safetensors.Reader rb = Safetensors.open(Checkpoints.dirFor(b.runDir(), 12).resolve("model.safetensors"))) {
            wa = ra.floats("transformer.h.1.mlp.c_fc.weight");
            wb = rb.floats("transformer.h.1.mlp.c_fc.weight");
        }
        assertArrayEquals(wa, wb, "same seed, same final weights");
        assertTrue(Files.exists(a.runDir().resolve("config.yaml")));
        // per-layer diagnostics at both checkpoints, 2 layers each
        List<String> diag = Files.readAllLines(a.runDir().resolve("diagnostics.jsonl"));
        assertEquals(4, diag.size(), diag.toString());
        for (String line : diag) {
            JsonNode r = json.readTree(line);
            assertTrue(r.get("step").asInt() == 6 || r.get("step").asInt() == 12, line);
            assertTrue(r.get("grad_norm").asDouble() > 0 && r.get("update_ratio").asDouble() > 0 && r.get("update_ratio").asDouble() < 1, line);
            double ang = r.get("angular_distance").asDouble();
            assertTrue(ang > 0 && ang < 1, line);
            assertTrue(Double.isFinite(r.get("kurtosis").asDouble()) && r.get("kurtosis").isNumber(), line);
        }
        assertEquals(Files.readAllLines(b.runDir().resolve("diagnostics.jsonl")), diag, "same seed, same diagnostics");
        assertEquals(List.of(), listTmp(a.runDir().resolve("checkpoints")), "no temporary files left behind");

        String again = assertThrows(IOException.class, () -> train(config(SMALL.formatted("gpt2", "cosine", "a")))).getMessage();
        assertTrue(again.contains("already holds a run"), again);
    }

    private static List<Path> listTmp(Path d) throws IOException {
        try (var s = Files.list(d)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    @Test
    void llamaStyleWithAccumulationWsdAndZLoss() throws IOException {
        byteShards(syntheticText(), dir.resolve("train.bin"), dir.resolve("val.bin"));
        Trainer.Summary s = train(config(SMALL.formatted("llama", "wsd", "llama").replace("micro_batch: 4, batch_tokens: 256", "micro_batch: 2, batch_tokens: 256")
                .replace("threads: 2}", "threads: 2, z_loss: 1.0e-4}")));
        assertTrue(s.lastLoss() < s.firstLoss() - 0.5, "loss decreases: " + s.firstLoss() + " -> " + s.lastLoss());
        JsonNode row = new ObjectMapper().readTree(Files.readAllLines(s.runDir().resolve("metrics.jsonl")).getLast());
        assertTrue(row.get("z_loss").asDouble() > 0 && row.get("z_loss").asDouble() < 0.1, "z_loss logged beside train_loss: " + row);
    }

    @Test
    void initFromAnExportedModelContinuesExactlyFromIt() throws IOException {
        byteShards(syntheticText(), dir.resolve("train.bin"), dir.resolve("val.bin"));
        Trainer.Summary first = train(config(SMALL.formatted("llama", "cosine", "first")));
        Path exported = dir.resolve("exported");
        try (dev.crucible.model.HfCheckpoint ck = dev.crucible.model.HfCheckpoint.open(Checkpoints.dirFor(first.runDir(), 12))) {
            ParamLayout layout = new ParamLayout(ck.config());
            float[] p = new float[layout.size()];
            ck.load(layout, p);
            dev.crucible.model.HfCheckpoint.write(exported, ck.config(), p, null);
        }
        String cont = SMALL.formatted("llama", "cosine", "second").replaceFirst("model: .*\n", "")
                .replace("threads: 2}", "threads: 2, init_from: exported}");
        Trainer.Summary second = train(config(cont));
        assertEquals(first.lastVal(), second.firstVal(), "the continued run starts from the exported weights");
        String bad = SMALL.formatted("gpt2", "cosine", "third").replace("threads: 2}", "threads: 2, init_from: exported}");
        String msg = assertThrows(IllegalArgumentException.class, () -> train(config(bad))).getMessage();
        assertTrue(msg.contains("differs from the model in training.init_from"), msg);
    }

    /**
     * G_stack from a run's checkpoint: the model is the checkpoint's with its layers repeated (no model
     * section needed), the optimizer starts fresh, and continue_data picks up the data order where the
     * small run stopped; a run on another data order is refused for it.
     */
    @Test
    void growFromAStackedCheckpointWithAFreshOptimizerAndTheDataOrderContinued() throws IOException {
        byteShards(syntheticText(), dir.resolve("train.bin"), dir.resolve("val.bin"));
        Trainer.Summary small = train(config(SMALL.formatted("llama", "cosine", "small").replace("checkpoint: {every: 6}",
                "checkpoint: {every: 6, prune_optimizer: true}")));
        Path ck = Checkpoints.dirFor(small.runDir(), 6); // an earlier checkpoint, its optimizer state pruned
        assertTrue(!Files.exists(ck.resolve("optimizer.safetensors")));
        String grow = SMALL.formatted("llama", "cosine", "grown").replaceFirst("model: .*\n", "")
                .replace("threads: 2}", "threads: 2, grow_from: {checkpoint: " + ck + ", factor: 2, continue_data: true}}");
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        Trainer.Summary grown = Trainer.start(ConfigLoader.load(config(grow), RunConfig.class), dir, new PrintStream(console, true, StandardCharsets.UTF_8));
        String log = console.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("its 2 layers stacked x2 (0-1 repeated) into 4"), log);
        assertTrue(log.contains("continuing where " + ck + " stopped (epoch 0, window 48)"), log); // 6 steps x 8 windows
        RunConfig saved = RunConfigs.readSaved(grown.runDir().resolve(RunConfigFile.FILE));
        assertEquals(4, saved.model().nLayer());
        Checkpoints.State end = Checkpoints.verify(Checkpoints.dirFor(grown.runDir(), 12));
        assertEquals(12, end.optimizerStep(), "a fresh optimizer: 12 steps of its own, not 24");
        assertEquals(48 + 96, end.data().sources().get("train").position(), "the grown run's windows follow the small run's");
        double smallAt6 = new ObjectMapper().readTree(Files.readAllLines(small.runDir().resolve("metrics.jsonl")).stream()
                .filter(l -> l.startsWith("{\"step\":6,")).findFirst().orElseThrow()).get("val_loss").asDouble();
        assertTrue(grown.firstVal() != smallAt6, "the grown model is not the small one: its second copy moves the stream again");

        String otherSeed = grow.replace("seed: 3", "seed: 4").replace("out: grown", "out: grown2");
        String msg = assertThrows(IllegalArgumentException.class, () -> train(config(otherSeed))).getMessage();
        assertTrue(msg.contains("continue_data") && msg.contains("seed 3 vs 4"), msg);
        String both = grow.replace("grow_from:", "init_from: " + ck + ", grow_from:");
        msg = assertThrows(IllegalArgumentException.class, () -> train(config(both))).getMessage();
        assertTrue(msg.contains("not both"), msg);
    }

    /**
     * SALT: a small trained model teaches a larger student for the first until_step steps (kd_loss in those
     * rows only), after which the loss is the plain cross-entropy's code path itself: with until_step 0 the
     * run equals the run without a teacher bit for bit. A teacher of another vocabulary or tokenizer is
     * refused before training, naming both files.
     */
    @Test
    void distillFromASmallTeacherThenPlainCrossEntropy() throws IOException {
        byteShards(syntheticText(), dir.resolve("train.bin"), dir.resolve("val.bin"));
        Trainer.Summary teacher = train(config(SMALL.formatted("llama", "cosine", "teacher")));
        Path ck = Checkpoints.dirFor(teacher.runDir(), 12);
        String student = SMALL.formatted("gpt2", "cosine", "%s").replace("n_layer: 2", "n_layer: 3");
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        Trainer.Summary kd = Trainer.start(ConfigLoader.load(config(student.formatted("kd").replace("threads: 2}",
                "threads: 2, distill: {teacher: " + ck + ", weight: 0.5, temperature: 2.0, until_step: 4}}")), RunConfig.class), dir,
                new PrintStream(console, true, StandardCharsets.UTF_8));
        assertTrue(console.toString(StandardCharsets.UTF_8).contains("teacher: "), console.toString(StandardCharsets.UTF_8));
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(kd.runDir().resolve("metrics.jsonl"))) {
            JsonNode row = json.readTree(line);
            int step = row.get("step").asInt();
            if (!row.has("train_loss")) continue;
            assertEquals(step <= 4, row.has("kd_loss"), "kd_loss only in the distillation phase: " + line);
            if (row.has("kd_loss")) assertTrue(row.get("kd_loss").asDouble() != row.get("train_loss").asDouble(), "the soft term is its own: " + line);
        }
        assertTrue(kd.lastLoss() < kd.firstLoss() - 0.5, "the student learns: " + kd.firstLoss() + " -> " + kd.lastLoss());

        // SALT_DS: the teacher's loss band from a sample, rows outside it passed over while distilling
        ByteArrayOutputStream ds = new ByteArrayOutputStream();
        Trainer.start(ConfigLoader.load(config(student.formatted("ds").replace("threads: 2}", "threads: 2, distill: {teacher: " + ck
                + ", until_step: 4, select: {low: 0.25, high: 0.75, sample: 64}}}")), RunConfig.class), dir, new PrintStream(ds, true, StandardCharsets.UTF_8));
        java.util.regex.Matcher kept = java.util.regex.Pattern.compile("SALT_DS: kept (\\d+) of the (\\d+) rows").matcher(ds.toString(StandardCharsets.UTF_8));
        assertTrue(kept.find(), ds.toString(StandardCharsets.UTF_8));
        double share = Double.parseDouble(kept.group(1)) / Double.parseDouble(kept.group(2));
        assertEquals(32, Integer.parseInt(kept.group(1)), "4 steps x 2 micro-batches x 4 rows kept");
        assertTrue(share > 0.2 && share < 0.9, "about half the rows lie between the quartiles: " + share);

        // the spec's check: from step n_KD on, the loss is plain cross-entropy exactly. The run that distilled until step 6,
        // against a copy of it resumed at its step-6 checkpoint without any teacher: the same rows after step 6, bit for bit
        Trainer.Summary six = train(config(student.formatted("six").replace("threads: 2}", "threads: 2, distill: {teacher: " + ck + ", until_step: 6}}")));
        Path copy = dir.resolve("six-plain");
        try (var files = Files.walk(six.runDir())) {
            for (Path f : files.toList()) {
                Path to = copy.resolve(six.runDir().relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(to);
                else if (!f.toString().contains("step-0000012")) Files.copy(f, to);
            }
        }
        Trainer.resume(copy, ConfigLoader.load(config(student.formatted("six")), RunConfig.class), dir, true, QUIET);
        List<String> after = metricsWithout(six.runDir()).stream().filter(l -> !l.matches("\\{\"step\":[0-6],.*")).toList();
        assertEquals(3, after.size(), "rows of steps 9, 10 (validation) and 12");
        // (a resumed run also logs its first step, 7)
        assertEquals(after, metricsWithout(copy).stream().filter(l -> !l.matches("\\{\"step\":[0-7],.*")).toList(),
                "after the distillation phase the loss is plain cross-entropy");

        Path wide = dir.resolve("wide");
        dev.crucible.model.ModelConfig wc = dev.crucible.model.ModelConfig.gpt2(300, 32, 1, 2, 16);
        dev.crucible.model.HfCheckpoint.write(wide, wc, new float[new ParamLayout(wc).size()], null);
        String msg = assertThrows(IllegalArgumentException.class, () -> train(config(student.formatted("bad").replace("threads: 2}",
                "threads: 2, distill: {teacher: wide}}")))).getMessage();
        assertTrue(msg.contains(wide.resolve("config.json").toString()) && msg.contains("300") && msg.contains("256"), msg);
    }

    /** metrics.jsonl without the timing columns, which differ between any two runs. */
    private static List<String> metricsWithout(Path run) throws IOException {
        return Files.readAllLines(run.resolve("metrics.jsonl")).stream()
                .map(l -> l.replaceAll(",\"(tokens_per_s|mfu|elapsed_s)\":[0-9.eE-]+", "")).toList();
    }

    @Test
    void runTokenizerTravelsWithEveryCheckpoint() throws IOException {
        byteShards(syntheticText(), dir.resolve("train.bin"), dir.resolve("val.bin"));
        // A byte-level tokenizer: the 256 bytes, no merges, <|endoftext|> as token 256.
        StringBuilder ranks = new StringBuilder();
        for (int b = 0; b < 256; b++) ranks.append(java.util.Base64.getEncoder().encodeToString(new byte[] {(byte) b})).append(' ').append(b).append('\n');
        dev.crucible.data.tokenizer.BpeTokenizer bytes = dev.crucible.data.tokenizer.BpeTokenizer.fromTiktoken(
                new java.io.ByteArrayInputStream(ranks.toString().getBytes(StandardCharsets.US_ASCII)),
                dev.crucible.data.tokenizer.BpeTokenizer.GPT2_PATTERN, java.util.Map.of("<|endoftext|>", 256));
        dev.crucible.data.tokenizer.TokenizerJson.write(bytes, dir.resolve("tokenizer.json"));
        String cfg = SMALL.formatted("gpt2", "cosine", "tok").replace("vocab_size: 256", "vocab_size: 257")
                .replace("data: {train: train.bin, val: val.bin}", "data: {train: train.bin, val: val.bin, tokenizer: tokenizer.json}");
        Trainer.Summary s = train(config(cfg));
        Path ck = Checkpoints.dirFor(s.runDir(), 6);
        assertArrayEquals(Files.readAllBytes(dir.resolve("tokenizer.json")), Files.readAllBytes(ck.resolve("tokenizer.json")));
        assertEquals(256, new ObjectMapper().readTree(ck.resolve("config.json").toFile()).get("eos_token_id").asInt());
        Files.writeString(ck.resolve("tokenizer.json"), "{}");
        String msg = assertThrows(IOException.class, () -> Checkpoints.verify(ck)).getMessage();
        assertTrue(msg.contains("tokenizer.json"), "the tokenizer is covered by the checksums: " + msg);
        String tooBig = SMALL.formatted("gpt2", "cosine", "tok2").replace("data: {train: train.bin, val: val.bin}",
                "data: {train: train.bin, val: val.bin, tokenizer: tokenizer.json}");
        String err = assertThrows(IllegalArgumentException.class, () -> train(config(tooBig))).getMessage();
        assertTrue(err.contains("257 tokens, more than the model's vocab_size 256"), err);

        // a mixture with validation per source: bits per byte from the tokenizer (one byte per token here: loss / ln 2)
        String mix = cfg.replace("out: tok", "out: mix").replace("data: {train: train.bin, val: val.bin, tokenizer: tokenizer.json}",
                "data: {tokenizer: tokenizer.json, sources: [{name: a, train: train.bin, val: val.bin, weight: 3}, {name: b, train: val.bin, val: val.bin}]}");
        Trainer.Summary m = train(config(mix));
        JsonNode row = new ObjectMapper().readTree(Files.readAllLines(m.runDir().resolve("metrics.jsonl")).getLast());
        assertEquals(row.get("val_loss/a").asDouble() / Math.log(2), row.get("val_bpb/a").asDouble(), 1e-4, row.toString());
        assertEquals(row.get("val_loss/a").asDouble(), row.get("val_loss").asDouble(), 1e-4, "both sources validate on val.bin: " + row);
        assertTrue(row.get("epochs/b").asDouble() > row.get("epochs/a").asDouble(), "the small source repeats sooner: " + row);

        // a teacher of the same vocabulary size whose tokenizer gives token 256 another meaning is refused, both files named
        Path teacher = Checkpoints.dirFor(s.runDir(), 12);
        dev.crucible.data.tokenizer.TokenizerJson.write(dev.crucible.data.tokenizer.BpeTokenizer.fromTiktoken(
                new java.io.ByteArrayInputStream(ranks.toString().getBytes(StandardCharsets.US_ASCII)),
                dev.crucible.data.tokenizer.BpeTokenizer.GPT2_PATTERN, java.util.Map.of("<|pad|>", 256)), dir.resolve("other-tokenizer.json"));
        Files.copy(dir.resolve("other-tokenizer.json"), teacher.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String kd = cfg.replace("out: tok", "out: kd").replace("threads: 2}", "threads: 2, distill: {teacher: " + teacher + "}}");
        err = assertThrows(IllegalArgumentException.class, () -> train(config(kd))).getMessage();
        assertTrue(err.contains(teacher.resolve("tokenizer.json").toString()) && err.contains(dir.resolve("tokenizer.json").toString())
                && err.contains("added tokens {<|pad|>=256} vs {<|endoftext|>=256}"), err);
    }

    /** Byte-level GPT-2 style model on tiny Shakespeare: validation loss falls clearly within 300 steps. */
    @Test
    void learnsRealText() throws IOException {
        String data = System.getProperty("crucible.data", "");
        Path text = data.isEmpty() ? null : Path.of(data, "tinyshakespeare", "input.txt");
        assumeTrue(text != null && Files.isRegularFile(text), "needs ../shared/data (pass -Dcrucible.data=...): tinyshakespeare/input.txt");
        byteShards(Files.readAllBytes(text), dir.resolve("train.bin"), dir.resolve("val.bin"));
        Trainer.Summary s = train(config("""
                model: {style: gpt2, vocab_size: 256, context_length: 128, n_layer: 3, n_head: 4, d_model: 128}
                data: {train: train.bin, val: val.bin}
                training: {seq_len: 128, micro_batch: 8, steps: 300, seed: 1}
                optimizer: {lr: 3.0e-3}
                schedule: {kind: cosine, warmup_steps: 20}
                eval: {every: 20, batches: 8}
                out: shakespeare
                """));
        // Uniform over bytes is ln 256 = 5.55 nats (the untrained model, step 0) and a unigram model of
        // English bytes about 3.3; after 300 steps (0.3 epochs) this model measured 2.43.
        assertEquals(Math.log(256), s.firstVal(), 0.15, "validation loss of the untrained model");
        assertTrue(s.lastVal() < 2.6 && s.lastVal() < s.firstVal() - 0.5,
                "validation loss after 300 steps: " + s.lastVal() + " (first " + s.firstVal() + ")");
    }
}
