package dev.crucible.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import dev.crucible.tensor.WorkerPool;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TasksTest {
    @TempDir
    Path dir;

    @Test
    void metricsAndStandardErrors() {
        Metric acc = Metric.mean("acc", new double[] {1, 0, 1, 1});
        assertEquals(0.75, acc.value(), 1e-12);
        assertEquals(0.25, acc.stderr(), 1e-12); // sample variance 0.25, / n = 4
        Metric ppl = Metric.perplexity("perplexity", new double[] {-1, -3});
        assertEquals(Math.exp(2), ppl.value(), 1e-12);
        assertEquals(Math.exp(2) * 1.0, ppl.stderr(), 1e-12);
    }

    /** A byte-level model directory with random weights. */
    private Path byteModel() throws IOException {
        Path m = dir.resolve("model");
        ModelConfig c = ModelConfig.gpt2(256, 128, 2, 2, 32);
        ParamLayout l = new ParamLayout(c);
        float[] p = new float[l.size()];
        l.initialize(p, 9);
        for (int i = 0; i < p.length; i++) p[i] *= 10;
        HfCheckpoint.write(m, c, p, null);
        return m;
    }

    @Test
    void blimpScoresFullSentencesAndLambadaTheLastWord() throws IOException {
        Path blimp = dir.resolve("blimp_fixture.jsonl");
        Files.writeString(blimp, """
                {"sentence_good": "The cats sleep.", "sentence_bad": "The cats sleeps.", "UID": "fixture", "field": "morphology", "linguistics_term": "subject_verb_agreement"}
                {"sentence_good": "Who left?", "sentence_bad": "Who left him?", "UID": "fixture", "field": "morphology"}
                {"sentence_good": "A b.", "sentence_bad": "B a.", "UID": "fixture", "field": "morphology"}
                """);
        Path lambada = dir.resolve("lambada.jsonl");
        Files.writeString(lambada, "{\"text\": \"she opened the door and saw her friend\"}\n{\"text\": \"one two three\"}\n");
        Path model = byteModel();
        Blimp task = Blimp.load(blimp);
        assertEquals("blimp_fixture", task.name());
        assertEquals("blimp_subject_verb_agreement", task.group(), "a paradigm's group is its phenomenon");
        try (WorkerPool pool = new WorkerPool(2)) {
            List<Evaluator.TaskResult> r = Evaluator.evaluate(model, List.of(task, Lambada.load(lambada)), 0, 3, pool);
            // BLiMP's definition: a pair is right when log p(good) > log p(bad), each the sum over its bytes after byte 0.
            Evaluator.TaskResult b = r.get(0);
            double expected = 0;
            var enc = dev.crucible.data.tokenizer.TextEncoding.forModel(model, 256);
            try (HfCheckpoint ck = HfCheckpoint.open(model)) {
                dev.crucible.model.Model m = dev.crucible.model.Model.forInference(ck.config(), 1, 128, pool);
                ck.load(m.layout(), m.params);
                LogLikelihood one = new LogLikelihood(m);
                String[][] pairs = {{"The cats sleep.", "The cats sleeps."}, {"Who left?", "Who left him?"}, {"A b.", "B a."}};
                for (String[] pair : pairs) {
                    double g = one.score(List.of(new LogLikelihood.Request(new int[] {0}, enc.encode(pair[0]))))[0].logProb();
                    double bd = one.score(List.of(new LogLikelihood.Request(new int[] {0}, enc.encode(pair[1]))))[0].logProb();
                    expected += g > bd ? 1 : 0;
                }
            }
            assertEquals(expected / 3, b.metrics().get(0).value(), 1e-12);
            Evaluator.TaskResult l = r.get(1);
            assertEquals("acc", l.metrics().get(0).name());
            assertTrue(l.metrics().get(1).value() > 1, "perplexity of the last word: " + l.metrics().get(1).value());
            Map<String, Object> json = Evaluator.resultsJson(model, r, Map.of());
            @SuppressWarnings("unchecked")
            Map<String, Object> lam = (Map<String, Object>) ((Map<String, Object>) json.get("results")).get("lambada_openai");
            assertTrue(lam.containsKey("acc,none") && lam.containsKey("acc_stderr,none") && lam.containsKey("perplexity,none"), lam.toString());
            assertEquals(Map.of("blimp_fixture", Map.of("acc", 0.5), "lambada_openai", Map.of("acc", 0.0)), json.get("chance"));
        }
    }

    /** Bits per byte equals −Σ log p over every byte (each predicted once, windows of the model's length) / (bytes · ln 2). */
    @Test
    void rollingPerplexityPredictsEveryTokenOnce() throws IOException {
        Path model = byteModel();
        String doc = "x".repeat(50) + " a longer document than one window of 128 bytes, so it needs two windows " + "y".repeat(60);
        RollingPerplexity task = new RollingPerplexity("docs", List.of(doc, "short one"));
        try (WorkerPool pool = new WorkerPool(2); HfCheckpoint ck = HfCheckpoint.open(model)) {
            dev.crucible.model.Model m = dev.crucible.model.Model.forInference(ck.config(), 2, 128, pool);
            ck.load(m.layout(), m.params);
            LogLikelihood scorer = new LogLikelihood(m);
            var enc = dev.crucible.data.tokenizer.TextEncoding.forModel(model, 256);
            List<Metric> r = task.evaluate(scorer, enc, 0);
            // The same total, request by request: window 1 after byte 0, window 2 after the bytes before it.
            int[] t = enc.encode(doc), s = enc.encode("short one");
            double ll = 0;
            LogLikelihood.Score[] parts = scorer.score(List.of(new LogLikelihood.Request(new int[] {0}, java.util.Arrays.copyOfRange(t, 0, 128)),
                    // the last, shorter window sees a full window: the 129 − r tokens before it
                    new LogLikelihood.Request(java.util.Arrays.copyOfRange(t, t.length - 129, 128), java.util.Arrays.copyOfRange(t, 128, t.length)),
                    new LogLikelihood.Request(new int[] {0}, s)));
            for (LogLikelihood.Score p : parts) ll += p.logProb();
            double bytes = t.length + s.length;
            assertTrue(t.length > 128, "the document spans two windows");
            assertEquals(-ll / (bytes * Math.log(2)), r.get(0).value(), 1e-9);
            assertEquals(Math.pow(2, r.get(0).value()), r.get(1).value(), 1e-9);
            assertEquals(Math.exp(-ll / (doc.split("\\s+").length + 2)), r.get(2).value(), 1e-6 * r.get(2).value());
        }
    }

    /** acc picks the highest log-likelihood, acc_norm the highest per character; gold log-prob and Brier from the softmax over choices. */
    @Test
    void multipleChoiceMetricsByHand() throws IOException {
        Path model = byteModel();
        var q = new MultipleChoice.Question("Question: x\nAnswer:", List.of("aaaa", "b"), 0);
        MultipleChoice task = new MultipleChoice("mc", "test", List.of(q));
        try (WorkerPool pool = new WorkerPool(2); HfCheckpoint ck = HfCheckpoint.open(model)) {
            dev.crucible.model.Model m = dev.crucible.model.Model.forInference(ck.config(), 2, 128, pool);
            ck.load(m.layout(), m.params);
            LogLikelihood scorer = new LogLikelihood(m);
            var enc = dev.crucible.data.tokenizer.TextEncoding.forModel(model, 256);
            int[] ctx = enc.encode(q.prompt());
            LogLikelihood.Score[] s = scorer.score(List.of(new LogLikelihood.Request(ctx, enc.encode(" aaaa")), new LogLikelihood.Request(ctx, enc.encode(" b"))));
            double a = s[0].logProb(), b = s[1].logProb();
            List<Metric> r = task.evaluate(scorer, enc, 0);
            assertEquals(a > b ? 1 : 0, r.get(0).value(), 0, "acc");
            assertEquals(a / 4 > b / 1 ? 1 : 0, r.get(1).value(), 0, "acc_norm divides by the characters of 'aaaa' and 'b'");
            double pa = Math.exp(a) / (Math.exp(a) + Math.exp(b));
            assertEquals(Math.log(pa), r.get(3).value(), 1e-9, "gold log-probability among the choices");
            assertEquals((pa - 1) * (pa - 1) + (1 - pa) * (1 - pa), r.get(4).value(), 1e-9, "Brier score");
            assertEquals(0.5, task.chance("acc"), 0);
        }
    }

    /** induction_gain = (log p(second copy | start, first copy) − log p(first copy | start)) / length, averaged over sequences. */
    @Test
    void inductionProbeByHand() throws IOException {
        Path random = byteModel();
        try (WorkerPool pool = new WorkerPool(2); HfCheckpoint ck = HfCheckpoint.open(random)) {
            dev.crucible.model.Model m = dev.crucible.model.Model.forInference(ck.config(), 4, 128, pool);
            ck.load(m.layout(), m.params);
            LogLikelihood scorer = new LogLikelihood(m);
            var enc = dev.crucible.data.tokenizer.TextEncoding.forModel(random, 256);
            List<Metric> r = new InductionProbe(6, 5).evaluate(scorer, enc, 0);
            int len = 63; // min(100, window / 2 - 1) at window 128
            dev.crucible.tensor.Rng rng = new dev.crucible.tensor.Rng(5);
            double[] gains = new double[6];
            for (int i = 0; i < 6; i++) {
                int[] seq = new int[len], both = new int[len + 1];
                for (int j = 0; j < len; j++) seq[j] = rng.nextInt(256);
                System.arraycopy(seq, 0, both, 1, len);
                LogLikelihood.Score[] sc = scorer.score(List.of(new LogLikelihood.Request(new int[] {0}, seq), new LogLikelihood.Request(both, seq)));
                gains[i] = (sc[1].logProb() - sc[0].logProb()) / len;
            }
            assertEquals(Metric.mean("induction_gain", gains).value(), r.get(0).value(), 1e-12);
            assertEquals(Metric.mean("induction_gain", gains).stderr(), r.get(0).stderr(), 1e-12);
        }
    }

    @Test
    void lambadaSplitsAtTheLastSpace() throws IOException {
        Path f = dir.resolve("l.jsonl");
        Files.writeString(f, "{\"text\": \"a b  c\"}\n");
        Lambada l = Lambada.load(f);
        assertEquals(1, l.size());
        Files.writeString(f, "{\"text\": \"a b\"} {\"text\": \"c d\"}\n");
        assertTrue(assertThrows(IOException.class, () -> Lambada.load(f)).getMessage().contains("l.jsonl:1: not a JSON object (more after the first JSON value"));
        Files.writeString(f, "{\"text\": \"single\"}\n");
        assertTrue(assertThrows(IOException.class, () -> Lambada.load(f)).getMessage().contains("l.jsonl:1: text has no last word"));
    }

    @Test
    void badTaskFilesNameTheirLine() throws IOException {
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, "{\"sentence_good\": \"x\", \"sentence_bad\": \"y\"}\n{\"sentence_good\": \"x\"}\n", StandardCharsets.UTF_8);
        String msg = assertThrows(IOException.class, () -> Blimp.load(f)).getMessage();
        assertEquals(f + ":2: needs string fields sentence_good and sentence_bad", msg);
        assertTrue(assertThrows(IOException.class, () -> Tasks.load(dir, List.of("winogrande"))).getMessage().contains("unknown task 'winogrande'"));
        assertTrue(assertThrows(IOException.class, () -> Tasks.load(dir, List.of("hellaswag"))).getMessage().endsWith("hellaswag/validation.jsonl: task data not found"));
    }

    @Test
    void realBlimpAndLambadaLoadCompletely() throws IOException {
        String data = System.getProperty("crucible.data", "");
        assumeTrue(!data.isEmpty() && Files.isDirectory(Path.of(data, "blimp")), "needs ../shared/data (-Dcrucible.data=...)");
        List<Task> tasks = Tasks.load(Path.of(data), List.of("blimp", "lambada", "wikitext", "piqa"));
        assertEquals(70, tasks.size(), "67 BLiMP paradigms, LAMBADA, WikiText, PIQA");
        assertEquals(1838, tasks.get(69).size(), "PIQA validation questions");
        long pairs = tasks.stream().filter(t -> t instanceof Blimp).mapToLong(Task::size).sum();
        assertEquals(67_000, pairs);
        // the paper's twelve phenomena, with its paradigm counts; the files' own linguistics_term agrees with the built-in table
        Map<String, Long> perPhenomenon = tasks.stream().filter(t -> t instanceof Blimp)
                .collect(java.util.stream.Collectors.groupingBy(Task::group, java.util.TreeMap::new, java.util.stream.Collectors.counting()));
        assertEquals(Map.ofEntries(Map.entry("blimp_anaphor_agreement", 2L), Map.entry("blimp_argument_structure", 9L), Map.entry("blimp_binding", 7L),
                Map.entry("blimp_control_raising", 5L), Map.entry("blimp_determiner_noun_agreement", 8L), Map.entry("blimp_ellipsis", 2L),
                Map.entry("blimp_filler_gap_dependency", 7L), Map.entry("blimp_irregular_forms", 2L), Map.entry("blimp_island_effects", 8L),
                Map.entry("blimp_npi_licensing", 7L), Map.entry("blimp_quantifiers", 4L), Map.entry("blimp_subject_verb_agreement", 6L)), perPhenomenon);
        for (Task t : tasks) if (t instanceof Blimp) assertEquals(t.group(), "blimp_" + Blimp.phenomenon(t.name()), t.name());
        assertEquals(5153, tasks.get(67).size());
        try (WorkerPool pool = new WorkerPool(2)) {
            List<Evaluator.TaskResult> r = Evaluator.evaluate(byteModel(), List.of(tasks.get(0), tasks.get(67)), 40, 8, pool);
            double acc = r.get(0).metrics().get(0).value();
            assertTrue(acc >= 0 && acc <= 1 && r.get(0).metrics().get(0).n() == 40, "acc " + acc);
        }
    }
}
