package dev.crucible.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Model growth by depth stacking, G_stack of Du et al. 2024 ("Stacking Your Transformers", the
 * operator of tongxuluo/prts): target layer i is a copy of source layer i mod L, so the whole stack
 * repeats factor times (6 layers grown ×4: 0–5, 0–5, 0–5, 0–5, not interleaved); embeddings, final
 * norm and head are copied as they are. Nothing else carries over: the grown model trains with a
 * fresh optimizer and schedule, as the paper's code does.
 */
public final class Growth {
    private Growth() {}

    /**
     * The paper's growth timing (prts README): the tokens d to train the small model for, from the target's
     * parameters N and training FLOPs C = 6·N·D: log10(d) = 0.88·log10(N) + 163.27/log10(C) − 5.74, fitted
     * on 410M–7B models. Outside that range it extrapolates badly (20M parameters on 400M tokens gives
     * d ≈ 29.7B ≫ D), so laptop-scale runs grow at a stated fraction of their budget instead.
     */
    public static double paperGrowthTokens(double targetParams, double targetTokens) {
        double c = 6 * targetParams * targetTokens;
        return Math.pow(10, 0.88 * Math.log10(targetParams) + 163.27 / Math.log10(c) - 5.74);
    }

    /** The grown model: the source's with factor times the layers. */
    public static ModelConfig config(ModelConfig source, int factor) {
        if (factor < 2) throw new IllegalArgumentException("factor: must be >= 2 (the number of copies of the layer stack), got " + factor);
        return source.toBuilder().nLayer(source.nLayer() * factor).build();
    }

    /**
     * Whether each copy computes, from its input, what its source layer computes, so that the grown
     * model is the source's layers applied as 0..L-1 repeated (not the source model's function: the
     * stack runs twice). Not when a layer's computation depends on its index (Mix-LN's placement,
     * LayerNorm Scaling's 1/sqrt(l+1)), since the copies sit at other indices.
     */
    public static boolean copiesActAsSources(ModelConfig source, int factor) {
        BlockPlan small = source.plan(), big = config(source, factor).plan();
        for (int l = 0; l < big.layers().size(); l++) {
            if (!big.layers().get(l).sameComputation(small.layers().get(l % source.nLayer()))) return false;
        }
        return true;
    }

    /** Fills grown (laid out as config(source, factor)) from the source's parameters. */
    public static void stack(ParamLayout source, float[] sourceParams, ParamLayout grown, float[] grownParams) {
        int layers = source.config().nLayer(), factor = grown.config().nLayer() / layers;
        if (factor < 2 || grown.config().nLayer() % layers != 0 || !grown.config().equals(config(source.config(), factor))) {
            throw new IllegalArgumentException("the grown model " + grown.config() + " is not " + source.config() + " with its layers repeated");
        }
        Set<String> inLayers = new HashSet<>();
        for (int l = 0; l < grown.config().nLayer(); l++) {
            List<ParamLayout.Tensor> to = grown.layerTensors(l), from = source.layerTensors(l % layers);
            for (int i = 0; i < to.size(); i++) {
                ParamLayout.Tensor t = to.get(i), f = from.get(i);
                if (t.size() != f.size()) throw new IllegalStateException(t.name() + " and " + f.name() + " differ in size");
                System.arraycopy(sourceParams, f.offset(), grownParams, t.offset(), t.size());
                inLayers.add(t.name());
            }
        }
        for (ParamLayout.Tensor t : grown.tensors()) {
            if (inLayers.contains(t.name())) continue;
            ParamLayout.Tensor f = source.tensor(t.name());
            System.arraycopy(sourceParams, f.offset(), grownParams, t.offset(), t.size());
        }
    }

    /** A grown model: the source's config, the grown config and its parameters. */
    public record Grown(ModelConfig source, ModelConfig config, float[] params) {}

    /** The grown model of a model directory (ours or an imported Hugging Face one). */
    public static Grown stack(Path modelDir, int factor) throws IOException {
        try (HfCheckpoint ck = HfCheckpoint.open(modelDir)) {
            ParamLayout source = new ParamLayout(ck.config());
            float[] params = new float[source.size()];
            ck.load(source, params);
            ParamLayout grown = new ParamLayout(config(ck.config(), factor));
            float[] out = new float[grown.size()];
            stack(source, params, grown, out);
            return new Grown(ck.config(), grown.config(), out);
        }
    }
}
