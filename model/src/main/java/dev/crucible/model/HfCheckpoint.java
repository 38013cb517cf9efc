package dev.crucible.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.crucible.io.AtomicWrite;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face model directory: config.json plus model.safetensors, or shards listed in
 * model.safetensors.index.json, or else the same as torch.save wrote them (pytorch_model.bin, {@link PyTorchArchive});
 * F32, F16 and BF16 weights are read as float32. Only files are read: nothing in a checkpoint can execute code (a
 * pickle that would call anything but what a state dict needs is refused).
 */
public final class HfCheckpoint implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Files that travel with a model directory when it is copied. */
    public static final List<String> COMPANIONS = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
            "chat_template.jinja");

    private final Path dir;
    private final ModelConfig config;
    private final JsonNode configJson;
    private final Map<String, Safetensors.TensorFile> byTensor = new LinkedHashMap<>();
    private final List<Safetensors.TensorFile> files = new ArrayList<>();

    private HfCheckpoint(Path dir, ModelConfig config, JsonNode configJson) {
        this.dir = dir;
        this.config = config;
        this.configJson = configJson;
    }

    /**
     * The tokens that end a generation: config.json's eos_token_id and generation_config.json's
     * (each a number or a list, as Hugging Face writes them; instruct models list their end-of-turn
     * tokens there).
     */
    public java.util.Set<Integer> endOfSequence() throws IOException {
        java.util.Set<Integer> out = new java.util.LinkedHashSet<>();
        addIds(configJson.get("eos_token_id"), out, dir.resolve("config.json"));
        Path gen = dir.resolve("generation_config.json");
        if (Files.isRegularFile(gen)) {
            try {
                addIds(JSON.readTree(gen.toFile()).get("eos_token_id"), out, gen);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IOException(gen + ": not valid JSON (" + e.getOriginalMessage() + ")", e);
            }
        }
        return out;
    }

    private void addIds(JsonNode ids, java.util.Set<Integer> out, Path file) throws IOException {
        if (ids == null || ids.isNull()) return;
        for (JsonNode id : ids.isArray() ? ids : List.of(ids)) {
            if (!id.isIntegralNumber() || id.asLong() < 0 || id.asLong() >= config.vocabSize()) {
                throw new IOException(file + ": eos_token_id must be token ids below the vocabulary size " + config.vocabSize() + ", got " + id);
            }
            out.add(id.asInt());
        }
    }

    public static HfCheckpoint open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException(dir + ": not a directory");
        Path cfgPath = dir.resolve("config.json");
        if (!Files.isRegularFile(cfgPath)) throw new IOException(dir + ": no config.json (not a Hugging Face model directory)");
        JsonNode cfg;
        try {
            cfg = JSON.readTree(cfgPath.toFile());
        } catch (IOException e) {
            throw new IOException(cfgPath + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        HfCheckpoint ck = new HfCheckpoint(dir, parseConfig(cfg, cfgPath), cfg);
        try {
            if (!ck.addFiles("model.safetensors", Safetensors::open) && !ck.addFiles("pytorch_model.bin", PyTorchArchive::open)) {
                throw new IOException(dir + ": no model.safetensors, pytorch_model.bin or an index of their shards");
            }
            return ck;
        } catch (IOException | RuntimeException e) {
            ck.close();
            throw e;
        }
    }

    private interface Opener {
        Safetensors.TensorFile open(Path file) throws IOException;
    }

    /**
     * The weights in file, or in the shards file + ".index.json" lists (transformers' layout for both formats), as transformers
     * looks for them; false when neither is there.
     */
    private boolean addFiles(String file, Opener opener) throws IOException {
        Path single = dir.resolve(file), index = dir.resolve(file + ".index.json");
        if (Files.isRegularFile(single)) {
            add(opener.open(single));
            return true;
        }
        if (!Files.isRegularFile(index)) return false;
        JsonNode map;
        try {
            map = JSON.readTree(index.toFile()).get("weight_map");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(index + ": not valid JSON (" + e.getOriginalMessage() + ")", e);
        } catch (IOException e) {
            throw new IOException(index + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (map == null || !map.isObject()) throw new IOException(index + ": no weight_map");
        Map<String, Safetensors.TensorFile> shards = new LinkedHashMap<>();
        for (var it = map.fields(); it.hasNext(); ) {
            var e = it.next();
            String name = e.getValue().asText();
            if (name.contains("/") || name.contains("\\") || name.startsWith(".")) throw new IOException(index + ": shard name '" + name + "' is not a plain file name");
            Safetensors.TensorFile r = shards.get(name);
            if (r == null) {
                r = opener.open(dir.resolve(name));
                shards.put(name, r);
                files.add(r);
            }
            if (!r.entries().containsKey(e.getKey())) throw new IOException(dir.resolve(name) + ": tensor '" + e.getKey() + "' listed in the index is missing");
            byTensor.put(e.getKey(), r);
        }
        return true;
    }

    private void add(Safetensors.TensorFile r) {
        files.add(r);
        for (String name : r.entries().keySet()) byTensor.put(name, r);
    }

    public Path dir() {
        return dir;
    }

    public ModelConfig config() {
        return config;
    }

    public JsonNode configJson() {
        return configJson;
    }

    /** Tensor names and the dtypes they are stored in. */
    public Map<String, Safetensors.DType> dtypes() {
        Map<String, Safetensors.DType> m = new LinkedHashMap<>();
        byTensor.forEach((n, r) -> m.put(n, r.entries().get(n).dtype()));
        return m;
    }

    /** Every parameter into a flat buffer laid out by layout, with names, shapes and completeness checked. */
    public void load(ParamLayout layout, float[] flat) throws IOException {
        HfFormat.load(new Safetensors.TensorSource() {
            @Override
            public Map<String, Safetensors.Entry> entries() {
                Map<String, Safetensors.Entry> m = new LinkedHashMap<>();
                byTensor.forEach((n, r) -> m.put(n, r.entries().get(n)));
                return m;
            }

            @Override
            public float[] floats(String name) throws IOException {
                Safetensors.TensorFile r = byTensor.get(name);
                if (r == null) throw new IOException(dir + ": tensor '" + name + "' is missing");
                return r.floats(name);
            }

            @Override
            public String where() {
                return dir.toString();
            }
        }, layout, flat);
    }

    /** Writes a model directory (config.json, model.safetensors in float32, companions of source copied when present). */
    public static void write(Path out, ModelConfig c, float[] params, Path companionsFrom) throws IOException {
        Files.createDirectories(out);
        ParamLayout layout = new ParamLayout(c);
        Safetensors.write(out.resolve("model.safetensors"), HfFormat.sources(layout, params), Map.of("format", "pt"));
        AtomicWrite.write(out.resolve("config.json"), tmp -> JSON.writeValue(tmp.toFile(), HfFormat.configJson(c, null, null)));
        for (String f : COMPANIONS) {
            Path src = companionsFrom == null ? null : companionsFrom.resolve(f);
            if (src != null && Files.isRegularFile(src)) Files.copy(src, out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.exists(out.resolve("generation_config.json"))) {
            AtomicWrite.write(out.resolve("generation_config.json"), tmp -> JSON.writeValue(tmp.toFile(), Map.of("_from_model_config", true)));
        }
    }

    /**
     * transformers' config.json (GPT2LMHeadModel, LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, OlmoForCausalLM, Olmo2ForCausalLM,
     * GemmaForCausalLM, PhiForCausalLM or
     * GPTNeoXForCausalLM) to our config; anything we do not implement is refused by name. A Mistral's context is cut to its
     * sliding window, inside which its attention is Llama's.
     */
    public static ModelConfig parseConfig(JsonNode c, Path file) throws IOException {
        String type = c.path("model_type").asText("");
        if (type.equals("qwen3")) { // Llama with per-head QK-norm
            if (c.path("use_sliding_window").asBoolean(false)) throw new IOException(file + ": use_sliding_window is not supported");
            return parseConfig(asType(c, "llama"), file).toBuilder().qkNorm(ModelConfig.QkNorm.HEAD).build();
        }
        if (type.equals("olmo")) { // Llama with a LayerNorm that learns nothing, its eps fixed (OlmoLayerNorm)
            if (c.has("d_model") && !c.has("hidden_size")) { // ai2's own hf_olmo format, which some early OLMo repositories hold
                throw new IOException(file + ": this is the OLMo repository's own format (d_model, n_heads), not transformers' OlmoConfig; "
                        + "import the repository of the same model with -hf in its name (allenai/OLMo-1B-hf), which transformers reads");
            }
            JsonNode clip = c.get("clip_qkv");
            // transformers clamps whenever clip_qkv is not null, so 0 would clamp everything to 0, which Crucible's 0 (no clamp) is not
            if (clip != null && !clip.isNull() && !(clip.isNumber() && clip.asDouble() > 0)) {
                throw new IOException(file + ": clip_qkv must be a positive number or null, got " + clip);
            }
            ModelConfig llama = parseConfig(asType(c, "llama"), file);
            return built(llama.toBuilder().norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM).normEps(ModelConfig.OLMO_NORM_EPS)
                    .clipQkv(clip == null || clip.isNull() ? 0 : clip.asDouble()), file);
        }
        if (type.equals("qwen2")) { // Llama with biases on the query, key and value projections
            if (c.path("use_sliding_window").asBoolean(false)) throw new IOException(file + ": use_sliding_window is not supported");
            return parseConfig(asType(c, "llama"), file).toBuilder().linearBias(ModelConfig.LinearBias.QKV).build();
        }
        if (type.equals("mistral")) { // Llama whose attention sees the last sliding_window positions: on sequences the window covers, Llama exactly
            ModelConfig llama = parseConfig(asType(c, "llama"), file);
            JsonNode window = c.get("sliding_window");
            if (window == null || window.isNull()) return llama;
            if (!window.canConvertToInt() || !window.isIntegralNumber() || window.asInt() <= 0) {
                throw new IOException(file + ": sliding_window must be a positive integer or null, got " + window);
            }
            return window.asInt() < llama.contextLength() ? llama.toBuilder().contextLength(window.asInt()).build() : llama;
        }
        if (type.equals("gemma")) { // Llama with GeGLU, RMSNorm gains of 1 + w and the embedding times √d (GemmaForCausalLM)
            String act = c.hasNonNull("hidden_activation") ? c.get("hidden_activation").asText() : "gelu_pytorch_tanh";
            if (!TANH_GELU.contains(act)) {
                throw new IOException(file + ": hidden_activation '" + act + "' is not supported (gelu_pytorch_tanh, GELU's tanh form, is)");
            }
            // transformers 4's GemmaMLP reads hidden_activation and ignores the legacy hidden_act ("gelu" in the first releases'
            // files), taking GELU's tanh form when hidden_activation is absent: the form Gemma was trained with, which Crucible
            // takes too (transformers 5's GemmaMLP is LlamaMLP, on hidden_act; Crucible's exports write both keys alike).
            // GemmaConfig's head_dim is 256
            var llama = ((com.fasterxml.jackson.databind.node.ObjectNode) asType(c, "llama")).put("hidden_act", act);
            if (!c.has("head_dim")) llama.put("head_dim", 256);
            if (!c.has("tie_word_embeddings")) llama.put("tie_word_embeddings", true);
            if (c.path("mlp_bias").asBoolean(false)) throw new IOException(file + ": mlp_bias is not supported (Gemma's MLP has no biases)");
            ModelConfig base = parseConfig(llama, file);
            return built(base.toBuilder().norm(ModelConfig.Norm.OFFSET_RMSNORM).embeddingMultiplier(ModelConfig.gemmaEmbeddingMultiplier(base.dModel())), file);
        }
        if (type.equals("phi")) { // GPT-NeoX's parallel block reading one LayerNorm, q, k and v apart, a bias on the head (PhiForCausalLM)
            if (c.path("qk_layernorm").asBoolean(false)) throw new IOException(file + ": qk_layernorm is not supported (Phi-1 and 1.5 have none)");
            if (c.hasNonNull("num_key_value_heads") && !c.get("num_key_value_heads").equals(c.get("num_attention_heads"))) {
                throw new IOException(file + ": num_key_value_heads differs from num_attention_heads (grouped-query attention is not supported for phi)");
            }
            var neox = (com.fasterxml.jackson.databind.node.ObjectNode) asType(c, "gpt_neox");
            if (ropeKeys(c, file).partial() == null) neox.put("partial_rotary_factor", 0.5); // PhiConfig's defaults where the file has none
            if (!c.hasNonNull("hidden_act")) neox.put("hidden_act", "gelu_new");
            if (!c.hasNonNull("max_position_embeddings")) neox.put("max_position_embeddings", 2048);
            neox.remove("use_parallel_residual"); // not a Phi key: its block is parallel
            ModelConfig phi = built(parseConfig(neox, file).toBuilder().parallelResidual(true).sharedNorm(true).headBias(true), file);
            if (!phi.phi()) throw new IOException(file + ": rope_scaling is not supported for phi (plain RoPE is)");
            return phi;
        }
        if (type.equals("olmo2")) { // Llama with each branch's output normalised and QK-norm over whole projections; Olmo2Config's eps
            if (c.path("use_sinks").asBoolean(false)) throw new IOException(file + ": use_sinks (attention sinks) is not supported");
            return parseConfig(asType(c, "llama"), file).toBuilder().normPlacement(ModelConfig.NormPlacement.OUTPUT)
                    .qkNorm(ModelConfig.QkNorm.WHOLE).normEps(c.path("rms_norm_eps").asDouble(1e-5)).build();
        }
        if (type.startsWith(HfFormat.CRUCIBLE_PREFIX)) { // a model only Crucible computes as stored: the base fields, then its own
            ModelConfig base = parseConfig(asType(c, type.substring(HfFormat.CRUCIBLE_PREFIX.length())), file);
            JsonNode ext = c.path(HfFormat.CRUCIBLE_KEY);
            try {
                return base.toBuilder().normPlacement(ModelConfig.NormPlacement.parse(ext.path("norm_placement").asText("pre")))
                        .mixLnFraction(ext.path("mix_ln_fraction").asDouble(0.25))
                        .normScaling(ModelConfig.NormScaling.parse(ext.path("norm_scaling").asText("none")))
                        .qkNorm(ModelConfig.QkNorm.parse(ext.path("qk_norm").asText(base.qkNorm().id())))
                        .norm(ModelConfig.Norm.parse(ext.path("norm").asText(base.norm().id())))
                        .embeddingProjection(ext.path("embedding_projection").asBoolean(false))
                        .linearBias(ModelConfig.LinearBias.parse(ext.path("linear_bias").asText(base.linearBias().id())))
                        .clipQkv(number(ext, "clip_qkv", base.clipQkv(), file))
                        .embeddingMultiplier(number(ext, "embedding_multiplier", base.embeddingMultiplier(), file))
                        .sharedNorm(ext.path("shared_norm").asBoolean(base.sharedNorm())).headBias(ext.path("head_bias").asBoolean(base.headBias()))
                        .logitSoftcap(number(ext, "logit_softcap", base.logitSoftcap(), file)).build();
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": " + HfFormat.CRUCIBLE_KEY + "." + e.getMessage(), e);
            }
        }
        try {
            switch (type) {
                case "gpt2" -> {
                    ModelConfig.Gelu gelu = gelu(c, "activation_function", "gelu_new", file);
                    int d = req(c, "n_embd", file);
                    int inner = c.hasNonNull("n_inner") ? req(c, "n_inner", file) : 4 * d;
                    int heads = req(c, "n_head", file);
                    return ModelConfig.gpt2Builder(req(c, "vocab_size", file), req(c, "n_positions", file), req(c, "n_layer", file), heads, d)
                            .intermediateSize(inner).tieEmbeddings(c.path("tie_word_embeddings").asBoolean(true))
                            .normEps(c.path("layer_norm_epsilon").asDouble(1e-5)).gelu(gelu).build();
                }
                case "llama" -> {
                    RopeKeys rope = wholeHeads(ropeKeys(c, file), file);
                    String act = c.path("hidden_act").asText("silu");
                    ModelConfig.Glu glu = switch (act) { // LlamaMLP: down(ACT2FN[hidden_act](gate) · up)
                        case "silu" -> ModelConfig.Glu.SWIGLU;
                        case String a when TANH_GELU.contains(a) -> ModelConfig.Glu.GEGLU;
                        default -> throw new IOException(file + ": hidden_act '" + act + "' is not supported (silu, and gelu_pytorch_tanh, GELU's tanh form, are)");
                    };
                    int d = req(c, "hidden_size", file), heads = req(c, "num_attention_heads", file);
                    if (heads <= 0) throw new IOException(file + ": num_attention_heads must be positive, got " + heads);
                    int headDim = c.hasNonNull("head_dim") ? req(c, "head_dim", file) : 0; // absent: hidden_size / num_attention_heads
                    if (c.hasNonNull("head_dim") && headDim <= 0) throw new IOException(file + ": head_dim must be positive, got " + headDim);
                    int kvHeads = c.hasNonNull("num_key_value_heads") ? req(c, "num_key_value_heads", file) : heads;
                    return ModelConfig.llamaBuilder(req(c, "vocab_size", file), req(c, "max_position_embeddings", file),
                                    req(c, "num_hidden_layers", file), heads, kvHeads, d)
                            .intermediateSize(req(c, "intermediate_size", file)).tieEmbeddings(c.path("tie_word_embeddings").asBoolean(false))
                            .normEps(c.path("rms_norm_eps").asDouble(1e-6)).ropeTheta(rope.theta()).ropeScaling(rope.scaling())
                            .linearBias(ModelConfig.LinearBias.ofLlamaKeys(c.path("attention_bias").asBoolean(false), c.path("mlp_bias").asBoolean(false)))
                            .headDim(headDim).glu(glu).build();
                }
                case "gpt_neox" -> { // absent optional keys take GPTNeoXConfig's defaults, as transformers does; the shape's are required
                    RopeKeys rope = ropeKeys(c, file);
                    if (!c.path("attention_bias").asBoolean(true)) throw new IOException(file + ": attention_bias false is not supported (GPT-NeoX's biases are)");
                    int d = req(c, "hidden_size", file), heads = req(c, "num_attention_heads", file);
                    if (heads <= 0) throw new IOException(file + ": num_attention_heads must be positive, got " + heads);
                    if (c.hasNonNull("num_key_value_heads") && req(c, "num_key_value_heads", file) != heads) {
                        throw new IOException(file + ": num_key_value_heads differs from num_attention_heads (GPT-NeoX has no grouped-query attention)");
                    }
                    double partial = rope.partial() != null ? rope.partial() : 0.25;
                    int rotary = d % heads == 0 ? (int) (d / heads * partial) : 2; // an uneven split is ModelConfig's to name
                    if (rotary < 2 || rotary % 2 != 0) {
                        throw new IOException(file + ": " + (rope.partialFrom() != null ? rope.partialFrom() : "rotary_pct (absent: 0.25)") + " " + partial
                                + " rotates int(" + d / heads + " x " + partial + ") = " + rotary + " dimensions of each head; RoPE needs an even number");
                    }
                    return ModelConfig.gptNeoxBuilder(req(c, "vocab_size", file), req(c, "max_position_embeddings", file), req(c, "num_hidden_layers", file),
                                    heads, d)
                            .intermediateSize(req(c, "intermediate_size", file)).tieEmbeddings(c.path("tie_word_embeddings").asBoolean(false))
                            .normEps(c.path("layer_norm_eps").asDouble(1e-5)).ropeTheta(rope.theta()).ropeScaling(rope.scaling())
                            .rotaryFraction(partial)
                            .parallelResidual(c.path("use_parallel_residual").asBoolean(true)).gelu(gelu(c, "hidden_act", "gelu", file)).build();
                }
                default -> throw new IOException(file + ": model_type '" + type + "' is not supported (gpt2, llama, mistral, qwen2, qwen3, olmo, olmo2, gemma, gpt_neox and phi are; crucible_* for models only Crucible computes)");
            }
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The GELU a config.json's key names (absent: the architecture's default): transformers' "gelu" is exact (erf);
     * "gelu_new", "gelu_pytorch_tanh" and "gelu_fast" are the tanh approximation, written three ways.
     */
    private static ModelConfig.Gelu gelu(JsonNode c, String key, String fallback, Path file) throws IOException {
        String act = c.path(key).asText(fallback);
        return switch (act) {
            case "gelu" -> ModelConfig.Gelu.EXACT;
            case String a when TANH_GELU.contains(a) -> ModelConfig.Gelu.TANH;
            default -> throw new IOException(file + ": " + key + " '" + act + "' is not supported (gelu, exact, and gelu_new, the tanh approximation, are)");
        };
    }

    /** The config a builder holds, its refusal named by file. */
    private static ModelConfig built(ModelConfig.Builder b, Path file) throws IOException {
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** transformers' names of GELU's tanh approximation (ACT2FN: gelu_new, gelu_pytorch_tanh and gelu_fast compute the same function). */
    private static final java.util.Set<String> TANH_GELU = java.util.Set.of("gelu_new", "gelu_pytorch_tanh", "gelu_fast");

    /** The same config.json read as another model_type (the base architecture of Qwen2, Qwen3, OLMo and of Crucible's own types). */
    private static JsonNode asType(JsonNode c, String modelType) {
        return ((com.fasterxml.jackson.databind.node.ObjectNode) c.deepCopy()).put("model_type", modelType);
    }

    /** c's key as a number, def where it is absent; anything else is refused. */
    private static double number(JsonNode c, String key, double def, Path file) throws IOException {
        JsonNode v = c.get(key);
        if (v == null) return def;
        if (!v.isNumber()) throw new IOException(file + ": " + HfFormat.CRUCIBLE_KEY + "." + key + " must be a number, got " + v);
        return v.asDouble();
    }

    private static int req(JsonNode c, String key, Path file) throws IOException {
        JsonNode v = c.get(key);
        // isIntegralNumber: Jackson's canConvertToInt alone takes 768.5 and asInt truncates it
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) throw new IOException(file + ": missing or non-integer '" + key + "'" + (v == null ? "" : ": " + v));
        return v.asInt();
    }

    /**
     * RoPE's base, the share of each head it rotates (null where config.json does not say; partialFrom: the key that did)
     * and Llama 3.1's frequency scaling (null for plain RoPE).
     */
    record RopeKeys(double theta, Double partial, String partialFrom, dev.crucible.tensor.Rope.Llama3Scaling scaling) {}

    /** The parameters of rope_type llama3, as config.json names them. */
    private static final String[] LLAMA3_KEYS = {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"};

    /**
     * RoPE's base and partial rotary factor. transformers 4 keeps them at the top level (rope_theta, with
     * rope_scaling for the scaled variants; GPT-NeoX's rotary_emb_base and rotary_pct); transformers 5 writes a
     * rope_parameters object (rope_type, rope_theta, partial_rotary_factor, factor, ...) and still reads the old
     * keys into it. All are read here; a value given twice must agree. Plain RoPE (rope_type "default") and
     * Llama 3.1's "llama3" are computed; any other rope_type is refused by name.
     */
    static RopeKeys ropeKeys(JsonNode c, Path file) throws IOException {
        Double theta = null, partial = null;
        String thetaFrom = null, partialFrom = null;
        String type = null, typeFrom = null;
        Map<String, Double> scaling = new java.util.HashMap<>();
        Map<String, String> scalingFrom = new java.util.HashMap<>();
        for (String key : new String[] {"rope_parameters", "rope_scaling"}) {
            JsonNode p = c.get(key);
            if (p == null || p.isNull()) continue;
            if (!p.isObject()) throw new IOException(file + ": " + key + " must be an object, got " + p);
            for (var it = p.fields(); it.hasNext(); ) {
                var f = it.next();
                String where = key + "." + f.getKey();
                switch (f.getKey()) {
                    case "rope_type", "type" -> {
                        if (!f.getValue().isTextual()) throw new IOException(file + ": " + where + " must be a string, got " + f.getValue());
                        if (type != null && !type.equals(f.getValue().asText())) {
                            throw new IOException(file + ": " + where + " '" + f.getValue().asText() + "' conflicts with " + typeFrom + " '" + type + "'");
                        }
                        type = f.getValue().asText();
                        typeFrom = where;
                    }
                    case "rope_theta" -> {
                        theta = agreeing(theta, thetaFrom, positive(f.getValue(), where, file), where, file);
                        thetaFrom = where;
                    }
                    case "partial_rotary_factor" -> {
                        partial = agreeing(partial, partialFrom, positive(f.getValue(), where, file), where, file);
                        partialFrom = where;
                    }
                    default -> {
                        // a per-layer-type form ({"full_attention": {...}}) or a scaling parameter
                        if (f.getValue().isContainerNode()) throw new IOException(file + ": " + where + " is not supported (one RoPE for every layer is)");
                        if (java.util.Arrays.asList(LLAMA3_KEYS).contains(f.getKey())) {
                            scaling.put(f.getKey(), agreeing(scaling.get(f.getKey()), scalingFrom.get(f.getKey()), positive(f.getValue(), where, file), where, file));
                            scalingFrom.put(f.getKey(), where);
                        }
                    }
                }
            }
        }
        for (String key : new String[] {"rope_theta", "rotary_emb_base"}) {
            JsonNode top = c.get(key);
            if (top == null || top.isNull()) continue;
            theta = agreeing(theta, thetaFrom, positive(top, key, file), key, file);
            thetaFrom = key;
        }
        for (String key : new String[] {"partial_rotary_factor", "rotary_pct"}) {
            JsonNode top = c.get(key);
            if (top == null || top.isNull()) continue;
            partial = agreeing(partial, partialFrom, positive(top, key, file), key, file);
            partialFrom = key;
        }
        if (partial != null && partial > 1) throw new IOException(file + ": " + partialFrom + " " + partial + " must be at most 1");
        dev.crucible.tensor.Rope.Llama3Scaling llama3 = null;
        if ("llama3".equals(type)) {
            for (String k : LLAMA3_KEYS) if (!scaling.containsKey(k)) throw new IOException(file + ": " + typeFrom + " 'llama3' needs " + k);
            double positions = scaling.get("original_max_position_embeddings");
            if (positions != Math.rint(positions) || positions > Integer.MAX_VALUE) {
                throw new IOException(file + ": " + scalingFrom.get("original_max_position_embeddings") + " must be an integer, got " + positions);
            }
            try {
                llama3 = new dev.crucible.tensor.Rope.Llama3Scaling(scaling.get("factor"), scaling.get("low_freq_factor"), scaling.get("high_freq_factor"), (int) positions);
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": " + typeFrom + " 'llama3': " + e.getMessage(), e);
            }
        } else if (type != null && !type.equals("default")) {
            throw new IOException(file + ": " + typeFrom + " '" + type + "' is not supported (plain RoPE, rope_type 'default', and Llama 3.1's 'llama3' are)");
        }
        return new RopeKeys(theta != null ? theta : 10000.0, partial, partialFrom, llama3);
    }

    /** The RoPE of a model that rotates whole heads (Llama, Qwen3): a partial rotary factor below 1 is refused. */
    private static RopeKeys wholeHeads(RopeKeys k, Path file) throws IOException {
        if (k.partial() != null && k.partial() != 1.0) {
            throw new IOException(file + ": " + k.partialFrom() + " " + k.partial() + " is not supported for this model type (RoPE on whole heads is)");
        }
        return k;
    }

    /** v, which must equal the value earlier read from another key, if any. */
    private static double agreeing(Double earlier, String earlierFrom, double v, String key, Path file) throws IOException {
        if (earlier != null && earlier != v) throw new IOException(file + ": " + key + " " + v + " conflicts with " + earlierFrom + " " + earlier);
        return v;
    }

    private static double positive(JsonNode v, String key, Path file) throws IOException {
        if (!v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble())) throw new IOException(file + ": " + key + " must be a positive number, got " + v);
        return v.asDouble();
    }

    @Override
    public void close() {
        for (Safetensors.TensorFile r : files) r.close();
    }
}
