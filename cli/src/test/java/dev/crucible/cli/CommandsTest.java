package dev.crucible.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.data.tokenizer.BpeTokenizer;
import dev.crucible.data.tokenizer.TokenizerJson;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands as a user runs them: exit codes, outputs, files. */
class CommandsTest {

    /** A kernel class that refuses a -D setting as it loads: the setting's message and exit code 2, no stack trace (a JVM of its own: the class loads once per JVM). */
    @Test
    void aKernelSettingRefusedAsItsClassLoadsIsAUserError() throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "--add-modules", "jdk.incubator.vector", "-Dcrucible.gemm.rows=7", "-cp", System.getProperty("java.class.path"),
                "dev.crucible.cli.Main", "bench", "train", "--model", "tiny", "--steps", "1", "--warmup", "0").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8); // ends when the child exits
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), out);
        assertEquals(2, p.exitValue(), out);
        assertTrue(out.contains("crucible: crucible.gemm.rows must be 4, or 12 on a CPU with FMA and 512-bit vectors; got 7"), out);
        assertTrue(!out.contains("ExceptionInInitializerError") && !out.contains("\tat "), out);
    }

    /** Picocli formats the help texts: a bare % ("95% interval") garbled compare's; every command's and option's text must format. */
    @Test
    void everyHelpTextIsAValidFormat() {
        List<String> bad = new ArrayList<>();
        helpTexts(new picocli.CommandLine(new Main()), bad);
        assertTrue(bad.isEmpty(), String.join("\n", bad));
    }

    private static void helpTexts(picocli.CommandLine cl, List<String> bad) {
        picocli.CommandLine.Model.CommandSpec spec = cl.getCommandSpec();
        List<String> texts = new ArrayList<>(List.of(spec.usageMessage().description()));
        for (picocli.CommandLine.Model.OptionSpec o : spec.options()) texts.addAll(List.of(o.description()));
        for (picocli.CommandLine.Model.PositionalParamSpec p : spec.positionalParameters()) texts.addAll(List.of(p.description()));
        for (String t : texts) {
            try {
                String.format(java.util.Locale.ROOT, t);
            } catch (java.util.IllegalFormatException e) {
                bad.add(spec.qualifiedName() + ": " + e + " in: " + t);
            }
        }
        for (picocli.CommandLine sub : cl.getSubcommands().values()) helpTexts(sub, bad);
    }

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    /** A phrase repeated to at least `bytes` bytes of text, as byte-level shards: train.bin (the first 90%) and val.bin in dir. */
    static void byteShards(Path dir, String phrase, int bytes) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < bytes; i++) sb.append(phrase.formatted(i % 17));
        byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
        int[] tok = new int[text.length];
        for (int i = 0; i < text.length; i++) tok[i] = text[i] & 0xFF;
        int split = tok.length * 9 / 10;
        dev.crucible.data.TokenShard.write(dir.resolve("train.bin"), tok, split, 256);
        dev.crucible.data.TokenShard.write(dir.resolve("val.bin"), java.util.Arrays.copyOfRange(tok, split, tok.length), tok.length - split, 256);
    }

    static synchronized Result run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private Path gpt2Model() throws Exception {
        Path model = dir.resolve("model");
        ModelConfig c = ModelConfig.gpt2(50257, 32, 1, 2, 16);
        float[] p = new float[new ParamLayout(c).size()];
        new ParamLayout(c).initialize(p, 3);
        HfCheckpoint.write(model, c, p, null);
        try (InputStream in = com.knuddels.jtokkit.api.Encoding.class.getResourceAsStream("/com/knuddels/jtokkit/r50k_base.tiktoken")) {
            TokenizerJson.write(BpeTokenizer.fromTiktoken(in, BpeTokenizer.GPT2_PATTERN, Map.of("<|endoftext|>", 50256)), model.resolve("tokenizer.json"));
        }
        return model;
    }

    @Test
    void dataVerifyAnnealsWithAndWithoutTheCandidateAndDecides() throws Exception {
        Path model = dir.resolve("base-model");
        ModelConfig c = ModelConfig.gpt2(256, 32, 1, 2, 16);
        float[] p = new float[new ParamLayout(c).size()];
        new ParamLayout(c).initialize(p, 3);
        HfCheckpoint.write(model, c, p, null);
        Path ref = Files.createDirectories(dir.resolve("ref")), cand = Files.createDirectories(dir.resolve("cand"));
        byteShards(ref, "the committee voted on report %d today. ", 20_000);
        byteShards(cand, "for (int i = 0; i < %d; i++) { sum += i; } ", 20_000);
        List<String> args = List.of("data", "verify", "--base", model.toString(), "--reference", ref.toString(), "--candidate", cand.toString(), "--share", "0.5",
                "--steps", "8", "--warmup", "1", "--lr", "1e-2", "--seq-len", "32", "--micro-batch", "4", "--val-batches", "2", "--out", dir.resolve("verify").toString());
        Result r = run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("verdict (val_loss/reference, with the candidate minus without, 2 seeds, paired t-test, p = "), r.out());
        assertTrue(Files.readString(dir.resolve("verify/base.yaml")).contains("kind: wsd"));
        assertTrue(Files.exists(dir.resolve("verify/with_candidate/seed-2/checkpoints/step-0000008/model.safetensors")));
        // again, deciding by the candidate's own held-out loss: nothing is trained twice, and training on it helps there
        List<String> again = new java.util.ArrayList<>(args);
        again.addAll(List.of("--decide-by", "val_loss/candidate"));
        Result r2 = run(again.toArray(String[]::new));
        assertEquals(0, r2.code(), r2.err());
        assertTrue(r2.out().contains(": finished") && r2.out().contains("the candidate HELPS"), r2.out());
        Result bad = run("data", "verify", "--base", model.toString(), "--reference", ref.toString(), "--candidate", dir.resolve("none").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("none: not a directory of token shards"), bad.err());
    }

    @Test
    void classifierTrainThenTestThenFilter() throws Exception {
        StringBuilder pos = new StringBuilder(), neg = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            pos.append("{\"text\": \"the report was clear and the vote was held on day ").append(i).append("\"}\n");
            neg.append("{\"text\": \"buy cheap pills now click here win ").append(i).append("\"}\n");
        }
        Path p = Files.writeString(dir.resolve("pos.jsonl"), pos), n = Files.writeString(dir.resolve("neg.jsonl"), neg), model = dir.resolve("q.bin");
        Result r = run("data", "classifier", "train", "--positive", p.toString(), "--negative", n.toString(), "--out", model.toString(), "--dim", "8",
                "--buckets", "1000", "--epochs", "10", "--lr", "0.5");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("held out: 6 positives, 6 negatives: AUC 1.0000"), r.out());
        Result t = run("data", "classifier", "test", "--model", model.toString(), "--positive", p.toString(), "--negative", n.toString());
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().startsWith("60 positives, 60 negatives: AUC 1.0000"), t.out());
        Result bad = run("data", "classifier", "test", "--model", model.toString(), "--label", "__label__x", "--positive", p.toString(), "--negative", n.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("has no label '__label__x'"), bad.err());
    }

    @Test
    void dataRunThenAnalyze() throws Exception {
        Path jsonl = dir.resolve("in.jsonl");
        Files.writeString(jsonl, "{\"text\": \"The committee has voted on the report, and it was not what we expected of them.\"}\n{\"text\": \"x\"}\n");
        Path recipe = dir.resolve("r.yaml");
        Files.writeString(recipe, "inputs: [" + jsonl + "]\noutput: {dir: " + dir.resolve("clean") + "}\nops:\n  - text_length_filter: {min_len: 5}\n");
        Result r = run("data", "run", recipe.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("text_length_filter") && r.out().contains("{min_len=1}"), r.out());
        Result bad = run("data", "run", dir.resolve("missing.yaml").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("missing.yaml: no such file"), bad.err());
        // the CLI's own class path has no Spark (the launcher adds it for --engine spark; the spark module's tests run the engine)
        Result noSpark = run("data", "run", recipe.toString(), "--engine", "spark");
        assertEquals(2, noSpark.code());
        assertTrue(noSpark.err().contains("--engine spark: the spark module is not on the class path"), noSpark.err());
        Result unknown = run("data", "run", recipe.toString(), "--engine", "ray");
        assertTrue(unknown.code() == 2 && unknown.err().contains("unknown engine 'ray' (local, spark)"), unknown.err());
        Result masterAlone = run("data", "run", recipe.toString(), "--master", "local[2]");
        assertTrue(masterAlone.code() == 2 && masterAlone.err().contains("--master is for --engine spark"), masterAlone.err());
        Result a = run("data", "analyze", dir.resolve("clean").toString(), "--out", dir.resolve("analysis").toString());
        assertEquals(0, a.code(), a.err());
        assertTrue(a.out().contains("1 documents analysed"), a.out()); // the recipe's _summary.json and _trace.jsonl are not documents
        assertTrue(Files.size(dir.resolve("analysis/stopword_ratio.png")) > 1000);
        assertTrue(Files.readString(dir.resolve("analysis/stats.json")).contains("\"lang_score\""));
    }

    @Test
    void exportImportAndGenerateWithATokenizer() throws Exception {
        Path model = gpt2Model();
        Result exp = run("export", "hf", model.toString(), dir.resolve("exported").toString());
        assertEquals(0, exp.code(), exp.err());
        assertTrue(Files.exists(dir.resolve("exported/tokenizer.json")), "the tokenizer travels with the model");
        Result imp = run("import", "hf", dir.resolve("exported").toString(), "--out", dir.resolve("imported").toString());
        assertEquals(0, imp.code(), imp.err());
        assertTrue(imp.out().contains("gpt2 style"), imp.out());
        assertArrayEquals(Files.readAllBytes(dir.resolve("exported/model.safetensors")), Files.readAllBytes(dir.resolve("imported/model.safetensors")));

        String[] gen = {"generate", "--checkpoint", dir.resolve("imported").toString(), "--prompt", "Once upon a time", "--max-tokens", "12", "--seed", "5"};
        Result a = run(gen), b = run(gen);
        assertEquals(0, a.code(), a.err());
        assertTrue(a.out().startsWith("Once upon a time") && a.out().length() > "Once upon a time".length(), a.out());
        assertEquals(a.out(), b.out(), "the same seed gives the same text");
        assertTrue(a.err().contains("tokens/s"), a.err());

        Result grow = run("grow", dir.resolve("imported").toString(), "--factor", "3", "--out", dir.resolve("grown").toString(), "--target-tokens", "4e8");
        assertEquals(0, grow.code(), grow.err());
        assertTrue(grow.out().contains("outside the 410M-7B the formula was fitted on"), grow.out());
        assertTrue(grow.out().contains("1 layers x3 = 3 layers (each copy computes what its source layer does)"), grow.out());
        try (HfCheckpoint g = HfCheckpoint.open(dir.resolve("grown"))) {
            assertEquals(3, g.config().nLayer());
        }
        assertTrue(Files.exists(dir.resolve("grown/tokenizer.json")), "the tokenizer travels with the grown model");
        Result again = run("grow", dir.resolve("imported").toString(), "--out", dir.resolve("grown").toString());
        assertEquals(2, again.code());
        assertTrue(again.err().contains("already holds a model"), again.err());
    }

    @Test
    void tokenizerCommands() throws Exception {
        Path tok = gpt2Model().resolve("tokenizer.json");
        Result enc = run("tokenizer", "encode", "--tokenizer", tok.toString(), "Hello world");
        assertEquals("15496 995", enc.out().trim());
        Result dec = run("tokenizer", "decode", "--tokenizer", tok.toString(), "15496", "995", "50256");
        assertEquals("Hello world<|endoftext|>", dec.out().trim());
        Result bad = run("tokenizer", "decode", "--tokenizer", tok.toString(), "12x");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("'12x' is not a token id"), bad.err());
        // a post_processor that puts a begin-of-sequence token first (Llama's): there by default, as in tokenizer(text)
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(tok.toFile());
        root.set("post_processor", json.readTree("{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<|endoftext|>\", "
                + "\"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": [], "
                + "\"special_tokens\": {\"<|endoftext|>\": {\"id\": \"<|endoftext|>\", \"ids\": [50256], \"tokens\": [\"<|endoftext|>\"]}}}"));
        Path bos = dir.resolve("bos-tokenizer.json");
        json.writeValue(bos.toFile(), root);
        assertEquals("50256 15496 995", run("tokenizer", "encode", "--tokenizer", bos.toString(), "Hello world").out().trim());
        assertEquals("15496 995", run("tokenizer", "encode", "--tokenizer", bos.toString(), "--no-special-tokens", "Hello world").out().trim());
        // a Llama-class tokenizer_config.json beside it decides, as transformers' constructor rebuilds the template
        Path llama = Files.createDirectories(dir.resolve("llama-class"));
        json.writeValue(llama.resolve("tokenizer.json").toFile(), root);
        Files.writeString(llama.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"LlamaTokenizerFast\", \"bos_token\": \"Hello\", \"add_eos_token\": true, "
                + "\"eos_token\": \"<|endoftext|>\"}");
        assertEquals("15496 15496 995 50256", run("tokenizer", "encode", "--tokenizer", llama.resolve("tokenizer.json").toString(), "Hello world").out().trim());
    }

    /** JSON lines of documents, each 40 words drawn at random and a full stop. */
    private static void writeDocuments(Path file, String[] words, int documents, long seed) throws java.io.IOException {
        StringBuilder jsonl = new StringBuilder();
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        for (int d = 0; d < documents; d++) {
            StringBuilder doc = new StringBuilder();
            for (int w = 0; w < 40; w++) doc.append(w == 0 ? "" : " ").append(words[rng.nextInt(words.length)]);
            jsonl.append("{\"text\": \"").append(doc).append(".\"}\n");
        }
        Files.writeString(file, jsonl);
    }

    /**
     * A SentencePiece-style tokenizer (Llama 2's layout: characters, byte fallback, "▁" for spaces; the data module's
     * Hugging Face parity fixture) through the whole chain: shards, a Llama trained on them, text generated after a
     * prompt, and the tokenizer commands.
     */
    @Test
    void sentencePieceTokenizerFromShardsToText() throws Exception {
        Path sp = Path.of(System.getProperty("user.dir")).resolveSibling("data/src/test/resources/tokenizer/hf-sp/sp-llama-legacy.json");
        String[] words = {"the", "king", "and", "queen", "speak", "of", "love", "to", "my", "lord", "good", "night"};
        writeDocuments(dir.resolve("docs.jsonl"), words, 200, 3);
        Result d = run("data", "tokenize", "--tokenizer", sp.toString(), "--input", dir.resolve("docs.jsonl").toString(), "--out", dir.resolve("shards").toString());
        assertEquals(0, d.code(), d.err());
        Files.writeString(dir.resolve("run.yaml"), """
                model: {style: llama, vocab_size: 960, context_length: 128, n_layer: 1, n_head: 2, d_model: 32}
                data: {train: shards/train_*.bin, val: shards/val_*.bin, tokenizer: shards/tokenizer.json}
                training: {seq_len: 64, micro_batch: 4, steps: 30, threads: 2}
                optimizer: {lr: 1.0e-2}
                schedule: {warmup_steps: 5}
                out: run
                """);
        Result tr = run("train", "--config", dir.resolve("run.yaml").toString());
        assertEquals(0, tr.code(), tr.err() + tr.out());
        Path ck = dir.resolve("run/checkpoints/step-0000030");
        Result g = run("generate", "--checkpoint", ck.toString(), "--prompt", "the king", "--max-tokens", "20", "--temperature", "0");
        assertEquals(0, g.code(), g.err());
        assertTrue(g.out().startsWith("the king "), g.out());
        long known = java.util.Arrays.stream(g.out().trim().split("[ .]+")).filter(w -> java.util.Arrays.asList(words).contains(w)).count();
        assertTrue(known >= 6, "after 30 steps the model writes the corpus's words, with their spaces: " + g.out());

        String ids = run("tokenizer", "encode", "--tokenizer", sp.toString(), "good night, caf\u00e9").out().trim();
        assertTrue(ids.startsWith("1 "), "Llama's begin-of-sequence token first: " + ids);
        assertEquals("<s> good night, caf\u00e9", run("tokenizer", "decode", "--tokenizer", sp.toString(), ids).out().trim(), "as Hugging Face decodes: the space before the text dropped");

        // the encoding benchmark with this tokenizer hands its documents and ids to a peer
        Result bench = run("bench", "tokenizer", "--tokenizer", sp.toString(), "--input", dir.resolve("docs.jsonl").toString(), "--mb", "0.01", "--rounds", "1",
                "--threads", "1", "--dump", dir.resolve("dump.jsonl").toString());
        assertEquals(0, bench.code(), bench.err());
        assertTrue(bench.out().contains("crucible") && !bench.out().contains("jtokkit"), bench.out());
        var first = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readAllLines(dir.resolve("dump.jsonl")).getFirst());
        String expected = run("tokenizer", "encode", "--tokenizer", sp.toString(), "--no-special-tokens", first.get("text").asText()).out().trim();
        assertEquals(expected, java.util.stream.StreamSupport.stream(first.get("ids").spliterator(), false).map(Object::toString)
                .collect(java.util.stream.Collectors.joining(" ")));
    }

    @Test
    void textToTokenizerToShardsToModelToText() throws Exception {
        String[] words = {"the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "to", "big", "red", "house"};
        writeDocuments(dir.resolve("docs.jsonl"), words, 300, 2);
        Path tok = dir.resolve("tokenizer.json");
        Result t = run("tokenizer", "train", "--input", dir.resolve("docs.jsonl").toString(), "--vocab-size", "300", "--out", tok.toString());
        assertEquals(0, t.code(), t.err());
        Result d = run("data", "tokenize", "--tokenizer", tok.toString(), "--input", dir.resolve("docs.jsonl").toString(), "--out", dir.resolve("shards").toString());
        assertEquals(0, d.code(), d.err());
        assertTrue(d.out().contains("domain") && Files.exists(dir.resolve("shards/val_all_000000.bin")) && Files.exists(dir.resolve("shards/heldout/all.jsonl")), d.out());
        Files.writeString(dir.resolve("run.yaml"), """
                model: {style: llama, vocab_size: 300, context_length: 128, n_layer: 1, n_head: 2, d_model: 32}
                data: {train: shards/train_*.bin, val: shards/val_*.bin, tokenizer: shards/tokenizer.json}
                training: {seq_len: 64, micro_batch: 4, steps: 30, threads: 2}
                optimizer: {lr: 1.0e-2}
                schedule: {warmup_steps: 5}
                eval: {every: 10, batches: 2}
                out: run
                """);
        Result tr = run("train", "--config", dir.resolve("run.yaml").toString());
        assertEquals(0, tr.code(), tr.err() + tr.out());
        Path ck = dir.resolve("run/checkpoints/step-0000030");
        assertTrue(Files.exists(ck.resolve("tokenizer.json")), "the run's tokenizer is in its checkpoints");
        Result g = run("generate", "--checkpoint", ck.toString(), "--prompt", "the cat", "--max-tokens", "20", "--temperature", "0");
        assertEquals(0, g.code(), g.err());
        assertTrue(g.out().startsWith("the cat "), g.out());
        assertTrue(g.err().startsWith("20 tokens in "), "exactly --max-tokens tokens: " + g.err());
        long known = java.util.Arrays.stream(g.out().trim().split("[ .]+")).filter(w -> java.util.Arrays.asList(words).contains(w)).count();
        assertTrue(known >= 10, "after 30 steps the model writes the corpus's words: " + g.out());
        Result tooLong = run("generate", "--checkpoint", ck.toString(), "--prompt", "the cat sat on the mat. ".repeat(40), "--max-tokens", "5");
        assertEquals(2, tooLong.code(), tooLong.err());
        assertTrue(tooLong.err().contains("the model's context is 128"), tooLong.err());
        assertEquals("", tooLong.out(), "nothing is written before the prompt is refused");

        // Evaluate every checkpoint of the run on small fixture tasks; a second call has nothing left to do.
        Path data = dir.resolve("taskdata");
        Files.createDirectories(data.resolve("blimp"));
        Files.createDirectories(data.resolve("lambada_openai"));
        Files.writeString(data.resolve("blimp/fixture.jsonl"), """
                {"sentence_good": "the cat sat on a mat.", "sentence_bad": "mat a on sat cat the.", "UID": "fixture", "field": "syntax"}
                {"sentence_good": "the dog ran to the house.", "sentence_bad": "house the to ran dog the.", "UID": "fixture", "field": "syntax"}
                """);
        Files.writeString(data.resolve("lambada_openai/lambada_test.jsonl"), "{\"text\": \"the big red house\"}\n");
        Result e1 = run("eval", "--run", dir.resolve("run").toString(), "--data", data.toString(), "--tasks", "blimp,lambada", "--log-samples");
        assertEquals(0, e1.code(), e1.err() + e1.out());
        assertTrue(Files.exists(dir.resolve("run/eval/step-0000030.json")), e1.out());
        List<String> rows = Files.readAllLines(dir.resolve("run/eval/results.jsonl"));
        assertEquals(4, rows.size(), "blimp acc, lambada acc, perplexity and target log-probability for the one checkpoint: " + rows);
        assertTrue(rows.get(0).contains("\"step\":30") && rows.get(0).contains("\"tokens\":") && rows.get(0).contains("\"flops\":"), rows.get(0));
        // per-example records, lm-evaluation-harness's samples files: each example's metric, averaging to the task's
        try (java.util.stream.Stream<Path> files = Files.list(dir.resolve("run/eval/samples/step-0000030"))) {
            List<Path> samples = files.sorted().toList();
            assertEquals(2, samples.size(), samples.toString());
            Path blimp = samples.stream().filter(f -> f.getFileName().toString().startsWith("samples_blimp_fixture_")).findFirst().orElseThrow();
            assertTrue(blimp.getFileName().toString().matches("samples_blimp_fixture_\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d.*\\.jsonl"), blimp.toString());
            List<String> recs = Files.readAllLines(blimp);
            assertEquals(2, recs.size());
            com.fasterxml.jackson.databind.ObjectMapper om = new com.fasterxml.jackson.databind.ObjectMapper();
            double sum = 0;
            for (int i = 0; i < 2; i++) {
                var rec = om.readTree(recs.get(i));
                assertEquals(i, rec.get("doc_id").asInt());
                assertTrue(rec.get("doc").get("sentence_good").asText().startsWith("the "), rec.toString());
                var resps = rec.get("filtered_resps");
                assertEquals(rec.get("acc").asDouble(), resps.get(0).get(0).asDouble() > resps.get(1).get(0).asDouble() ? 1.0 : 0.0, rec.toString());
                assertEquals(rec.get("doc").get("sentence_bad").asText(), rec.get("arguments").get("gen_args_1").get("arg_1").asText(), rec.toString());
                assertEquals("", rec.get("arguments").get("gen_args_0").get("arg_0").asText(), "scored from the document start, as the harness's empty context");
                sum += rec.get("acc").asDouble();
            }
            double acc = om.readTree(rows.get(0)).get("value").asDouble();
            assertEquals(acc, sum / 2, 1e-12, "the samples' mean is the task's accuracy");
        }
        // and for TensorBoard (the event format itself is read back in the train module's EventFileTest)
        try (java.util.stream.Stream<Path> files = Files.list(dir.resolve("run/eval"))) {
            List<Path> ev = files.filter(f -> f.getFileName().toString().matches("events\\.out\\.tfevents\\..*\\.eval")).toList();
            assertEquals(1, ev.size(), "one eval events file");
            String bytes = new String(Files.readAllBytes(ev.getFirst()), java.nio.charset.StandardCharsets.ISO_8859_1);
            assertTrue(bytes.contains("eval/lambada_openai/acc") && bytes.contains("eval/blimp_fixture/acc"), bytes);
        }
        // one definition of training FLOPs: the trainer's count at its sequence length (64, not the context of 128), as eval reports it
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        dev.crucible.model.ParamLayout layout;
        try (dev.crucible.model.HfCheckpoint hf = dev.crucible.model.HfCheckpoint.open(ck)) {
            layout = new dev.crucible.model.ParamLayout(hf.config());
        }
        double trained = json.readTree(ck.resolve("trainer_state.json").toFile()).get("flops").asDouble();
        assertEquals(layout.flopsPerToken(64) * 30 * 4 * 64, trained, 1e-6 * trained);
        assertEquals(trained, json.readTree(rows.get(0)).get("flops").asDouble(), 0);
        String lastMetrics = Files.readAllLines(dir.resolve("run/metrics.jsonl")).getLast();
        assertEquals(trained, json.readTree(lastMetrics).get("flops").asDouble(), 0, lastMetrics);
        // the same checkpoint with 4-bit weights: its own rows (variant w4) beside the full-precision ones, which stay
        Result q = run("eval", "--run", dir.resolve("run").toString(), "--data", data.toString(), "--tasks", "blimp,lambada", "--quantize", "w4");
        assertEquals(0, q.code(), q.err() + q.out());
        List<String> withW4 = Files.readAllLines(dir.resolve("run/eval/results.jsonl"));
        assertEquals(8, withW4.size(), withW4.toString());
        assertEquals(4, withW4.stream().filter(l -> l.contains("\"variant\":\"w4\"")).count());
        assertTrue(Files.exists(dir.resolve("run/eval/step-0000030.w4.json")));
        java.util.Set<String> values = new java.util.HashSet<>();
        for (String l : withW4) {
            com.fasterxml.jackson.databind.JsonNode row = new com.fasterxml.jackson.databind.ObjectMapper().readTree(l);
            if (row.get("metric").asText().equals("perplexity")) values.add(row.get("value").asText());
        }
        assertEquals(2, values.size(), "4-bit weights score differently from full precision: " + values);
        Result e2 = run("eval", "--run", dir.resolve("run").toString(), "--data", data.toString(), "--tasks", "blimp,lambada");
        assertTrue(e2.out().contains("is evaluated"), e2.out());
        // --follow on a run whose last checkpoint is evaluated ends at once
        Result e3 = run("eval", "--run", dir.resolve("run").toString(), "--data", data.toString(), "--tasks", "blimp,lambada", "--follow");
        assertEquals(0, e3.code(), e3.err());
        assertTrue(e3.out().contains("followed") && e3.out().contains("(30)"), e3.out());

        // --follow on a run still training: it evaluates checkpoints as they appear and ends at the last one
        Files.writeString(dir.resolve("run2.yaml"), Files.readString(dir.resolve("run.yaml")).replace("out: run", "out: run2")
                .replace("steps: 30", "steps: 40") + "checkpoint: {every: 10}\n");
        dev.crucible.train.RunConfig cfg2 = dev.crucible.train.ConfigLoader.load(dir.resolve("run2.yaml"), dev.crucible.train.RunConfig.class);
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        ByteArrayOutputStream trainerLog = new ByteArrayOutputStream() {
            @Override
            public synchronized void write(byte[] b, int off, int len) {
                super.write(b, off, len);
                if (toString(StandardCharsets.UTF_8).contains("run directory:")) started.countDown(); // config.yaml is written by then
            }
        };
        java.util.concurrent.CompletableFuture<Void> training = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                dev.crucible.train.Trainer.start(cfg2, dir, new PrintStream(trainerLog, true, StandardCharsets.UTF_8));
            } catch (java.io.IOException ex) {
                throw new java.io.UncheckedIOException(ex);
            } finally {
                started.countDown();
            }
        });
        assertTrue(started.await(120, java.util.concurrent.TimeUnit.SECONDS), "the trainer did not start");
        Result f = run("eval", "--run", dir.resolve("run2").toString(), "--data", data.toString(), "--tasks", "blimp", "--follow", "--poll-seconds", "1");
        training.join();
        assertEquals(0, f.code(), f.err());
        assertTrue(f.out().contains("followed") && f.out().contains("(40)"), f.out());
        for (int step : new int[] {10, 20, 30, 40}) assertTrue(Files.exists(dir.resolve("run2/eval/step-00000" + step + ".json")), "step " + step + ": " + f.out());
    }

    @Test
    void analyzeReadsLmEvalResultFiles() throws Exception {
        Path evals = dir.resolve("evals");
        Files.createDirectories(evals);
        double[] acc = {0.0, 0.0, 0.10, 0.30, 0.20};
        long[] steps = {0, 100, 1000, 5000, 9000};
        for (int i = 0; i < acc.length; i++) {
            Files.writeString(evals.resolve("m_step" + steps[i] + ".json"), "{\"results\": {\"lambada_openai\": {\"acc\": " + acc[i]
                    + ", \"acc_stderr\": 0.01, \"ppl\": 50.0}, \"piqa\": {\"acc\": 0.52, \"acc_stderr\": 0.01}}}");
        }
        Result r = run("analyze", "--lm-eval", evals.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("rises above its starting level from step 1000, peaks at step 5000 (0.300), then falls to 0.200"), r.out());
        assertTrue(r.out().contains("piqa") && r.out().contains("stays at its starting level"), r.out());
    }

    /**
     * Several evaluated runs (a sweep's variant/seed directories): the early reading that ranks them as
     * their final target does. Here bits per byte at 10% of the tokens orders four runs exactly as their
     * final induction gain (lower bits per byte counts as better).
     */
    @Test
    void analyzeFindsEarlyIndicatorsAcrossRuns() throws Exception {
        List<String> args = new ArrayList<>(List.of("analyze")); // the target for Crucible runs: induction/induction_gain by default
        double[] quality = {0.1, 0.4, 0.2, 0.3};
        for (int r = 0; r < quality.length; r++) {
            Path run = dir.resolve("sweep/width=" + r + "/seed-1");
            Files.createDirectories(run.resolve("eval"));
            StringBuilder rows = new StringBuilder();
            for (long step : new long[] {10, 20, 50, 100}) {
                double frac = step / 100.0, bpb = 6 - 2 * quality[r] * frac - frac, gain = quality[r] * frac;
                String head = "{\"run\":\"seed-1\",\"step\":" + step + ",\"tokens\":" + step * 1000 + ",\"flops\":1.0,";
                rows.append(head).append("\"task\":\"bpb_en\",\"group\":\"language_modeling\",\"metric\":\"bits_per_byte\",\"value\":").append(bpb).append("}\n");
                rows.append(head).append("\"task\":\"induction\",\"group\":\"in_context_learning\",\"metric\":\"induction_gain\",\"chance\":0.0,\"value\":")
                        .append(gain).append("}\n");
            }
            Files.writeString(run.resolve("eval/results.jsonl"), rows);
            args.add("--run");
            args.add(run.toString());
        }
        Result r = run(args.toArray(new String[0]));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ranks the 4 runs as their final induction/induction_gain does"), r.out());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("bpb_en/bits_per_byte\\s+(-?[0-9.]+)\\s+p ([0-9.]+) \\(([0-9.]+)\\)\\s+\\(4 runs\\)").matcher(r.out());
        assertTrue(m.find(), r.out());
        assertEquals(1.0, Double.parseDouble(m.group(1)), 1e-9, r.out());
        assertEquals(1.0 / 24, Double.parseDouble(m.group(2)), 1e-3, "one pairing of 4! ranks the runs perfectly: " + r.out());
        assertEquals("width=2/seed-1", AnalyzeCommand.runName(dir.resolve("sweep/width=2/seed-1"),
                List.of(dir.resolve("sweep/width=1/seed-1"), dir.resolve("sweep/width=2/seed-1"))));
    }

    @Test
    void userErrorsExitWithTwoAndOneLine() {
        Result r = run("import", "hf", dir.resolve("missing").toString());
        assertEquals(2, r.code());
        assertEquals("crucible: " + dir.resolve("missing") + ": not a directory", r.err().trim());
        Result t = run("train");
        assertEquals(2, t.code());
        assertTrue(t.err().contains("give --config"), t.err());
        Result cfg = run("train", "--config", dir.resolve("nope.yaml").toString());
        assertEquals(2, cfg.code());
        assertTrue(cfg.err().contains("nope.yaml: no such file"), cfg.err());
        Result help = run("train", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("--resume"), help.out());
    }
}
