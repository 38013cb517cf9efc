package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.tensor.WorkerPool;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PackedWeightsTest {

    /** An inference model with its weights packed beforehand gives the forward's bits, and notices parameters changed behind it. */
    @Test
    void packedWeightsGiveTheSameBitsAndStaleOnesAreRefused() {
        ModelConfig[] configs = {ModelConfig.gpt2(61, 24, 2, 2, 16), // biases, tied head
                ModelConfig.llamaBuilder(70, 24, 2, 4, 2, 32).tieEmbeddings(false).embeddingProjection(true).build()}; // GQA, gated MLP, projections
        for (ModelConfig cfg : configs) {
            int b = 3, t = 19, v = cfg.vocabSize();
            SplittableRandom rng = new SplittableRandom(11);
            int[] tok = rng.ints(b * t, 0, v).toArray(), tgt = rng.ints(b * t, 0, v).toArray(), positions = {0, 7, 18, 30, 56};
            try (WorkerPool pool = new WorkerPool(2)) {
                float[] p = ModelGradientTest.initParams(cfg, 5);
                Model plain = Model.forInference(cfg, b, t, pool), packed = Model.forInference(cfg, b, t, pool);
                System.arraycopy(p, 0, plain.params, 0, p.length);
                System.arraycopy(p, 0, packed.params, 0, p.length);
                long before = packed.memoryBytes();
                packed.packWeights();
                assertTrue(packed.memoryBytes() > before + 4L * cfg.vocabSize() * cfg.dModel(), "the packed copies are counted");
                assertEquals(packed.memoryBytes(), Model.memoryBytes(cfg, b, t, false, pool), "the estimate before allocating counts them too");
                assertSameForward(cfg + "", plain, packed, tok, tgt, b, t, positions);

                for (int i = 300; i < 300 + Model.CHECK_STRIDE; i++) { // a run of values rewritten in the middle of the LM head, as an edit would
                    packed.params[packed.layout().lmHead() + i] += 1f;
                    plain.params[plain.layout().lmHead() + i] += 1f;
                }
                assertThrows(IllegalStateException.class, () -> packed.forward(tok, tgt, b, t), "stale packed weights");
                packed.packWeights();
                assertSameForward(cfg + ", packed again after a change", plain, packed, tok, tgt, b, t, positions);

                Model training = Model.forTraining(cfg, b, t, pool);
                assertThrows(IllegalStateException.class, training::packWeights);
            }
        }
    }

    private static void assertSameForward(String what, Model plain, Model packed, int[] tok, int[] tgt, int b, int t, int[] positions) {
        plain.forward(tok, tgt, b, t);
        packed.forward(tok, tgt, b, t);
        assertArrayEquals(plain.losses(), packed.losses(), what + ": losses");
        assertArrayEquals(plain.probabilitiesDense(), packed.probabilitiesDense(), what + ": probabilities");
        plain.forwardPositions(tok, tgt, b, t, positions, positions.length);
        packed.forwardPositions(tok, tgt, b, t, positions, positions.length);
        assertArrayEquals(plain.probabilitiesDense(), packed.probabilitiesDense(), what + ": listed positions");
    }
}
