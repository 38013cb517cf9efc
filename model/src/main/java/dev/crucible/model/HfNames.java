package dev.crucible.model;

/**
 * Hugging Face's names for a model's tensors, so that parameters, gradients and optimizer state all
 * speak the names transformers uses. GPT-2 stores its projections as Conv1D [in, out] (transposed
 * from ours) and fuses q, k and v itself; Llama stores Linear [out, in] with separate q/k/v and
 * gate/up projections, which are row blocks of our fused tensors (named as vLLM names the fused
 * ones: qkv_proj, gate_up_proj) and are exported one by one. GPT-NeoX stores Linear [out, in] with q, k
 * and v fused but grouped by head (qkvByHead), and calls its head embed_out.
 */
record HfNames(String embed, String positions, String layerPrefix, String attnNorm, String qkv, String attnOut, String mlpNorm,
               String mlpIn, String mlpOut, String finalNorm, String head, boolean transposeLinears, boolean exportFusedParts,
               boolean qkvByHead, String qNorm, String kNorm) {

    static final HfNames GPT2 = new HfNames("transformer.wte", "transformer.wpe", "transformer.h.", "ln_1", "attn.c_attn", "attn.c_proj",
            "ln_2", "mlp.c_fc", "mlp.c_proj", "transformer.ln_f", "lm_head", true, false, false, "attn.q_norm", "attn.k_norm");

    /** Llama's names; QK-norm's are Qwen3's (Llama with per-head q_norm and k_norm), as which such a model exports. */
    static final HfNames LLAMA = new HfNames("model.embed_tokens", null, "model.layers.", "input_layernorm", "self_attn.qkv_proj",
            "self_attn.o_proj", "post_attention_layernorm", "mlp.gate_up_proj", "mlp.down_proj", "model.norm", "lm_head", false, true, false,
            "self_attn.q_norm", "self_attn.k_norm");

    /**
     * OLMo 2's names: Llama's, but its blocks' norms sit on the branches' outputs, so the attention's is
     * post_attention_layernorm and the MLP's post_feedforward_layernorm; q_norm and k_norm span whole projections.
     */
    static final HfNames OLMO2 = new HfNames("model.embed_tokens", null, "model.layers.", "post_attention_layernorm", "self_attn.qkv_proj",
            "self_attn.o_proj", "post_feedforward_layernorm", "mlp.gate_up_proj", "mlp.down_proj", "model.norm", "lm_head", false, true, false,
            "self_attn.q_norm", "self_attn.k_norm");

    /** GPT-NeoX's (Pythia's) names; QK-norm's (a model only Crucible computes) follow its attention module's. */
    static final HfNames GPT_NEOX = new HfNames("gpt_neox.embed_in", null, "gpt_neox.layers.", "input_layernorm", "attention.query_key_value",
            "attention.dense", "post_attention_layernorm", "mlp.dense_h_to_4h", "mlp.dense_4h_to_h", "gpt_neox.final_layer_norm", "embed_out",
            false, false, true, "attention.q_norm", "attention.k_norm");

    /**
     * Phi's names (Phi-1 and 1.5), those of every GPT-NeoX-style model with its block (one norm read by both parallel branches,
     * a bias on the head): q, k and v apart, as Llama's; one LayerNorm per layer (input_layernorm), so the MLP's norm name names
     * nothing ({@link #mlpNorm(ModelConfig)}); QK-norm's (a model only Crucible computes) follow its attention module's.
     */
    static final HfNames PHI = new HfNames("model.embed_tokens", null, "model.layers.", "input_layernorm", "self_attn.qkv_proj",
            "self_attn.dense", "post_attention_layernorm", "mlp.fc1", "mlp.fc2", "model.final_layernorm", "lm_head", false, true, false,
            "self_attn.q_layernorm", "self_attn.k_layernorm");

    /** transformers' base_model_prefix: the module that holds everything but the head. */
    String basePrefix() {
        return embed.substring(0, embed.indexOf('.'));
    }

    /**
     * The names of c's architecture: by style, OLMo 2's for a Llama-style model whose norms sit on the branches' outputs, and Phi's
     * for a GPT-NeoX-style one with one norm for both branches and a bias on the head; by structure alone, so that a model with
     * options transformers lacks keeps the names it is written and read with.
     */
    static HfNames of(ModelConfig c) {
        return switch (c.style()) {
            case GPT2 -> GPT2;
            case LLAMA -> c.normPlacement() == ModelConfig.NormPlacement.OUTPUT ? OLMO2 : LLAMA;
            case GPT_NEOX -> c.sharedNorm() && c.headBias() ? PHI : GPT_NEOX;
        };
    }

    /** The module of the MLP sub-layer's norm in c: its own, or with a shared norm (Phi's) the attention's, which both branches read. */
    String mlpNorm(ModelConfig c) {
        return c.sharedNorm() ? attnNorm : mlpNorm;
    }

    String layer(int l, String module) {
        return layerPrefix + l + "." + module;
    }

    /** Name of a row block of a fused projection: Llama's own name (q_proj, gate_proj) or "c_attn.weight[q]" for GPT-2. */
    String part(int l, String fused, String llamaModule, String tag) {
        return exportFusedParts ? layer(l, llamaModule) + ".weight" : layer(l, fused) + ".weight[" + tag + "]";
    }
}
