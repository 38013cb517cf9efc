package dev.crucible.model;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Hugging Face names and layouts of our parameters, so that weights leave and enter the ecosystem
 * as they are. GPT-2 stores its linear weights as Conv1D [in, out] (transposed from ours) and fuses
 * q, k, v; Llama stores Linear [out, in] with separate q/k/v and gate/up projections, which are row
 * slices of our fused tensors. RoPE is in HF's rotate_half convention, so no q/k permutation is needed.
 */
public final class HfFormat {
    private HfFormat() {}

    /** One HF tensor: rows [rowStart, rowStart + rows) of an internal tensor, transposed when HF stores [in, out]. */
    public record HfTensor(String hfName, ParamLayout.Tensor source, int rowStart, int rows, boolean transpose) {
        public int[] shape() {
            if (source.kind() == ParamLayout.Kind.VECTOR) return new int[] {source.cols()};
            return transpose ? new int[] {source.cols(), rows} : new int[] {rows, source.cols()};
        }

        public int size() {
            return rows * source.cols();
        }
    }

    public static List<HfTensor> tensors(ParamLayout layout) {
        ModelConfig c = layout.config();
        List<HfTensor> out = new ArrayList<>();
        if (c.llama()) {
            int q = c.nHead() * c.headSize(), kv = c.nKvHead() * c.headSize(), hid = c.hiddenSize();
            whole(out, layout, "wte.weight", "model.embed_tokens.weight", false);
            for (int l = 0; l < c.nLayer(); l++) {
                String p = "layers." + l + ".", h = "model.layers." + l + ".";
                whole(out, layout, p + "attn_norm.weight", h + "input_layernorm.weight", false);
                ParamLayout.Tensor qkv = layout.tensor(p + "attn.qkv.weight");
                out.add(new HfTensor(h + "self_attn.q_proj.weight", qkv, 0, q, false));
                out.add(new HfTensor(h + "self_attn.k_proj.weight", qkv, q, kv, false));
                out.add(new HfTensor(h + "self_attn.v_proj.weight", qkv, q + kv, kv, false));
                whole(out, layout, p + "attn.out.weight", h + "self_attn.o_proj.weight", false);
                whole(out, layout, p + "mlp_norm.weight", h + "post_attention_layernorm.weight", false);
                ParamLayout.Tensor in = layout.tensor(p + "mlp.in.weight");
                out.add(new HfTensor(h + "mlp.gate_proj.weight", in, 0, hid, false));
                out.add(new HfTensor(h + "mlp.up_proj.weight", in, hid, hid, false));
                whole(out, layout, p + "mlp.out.weight", h + "mlp.down_proj.weight", false);
            }
            whole(out, layout, "final_norm.weight", "model.norm.weight", false);
        } else {
            whole(out, layout, "wte.weight", "transformer.wte.weight", false);
            whole(out, layout, "wpe.weight", "transformer.wpe.weight", false);
            for (int l = 0; l < c.nLayer(); l++) {
                String p = "layers." + l + ".", h = "transformer.h." + l + ".";
                whole(out, layout, p + "attn_norm.weight", h + "ln_1.weight", false);
                whole(out, layout, p + "attn_norm.bias", h + "ln_1.bias", false);
                whole(out, layout, p + "attn.qkv.weight", h + "attn.c_attn.weight", true);
                whole(out, layout, p + "attn.qkv.bias", h + "attn.c_attn.bias", false);
                whole(out, layout, p + "attn.out.weight", h + "attn.c_proj.weight", true);
                whole(out, layout, p + "attn.out.bias", h + "attn.c_proj.bias", false);
                whole(out, layout, p + "mlp_norm.weight", h + "ln_2.weight", false);
                whole(out, layout, p + "mlp_norm.bias", h + "ln_2.bias", false);
                whole(out, layout, p + "mlp.in.weight", h + "mlp.c_fc.weight", true);
                whole(out, layout, p + "mlp.in.bias", h + "mlp.c_fc.bias", false);
                whole(out, layout, p + "mlp.out.weight", h + "mlp.c_proj.weight", true);
                whole(out, layout, p + "mlp.out.bias", h + "mlp.c_proj.bias", false);
            }
            whole(out, layout, "final_norm.weight", "transformer.ln_f.weight", false);
            whole(out, layout, "final_norm.bias", "transformer.ln_f.bias", false);
        }
        if (!c.tieEmbeddings()) whole(out, layout, "lm_head.weight", "lm_head.weight", false);
        return out;
    }

    private static void whole(List<HfTensor> out, ParamLayout layout, String name, String hf, boolean transpose) {
        ParamLayout.Tensor t = layout.tensor(name);
        out.add(new HfTensor(hf, t, 0, t.rows(), transpose));
    }

    /** The values of one HF tensor taken from a flat buffer laid out as our parameters (weights or gradients). */
    public static float[] extract(HfTensor h, float[] flat) {
        int cols = h.source().cols(), base = h.source().offset() + h.rowStart() * cols;
        float[] out = new float[h.size()];
        if (!h.transpose()) {
            System.arraycopy(flat, base, out, 0, out.length);
        } else {
            for (int r = 0; r < h.rows(); r++) {
                for (int c = 0; c < cols; c++) out[c * h.rows() + r] = flat[base + r * cols + c];
            }
        }
        return out;
    }

    /** Inverse of {@link #extract}. */
    public static void insert(HfTensor h, float[] values, float[] flat) {
        int cols = h.source().cols(), base = h.source().offset() + h.rowStart() * cols;
        if (!h.transpose()) {
            System.arraycopy(values, 0, flat, base, h.size());
        } else {
            for (int r = 0; r < h.rows(); r++) {
                for (int c = 0; c < cols; c++) flat[base + r * cols + c] = values[c * h.rows() + r];
            }
        }
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

    /** Buffers that HF checkpoints may carry besides parameters; they are recomputed, never read. */
    private static boolean ignorable(String name) {
        return name.endsWith(".attn.bias") && !name.contains("c_attn") || name.endsWith(".attn.masked_bias")
                || name.endsWith("rotary_emb.inv_freq");
    }

    /** Where HF-named tensors come from: one safetensors file, or the shards of a checkpoint. */
    public interface TensorSource {
        Map<String, Safetensors.Entry> entries();

        float[] floats(String name) throws IOException;

        /** The file or directory, for messages. */
        String where();
    }

    /** Reads every parameter from an HF-named safetensors file into flat, checking names, shapes and completeness. */
    public static void load(Safetensors.Reader file, ParamLayout layout, float[] flat) throws IOException {
        load(new TensorSource() {
            @Override
            public Map<String, Safetensors.Entry> entries() {
                return file.entries();
            }

            @Override
            public float[] floats(String name) throws IOException {
                return file.floats(name);
            }

            @Override
            public String where() {
                return file.path().toString();
            }
        }, layout, flat);
    }

    public static void load(TensorSource file, ParamLayout layout, float[] flat) throws IOException {
        Set<String> expected = new HashSet<>();
        for (HfTensor h : tensors(layout)) {
            expected.add(h.hfName());
            Safetensors.Entry e = file.entries().get(h.hfName());
            if (e == null) throw new IOException(file.where() + ": tensor '" + h.hfName() + "' is missing");
            int[] shape = h.shape();
            boolean ok = e.shape().length == shape.length;
            for (int i = 0; ok && i < shape.length; i++) ok = e.shape()[i] == shape[i];
            if (!ok) {
                throw new IOException(file.where() + ": tensor '" + h.hfName() + "' has shape " + java.util.Arrays.toString(e.shape())
                        + ", the model config needs " + java.util.Arrays.toString(shape));
            }
            insert(h, file.floats(h.hfName()), flat);
        }
        for (String name : file.entries().keySet()) {
            boolean tiedHead = name.equals("lm_head.weight") && layout.config().tieEmbeddings();
            if (!expected.contains(name) && !ignorable(name) && !tiedHead) {
                throw new IOException(file.where() + ": unexpected tensor '" + name + "' for a " + layout.config().style().id()
                        + " model of this config");
            }
        }
    }

    /** transformers' config.json for this model (GPT2LMHeadModel or LlamaForCausalLM). */
    public static Map<String, Object> configJson(ModelConfig c, Integer bosId, Integer eosId) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (c.llama()) {
            m.put("architectures", List.of("LlamaForCausalLM"));
            m.put("model_type", "llama");
            m.put("vocab_size", c.vocabSize());
            m.put("hidden_size", c.dModel());
            m.put("intermediate_size", c.hiddenSize());
            m.put("num_hidden_layers", c.nLayer());
            m.put("num_attention_heads", c.nHead());
            m.put("num_key_value_heads", c.nKvHead());
            m.put("head_dim", c.headSize());
            m.put("max_position_embeddings", c.contextLength());
            m.put("rms_norm_eps", c.normEps());
            m.put("rope_theta", c.ropeTheta());
            m.put("hidden_act", "silu");
            m.put("attention_bias", false);
            m.put("mlp_bias", false);
        } else {
            m.put("architectures", List.of("GPT2LMHeadModel"));
            m.put("model_type", "gpt2");
            m.put("vocab_size", c.vocabSize());
            m.put("n_positions", c.contextLength());
            m.put("n_ctx", c.contextLength());
            m.put("n_embd", c.dModel());
            m.put("n_layer", c.nLayer());
            m.put("n_head", c.nHead());
            m.put("n_inner", c.hiddenSize());
            m.put("activation_function", "gelu_new");
            m.put("layer_norm_epsilon", c.normEps());
            m.put("resid_pdrop", 0.0);
            m.put("embd_pdrop", 0.0);
            m.put("attn_pdrop", 0.0);
        }
        m.put("tie_word_embeddings", c.tieEmbeddings());
        if (bosId != null) m.put("bos_token_id", bosId);
        if (eosId != null) m.put("eos_token_id", eosId);
        m.put("torch_dtype", "float32");
        return m;
    }
}
