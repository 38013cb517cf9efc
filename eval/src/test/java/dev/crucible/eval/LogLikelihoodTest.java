package dev.crucible.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.model.Model;
import dev.crucible.model.ModelConfig;
import dev.crucible.tensor.WorkerPool;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class LogLikelihoodTest {
    static final WorkerPool POOL = new WorkerPool(2);
    static final ModelConfig CFG = ModelConfig.llama(40, 24, 2, 4, 2, 16);

    @AfterAll
    static void close() {
        POOL.close();
    }

    static Model model(int batch) {
        Model m = Model.forInference(CFG, batch, CFG.contextLength(), POOL);
        m.initialize(5);
        for (int i = 0; i < m.params.length; i++) m.params[i] *= 20; // a peaked, non-uniform model
        return m;
    }

    /** Σ log p(continuation | context) straight from one forward pass over the whole sequence. */
    static double direct(int[] ctx, int[] cont) {
        Model m = model(1);
        int n = ctx.length + cont.length - 1;
        int[] in = new int[n], tg = new int[n];
        for (int i = 0; i < n; i++) {
            in[i] = i < ctx.length ? ctx[i] : cont[i - ctx.length];
            tg[i] = i + 1 < ctx.length ? ctx[i + 1] : cont[i + 1 - ctx.length];
        }
        m.forward(in, tg, 1, n);
        double lp = 0;
        for (int i = ctx.length - 1; i < n; i++) lp -= m.losses()[i];
        return lp;
    }

    @Test
    void scoreIsTheSumOfContinuationLogProbabilities() {
        int[] ctx = {1, 7, 3, 9}, cont = {4, 4, 11};
        LogLikelihood.Score s = new LogLikelihood(model(1)).score(List.of(new LogLikelihood.Request(ctx, cont)))[0];
        assertEquals(direct(ctx, cont), s.logProb(), 0);
        assertEquals(3, s.tokens());
    }

    @Test
    void scoresDoNotDependOnBatchOrPadding() {
        SplittableRandom rng = new SplittableRandom(1);
        List<LogLikelihood.Request> reqs = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            reqs.add(new LogLikelihood.Request(rng.ints(1 + rng.nextInt(15), 0, 40).toArray(), rng.ints(1 + rng.nextInt(6), 0, 40).toArray()));
        }
        LogLikelihood alone = new LogLikelihood(model(1)), packed = new LogLikelihood(model(4));
        LogLikelihood.Score[] many = packed.score(reqs);
        for (int i = 0; i < reqs.size(); i++) {
            LogLikelihood.Score one = alone.score(List.of(reqs.get(i)))[0];
            assertEquals(one.logProb(), many[i].logProb(), 0, "request " + i);
            assertEquals(one.greedy(), many[i].greedy(), "request " + i);
        }
        assertEquals(2, packed.passes(), "9 requests of at most 20 tokens in 4 rows' 96 positions: padded to each pass's longest");
    }

    /** Short requests fill the model's positions: more rows per pass than the batch it was made for. */
    @Test
    void shortRequestsArePackedIntoTheModelsPositions() {
        List<LogLikelihood.Request> reqs = new ArrayList<>();
        for (int i = 0; i < 10; i++) reqs.add(new LogLikelihood.Request(new int[] {1}, new int[] {2 + i % 5, 3})); // rows of 2 tokens
        LogLikelihood scorer = new LogLikelihood(model(1)); // one row of 24 positions: 12 such rows
        LogLikelihood.Score[] s = scorer.score(reqs);
        assertEquals(1, scorer.passes());
        for (int i = 0; i < reqs.size(); i++) assertEquals(direct(reqs.get(i).context(), reqs.get(i).continuation()), s[i].logProb(), 0, "request " + i);
    }

    @Test
    void greedyMeansEveryContinuationTokenIsTheArgmax() {
        Model m = model(1);
        int[] seq = {3};
        List<Integer> cont = new ArrayList<>();
        for (int step = 0; step < 4; step++) { // build the greedy continuation token by token
            int n = seq.length + cont.size();
            int[] in = new int[n];
            for (int i = 0; i < n; i++) in[i] = i < seq.length ? seq[i] : cont.get(i - seq.length);
            m.forward(in, new int[n], 1, n);
            float[] p = m.probabilitiesDense();
            int best = 0;
            for (int v = 1; v < CFG.vocabSize(); v++) if (p[(n - 1) * CFG.vocabSize() + v] > p[(n - 1) * CFG.vocabSize() + best]) best = v;
            cont.add(best);
        }
        int[] greedy = cont.stream().mapToInt(Integer::intValue).toArray(), other = greedy.clone();
        other[2] = (other[2] + 1) % CFG.vocabSize();
        LogLikelihood.Score[] s = new LogLikelihood(model(2)).score(List.of(new LogLikelihood.Request(seq, greedy), new LogLikelihood.Request(seq, other)));
        assertTrue(s[0].greedy());
        assertFalse(s[1].greedy());
        assertTrue(s[0].logProb() > s[1].logProb());
    }

    @Test
    void longRequestsKeepTheirLastWindowPlusOneTokens() {
        SplittableRandom rng = new SplittableRandom(2);
        int[] ctx = rng.ints(40, 0, 40).toArray(), cont = rng.ints(5, 0, 40).toArray(); // 45 tokens > window 24 + 1
        int[] kept = java.util.Arrays.copyOfRange(ctx, 40 + 5 - 25, 40);
        LogLikelihood scorer = new LogLikelihood(model(2));
        double full = scorer.score(List.of(new LogLikelihood.Request(ctx, cont)))[0].logProb();
        assertEquals(direct(kept, cont), full, 0, "left-truncated as lm-evaluation-harness does");
    }
}
