package dev.crucible.model;

import java.util.ArrayList;
import java.util.List;

/**
 * What the model is, layer by layer, resolved once from a {@link ModelConfig}: the parameter
 * layout, the forward and backward passes and the KV-cache generator all walk this plan instead of
 * asking for the model style. A new block form (another norm placement, a per-layer norm scale, a
 * different MLP) is a new value here and its kernels, written once.
 *
 * @param positions how positions enter: learned embeddings added to the tokens, or RoPE inside attention
 * @param rotaryDims with RoPE, the dimensions of each query and key head it rotates (the head size, or GPT-NeoX's share of it); 0 otherwise
 * @param finalNorm the norm before the LM head
 */
public record BlockPlan(Positions positions, int rotaryDims, NormKind finalNorm, List<Layer> layers) {

    public enum Positions { LEARNED, ROPE }

    /**
     * LayerNorm has a gain and a bias, RMSNorm a gain only, Single-Scale RMSNorm one scalar gain, the non-parametric LayerNorm
     * (OLMo's) neither; the offset RMSNorm (Gemma's) multiplies by 1 + w, its parameter w starting at 0.
     */
    public enum NormKind {
        LAYER_NORM, RMS_NORM, SINGLE_SCALE_RMS_NORM, NONPARAMETRIC_LAYER_NORM, OFFSET_RMS_NORM;

        /** Whether the gain applied is 1 + the parameter, so that the parameter starts at 0. */
        public boolean offsetGain() {
            return this == OFFSET_RMS_NORM;
        }

        public boolean hasBias() {
            return this == LAYER_NORM;
        }

        /** Floats in the gain of a norm over vectors of c (none for the non-parametric LayerNorm, which learns nothing). */
        public int gainSize(int c) {
            return switch (this) {
                case SINGLE_SCALE_RMS_NORM -> 1;
                case NONPARAMETRIC_LAYER_NORM -> 0;
                default -> c;
            };
        }
    }

    /** Where a sub-layer's norm sits: pre-norm is x + f(norm(x)), post-norm norm(x + f(x)), output-norm x + norm(f(x)). */
    public enum Placement { PRE, POST, OUTPUT }

    /** What a residual sub-layer computes: self-attention or the MLP. */
    public enum Branch { ATTENTION, MLP }

    /**
     * A residual sub-layer: its branch and the norm around it, whose output is multiplied by scale
     * (1 but with LayerNorm Scaling). Forward, backward and decoding each implement a placement once,
     * for both branches.
     */
    public record Sublayer(Branch branch, NormKind norm, Placement placement, float scale) {}

    /** The MLP's activation: GELU (tanh form, or exact by erf) on one projection, or SwiGLU or GeGLU on a fused [gate; up] projection. */
    public enum Mlp {
        GELU, GELU_EXACT, SWIGLU, GEGLU;

        /** Whether the input projection is a gate and an up projection side by side, down(act(gate) · up). */
        public boolean gated() {
            return this == SWIGLU || this == GEGLU;
        }

        /** Rows of the MLP's input projection for a given intermediate size. */
        public int inWidth(int intermediate) {
            return gated() ? 2 * intermediate : intermediate;
        }
    }

    /**
     * One transformer block: an attention sub-layer, then an MLP sub-layer.
     *
     * @param mlp the MLP's activation
     * @param bias which projections add a bias
     * @param qkNorm whether queries and keys are RMS-normalised before RoPE (each head, or whole projections: the config's qk_norm)
     * @param parallel whether the MLP sub-layer's norm reads the layer's input rather than the attention sub-layer's
     *     output (GPT-NeoX's parallel residual, x' = x + attn(norm1(x)) + mlp(norm2(x)), added in that order); both Pre-LN
     */
    public record Layer(int index, Sublayer attention, Sublayer mlpSublayer, Mlp mlp, ModelConfig.LinearBias bias, boolean qkNorm, boolean parallel) {
        /** The sub-layers in the order the residual stream passes them. */
        public List<Sublayer> sublayers() {
            return List.of(attention, mlpSublayer);
        }

        /** Whether this layer computes what o computes from the same weights (all but the index agree). */
        public boolean sameComputation(Layer o) {
            return attention.equals(o.attention) && mlpSublayer.equals(o.mlpSublayer) && mlp == o.mlp && bias == o.bias
                    && qkNorm == o.qkNorm && parallel == o.parallel;
        }
    }

    public BlockPlan {
        layers = List.copyOf(layers);
    }

    public Layer layer(int l) {
        return layers.get(l);
    }

    /**
     * The plan of a config. Mix-LN (Li et al. 2024; the reference code's NORM_TYPE=post_pre): layers
     * ℓ &lt; ⌊α·L⌋, 0-based, i.e. the shallowest, are Post-LN, h = Norm(x + Attn(x)), y = Norm(h + FFN(h)),
     * the rest Pre-LN; the final norm stays. LayerNorm Scaling (Sun et al. 2025, eq. 4; the reference
     * code's NORM_TYPE=LNS): both norm outputs of layer ℓ (1-based) times 1/√ℓ, the final norm not.
     */
    public static BlockPlan of(ModelConfig c) {
        boolean learned = c.style() == ModelConfig.Style.GPT2, llama = c.style() == ModelConfig.Style.LLAMA;
        Mlp mlp = llama ? (c.glu() == ModelConfig.Glu.GEGLU ? Mlp.GEGLU : Mlp.SWIGLU) : c.gelu() == ModelConfig.Gelu.EXACT ? Mlp.GELU_EXACT : Mlp.GELU;
        NormKind norm = switch (c.norm()) {
            case LAYERNORM -> NormKind.LAYER_NORM;
            case RMSNORM -> NormKind.RMS_NORM;
            case SINGLE_SCALE_RMSNORM -> NormKind.SINGLE_SCALE_RMS_NORM;
            case NONPARAMETRIC_LAYERNORM -> NormKind.NONPARAMETRIC_LAYER_NORM;
            case OFFSET_RMSNORM -> NormKind.OFFSET_RMS_NORM;
        };
        int postLayers = c.postLnLayers();
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.nLayer(); l++) {
            Placement placement = c.normPlacement() == ModelConfig.NormPlacement.OUTPUT ? Placement.OUTPUT : l < postLayers ? Placement.POST : Placement.PRE;
            float scale = c.normScaling() == ModelConfig.NormScaling.LAYER_INDEX ? (float) (1 / Math.sqrt(l + 1)) : 1f;
            layers.add(new Layer(l, new Sublayer(Branch.ATTENTION, norm, placement, scale), new Sublayer(Branch.MLP, norm, placement, scale),
                    mlp, c.linearBias(), c.qkNorm().on(), c.parallelResidual()));
        }
        return learned ? new BlockPlan(Positions.LEARNED, 0, norm, layers) : new BlockPlan(Positions.ROPE, c.rotaryDims(), norm, layers);
    }
}
