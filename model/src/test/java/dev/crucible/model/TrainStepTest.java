package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.model.optim.GroupedOptimizer;
import dev.crucible.model.optim.OptimizerRecipe;
import dev.crucible.tensor.WorkerPool;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The one training step: gradient accumulation, the gradient hook, clipping, and a step whose loss is not finite. */
class TrainStepTest {

    private static GroupedOptimizer adamw(Model m, WorkerPool pool) {
        return OptimizerRecipe.adamW(1e-3, 0.9, 0.95, 1e-8, 0.1).create(m.layout(), pool);
    }

    /** Fills micro-batches with consecutive rows of one fixed batch of `rows` sequences. */
    private static TrainStep.BatchSource rowsOf(int[] tok, int[] tgt, int t) {
        int[] next = {0};
        return batch -> {
            int n = batch.tokens();
            System.arraycopy(tok, next[0], batch.inputs(), 0, n);
            System.arraycopy(tgt, next[0], batch.targets(), 0, n);
            next[0] = (next[0] + n) % tok.length;
        };
    }

    /**
     * Two micro-batches of 2 sequences give the loss, gradients and update of one batch of 4, within
     * float rounding: the sums are grouped differently (per micro-batch, then added), so bit
     * identity is not promised.
     */
    @Test
    void twoMicroBatchesOfTwoEqualOneBatchOfFour() {
        for (ModelConfig cfg : new ModelConfig[] {ModelConfig.gpt2(53, 16, 2, 2, 24), ModelConfig.llama(53, 16, 2, 4, 2, 24)}) {
            int t = 16;
            SplittableRandom rng = new SplittableRandom(11);
            int[] tok = rng.ints(4 * t, 0, cfg.vocabSize()).toArray(), tgt = rng.ints(4 * t, 0, cfg.vocabSize()).toArray();
            try (WorkerPool pool = new WorkerPool(2)) {
                Model one = Model.forTraining(cfg, 4, t, pool), two = Model.forTraining(cfg, 2, t, pool);
                one.initialize(3);
                two.initialize(3);
                TrainStep.Result r1 = TrainStep.crossEntropy(one, adamw(one, pool), 1.0, pool).run(rowsOf(tok, tgt, t), 1, 1e-3);
                TrainStep.Result r2 = TrainStep.crossEntropy(two, adamw(two, pool), 1.0, pool).run(rowsOf(tok, tgt, t), 2, 1e-3);
                assertEquals(r1.loss(), r2.loss(), 1e-6, cfg.style() + " loss");
                assertEquals(r1.gradNorm(), r2.gradNorm(), 1e-6 * r1.gradNorm(), cfg.style() + " gradient norm");
                double maxGrad = 0;
                for (float g : one.grads) maxGrad = Math.max(maxGrad, Math.abs(g));
                for (int i = 0; i < one.grads.length; i++) {
                    assertEquals(one.grads[i], two.grads[i], 1e-5 * maxGrad, cfg.style() + " gradient " + i);
                    assertEquals(one.params[i], two.params[i], 1e-6, cfg.style() + " updated parameter " + i);
                }
            }
        }
    }

    @Test
    void hookSeesTheAccumulatedGradientOnceAndClippingScalesTheUpdate() {
        ModelConfig cfg = ModelConfig.gpt2(31, 8, 1, 2, 16);
        int t = 8;
        SplittableRandom rng = new SplittableRandom(2);
        int[] tok = rng.ints(2 * t, 0, cfg.vocabSize()).toArray(), tgt = rng.ints(2 * t, 0, cfg.vocabSize()).toArray();
        try (WorkerPool pool = new WorkerPool(2)) {
            Model a = Model.forTraining(cfg, 1, t, pool), b = Model.forTraining(cfg, 1, t, pool);
            a.initialize(5);
            b.initialize(5);
            int[] calls = {0};
            float[][] seen = new float[1][];
            TrainStep clipped = TrainStep.crossEntropy(a, adamw(a, pool), 1e-3, pool).dataParallel((g, l) -> {
                calls[0]++;
                seen[0] = g.clone();
            }, 1, 0);
            TrainStep.Result r = clipped.run(rowsOf(tok, tgt, t), 2, 1e-3);
            assertEquals(1, calls[0], "the hook runs once per step, after accumulation");
            assertArrayEquals(a.grads, seen[0], "the hook sees the accumulated gradient");
            assertTrue(r.gradNorm() > 1e-3, "the clip is active: " + r.gradNorm());
            // Clipping is a gradient scale handed to the optimizer: the same as the optimizer on pre-scaled gradients.
            TrainStep.Result u = TrainStep.crossEntropy(b, adamw(b, pool), 0, pool).run(rowsOf(tok, tgt, t), 2, 1e-3);
            assertEquals(r.gradNorm(), u.gradNorm(), 0, "the norm is measured before clipping");
            Model c = Model.forTraining(cfg, 1, t, pool);
            c.initialize(5);
            GroupedOptimizer manual = adamw(c, pool);
            float[] scaled = b.grads.clone();
            manual.step(c.params, scaled, (float) (1e-3 / r.gradNorm()), 1e-3);
            assertArrayEquals(c.params, a.params, "clipped step = AdamW with the gradient scaled by clip / norm");
        }
    }

    @Test
    void aStepWhoseLossIsNotFiniteUpdatesNothing() {
        ModelConfig cfg = ModelConfig.gpt2(31, 8, 1, 2, 16);
        try (WorkerPool pool = new WorkerPool(1)) {
            Model m = Model.forTraining(cfg, 1, 8, pool);
            m.initialize(1);
            m.params[m.layout().wte()] = Float.NaN;
            m.params[m.layout().wte() + 16] = Float.NaN; // every token's embedding row begins NaN for tokens 0 and 1
            float[] before = m.params.clone();
            GroupedOptimizer opt = adamw(m, pool);
            TrainStep.Result r = TrainStep.crossEntropy(m, opt, 1.0, pool).run(batch -> {
                java.util.Arrays.fill(batch.inputs(), 0);
                java.util.Arrays.fill(batch.targets(), 1);
            }, 1, 1e-3);
            assertFalse(r.updated());
            assertTrue(Double.isNaN(r.loss()));
            assertEquals(0, opt.stepCount());
            assertArrayEquals(before, m.params);
        }
    }

    /** Dropout acts only in an armed training step: a model with dropout computes, unarmed, what the same model without it does. */
    @Test
    void dropoutOnlyInTrainingSteps() {
        ModelConfig plain = ModelConfig.gpt2(31, 8, 2, 2, 16), dropping = plain.toBuilder().dropout(0.5).build();
        int t = 8;
        SplittableRandom rng = new SplittableRandom(4);
        int[] tok = rng.ints(2 * t, 0, 31).toArray(), tgt = rng.ints(2 * t, 0, 31).toArray();
        try (WorkerPool pool = new WorkerPool(2)) {
            Model a = Model.forTraining(plain, 2, t, pool), b = Model.forTraining(dropping, 2, t, pool);
            a.initialize(3);
            b.initialize(3);
            TrainStep step = TrainStep.crossEntropy(b, adamw(b, pool), 1.0, pool);
            step.dropout(true, 7, 0);
            TrainStep.Result dropped = step.run(rowsOf(tok, tgt, t), 1, 0); // lr 0: the weights stay
            assertArrayEquals(a.params, b.params);
            float clean = a.forward(tok, tgt, 2, t);
            assertTrue(Math.abs(dropped.loss() - clean) > 1e-3, "the training step dropped: " + dropped.loss() + " vs " + clean);
            assertEquals(clean, b.forward(tok, tgt, 2, t), 0f, "after the step, forward drops nothing");
            assertThrows(IllegalStateException.class, () -> Model.forInference(dropping, 1, t, pool).armDropout(1, 1, 0));
        }
    }
}
