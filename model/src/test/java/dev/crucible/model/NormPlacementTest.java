package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.tensor.Norms;
import dev.crucible.tensor.WorkerPool;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The tests of seed-techniques.md section 5: Mix-LN and LayerNorm Scaling, wired as the papers define them. */
class NormPlacementTest {

    private static Model run(ModelConfig cfg, WorkerPool pool, float[] params, int[] tok, int[] tgt, int b, int t) {
        Model m = Model.forTraining(cfg, b, t, pool);
        System.arraycopy(params, 0, m.params, 0, params.length);
        m.zeroGrad();
        m.forward(tok, tgt, b, t);
        m.backward(1f / (b * t));
        return m;
    }

    /** Mix-LN with α = 0 has no Post-LN layer: the same model as Pre-LN, bit for bit. */
    @Test
    void mixLnWithAlphaZeroIsPreLnBitForBit() {
        ModelConfig pre = ModelConfig.llama(37, 16, 4, 2, 2, 16);
        ModelConfig mix0 = pre.toBuilder().normPlacement(ModelConfig.NormPlacement.MIX).mixLnFraction(0).build();
        int b = 2, t = 12;
        SplittableRandom rng = new SplittableRandom(3);
        int[] tok = rng.ints(b * t, 0, 37).toArray(), tgt = rng.ints(b * t, 0, 37).toArray();
        float[] p = ModelGradientTest.initParams(pre, 9);
        try (WorkerPool pool = new WorkerPool(2)) {
            Model a = run(pre, pool, p, tok, tgt, b, t), c = run(mix0, pool, p, tok, tgt, b, t);
            assertArrayEquals(a.probabilitiesDense(), c.probabilitiesDense());
            assertArrayEquals(a.grads, c.grads);
        }
        assertEquals(0, mix0.postLnLayers());
        assertTrue(mix0.hfAsStored(), "no Post-LN layer: transformers computes it as stored");
        assertEquals(1, pre.toBuilder().normPlacement(ModelConfig.NormPlacement.MIX).build().postLnLayers(), "α = 0.25 of 4 layers");
        assertEquals(6, ModelConfig.llamaBuilder(37, 16, 24, 2, 2, 16).normPlacement(ModelConfig.NormPlacement.MIX).build().postLnLayers(),
                "24 layers -> 6, as in the run scripts");
    }

    /** Mix-LN, all gains 1: the output of layer 0, a Post-LN layer, has per-token RMS 1 (up to eps). */
    @Test
    void aPostLnLayersOutputIsNormalised() {
        ModelConfig cfg = ModelConfig.llamaBuilder(37, 16, 4, 2, 2, 16).normPlacement(ModelConfig.NormPlacement.MIX).normEps(1e-12).build();
        int b = 2, t = 12, d = cfg.dModel();
        SplittableRandom rng = new SplittableRandom(4);
        int[] tok = rng.ints(b * t, 0, 37).toArray(), tgt = rng.ints(b * t, 0, 37).toArray();
        try (WorkerPool pool = new WorkerPool(2)) {
            Model m = Model.forTraining(cfg, b, t, pool);
            float[] p = ModelGradientTest.initParams(cfg, 1); // weights large enough that a Pre-LN layer moves the stream
            for (ParamLayout.Tensor tensor : m.layout().tensors()) {
                if (tensor.role() == ParamLayout.Role.NORM) java.util.Arrays.fill(p, tensor.offset(), tensor.end(), 1f);
            }
            System.arraycopy(p, 0, m.params, 0, p.length);
            m.forward(tok, tgt, b, t);
            float[] out0 = m.hiddenStates(1), out1 = m.hiddenStates(2);
            for (int r = 0; r < b * t; r++) {
                double ms = 0;
                for (int i = 0; i < d; i++) ms += (double) out0[r * d + i] * out0[r * d + i];
                assertEquals(1.0, Math.sqrt(ms / d), 1e-5, "RMS of layer 0's output, token " + r);
            }
            double ms = 0;
            for (int i = 0; i < d; i++) ms += (double) out1[i] * out1[i];
            assertTrue(Math.abs(Math.sqrt(ms / d) - 1) > 1e-3, "layer 1 is Pre-LN: its output is not normalised");
        }
    }

    /** LayerNorm Scaling: in layer index 3 the attention input is exactly RMSNorm(x)/2; the final norm is not scaled. */
    @Test
    void layerNormScalingHalvesLayerThreesNormOutput() {
        ModelConfig cfg = ModelConfig.llamaBuilder(37, 16, 4, 2, 2, 16).normScaling(ModelConfig.NormScaling.LAYER_INDEX).build();
        BlockPlan plan = cfg.plan();
        assertEquals(1f, plan.layer(0).attention().scale());
        assertEquals(0.5f, plan.layer(3).attention().scale());
        assertEquals(0.5f, plan.layer(3).mlpSublayer().scale());
        assertEquals((float) (1 / Math.sqrt(3)), plan.layer(2).mlpSublayer().scale());
        int b = 2, t = 12, d = cfg.dModel(), rows = b * t;
        SplittableRandom rng = new SplittableRandom(5);
        int[] tok = rng.ints(rows, 0, 37).toArray(), tgt = rng.ints(rows, 0, 37).toArray();
        try (WorkerPool pool = new WorkerPool(2)) {
            Model m = Model.forTraining(cfg, b, t, pool);
            m.initialize(2);
            m.forward(tok, tgt, b, t);
            float[] x3 = m.hiddenStates(3), expected = new float[rows * d], rstd = new float[rows];
            ParamLayout layout = m.layout();
            new Norms(pool).rmsNormForward(expected, 0, rstd, 0, x3, 0, m.params, layout.block(3).attnNormW(), rows, d, (float) cfg.normEps());
            for (int i = 0; i < expected.length; i++) expected[i] /= 2;
            assertArrayEquals(expected, m.attentionInput(3));
        }
        String msg = assertThrows(IllegalArgumentException.class, () -> ModelConfig.gpt2Builder(37, 16, 2, 2, 16)
                .normPlacement(ModelConfig.NormPlacement.POST).normScaling(ModelConfig.NormScaling.LAYER_INDEX).build()).getMessage();
        assertTrue(msg.contains("defined for Pre-LN layers"), msg);
    }
}
