package dev.crucible.model;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Weights in and out of Hugging Face's files. Names, roles and how each tensor is exported come from
 * {@link ParamLayout}; this class turns a flat buffer into HF tensors (transposing GPT-2's Conv1D
 * weights, splitting Llama's fused projections into their views, regrouping GPT-NeoX's fused q, k and v
 * by head) and back, and writes config.json.
 */
public final class HfFormat {
    private HfFormat() {}

    /**
     * One HF tensor: rows [rowStart, rowStart + rows) of a parameter tensor, transposed when HF stores [in, out]; with
     * heads &gt; 0, a fused [q; k; v] projection (or its bias) whose rows HF groups by head instead, [q_h; k_h; v_h] for
     * each of the heads in turn (GPT-NeoX's query_key_value).
     */
    public record HfTensor(String hfName, ParamLayout.Tensor source, int rowStart, int rows, boolean transpose, int heads) {
        public HfTensor(String hfName, ParamLayout.Tensor source, int rowStart, int rows, boolean transpose) {
            this(hfName, source, rowStart, rows, transpose, 0);
        }

        public int[] shape() {
            if (!source.role().isMatrix()) return new int[] {source.cols()};
            return transpose ? new int[] {source.cols(), rows} : new int[] {rows, source.cols()};
        }

        public int size() {
            return rows * source.cols();
        }
    }

    /** The HF tensors of a layout, in buffer order. */
    public static List<HfTensor> tensors(ParamLayout layout) {
        List<HfTensor> out = new ArrayList<>();
        for (ParamLayout.Tensor t : layout.tensors()) {
            switch (t.export()) {
                case WHOLE -> out.add(new HfTensor(t.name(), t, 0, t.rows(), false));
                case TRANSPOSED -> out.add(new HfTensor(t.name(), t, 0, t.rows(), true));
                case BY_HEAD -> out.add(new HfTensor(t.name(), t, 0, t.rows(), false, layout.config().nHead()));
                case VIEWS -> {
                    for (ParamLayout.View v : t.views()) out.add(new HfTensor(v.name(), t, v.rowStart(), v.rows(), false));
                }
            }
        }
        return out;
    }

    /** The values of one HF tensor taken from a flat buffer laid out as our parameters (weights or gradients). */
    public static float[] extract(HfTensor h, float[] flat) {
        return extract(h, flat, h.source().offset());
    }

    /** As {@link #extract(HfTensor, float[])} from a buffer that holds the source tensor from index at (optimizer state). */
    public static float[] extract(HfTensor h, float[] buf, int at) {
        int cols = h.source().cols(), base = at + h.rowStart() * cols;
        float[] out = new float[h.size()];
        if (h.heads() > 0) {
            int n = h.source().role().isMatrix() ? h.rows() : cols, width = h.size() / n; // rows of a matrix, elements of a bias
            for (int r = 0; r < n; r++) System.arraycopy(buf, base + r * width, out, byHead(r, n, h.heads()) * width, width);
        } else if (!h.transpose()) {
            System.arraycopy(buf, base, out, 0, out.length);
        } else {
            for (int r = 0; r < h.rows(); r++) {
                for (int c = 0; c < cols; c++) out[c * h.rows() + r] = buf[base + r * cols + c];
            }
        }
        return out;
    }

    /** Inverse of {@link #extract(HfTensor, float[])}. */
    public static void insert(HfTensor h, float[] values, float[] flat) {
        insert(h, values, flat, h.source().offset());
    }

    /** Inverse of {@link #extract(HfTensor, float[], int)}. */
    public static void insert(HfTensor h, float[] values, float[] buf, int at) {
        int cols = h.source().cols(), base = at + h.rowStart() * cols;
        if (h.heads() > 0) {
            int n = h.source().role().isMatrix() ? h.rows() : cols, width = h.size() / n;
            for (int r = 0; r < n; r++) System.arraycopy(values, byHead(r, n, h.heads()) * width, buf, base + r * width, width);
        } else if (!h.transpose()) {
            System.arraycopy(values, 0, buf, base, h.size());
        } else {
            for (int r = 0; r < h.rows(); r++) {
                for (int c = 0; c < cols; c++) buf[base + r * cols + c] = values[c * h.rows() + r];
            }
        }
    }

    /** Where row r of our [q; k; v] (n rows, heads of equal size in each part) lies in HF's grouping by head, [q_h; k_h; v_h] per head. */
    static int byHead(int r, int n, int heads) {
        int hs = n / (3 * heads), part = r / (heads * hs), head = r % (heads * hs) / hs;
        return (head * 3 + part) * hs + r % hs;
    }

    /**
     * Safetensors sources for a flat buffer (weights, or gradients under the same names), sorted by
     * name as the safetensors library orders tensors of one dtype, so that our files are laid out
     * byte for byte as transformers would write them.
     */
    public static List<Safetensors.Source> sources(ParamLayout layout, float[] flat) {
        List<Safetensors.Source> out = new ArrayList<>();
        for (HfTensor h : tensors(layout)) out.add(new Safetensors.Source(h.hfName(), h.shape(), () -> extract(h, flat)));
        out.sort(java.util.Comparator.comparing(Safetensors.Source::name));
        return out;
    }

    /**
     * Buffers that HF checkpoints may carry besides parameters (GPT-2's and GPT-NeoX's causal masks, the RoPE
     * frequencies Pythia's files hold); they are recomputed, never read.
     */
    private static boolean ignorable(String name) {
        return name.endsWith(".attn.bias") && !name.contains("c_attn") || name.endsWith(".attn.masked_bias") || name.endsWith(".attention.bias")
                || name.endsWith(".attention.masked_bias") || name.endsWith("rotary_emb.inv_freq");
    }

    /**
     * Reads every parameter from an HF-named safetensors file into flat, checking names, shapes and
     * completeness. Names may lack the base model's prefix (openai-community/gpt2 names wte.weight,
     * not transformer.wte.weight), which transformers then adds to every name, as done here.
     */
    public static void load(Safetensors.TensorSource file, ParamLayout layout, float[] flat) throws IOException {
        Safetensors.TensorSource named = withBasePrefix(file, HfNames.of(layout.config()).basePrefix());
        Set<String> expected = new HashSet<>();
        for (HfTensor h : tensors(layout)) {
            expected.add(h.hfName());
            loadOne(named, h, h.hfName(), flat);
        }
        for (var e : named.entries().entrySet()) {
            String name = e.getKey();
            boolean tiedHead = name.equals(HfNames.of(layout.config()).head() + ".weight") && layout.config().tieEmbeddings();
            if (!expected.contains(name) && !ignorable(name) && !tiedHead) {
                throw new IOException(file.where() + ": unexpected tensor '" + e.getValue().name() + "' for a " + layout.config().style().id()
                        + " model of this config");
            }
        }
    }

    /**
     * The tensors of file under the names transformers gives them when it loads a base model's state
     * into a model with a head: when no name starts with the prefix (the test is transformers', on the
     * bare prefix), every name gets "prefix." in front. Entries keep their names in the file, for messages.
     */
    static Safetensors.TensorSource withBasePrefix(Safetensors.TensorSource file, String prefix) {
        Map<String, Safetensors.Entry> entries = file.entries();
        if (entries.keySet().stream().anyMatch(n -> n.startsWith(prefix))) return file;
        Map<String, Safetensors.Entry> renamed = new LinkedHashMap<>();
        entries.forEach((n, e) -> renamed.put(prefix + "." + n, e));
        return new Safetensors.TensorSource() {
            @Override
            public Map<String, Safetensors.Entry> entries() {
                return renamed;
            }

            @Override
            public float[] floats(String name) throws IOException {
                Safetensors.Entry e = renamed.get(name);
                if (e == null) throw new IOException(file.where() + ": tensor '" + name + "' is missing");
                return file.floats(e.name());
            }

            @Override
            public String where() {
                return file.where();
            }
        };
    }

    private static void loadOne(Safetensors.TensorSource file, HfTensor h, String name, float[] flat) throws IOException {
        insert(h, read(file, name, h.shape(), "the model config needs"), flat);
    }

    /** The values of optimizer state tensor name in file, which must be there with this shape. */
    public static float[] read(Safetensors.TensorSource file, String name, int[] shape) throws IOException {
        return read(file, name, shape, "the optimizer's settings need");
    }

    private static float[] read(Safetensors.TensorSource file, String name, int[] shape, String needs) throws IOException {
        Safetensors.Entry e = file.entries().get(name);
        if (e == null) throw new IOException(file.where() + ": tensor '" + name + "' is missing");
        boolean ok = e.shape().length == shape.length;
        for (int i = 0; ok && i < shape.length; i++) ok = e.shape()[i] == shape[i];
        if (!ok) {
            throw new IOException(file.where() + ": tensor '" + e.name() + "' has shape " + java.util.Arrays.toString(e.shape())
                    + ", " + needs + " " + java.util.Arrays.toString(shape));
        }
        return file.floats(name);
    }

    /**
     * transformers' config.json for this model (GPT2LMHeadModel, LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM,
     * OlmoForCausalLM, Olmo2ForCausalLM, GemmaForCausalLM, GPTNeoXForCausalLM or PhiForCausalLM).
     */
    public static Map<String, Object> configJson(ModelConfig c, Integer bosId, Integer eosId) {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (c.style()) {
            case LLAMA -> {
                LlamaFamily family = LlamaFamily.of(c);
                m.put("architectures", List.of(family.architecture));
                m.put("model_type", family.modelType);
                m.put("vocab_size", c.vocabSize());
                m.put("hidden_size", c.dModel());
                m.put("intermediate_size", c.intermediateSize());
                m.put("num_hidden_layers", c.nLayer());
                m.put("num_attention_heads", c.nHead());
                m.put("num_key_value_heads", c.nKvHead());
                boolean olmo = family == LlamaFamily.OLMO || family == LlamaFamily.OLMO2;
                // OLMo's and OLMo 2's files leave it out (hidden_size / num_attention_heads); their attention, Llama's, reads it when set
                if (!olmo || c.headDim() > 0) m.put("head_dim", c.headSize());
                m.put("max_position_embeddings", c.contextLength());
                if (family != LlamaFamily.OLMO) m.put("rms_norm_eps", c.normEps()); // OLMo's LayerNorm has its eps fixed
                m.put("rope_theta", c.ropeTheta());
                if (c.ropeScaling() != null) m.put("rope_scaling", ropeScaling(c.ropeScaling()));
                m.put("hidden_act", c.glu().hiddenAct());
                if (family == LlamaFamily.GEMMA) m.put("hidden_activation", c.glu().hiddenAct()); // GemmaMLP's key (hidden_act its legacy one)
                if (family != LlamaFamily.QWEN2) m.put("attention_bias", c.linearBias().attnOut()); // Qwen2's q, k and v biases are its own
                if (family == LlamaFamily.LLAMA) m.put("mlp_bias", c.linearBias().mlp());
                if (family == LlamaFamily.QWEN2 || family == LlamaFamily.QWEN3) {
                    // no window: written out, as Qwen's own files do, since Qwen2Config's defaults (a 4,096-position window over
                    // 28 layers) have been applied by transformers even with use_sliding_window false (huggingface/transformers#38002)
                    m.put("use_sliding_window", false);
                    m.put("sliding_window", c.contextLength());
                    m.put("max_window_layers", c.nLayer());
                }
                if (family == LlamaFamily.OLMO) m.put("clip_qkv", c.clipQkv() > 0 ? c.clipQkv() : null);
            }
            case GPT_NEOX -> { // Pythia's keys, which every transformers version reads, or PhiConfig's as Phi-1.5's config.json has them
                boolean phi = c.phi();
                m.put("architectures", List.of(phi ? "PhiForCausalLM" : "GPTNeoXForCausalLM"));
                m.put("model_type", phi ? "phi" : "gpt_neox");
                m.put("vocab_size", c.vocabSize());
                m.put("hidden_size", c.dModel());
                m.put("intermediate_size", c.intermediateSize());
                m.put("num_hidden_layers", c.nLayer());
                m.put("num_attention_heads", c.nHead());
                if (phi) m.put("num_key_value_heads", c.nKvHead());
                m.put("max_position_embeddings", c.contextLength());
                m.put("layer_norm_eps", c.normEps());
                m.put(phi ? "rope_theta" : "rotary_emb_base", c.ropeTheta());
                m.put(phi ? "partial_rotary_factor" : "rotary_pct", c.rotaryFraction());
                if (c.ropeScaling() != null) m.put("rope_scaling", ropeScaling(c.ropeScaling())); // never with Phi's blocks
                if (!phi) m.put("use_parallel_residual", c.parallelResidual());
                m.put("hidden_act", geluName(c));
                if (phi) {
                    m.put("qk_layernorm", false);
                    m.put("resid_pdrop", 0.0);
                    m.put("embd_pdrop", 0.0);
                } else {
                    m.put("attention_bias", true);
                    m.put("hidden_dropout", 0.0);
                }
                m.put("attention_dropout", 0.0);
            }
            case GPT2 -> {
                m.put("architectures", List.of("GPT2LMHeadModel"));
                m.put("model_type", "gpt2");
                m.put("vocab_size", c.vocabSize());
                m.put("n_positions", c.contextLength());
                m.put("n_ctx", c.contextLength());
                m.put("n_embd", c.dModel());
                m.put("n_layer", c.nLayer());
                m.put("n_head", c.nHead());
                m.put("n_inner", c.intermediateSize());
                m.put("activation_function", geluName(c));
                m.put("layer_norm_epsilon", c.normEps());
                m.put("resid_pdrop", 0.0);
                m.put("embd_pdrop", 0.0);
                m.put("attn_pdrop", 0.0);
            }
        }
        m.put("tie_word_embeddings", c.tieEmbeddings());
        if (bosId != null) m.put("bos_token_id", bosId);
        if (eosId != null) m.put("eos_token_id", eosId);
        m.put("torch_dtype", "float32");
        if (!c.hfAsStored()) {
            // transformers would load these tensors into a model that computes something else (no Post-LN, no
            // norm scaling, no embedding projections); an unknown model_type makes it refuse instead. `crucible export hf` writes what it can load.
            m.put("model_type", CRUCIBLE_PREFIX + m.get("model_type"));
            m.put("architectures", List.of("Crucible" + ((List<?>) m.get("architectures")).getFirst()));
            Map<String, Object> ext = new LinkedHashMap<>();
            ext.put("norm_placement", c.normPlacement().id());
            ext.put("mix_ln_fraction", c.mixLnFraction());
            ext.put("norm_scaling", c.normScaling().id());
            ext.put("qk_norm", c.qkNorm().id());
            ext.put("norm", c.norm().id());
            ext.put("embedding_projection", c.embeddingProjection());
            ext.put("linear_bias", c.linearBias().id());
            ext.put("clip_qkv", c.clipQkv());
            ext.put("embedding_multiplier", c.embeddingMultiplier());
            ext.put("shared_norm", c.sharedNorm());
            ext.put("head_bias", c.headBias());
            ext.put("logit_softcap", c.logitSoftcap());
            m.put(CRUCIBLE_KEY, ext);
        }
        return m;
    }

    /**
     * The architecture of transformers' that a Llama-style model is written as: with norms on the branches' outputs, OLMo 2's
     * names and keys (QK-norm over whole projections; one without it is marked as Crucible's own); with per-head QK-norm,
     * Qwen3's; with biases on q, k and v alone, Qwen2's; with a LayerNorm that learns nothing, the first OLMo's; with GeGLU,
     * 1 + w norms and the embedding times √d, Gemma's. Which of
     * them can compute a given model is {@link ModelConfig#hfExportable}'s to say.
     */
    private enum LlamaFamily {
        LLAMA("LlamaForCausalLM", "llama"), QWEN2("Qwen2ForCausalLM", "qwen2"), QWEN3("Qwen3ForCausalLM", "qwen3"), OLMO("OlmoForCausalLM", "olmo"),
        OLMO2("Olmo2ForCausalLM", "olmo2"), GEMMA("GemmaForCausalLM", "gemma");

        final String architecture, modelType;

        LlamaFamily(String architecture, String modelType) {
            this.architecture = architecture;
            this.modelType = modelType;
        }

        static LlamaFamily of(ModelConfig c) {
            if (HfNames.of(c) == HfNames.OLMO2) return OLMO2;
            if (c.qkNorm() == ModelConfig.QkNorm.HEAD) return QWEN3;
            if (c.linearBias() == ModelConfig.LinearBias.QKV) return QWEN2;
            return c.olmo() ? OLMO : c.gemma() ? GEMMA : LLAMA;
        }
    }

    /** Llama 3.1's rope_scaling as its config.json writes it (transformers 5 reads it into rope_parameters). */
    private static Map<String, Object> ropeScaling(dev.crucible.tensor.Rope.Llama3Scaling s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("factor", s.factor());
        m.put("low_freq_factor", s.lowFreqFactor());
        m.put("high_freq_factor", s.highFreqFactor());
        m.put("original_max_position_embeddings", s.originalMaxPositions());
        m.put("rope_type", "llama3");
        return m;
    }

    /** transformers' name of the model's GELU: "gelu" is the exact one, "gelu_new" the tanh approximation. */
    private static String geluName(ModelConfig c) {
        return c.gelu() == ModelConfig.Gelu.EXACT ? "gelu" : "gelu_new";
    }

    /** model_type prefix and config.json key of models only Crucible computes as stored. */
    static final String CRUCIBLE_PREFIX = "crucible_", CRUCIBLE_KEY = "crucible";

    /** A model as one of transformers' architectures computes it. */
    public record ForTransformers(ModelConfig config, float[] params) {}

    /**
     * The model in a form transformers computes: a single-scale norm's gain spread into a full gain
     * vector, Gemma's 1 + w gains written out as RMSNorm gains where the model is not Gemma's, LayerNorm Scaling folded into the
     * norm gains (and LayerNorm biases), Norm(x)·w·s = Norm(x)·(w·s), and embedding projections and an embedding multiplier
     * folded into the embeddings and the head (untied): wte' = m·wte·R1ᵀ, wpe' = wpe·R1ᵀ, head' = head·R2; equal up to float rounding. Post-LN layers (norm_placement post, or mix with any)
     * and norms the architecture lacks have no such form, and are refused with what to do.
     */
    public static ForTransformers forTransformers(ModelConfig c, float[] params) {
        if (c.postLnLayers() > 0) {
            throw new IllegalArgumentException("this model has " + c.postLnLayers() + " Post-LN layer(s) (norm_placement: " + c.normPlacement().id()
                    + "), which none of transformers' architectures computes; Crucible evaluates, generates from and "
                    + "resumes it as it is (crucible eval, generate, train --resume); to export, train with norm_placement: pre");
        }
        if (c.normPlacement() == ModelConfig.NormPlacement.OUTPUT && !c.olmo2()) {
            throw new IllegalArgumentException("this model normalises each branch's output (norm_placement: output); transformers computes that "
                    + "only as Olmo2ForCausalLM, a Llama-style model with qk_norm: whole, and this one is " + c.style().id() + " style with qk_norm: "
                    + c.qkNorm().id() + "; Crucible evaluates, generates from and resumes it as it is");
        }
        if (!c.hfBiasesFit()) {
            throw new IllegalArgumentException("this model has linear_bias: " + c.linearBias().id() + " with qk_norm: " + c.qkNorm().id() + " and norm_placement: "
                    + c.normPlacement().id() + "; transformers has biases on q, k and v alone only in Qwen2ForCausalLM and MLP biases only in "
                    + "LlamaForCausalLM, neither with QK-norm or output norms; Crucible evaluates, generates from and resumes it as it is");
        }
        if (c.clipQkv() > 0 && !c.olmo()) {
            throw new IllegalArgumentException("this model has clip_qkv: " + c.clipQkv() + "; transformers clamps q, k and v only in "
                    + "OlmoForCausalLM (Llama style, norm: nonparametric_layernorm, Pre-LN, no qk_norm or norm_scaling, norm_eps 1e-5, no "
                    + "biases but attention_bias's); Crucible evaluates, generates from and resumes it as it is");
        }
        if (!c.hfExportable()) {
            throw new IllegalArgumentException("transformers has no architecture for this model (GPT-2 or GPT-NeoX style with qk_norm, an RMSNorm "
                    + "or a LayerNorm without parameters, Llama style with LayerNorm, or qk_norm: whole on Pre-LN blocks; Llama style with qk_norm: head "
                    + "exports as Qwen3ForCausalLM, with norm_placement: output and qk_norm: whole as Olmo2ForCausalLM, with norm: "
                    + "nonparametric_layernorm only as OlmoForCausalLM: Pre-LN, no qk_norm or norm_scaling, norm_eps 1e-5, no biases but "
                    + "attention_bias's; shared_norm and head_bias only together, as PhiForCausalLM: GPT-NeoX style, parallel, Pre-LN, LayerNorm, "
                    + "gelu tanh, no qk_norm, norm_scaling, rope_scaling or embedding_multiplier; no logit_softcap, which only Gemma 2 has); Crucible "
                    + "evaluates, generates from and resumes it as it is");
        }
        if (c.hfAsStored()) return new ForTransformers(c, params);
        boolean foldMultiplier = c.embeddingMultiplier() != c.styleEmbeddingMultiplier();
        ModelConfig target = c.toBuilder().normScaling(ModelConfig.NormScaling.NONE).norm(c.styleNorm()).embeddingProjection(false)
                .embeddingMultiplier(c.styleEmbeddingMultiplier()).tieEmbeddings(c.tieEmbeddings() && !c.embeddingProjection() && !foldMultiplier).build();
        ParamLayout from = new ParamLayout(c), to = new ParamLayout(target);
        float[] out = new float[to.size()];
        for (ParamLayout.Tensor t : to.tensors()) {
            // an untied export of a tied model starts its head from the shared embedding
            int src = t.offset() == to.lmHead() ? from.lmHead() : from.tensor(t.name()).offset();
            int srcSize = t.offset() == to.lmHead() ? t.size() : from.tensor(t.name()).size();
            if (srcSize == t.size()) System.arraycopy(params, src, out, t.offset(), t.size());
            else if (srcSize == 1) java.util.Arrays.fill(out, t.offset(), t.end(), params[src]); // a single scale, spread
            else throw new IllegalStateException(t.name() + ": " + srcSize + " values, the export needs " + t.size());
        }
        BlockPlan plan = from.plan();
        if (foldMultiplier) {
            float m = (float) c.embeddingMultiplier();
            for (int i = to.wte(), end = i + c.vocabSize() * c.dModel(); i < end; i++) out[i] *= m;
        }
        if (c.embeddingProjection()) {
            int d = c.dModel();
            float[] r1t = transpose(params, from.embedProj(), d);
            multiplyRows(out, to.wte(), c.vocabSize(), r1t, d); // row e becomes R1·e
            if (plan.positions() == BlockPlan.Positions.LEARNED) multiplyRows(out, to.wpe(), c.contextLength(), r1t, d);
            multiplyRows(out, to.lmHead(), c.vocabSize(), java.util.Arrays.copyOfRange(params, from.headProj(), from.headProj() + d * d), d);
        }
        boolean unitOffset = plan.finalNorm().offsetGain() && !target.plan().finalNorm().offsetGain(); // Gemma's 1 + w as a plain gain
        for (BlockPlan.Layer lp : plan.layers()) {
            ParamLayout.Block b = to.block(lp.index());
            boolean ownMlpNorm = b.mlpNormW() != b.attnNormW(); // a shared norm (Phi's) is folded once, as the attention's
            if (unitOffset) {
                addOne(out, b.attnNormW(), c.dModel());
                if (ownMlpNorm) addOne(out, b.mlpNormW(), c.dModel());
            }
            scale(out, b.attnNormW(), b.attnNormB(), c.dModel(), lp.attention().scale());
            if (ownMlpNorm) scale(out, b.mlpNormW(), b.mlpNormB(), c.dModel(), lp.mlpSublayer().scale());
        }
        if (unitOffset) addOne(out, to.finalNormW(), c.dModel());
        return new ForTransformers(target, out);
    }

    private static float[] transpose(float[] p, int off, int d) {
        float[] t = new float[d * d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) t[j * d + i] = p[off + i * d + j];
        return t;
    }

    /** Each of the n rows r at off becomes r·m (m is d×d, row-major), accumulated in double. */
    private static void multiplyRows(float[] p, int off, int n, float[] m, int d) {
        double[] row = new double[d];
        for (int r = 0; r < n; r++) {
            java.util.Arrays.fill(row, 0);
            int base = off + r * d;
            for (int k = 0; k < d; k++) {
                double v = p[base + k];
                for (int j = 0; j < d; j++) row[j] += v * m[k * d + j];
            }
            for (int j = 0; j < d; j++) p[base + j] = (float) row[j];
        }
    }

    private static void addOne(float[] p, int off, int n) {
        for (int i = 0; i < n; i++) p[off + i] += 1f;
    }

    private static void scale(float[] p, int wOff, int bOff, int n, float s) {
        if (s == 1f) return;
        if (wOff < 0) throw new IllegalStateException("a norm scaled by " + s + " has no gain to fold the scale into");
        for (int i = 0; i < n; i++) p[wOff + i] *= s;
        if (bOff >= 0) for (int i = 0; i < n; i++) p[bOff + i] *= s;
    }
}
