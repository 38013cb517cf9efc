package dev.crucible.model;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Architecture of a decoder-only transformer, in Hugging Face's terms. One record covers three
 * families: GPT-2 style (learned positions, LayerNorm with bias, GELU MLP, biases, tied embeddings),
 * Llama style (RoPE, RMSNorm, SwiGLU or GeGLU MLP, no biases unless chosen, grouped-query attention, optional tying) and
 * GPT-NeoX style, Pythia's (RoPE on a share of each head, LayerNorm with bias, exact GELU MLP, biases,
 * untied embeddings, attention and MLP side by side on the layer's input).
 * What each style means per layer is decided once, in {@link BlockPlan}; nothing else asks for the
 * style. Build variations with {@link #toBuilder()}: a new option is a field here, in the builder and
 * in the plan, and no caller changes.
 *
 * @param intermediateSize MLP inner width (4·d for GPT-2; the SwiGLU width for Llama), HF's intermediate_size
 * @param normPlacement where each sub-layer's norm sits: PRE (x + f(norm(x))), POST (norm(x + f(x))), MIX
 *     (Mix-LN: Post-LN in the first ⌊mixLnFraction·L⌋ layers, Pre-LN after), or OUTPUT (x + norm(f(x)), OLMo 2's
 *     "reordered norm": the branch's output normalised before the residual add, nothing on its input)
 * @param mixLnFraction Mix-LN's α, the share of (shallowest) layers that are Post-LN
 * @param normScaling LAYER_INDEX: LayerNorm Scaling, both norm outputs of layer ℓ (1-based) scaled by 1/√ℓ
 * @param qkNorm RMSNorm of queries and keys before RoPE: none, each head (HEAD: a gain of head size shared by the heads,
 *     as Qwen3 does) or the whole query and key projections (WHOLE: a gain per dimension, as OLMo 2 does)
 * @param dropout drop probability (training only) on the attention probabilities, each sub-layer's output before
 *     the residual add and the MLP's hidden activation ("To Repeat or Not To Repeat": dropout against overfitting on repeated data)
 * @param embeddingProjection learnable d×d projections after the embedding and before the LM head, orthogonally
 *     initialised, no bias (Outlier-Safe Pre-Training's EmbProj), folded into the embedding and the head on export
 * @param norm the block and final norms: LayerNorm (GPT-2's), RMSNorm (Llama's), Single-Scale RMSNorm (one
 *     scalar gain per norm: "Outlier-Safe Pre-Training for Robust 4-Bit Quantization of Large Language Models"), a
 *     LayerNorm with no gain or bias (the first OLMo's), or an RMSNorm whose gain is 1 + w, w zero at first (Gemma's)
 * @param parallelResidual GPT-NeoX's use_parallel_residual: x + attn(norm1(x)) + mlp(norm2(x)), both branches on the
 *     layer's input, instead of the MLP on the attention sub-layer's output
 * @param rotaryFraction GPT-NeoX's rotary_pct: RoPE on the first int(head_size · fraction) dimensions of each head (1 for
 *     Llama: whole heads; unused with learned positions)
 * @param gelu the GELU of a GELU MLP: its tanh approximation (transformers' gelu_new, GPT-2's) or exact, by erf ("gelu",
 *     GPT-NeoX's)
 * @param ropeScaling Llama 3.1's RoPE frequency scaling (rope_type llama3), or null for plain RoPE
 * @param linearBias which projections add a bias: all of them (GPT-2 and GPT-NeoX style), or in Llama style none,
 *     the query, key and value projections (Qwen2's), the attention's four (transformers' attention_bias), the MLP's
 *     (mlp_bias) or both
 * @param clipQkv the query, key and value projections clamped to [-clipQkv, clipQkv] before QK-norm and RoPE (OLMo 1.7's
 *     clip_qkv), or 0 for no clamp
 * @param headDim each attention head's width (transformers' head_dim), or 0 for d_model / n_head; a Llama-style option, as
 *     Qwen3-0.6B's 16 heads of 128 on a width of 1024: the attention's inner width n_head · head_dim need not be d_model
 * @param glu the gate of a Llama-style MLP, down(act(gate(x)) · up(x)): SiLU (SwiGLU, Llama's) or GELU's tanh form (GeGLU,
 *     Gemma's; "GLU Variants Improve Transformer", Shazeer 2020)
 * @param embeddingMultiplier the token embedding's rows times this before the first block (Gemma's normaliser, √d_model
 *     rounded to float32); the tied head reads the embedding unscaled; held as the float32 the model multiplies by
 * @param sharedNorm with a parallel residual, one norm whose output both branches read (Phi's), instead of one per branch
 *     (GPT-NeoX's)
 * @param headBias whether the LM head adds a bias to the logits (Phi's)
 * @param logitSoftcap the logits capped as c·tanh(logits/c) (Gemma 2's final_logit_softcapping, the modded-nanogpt speed runs'),
 *     or 0 for none
 */
public record ModelConfig(Style style, int vocabSize, int contextLength, int nLayer, int nHead, int nKvHead, int dModel,
                          int intermediateSize, boolean tieEmbeddings, double normEps, double ropeTheta, NormPlacement normPlacement,
                          double mixLnFraction, NormScaling normScaling, QkNorm qkNorm, Norm norm, double dropout,
                          boolean embeddingProjection, boolean parallelResidual, double rotaryFraction, Gelu gelu,
                          dev.crucible.tensor.Rope.Llama3Scaling ropeScaling, LinearBias linearBias, double clipQkv, int headDim, Glu glu,
                          double embeddingMultiplier, boolean sharedNorm, boolean headBias, double logitSoftcap) {

    /** OlmoLayerNorm's eps, which its config does not set. */
    public static final double OLMO_NORM_EPS = 1e-5;

    /** The projections that add a bias. */
    public enum LinearBias {
        NONE(false, false, false), QKV(true, false, false), ATTENTION(true, true, false), MLP(false, false, true), ALL(true, true, true);

        private final boolean qkv, attnOut, mlp;

        LinearBias(boolean qkv, boolean attnOut, boolean mlp) {
            this.qkv = qkv;
            this.attnOut = attnOut;
            this.mlp = mlp;
        }

        /** The query, key and value projections. */
        public boolean qkv() {
            return qkv;
        }

        /** The attention's output projection. */
        public boolean attnOut() {
            return attnOut;
        }

        /** Both of the MLP's projections. */
        public boolean mlp() {
            return mlp;
        }

        /** The biases transformers' Llama config keys attention_bias (q, k, v and o) and mlp_bias give. */
        public static LinearBias ofLlamaKeys(boolean attention, boolean mlp) {
            return attention ? (mlp ? ALL : ATTENTION) : mlp ? MLP : NONE;
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static LinearBias parse(String s) {
            return parseId(values(), s, "linear_bias", "none, qkv, attention, mlp or all");
        }
    }

    /** The gated MLP of Llama style: its gate's activation. */
    public enum Glu {
        SWIGLU, GEGLU;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** transformers' hidden_act for this gate (LlamaMLP's ACT2FN[hidden_act]): GeGLU's GELU is the tanh form. */
        public String hiddenAct() {
            return this == SWIGLU ? "silu" : "gelu_pytorch_tanh";
        }

        public static Glu parse(String s) {
            return parseId(values(), s, "glu", "swiglu or geglu");
        }
    }

    /** The GELU of a GELU MLP. */
    public enum Gelu {
        TANH, EXACT;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Gelu parse(String s) {
            return parseId(values(), s, "gelu", "tanh or exact");
        }
    }

    /** QK-norm's scope: none, each query and key head (Qwen3's), or the whole query and key projections (OLMo 2's). */
    public enum QkNorm {
        NONE, HEAD, WHOLE;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public boolean on() {
            return this != NONE;
        }

        /** A name, or the boolean form of configs written before WHOLE existed (true: head). */
        public static QkNorm parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "true" -> HEAD;
                case "false" -> NONE;
                default -> parseId(values(), s, "qk_norm", "none, head or whole (true: head, false: none)");
            };
        }
    }

    /** The norm of the blocks and the final norm. */
    public enum Norm {
        LAYERNORM, RMSNORM, SINGLE_SCALE_RMSNORM, NONPARAMETRIC_LAYERNORM, OFFSET_RMSNORM;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Norm parse(String s) {
            return parseId(values(), s, "norm", "layernorm, rmsnorm, single_scale_rmsnorm, nonparametric_layernorm or offset_rmsnorm");
        }
    }

    /**
     * Normaliser placement ("Mix-LN: Unleashing the Power of Deeper Layers by Combining Pre-LN and Post-LN"; OUTPUT is
     * OLMo 2's, "2 OLMo 2 Furious", section 3.2.1).
     */
    public enum NormPlacement {
        PRE, POST, MIX, OUTPUT;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static NormPlacement parse(String s) {
            return parseId(values(), s, "norm placement", "pre, post, mix or output");
        }
    }

    /** Scaling of the norm outputs ("The Curse of Depth in Large Language Models": LayerNorm Scaling). */
    public enum NormScaling {
        NONE, LAYER_INDEX;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static NormScaling parse(String s) {
            return parseId(values(), s, "norm scaling", "none or layer_index");
        }
    }

    public enum Style {
        GPT2, LLAMA, GPT_NEOX;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The MLP width the style's models have at width d: GPT-2's and GPT-NeoX's 4d; Llama's SwiGLU 8d/3 rounded up to a multiple of 256 (of 8 for small d). */
        public int defaultIntermediateSize(int d) {
            if (this != LLAMA) return 4 * d;
            int multiple = d >= 256 ? 256 : 8;
            return (8 * d / 3 + multiple - 1) / multiple * multiple;
        }

        /** The biases the style's models have: every projection's for GPT-2 and GPT-NeoX, none for Llama. */
        public LinearBias defaultLinearBias() {
            return this == LLAMA ? LinearBias.NONE : LinearBias.ALL;
        }

        public static Style parse(String s) {
            for (Style st : values()) if (st.id().equals(s.toLowerCase(Locale.ROOT))) return st;
            throw new IllegalArgumentException("unknown model style '" + s + "' (expected gpt2, llama or gpt_neox)");
        }
    }

    public ModelConfig {
        if (headDim > 0 && (long) headDim * nHead == dModel) headDim = 0; // the default written out: equal configs, equal records
        require(style != null, "style", "must be gpt2, llama or gpt_neox");
        require(vocabSize > 0, "vocab_size", "must be positive, got " + vocabSize);
        require(contextLength > 0, "context_length", "must be positive, got " + contextLength);
        require(nLayer > 0, "n_layer", "must be positive, got " + nLayer);
        require(nHead > 0, "n_head", "must be positive, got " + nHead);
        require(nKvHead > 0 && nHead % nKvHead == 0, "n_kv_head",
                "must divide n_head (" + nHead + "), got " + nKvHead);
        require(headDim >= 0, "head_dim", "must be positive, or 0 for d_model / n_head, got " + headDim);
        require(dModel > 0 && (headDim > 0 || dModel % nHead == 0), "d_model", "must be a positive multiple of n_head (" + nHead + "), got " + dModel);
        require(headDim == 0 || style == Style.LLAMA, "head_dim", "a head width other than d_model / n_head is a Llama-style option");
        require(intermediateSize > 0, "intermediate_size", "must be positive, got " + intermediateSize);
        require(normEps > 0, "norm_eps", "must be positive, got " + normEps);
        require(rotaryFraction > 0 && rotaryFraction <= 1, "rotary_fraction", "must be in (0, 1], got " + rotaryFraction);
        require(style == Style.GPT_NEOX || rotaryFraction == 1, "rotary_fraction", "RoPE on part of each head is a gpt_neox-style option");
        int heads = headDim > 0 ? headDim : dModel / nHead, rotary = rotaryDims(heads, rotaryFraction); // the fields are not assigned yet
        require(style == Style.GPT2 || (rotary >= 2 && rotary % 2 == 0), rotaryFraction != 1 ? "rotary_fraction" : headDim > 0 ? "head_dim" : "d_model",
                "RoPE needs an even number of rotary dimensions per head, got " + rotary + " (head size " + heads
                        + (rotaryFraction == 1 ? "" : ", rotary_fraction " + rotaryFraction) + ")");
        require(style == Style.LLAMA || nKvHead == nHead, "n_kv_head", "grouped-query attention is a Llama-style option");
        require(gelu != null, "gelu", "must be tanh or exact");
        require(glu != null, "glu", "must be swiglu or geglu");
        require((float) embeddingMultiplier > 0 && Float.isFinite((float) embeddingMultiplier), "embedding_multiplier",
                "must be positive and finite as a float32, got " + embeddingMultiplier);
        embeddingMultiplier = (float) embeddingMultiplier; // the float the model multiplies by: configs that compute the same are equal
        require(glu == Glu.SWIGLU || style == Style.LLAMA, "glu", "a gated MLP is Llama style's; GPT-2's and GPT-NeoX's are GELU MLPs");
        require(style != Style.LLAMA || gelu == Gelu.TANH, "gelu", "Llama style's MLP is gated (glu: swiglu or geglu), not GELU");
        require(!parallelResidual || style == Style.GPT_NEOX, "parallel_residual", "a gpt_neox-style option");
        require(logitSoftcap == 0 || logitSoftcap > 0 && Float.isFinite(1f / (float) logitSoftcap) && Float.isFinite((float) logitSoftcap), "logit_softcap",
                "must be positive (and a float32 whose inverse is finite), or 0 for none, got " + logitSoftcap);
        logitSoftcap = (float) logitSoftcap; // the float the model caps by
        require(!sharedNorm || parallelResidual, "shared_norm", "one norm for both branches needs them side by side (parallel_residual: true)");
        require(ropeScaling == null || style != Style.GPT2, "rope_scaling", "scales RoPE's frequencies; GPT-2 style has learned positions");
        require(ropeTheta > 0, "rope_theta", "must be positive, got " + ropeTheta);
        require(normPlacement != null, "norm_placement", "must be pre, post, mix or output");
        require(norm != null, "norm", "must be layernorm, rmsnorm, single_scale_rmsnorm, nonparametric_layernorm or offset_rmsnorm");
        require(qkNorm != null, "qk_norm", "must be none, head or whole");
        require(dropout >= 0 && dropout < 1, "dropout", "must be in [0, 1), got " + dropout);
        require(normScaling != null, "norm_scaling", "must be none or layer_index");
        require(mixLnFraction >= 0 && mixLnFraction <= 1, "mix_ln_fraction", "must be in [0, 1], got " + mixLnFraction);
        require(normScaling == NormScaling.NONE || normPlacement == NormPlacement.PRE, "norm_scaling",
                "layer_index scaling is defined for Pre-LN layers (The Curse of Depth); norm_placement is " + normPlacement.id());
        require(!parallelResidual || normPlacement == NormPlacement.PRE, "parallel_residual",
                "both branches read the layer's input through their norms (Pre-LN); norm_placement is " + normPlacement.id());
        require(linearBias != null, "linear_bias", "must be none, qkv, attention, mlp or all");
        require(clipQkv >= 0 && Double.isFinite(clipQkv), "clip_qkv", "must be positive, or 0 for no clamp, got " + clipQkv);
        require(style == Style.LLAMA || linearBias == style.defaultLinearBias(), "linear_bias",
                "GPT-2 and GPT-NeoX style have a bias on every projection; choosing them is a Llama-style option");
    }

    /** Dimensions of each query and key head that RoPE rotates, as transformers counts them: int(head_size · rotary_pct). */
    public int rotaryDims() {
        return rotaryDims(headSize(), rotaryFraction);
    }

    private static int rotaryDims(int headSize, double fraction) {
        return (int) (headSize * fraction);
    }

    /** Layers that are Post-LN: all with POST, the first ⌊α·L⌋ with MIX (Mix-LN), none with PRE or OUTPUT. */
    public int postLnLayers() {
        return switch (normPlacement) {
            case PRE, OUTPUT -> 0;
            case POST -> nLayer;
            case MIX -> (int) Math.floor(mixLnFraction * nLayer);
        };
    }

    /**
     * Whether one of transformers' architectures (GPT2LMHeadModel, LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM,
     * OlmoForCausalLM, Olmo2ForCausalLM, GemmaForCausalLM, GPTNeoXForCausalLM, PhiForCausalLM) can compute this model: not with
     * Post-LN layers, nor with one norm for a parallel block's two branches or a bias on the head but as Phi's ({@link #phi}),
     * nor with output norms or whole-projection QK-norm but as OLMo 2's pair of them, nor with a LayerNorm without parameters
     * but as OLMo's ({@link #olmo}), nor with biases its blocks do not have ({@link #hfBiasesFit}); LayerNorm Scaling, an
     * embedding multiplier and Gemma's 1 + w gains it can once they are folded into the norm gains and the embedding
     * ({@link HfFormat}).
     */
    public boolean hfExportable() {
        // GPT-2 has LayerNorm only; Llama has RMSNorm, into whose gain vector a single scale or Gemma's 1 + w folds; OLMo's non-parametric LayerNorm is its own
        boolean normFits = style != Style.LLAMA ? norm == Norm.LAYERNORM : norm == Norm.NONPARAMETRIC_LAYERNORM ? olmo() : norm != Norm.LAYERNORM;
        // output norms with whole-projection QK-norm are OLMo 2's blocks; per-head QK-norm on Pre-LN blocks is Qwen3's
        boolean blocksFit = olmo2() || normPlacement != NormPlacement.OUTPUT && postLnLayers() == 0
                && (qkNorm == QkNorm.NONE || style == Style.LLAMA && qkNorm == QkNorm.HEAD);
        // clip_qkv is OLMo's alone; a shared norm and a head bias Phi's; a logit cap only Gemma 2 has, which Crucible does not write
        return blocksFit && normFits && hfBiasesFit() && (clipQkv == 0 || olmo()) && (!sharedNorm && !headBias || phi()) && logitSoftcap == 0;
    }

    /**
     * Whether transformers has these biases on these blocks: Llama's, Qwen3's and OLMo 2's attention_bias puts one on q, k,
     * v and o; mlp_bias is Llama's alone, and q, k and v alone are Qwen2's, both on blocks without QK-norm or output norms.
     */
    public boolean hfBiasesFit() {
        return switch (linearBias) {
            case NONE, ATTENTION -> true;
            case MLP, ALL -> style != Style.LLAMA || qkNorm == QkNorm.NONE && normPlacement != NormPlacement.OUTPUT;
            case QKV -> qkNorm == QkNorm.NONE && normPlacement != NormPlacement.OUTPUT;
        };
    }

    /**
     * Whether the model is OLMo's (OlmoForCausalLM, the first OLMo): Llama style with a LayerNorm that learns nothing, its
     * eps 1e-5 (OlmoLayerNorm's, fixed), on Pre-LN blocks without QK-norm, layer scaling or biases but attention_bias's
     * (and with or without clip_qkv, which only OLMo has).
     */
    public boolean olmo() {
        return style == Style.LLAMA && norm == Norm.NONPARAMETRIC_LAYERNORM && normEps == OLMO_NORM_EPS && normPlacement == NormPlacement.PRE
                && qkNorm == QkNorm.NONE && normScaling == NormScaling.NONE && (linearBias == LinearBias.NONE || linearBias == LinearBias.ATTENTION);
    }

    /** Gemma's embedding normaliser: √d_model as a float32, as GemmaModel computes it (torch.tensor(hidden_size ** 0.5, dtype)). */
    public static double gemmaEmbeddingMultiplier(int dModel) {
        return (float) Math.sqrt(dModel);
    }

    /**
     * Whether the model is Gemma's (GemmaForCausalLM, the first Gemma): Llama style with GeGLU, RMSNorms whose gains are 1 + w,
     * the embedding times {@link #gemmaEmbeddingMultiplier}, on Pre-LN blocks without QK-norm, layer scaling, clip_qkv or biases but
     * attention_bias's, with plain RoPE and d_model a multiple of n_head (transformers' GemmaAttention before 4.48 computed
     * no RoPE scaling and refused other widths).
     */
    public boolean gemma() {
        return style == Style.LLAMA && norm == Norm.OFFSET_RMSNORM && glu == Glu.GEGLU && embeddingMultiplier == gemmaEmbeddingMultiplier(dModel)
                && normPlacement == NormPlacement.PRE && qkNorm == QkNorm.NONE && normScaling == NormScaling.NONE && clipQkv == 0
                && (linearBias == LinearBias.NONE || linearBias == LinearBias.ATTENTION) && ropeScaling == null && dModel % nHead == 0;
    }

    /**
     * Whether the model's blocks are Phi's (PhiForCausalLM, Phi-1 and 1.5): GPT-NeoX style with attention and MLP side by side
     * reading one LayerNorm, the LM head with a bias, Pre-LN, no QK-norm, clip_qkv or RoPE scaling (LayerNorm Scaling and an
     * embedding multiplier fold into it on export, as into every architecture).
     */
    public boolean phi() {
        return style == Style.GPT_NEOX && parallelResidual && sharedNorm && headBias && norm == Norm.LAYERNORM && normPlacement == NormPlacement.PRE
                && qkNorm == QkNorm.NONE && clipQkv == 0 && ropeScaling == null;
    }

    /** Whether the blocks are OLMo 2's (Olmo2ForCausalLM): Llama style, each branch's output normalised, QK-norm over whole projections. */
    public boolean olmo2() {
        return style == Style.LLAMA && normPlacement == NormPlacement.OUTPUT && qkNorm == QkNorm.WHOLE;
    }

    /**
     * The norm transformers' architecture for this model has: LayerNorm for GPT-2 and GPT-NeoX, RMSNorm for Llama, OLMo's
     * non-parametric LayerNorm for a model that is OLMo's, and Gemma's 1 + w RMSNorm for one that is Gemma's.
     */
    public Norm styleNorm() {
        return olmo() ? Norm.NONPARAMETRIC_LAYERNORM : gemma() ? Norm.OFFSET_RMSNORM : style == Style.LLAMA ? Norm.RMSNORM : Norm.LAYERNORM;
    }

    /** The embedding multiplier transformers' architecture for this model has: Gemma's √d, 1 elsewhere. */
    public double styleEmbeddingMultiplier() {
        return gemma() ? embeddingMultiplier : 1;
    }

    /**
     * Whether transformers computes this model from its tensors as Crucible stores them (no folding
     * needed): QK-norm it has only for Llama style (per head as Qwen3ForCausalLM, over whole projections as Olmo2ForCausalLM).
     */
    public boolean hfAsStored() {
        return hfExportable() && normScaling == NormScaling.NONE && norm == styleNorm() && !embeddingProjection && embeddingMultiplier == styleEmbeddingMultiplier();
    }

    /** The value whose lower-case name is s, or an error naming what was expected. */
    private static <E extends Enum<E>> E parseId(E[] values, String s, String what, String expected) {
        for (E v : values) if (v.name().toLowerCase(Locale.ROOT).equals(s.toLowerCase(Locale.ROOT))) return v;
        throw new IllegalArgumentException("unknown " + what + " '" + s + "' (expected " + expected + ")");
    }

    private static void require(boolean ok, String key, String msg) {
        if (!ok) throw new IllegalArgumentException(key + ": " + msg);
    }

    /** Each attention head's width: head_dim where it is set, d_model / n_head otherwise. */
    public int headSize() {
        return headDim > 0 ? headDim : dModel / nHead;
    }

    /** The attention's inner width, n_head · head size: the query projection's rows and the output projection's columns. */
    public int attentionWidth() {
        return nHead * headSize();
    }

    /** The per-layer plan this config resolves to. */
    public BlockPlan plan() {
        return BlockPlan.of(this);
    }

    public ModelConfig withVocabSize(int v) {
        return toBuilder().vocabSize(v).build();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** GPT-2 defaults: MLP width 4d, tied embeddings, LayerNorm eps 1e-5. */
    public static Builder gpt2Builder(int vocab, int ctx, int layers, int heads, int d) {
        return new Builder(new ModelConfig(Style.GPT2, vocab, ctx, layers, heads, heads, d, Style.GPT2.defaultIntermediateSize(d), true, 1e-5, 10000, NormPlacement.PRE, 0.25,
                NormScaling.NONE, QkNorm.NONE, Norm.LAYERNORM, 0, false, false, 1, Gelu.TANH, null, Style.GPT2.defaultLinearBias(), 0, 0, Glu.SWIGLU, 1, false, false, 0));
    }

    /** Llama defaults: the SwiGLU width rounded as Llama does, RMSNorm eps 1e-6. */
    public static Builder llamaBuilder(int vocab, int ctx, int layers, int heads, int kvHeads, int d) {
        return new Builder(new ModelConfig(Style.LLAMA, vocab, ctx, layers, heads, kvHeads, d, Style.LLAMA.defaultIntermediateSize(d), true, 1e-6, 10000,
                NormPlacement.PRE, 0.25, NormScaling.NONE, QkNorm.NONE, Norm.RMSNORM, 0, false, false, 1, Gelu.TANH, null, Style.LLAMA.defaultLinearBias(), 0, 0, Glu.SWIGLU, 1, false, false, 0));
    }

    /**
     * GPT-NeoX defaults, as transformers' GPTNeoXConfig and Pythia have them: MLP width 4d, untied embeddings,
     * LayerNorm eps 1e-5, parallel residual, RoPE (base 10000) on a quarter of each head, exact GELU.
     */
    public static Builder gptNeoxBuilder(int vocab, int ctx, int layers, int heads, int d) {
        return new Builder(new ModelConfig(Style.GPT_NEOX, vocab, ctx, layers, heads, heads, d, Style.GPT_NEOX.defaultIntermediateSize(d), false, 1e-5,
                10000, NormPlacement.PRE, 0.25, NormScaling.NONE, QkNorm.NONE, Norm.LAYERNORM, 0, false, true, 0.25, Gelu.EXACT, null, Style.GPT_NEOX.defaultLinearBias(), 0, 0, Glu.SWIGLU, 1, false, false, 0));
    }

    /** The builder with a style's defaults. */
    public static Builder builder(Style style, int vocab, int ctx, int layers, int heads, int kvHeads, int d) {
        return switch (style) {
            case GPT2 -> gpt2Builder(vocab, ctx, layers, heads, d);
            case LLAMA -> llamaBuilder(vocab, ctx, layers, heads, kvHeads, d);
            case GPT_NEOX -> gptNeoxBuilder(vocab, ctx, layers, heads, d);
        };
    }

    public static ModelConfig gpt2(int vocab, int ctx, int layers, int heads, int d) {
        return gpt2Builder(vocab, ctx, layers, heads, d).build();
    }

    public static ModelConfig llama(int vocab, int ctx, int layers, int heads, int kvHeads, int d) {
        return llamaBuilder(vocab, ctx, layers, heads, kvHeads, d).build();
    }

    /** Changes some fields of a config; {@link #build()} validates the whole. */
    public static final class Builder {
        private Style style;
        private int vocabSize, contextLength, nLayer, nHead, nKvHead, dModel, intermediateSize;
        private boolean tieEmbeddings;
        private double normEps, ropeTheta, mixLnFraction;
        private NormPlacement normPlacement;
        private NormScaling normScaling;
        private QkNorm qkNorm;
        private Norm norm;
        private double dropout;
        private boolean embeddingProjection, parallelResidual;
        private double rotaryFraction;
        private Gelu gelu;
        private dev.crucible.tensor.Rope.Llama3Scaling ropeScaling;
        private LinearBias linearBias;
        private double clipQkv;
        private int headDim;
        private Glu glu;
        private double embeddingMultiplier;
        private boolean sharedNorm, headBias;
        private double logitSoftcap;

        private Builder(ModelConfig c) {
            style = c.style;
            vocabSize = c.vocabSize;
            contextLength = c.contextLength;
            nLayer = c.nLayer;
            nHead = c.nHead;
            nKvHead = c.nKvHead;
            dModel = c.dModel;
            intermediateSize = c.intermediateSize;
            tieEmbeddings = c.tieEmbeddings;
            normEps = c.normEps;
            ropeTheta = c.ropeTheta;
            normPlacement = c.normPlacement;
            mixLnFraction = c.mixLnFraction;
            normScaling = c.normScaling;
            qkNorm = c.qkNorm;
            norm = c.norm;
            dropout = c.dropout;
            embeddingProjection = c.embeddingProjection;
            parallelResidual = c.parallelResidual;
            rotaryFraction = c.rotaryFraction;
            gelu = c.gelu;
            ropeScaling = c.ropeScaling;
            linearBias = c.linearBias;
            clipQkv = c.clipQkv;
            headDim = c.headDim;
            glu = c.glu;
            embeddingMultiplier = c.embeddingMultiplier;
            sharedNorm = c.sharedNorm;
            headBias = c.headBias;
            logitSoftcap = c.logitSoftcap;
        }

        public Builder vocabSize(int v) {
            vocabSize = v;
            return this;
        }

        public Builder contextLength(int v) {
            contextLength = v;
            return this;
        }

        public Builder nLayer(int v) {
            nLayer = v;
            return this;
        }

        public Builder nHead(int v) {
            nHead = v;
            return this;
        }

        public Builder nKvHead(int v) {
            nKvHead = v;
            return this;
        }

        public Builder dModel(int v) {
            dModel = v;
            return this;
        }

        public Builder intermediateSize(int v) {
            intermediateSize = v;
            return this;
        }

        public Builder tieEmbeddings(boolean v) {
            tieEmbeddings = v;
            return this;
        }

        public Builder normEps(double v) {
            normEps = v;
            return this;
        }

        public Builder ropeTheta(double v) {
            ropeTheta = v;
            return this;
        }

        public Builder normPlacement(NormPlacement v) {
            normPlacement = v;
            return this;
        }

        public Builder mixLnFraction(double v) {
            mixLnFraction = v;
            return this;
        }

        public Builder normScaling(NormScaling v) {
            normScaling = v;
            return this;
        }

        /** true: each head's (Qwen3's), false: none. */
        public Builder qkNorm(boolean v) {
            return qkNorm(v ? QkNorm.HEAD : QkNorm.NONE);
        }

        public Builder qkNorm(QkNorm v) {
            qkNorm = v;
            return this;
        }

        public Builder norm(Norm v) {
            norm = v;
            return this;
        }

        public Builder dropout(double v) {
            dropout = v;
            return this;
        }

        public Builder embeddingProjection(boolean v) {
            embeddingProjection = v;
            return this;
        }

        public Builder parallelResidual(boolean v) {
            parallelResidual = v;
            return this;
        }

        public Builder rotaryFraction(double v) {
            rotaryFraction = v;
            return this;
        }

        public Builder gelu(Gelu v) {
            gelu = v;
            return this;
        }

        public Builder ropeScaling(dev.crucible.tensor.Rope.Llama3Scaling v) {
            ropeScaling = v;
            return this;
        }

        public Builder linearBias(LinearBias v) {
            linearBias = v;
            return this;
        }

        public Builder clipQkv(double v) {
            clipQkv = v == 0 ? 0 : v; // -0.0 as 0.0, so that equal configs are equal records
            return this;
        }

        /** Each head's width; 0: d_model / n_head. */
        public Builder headDim(int v) {
            headDim = v;
            return this;
        }

        public Builder glu(Glu v) {
            glu = v;
            return this;
        }

        public Builder embeddingMultiplier(double v) {
            embeddingMultiplier = v;
            return this;
        }

        public Builder sharedNorm(boolean v) {
            sharedNorm = v;
            return this;
        }

        public Builder headBias(boolean v) {
            headBias = v;
            return this;
        }

        public Builder logitSoftcap(double v) {
            logitSoftcap = v;
            return this;
        }

        public ModelConfig build() {
            return new ModelConfig(style, vocabSize, contextLength, nLayer, nHead, nKvHead, dModel, intermediateSize, tieEmbeddings,
                    normEps, ropeTheta, normPlacement, mixLnFraction, normScaling, qkNorm, norm, dropout, embeddingProjection,
                    parallelResidual, rotaryFraction, gelu, ropeScaling, linearBias, clipQkv, headDim, glu, embeddingMultiplier, sharedNorm, headBias, logitSoftcap);
        }
    }

    /** Named presets; the benchmark peer script uses the same shapes for tiny, tiny-llama and gpt2-small. */
    public static final Map<String, ModelConfig> PRESETS = presets();

    private static Map<String, ModelConfig> presets() {
        Map<String, ModelConfig> m = new LinkedHashMap<>();
        m.put("nano", gpt2(8192, 256, 4, 4, 128));
        m.put("tiny", gpt2(8192, 256, 6, 6, 384));
        m.put("tiny-llama", llama(8192, 256, 6, 6, 6, 384));
        m.put("tiny-llama-gqa", llama(8192, 256, 6, 6, 2, 384));
        m.put("tiny-neox", gptNeoxBuilder(8192, 256, 6, 6, 384).build());
        m.put("small", gpt2(16384, 512, 8, 8, 512));
        m.put("gpt2-small", gpt2(50257, 1024, 12, 12, 768));
        m.put("pythia-70m", gptNeoxBuilder(50304, 2048, 6, 8, 512).build()); // EleutherAI/pythia-70m's shape
        return m;
    }

    public static ModelConfig preset(String name) {
        ModelConfig c = PRESETS.get(name);
        if (c == null) throw new IllegalArgumentException("unknown model preset '" + name + "'; known: " + String.join(", ", PRESETS.keySet()));
        return c;
    }
}
