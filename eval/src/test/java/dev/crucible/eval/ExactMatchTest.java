package dev.crucible.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.data.tokenizer.TextEncoding;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.Model;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import dev.crucible.tensor.WorkerPool;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExactMatchTest {
    @TempDir
    Path dir;

    Model model(WorkerPool pool, int batch) throws IOException {
        ModelConfig c = ModelConfig.gpt2(256, 32, 2, 2, 32);
        ParamLayout l = new ParamLayout(c);
        float[] p = new float[l.size()];
        l.initialize(p, 5);
        for (int i = 0; i < p.length; i++) p[i] *= 10; // sharp, varied predictions
        Path m = dir.resolve("m");
        HfCheckpoint.write(m, c, p, null);
        Model model = Model.forInference(c, batch, c.contextLength(), pool);
        try (HfCheckpoint ck = HfCheckpoint.open(m)) {
            ck.load(model.layout(), model.params);
        }
        return model;
    }

    /** The argmax of the last position after running the whole sequence, done by hand. */
    static int argmaxNext(Model m, int[] seq) {
        int n = Math.min(seq.length, m.maxSeqLen());
        int[] in = java.util.Arrays.copyOfRange(seq, seq.length - n, seq.length), tgt = new int[n];
        m.forward(in, tgt, 1, n);
        float[] probs = m.probabilities();
        int ld = m.probabilityStride(), row = (n - 1) * ld, best = 0;
        for (int v = 1; v < m.config().vocabSize(); v++) if (probs[row + v] > probs[row + best]) best = v;
        return best;
    }

    @Test
    void greedyDecodingIsTheArgmaxChainAndBatchIndependent() throws IOException {
        try (WorkerPool pool = new WorkerPool(2)) {
            Model batched = model(pool, 4), single = model(pool, 1);
            List<int[]> contexts = List.of(new int[] {1, 2, 3}, new int[] {200}, new int[] {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 9});
            int[][] got = new LogLikelihood(batched).greedy(contexts, 6, ids -> false);
            for (int c = 0; c < contexts.size(); c++) {
                int[] seq = contexts.get(c).clone(), expect = new int[6];
                for (int k = 0; k < 6; k++) {
                    expect[k] = argmaxNext(single, seq);
                    seq = java.util.Arrays.copyOf(seq, seq.length + 1);
                    seq[seq.length - 1] = expect[k];
                }
                assertArrayEquals(expect, got[c], "context " + c); // the third context slides past the 32-token window
            }
            // stop as soon as the predicate holds
            assertEquals(1, new LogLikelihood(batched).greedy(contexts, 6, ids -> true)[0].length);
            IllegalArgumentException empty = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> new LogLikelihood(batched).greedy(List.of(new int[] {1}, new int[0]), 6, ids -> false));
            assertTrue(empty.getMessage().contains("context 1 is empty"), empty.getMessage());
        }
    }

    @Test
    void exactMatchComparesTheTextBeforeTheStopString() throws IOException {
        try (WorkerPool pool = new WorkerPool(2)) {
            Model m = model(pool, 2);
            TextEncoding bytes = TextEncoding.forModel(dir.resolve("m"), 256);
            LogLikelihood scorer = new LogLikelihood(m);
            String own = ExactMatch.decode(bytes, scorer.greedy(List.of(bytes.encode("Q:")), 4, ids -> false)[0]);
            ExactMatch task = new ExactMatch("qa", "qa", List.of(new ExactMatch.Example("Q:", " " + own + " "), new ExactMatch.Example("Q:", own + "x")),
                    List.of("\u0000never"), 4);
            Metric em = task.evaluate(scorer, bytes, 0).getFirst();
            assertEquals("exact_match", em.name());
            assertEquals(0.5, em.value(), 1e-12); // the model's own continuation matches (whitespace aside); the other does not
            assertEquals("ab", new ExactMatch("x", "x", List.of(new ExactMatch.Example("p", "t")), List.of("\n", "."), 4).cut("ab.c\nd"));
        }
    }

    /** A prompt longer than the window less max_tokens keeps its last window − max_tokens tokens, as the harness cuts it. */
    @Test
    void aLongPromptKeepsRoomForTheAnswer() throws IOException {
        try (WorkerPool pool = new WorkerPool(2)) {
            Model m = model(pool, 2);
            TextEncoding bytes = TextEncoding.forModel(dir.resolve("m"), 256);
            String prompt = "the quick brown fox jumps over the lazy dog, twice: Q:";
            int[] all = bytes.encode(prompt), last = java.util.Arrays.copyOfRange(all, all.length - (m.maxSeqLen() - 6), all.length);
            LogLikelihood scorer = new LogLikelihood(m);
            String cut = ExactMatch.decode(bytes, scorer.greedy(List.of(last), 6, ids -> false)[0]);
            String slid = ExactMatch.decode(bytes, scorer.greedy(List.of(all), 6, ids -> false)[0]);
            assertTrue(!cut.equals(slid) && !cut.isBlank(), "the two ways answer differently here: '" + cut + "' / '" + slid + "'");
            ExactMatch task = new ExactMatch("qa", "qa", List.of(new ExactMatch.Example(prompt, cut)), List.of("\u0000never"), 6);
            assertEquals(1.0, task.evaluate(scorer, bytes, 0).getFirst().value());
        }
    }

    /** The harness stops every generation at the end-of-sequence token, whatever the task's stop strings; the text is what came before it. */
    @Test
    void generationStopsAtTheEndOfSequenceToken() throws IOException {
        try (WorkerPool pool = new WorkerPool(2)) {
            Model m = model(pool, 2);
            TextEncoding bytes = TextEncoding.forModel(dir.resolve("m"), 256);
            int[] own = new LogLikelihood(m).greedy(List.of(bytes.encode("Q:")), 4, ids -> false)[0];
            assertTrue(own.length == 4 && !ExactMatch.decode(bytes, own).strip().isEmpty(), "the model says something first");
            ExactMatch task = new ExactMatch("qa", "qa", List.of(new ExactMatch.Example("Q:", "")), List.of("\u0000never"), 4);
            assertEquals(0.0, task.evaluate(new LogLikelihood(m), bytes, 0).getFirst().value(), "without an end token it says its four tokens");
            // the model's second token as the end of sequence: the text is its first token alone
            LogLikelihood ending = new LogLikelihood(m, java.util.Set.of(own[1]));
            ExactMatch first = new ExactMatch("qa", "qa", List.of(new ExactMatch.Example("Q:", ExactMatch.decode(bytes, new int[] {own[0]}))), List.of("\u0000never"), 4);
            List<java.util.Map<String, Object>> records = new java.util.ArrayList<>();
            assertEquals(1.0, first.evaluate(ending, bytes, 0, records::add).getFirst().value(), records.toString());
        }
    }
}
