package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.model.optim.Optimizer;
import dev.crucible.model.optim.OptimizerRecipe;
import dev.crucible.tensor.WorkerPool;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The test of seed-techniques.md section 6: G_stack grows the whole stack, computes what the copies did, and starts a fresh optimizer. */
class GrowthTest {
    private static final Pattern LAYER = Pattern.compile("\\.(layers|h)\\.(\\d+)\\.");

    /** Every Hugging Face tensor of the grown model, by name, is the source's of layer i mod L (names, not offsets: an independent route). */
    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void layerIIsACopyOfLayerIModLAndTheRestIsCopiedAsItIs(String style) {
        ModelConfig small = style.equals("gpt2") ? ModelConfig.gpt2(41, 16, 2, 2, 16) : ModelConfig.llama(41, 16, 2, 2, 1, 16);
        for (int factor : new int[] {2, 3}) {
            ModelConfig big = Growth.config(small, factor);
            assertEquals(2 * factor, big.nLayer());
            float[] p = ModelGradientTest.initParams(small, 5), g = new float[new ParamLayout(big).size()];
            Growth.stack(new ParamLayout(small), p, new ParamLayout(big), g);
            Map<String, float[]> source = new HashMap<>();
            for (HfFormat.HfTensor h : HfFormat.tensors(new ParamLayout(small))) source.put(h.hfName(), HfFormat.extract(h, p));
            int layerTensors = 0;
            for (HfFormat.HfTensor h : HfFormat.tensors(new ParamLayout(big))) {
                Matcher m = LAYER.matcher(h.hfName());
                String from = h.hfName();
                if (m.find()) {
                    from = h.hfName().substring(0, m.start(2)) + Integer.parseInt(m.group(2)) % 2 + h.hfName().substring(m.end(2));
                    layerTensors++;
                }
                assertArrayEquals(source.get(from), HfFormat.extract(h, g), h.hfName() + " from " + from);
            }
            assertEquals(factor * (int) source.keySet().stream().filter(n -> LAYER.matcher(n).find()).count(), layerTensors);
        }
    }

    /**
     * Before any update the grown model computes, bit for bit, what the small model computes through its
     * own layers first (the residual stream entering each of the first L layers, and the stream leaving
     * them, equal the small model's), and its second copy then reads that stream with the same weights.
     */
    @Test
    void theGrownModelRunsTheSmallModelsLayersAgainBitForBit() {
        ModelConfig small = ModelConfig.llama(41, 16, 2, 2, 1, 16), big = Growth.config(small, 2);
        int b = 2, t = 12;
        SplittableRandom rng = new SplittableRandom(7);
        int[] tok = rng.ints(b * t, 0, 41).toArray(), tgt = rng.ints(b * t, 0, 41).toArray();
        try (WorkerPool pool = new WorkerPool(2)) {
            Model s = Model.forTraining(small, b, t, pool), g = Model.forTraining(big, b, t, pool);
            System.arraycopy(ModelGradientTest.initParams(small, 3), 0, s.params, 0, s.params.length);
            Growth.stack(s.layout(), s.params, g.layout(), g.params);
            s.forward(tok, tgt, b, t);
            g.forward(tok, tgt, b, t);
            for (int l = 0; l <= 2; l++) assertArrayEquals(s.hiddenStates(l), g.hiddenStates(l), "stream entering layer " + l);
            for (int l = 0; l < 2; l++) {
                for (int i = 0; i < g.layout().layerTensors(l).size(); i++) {
                    ParamLayout.Tensor a = g.layout().layerTensors(l).get(i), c = g.layout().layerTensors(l + 2).get(i);
                    assertArrayEquals(java.util.Arrays.copyOfRange(g.params, a.offset(), a.end()), java.util.Arrays.copyOfRange(g.params, c.offset(), c.end()));
                }
            }
            assertFalse(java.util.Arrays.equals(s.hiddenStates(2), g.hiddenStates(4)), "the second copy moves the stream again");
        }
    }

    /** A fresh optimizer (step 0, no moments), and after one update the copies differ: they are separate parameters. */
    @Test
    void copiesTrainIndependentlyUnderAFreshOptimizer() {
        ModelConfig big = Growth.config(ModelConfig.gpt2(41, 16, 2, 2, 16), 2);
        int b = 2, t = 12;
        SplittableRandom rng = new SplittableRandom(8);
        int[] tok = rng.ints(b * t, 0, 41).toArray(), tgt = rng.ints(b * t, 0, 41).toArray();
        try (WorkerPool pool = new WorkerPool(2)) {
            Model g = Model.forTraining(big, b, t, pool);
            float[] small = ModelGradientTest.initParams(ModelConfig.gpt2(41, 16, 2, 2, 16), 4);
            Growth.stack(new ParamLayout(ModelConfig.gpt2(41, 16, 2, 2, 16)), small, g.layout(), g.params);
            Optimizer opt = OptimizerRecipe.adamW(1e-3, 0.9, 0.95, 1e-8, 0.1).create(g.layout(), pool);
            assertEquals(0, opt.stepCount());
            opt.state().forEach(src -> assertTrue(isZero(src), src.name() + " starts at zero"));
            new TrainStep(g, g.crossEntropy(), opt, 1.0, pool).run(batch -> {
                System.arraycopy(tok, 0, batch.inputs(), 0, tok.length);
                System.arraycopy(tgt, 0, batch.targets(), 0, tgt.length);
            }, 1, 1e-3);
            ParamLayout.Tensor a = g.layout().layerTensors(0).get(0), c = g.layout().layerTensors(2).get(0);
            assertFalse(java.util.Arrays.equals(java.util.Arrays.copyOfRange(g.params, a.offset(), a.end()),
                    java.util.Arrays.copyOfRange(g.params, c.offset(), c.end())), "layer 0 and its copy, layer 2, got different updates");
        }
    }

    /** The spec's numbers: Llama2-7B on 2T tokens grows after 11.1B tokens (the README's table); 20M on 400M tokens after 29.7B, past its budget. */
    @Test
    void thePapersGrowthTimingAndWhereItExtrapolatesBadly() {
        assertEquals(11.1e9, Growth.paperGrowthTokens(7e9, 2e12), 0.05e9);
        assertEquals(29.7e9, Growth.paperGrowthTokens(20e6, 400e6), 0.05e9);
    }

    @Test
    void copiesOfLayersThatDependOnTheirIndexAreSaidToActOtherwise() {
        ModelConfig plain = ModelConfig.llama(41, 16, 2, 2, 1, 16);
        assertTrue(Growth.copiesActAsSources(plain, 4));
        assertFalse(Growth.copiesActAsSources(plain.toBuilder().normScaling(ModelConfig.NormScaling.LAYER_INDEX).build(), 2));
        assertFalse(Growth.copiesActAsSources(ModelConfig.llamaBuilder(41, 16, 4, 2, 1, 16).normPlacement(ModelConfig.NormPlacement.MIX).build(), 2));
        assertThrows(IllegalArgumentException.class, () -> Growth.config(plain, 1));
    }

    private static boolean isZero(dev.crucible.model.Safetensors.Source s) {
        for (float v : s.data().get()) if (v != 0) return false;
        return true;
    }
}
