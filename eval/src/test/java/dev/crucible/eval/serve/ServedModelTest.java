package dev.crucible.eval.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.crucible.model.Generator;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.ModelConfig;
import dev.crucible.tensor.WorkerPool;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServedModelTest {
    @TempDir
    Path dir;

    /**
     * A prompt of several prefill chunks, fed a chunk per step while another sequence decodes beside
     * it, gives the greedy tokens a generator fed token by token gives; so does the other sequence.
     */
    @Test
    void aLongPromptIsPrefilledChunkByChunkBesideAnotherSequence() throws Exception {
        ModelConfig cfg = ModelConfig.gpt2(256, 100, 2, 2, 32);
        Path ck = dev.crucible.eval.TestCheckpoints.byteLevel(dir.resolve("ck"), 3, cfg);
        int[] longPrompt = new java.util.SplittableRandom(1).ints(2 * Generator.PREFILL_ROWS + 11, 0, 256).toArray(), shortPrompt = {7, 8, 9};
        try (WorkerPool pool = new WorkerPool(2)) {
            ServedModel m = new ServedModel(ck, "test", 2, pool, null);
            List<Integer> longOut = new ArrayList<>(), shortOut = new ArrayList<>();
            ServedModel.Sequence a = m.sequence(shortPrompt, 20, 0, 1, dev.crucible.model.Sampler.Adjustments.NONE, 1, Set.of(), null, (t, lp, all) -> shortOut.add(t));
            ServedModel.Sequence b = m.sequence(longPrompt, 12, 0, 1, dev.crucible.model.Sampler.Adjustments.NONE, 1, Set.of(), null, (t, lp, all) -> longOut.add(t));
            m.admit(a);
            m.step();
            m.step(); // a is decoding when b comes
            m.admit(b);
            while (a.finish() == null || b.finish() == null) m.step();
            float[] params;
            try (HfCheckpoint c = HfCheckpoint.open(ck)) {
                params = new float[new dev.crucible.model.ParamLayout(cfg).size()];
                c.load(new dev.crucible.model.ParamLayout(cfg), params);
            }
            assertEquals(greedy(cfg, params, shortPrompt, 20, pool), shortOut, "the short prompt's sequence");
            assertEquals(greedy(cfg, params, longPrompt, 12, pool), longOut, "the long prompt's sequence");
        }
    }

    private static List<Integer> greedy(ModelConfig cfg, float[] params, int[] prompt, int n, WorkerPool pool) {
        Generator g = new Generator(cfg, params, cfg.contextLength(), pool);
        float[] logits = null;
        for (int t : prompt) logits = g.next(t);
        List<Integer> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int best = 0;
            for (int v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
            out.add(best);
            if (k < n - 1) logits = g.next(best);
        }
        return out;
    }
}
