package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.tensor.WorkerPool;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ForwardPositionsTest {

    /** The LM head on a few positions gives those positions exactly what the full forward gives them. */
    @Test
    void listedPositionsGetTheFullForwardsValuesBitForBit() {
        ModelConfig[] configs = {ModelConfig.gpt2(61, 24, 2, 2, 16), ModelConfig.llama(61, 24, 2, 4, 2, 16)};
        for (ModelConfig cfg : configs) {
            int b = 3, t = 19, v = cfg.vocabSize();
            SplittableRandom rng = new SplittableRandom(7);
            int[] tok = rng.ints(b * t, 0, v).toArray(), tgt = rng.ints(b * t, 0, v).toArray();
            int[] positions = {0, 5, 18, 19, 37, 40, 56};
            try (WorkerPool pool = new WorkerPool(2)) {
                Model model = Model.forTraining(cfg, b, t, pool);
                float[] p = ModelGradientTest.initParams(cfg, 4);
                System.arraycopy(p, 0, model.params, 0, p.length);
                model.forward(tok, tgt, b, t);
                float[] fullLosses = model.losses().clone(), fullProbs = model.probabilitiesDense();
                model.forwardPositions(tok, tgt, b, t, positions, positions.length);
                float[] probs = model.probabilitiesDense();
                assertEquals(positions.length * v, probs.length);
                for (int k = 0; k < positions.length; k++) {
                    int pos = positions[k];
                    assertEquals(fullLosses[pos], model.losses()[k], 0f, cfg.style() + " loss at position " + pos);
                    assertArrayEquals(Arrays.copyOfRange(fullProbs, pos * v, pos * v + v), Arrays.copyOfRange(probs, k * v, k * v + v),
                            cfg.style() + " probabilities at position " + pos);
                }
                assertThrows(IllegalStateException.class, () -> model.backward(1f), "no backward after a partial head");
                assertThrows(IllegalArgumentException.class, () -> model.forwardPositions(tok, tgt, b, t, new int[] {b * t}, 1));
                model.forward(tok, tgt, b, t);
                model.backward(1f); // a full forward makes backward possible again

                // The inference model (one layer's activations, no gradients) computes the same bits and refuses backward.
                Model inference = Model.forInference(cfg, b, t, pool);
                System.arraycopy(p, 0, inference.params, 0, p.length);
                inference.forward(tok, tgt, b, t);
                assertArrayEquals(fullLosses, Arrays.copyOf(inference.losses(), b * t), cfg.style() + " inference losses");
                assertArrayEquals(fullProbs, inference.probabilitiesDense(), cfg.style() + " inference probabilities");
                inference.forwardPositions(tok, tgt, b, t, positions, positions.length);
                assertArrayEquals(probs, inference.probabilitiesDense(), cfg.style() + " inference, listed positions");
                assertThrows(IllegalStateException.class, () -> inference.backward(1f), "an inference model has no backward");
                assertEquals(null, inference.grads);
                assertTrue(inference.memoryBytes() < model.memoryBytes() / 2, "inference " + inference.memoryBytes() + " vs training " + model.memoryBytes());
            }
        }
    }

    /** A model's buffers hold maxBatch · maxSeqLen positions: more, shorter rows fit, each row's values as alone. */
    @Test
    void shorterRowsFillThePositionsOfTheBatch() {
        ModelConfig cfg = ModelConfig.gpt2(61, 24, 2, 2, 16);
        int b = 2, t = 12, v = cfg.vocabSize();
        SplittableRandom rng = new SplittableRandom(8);
        int[] tok = rng.ints(b * t, 0, v).toArray(), tgt = rng.ints(b * t, 0, v).toArray();
        try (WorkerPool pool = new WorkerPool(2)) {
            float[] p = ModelGradientTest.initParams(cfg, 4);
            Model wide = Model.forInference(cfg, 1, 2 * t, pool), one = Model.forInference(cfg, 1, t, pool);
            System.arraycopy(p, 0, wide.params, 0, p.length);
            System.arraycopy(p, 0, one.params, 0, p.length);
            assertEquals(2 * t, wide.maxPositions());
            wide.forward(tok, tgt, b, t); // two rows of t in a model made for one row of 2t
            float[] losses = Arrays.copyOf(wide.losses(), b * t);
            for (int r = 0; r < b; r++) {
                one.forward(Arrays.copyOfRange(tok, r * t, r * t + t), Arrays.copyOfRange(tgt, r * t, r * t + t), 1, t);
                assertArrayEquals(Arrays.copyOf(one.losses(), t), Arrays.copyOfRange(losses, r * t, r * t + t), "row " + r);
            }
            IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class, () -> wide.forward(new int[3 * t], new int[3 * t], 3, t));
            assertTrue(tooMany.getMessage().contains("24 positions in all"), tooMany.getMessage());
            assertThrows(IllegalArgumentException.class, () -> one.forward(new int[t + 1], new int[t + 1], 1, t + 1), "a row longer than the window");
        }
    }
}
