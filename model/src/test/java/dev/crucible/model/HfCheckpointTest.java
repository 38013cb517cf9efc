package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfCheckpointTest {
    @TempDir
    Path dir;

    static final ModelConfig[] CONFIGS = {ModelConfig.gpt2(37, 16, 2, 2, 16), ModelConfig.llama(37, 16, 2, 4, 2, 16),
            ModelConfig.llamaBuilder(30, 8, 1, 2, 1, 8).intermediateSize(24).tieEmbeddings(false).normEps(1e-5).ropeTheta(500000).build(),
            ModelConfig.gptNeoxBuilder(37, 16, 2, 2, 16).build(),
            ModelConfig.gptNeoxBuilder(37, 16, 1, 4, 32).parallelResidual(false).rotaryFraction(0.5).gelu(ModelConfig.Gelu.TANH).tieEmbeddings(true)
                    .ropeTheta(20000).normEps(1e-6).intermediateSize(40).build(),
            ModelConfig.gpt2Builder(37, 16, 2, 2, 16).gelu(ModelConfig.Gelu.EXACT).build(),
            ModelConfig.llamaBuilder(37, 16, 2, 4, 2, 16).ropeTheta(500000).ropeScaling(new dev.crucible.tensor.Rope.Llama3Scaling(32, 1, 4, 8192)).build()};

    private float[] params(ModelConfig c) {
        ParamLayout l = new ParamLayout(c);
        float[] p = new float[l.size()];
        l.initialize(p, 7);
        for (int i = 0; i < p.length; i++) p[i] += 0.001f * (i % 13); // norms and biases non-trivial too
        return p;
    }

    @Test
    void importThenExportIsByteIdenticalForFloat32() throws IOException {
        for (ModelConfig c : CONFIGS) {
            Path src = dir.resolve("src-" + c.hashCode()), back = dir.resolve("back-" + c.hashCode());
            float[] p = params(c);
            HfCheckpoint.write(src, c, p, null);
            Files.writeString(src.resolve("tokenizer.json"), "{\"model\": {}}");
            try (HfCheckpoint ck = HfCheckpoint.open(src)) {
                assertEquals(c, ck.config(), "config.json round trip");
                float[] q = new float[p.length];
                ck.load(new ParamLayout(ck.config()), q);
                assertArrayEquals(p, q);
                HfCheckpoint.write(back, ck.config(), q, src);
            }
            assertArrayEquals(Files.readAllBytes(src.resolve("model.safetensors")), Files.readAllBytes(back.resolve("model.safetensors")));
            assertEquals(Files.readString(src.resolve("config.json")), Files.readString(back.resolve("config.json")));
            assertTrue(Files.exists(back.resolve("tokenizer.json")), "tokenizer travels with the model");
        }
    }

    @Test
    void shardedHalfPrecisionCheckpointsImport() throws IOException {
        ModelConfig c = CONFIGS[1];
        ParamLayout layout = new ParamLayout(c);
        float[] p = params(c);
        Path src = dir.resolve("sharded");
        Files.createDirectories(src);
        new ObjectMapper().writeValue(src.resolve("config.json").toFile(), HfFormat.configJson(c, null, null));
        // Two shards, the first BF16 and the second F16, as transformers' save_pretrained(max_shard_size=...) splits them.
        List<HfFormat.HfTensor> all = HfFormat.tensors(layout);
        Map<String, String> weightMap = new LinkedHashMap<>();
        float[] expected = new float[p.length];
        for (int s = 0; s < 2; s++) {
            List<HfFormat.HfTensor> part = s == 0 ? all.subList(0, all.size() / 2) : all.subList(all.size() / 2, all.size());
            String file = "model-0000" + (s + 1) + "-of-00002.safetensors";
            StringBuilder header = new StringBuilder("{");
            ByteBuffer data = ByteBuffer.allocate(2 * p.length).order(ByteOrder.LITTLE_ENDIAN);
            for (HfFormat.HfTensor h : part) {
                float[] v = HfFormat.extract(h, p), rounded = new float[v.length];
                int begin = data.position();
                for (int i = 0; i < v.length; i++) {
                    short half = s == 0 ? (short) (Float.floatToIntBits(v[i]) >>> 16) : Float.floatToFloat16(v[i]);
                    data.putShort(half);
                    rounded[i] = s == 0 ? Float.intBitsToFloat((half & 0xFFFF) << 16) : Float.float16ToFloat(half);
                }
                HfFormat.insert(h, rounded, expected);
                header.append(header.length() > 1 ? "," : "").append('"').append(h.hfName()).append("\":{\"dtype\":\"").append(s == 0 ? "BF16" : "F16")
                        .append("\",\"shape\":").append(java.util.Arrays.toString(h.shape()).replace(" ", "")).append(",\"data_offsets\":[")
                        .append(begin).append(',').append(data.position()).append("]}");
                weightMap.put(h.hfName(), file);
            }
            byte[] json = header.append('}').toString().getBytes(StandardCharsets.UTF_8);
            ByteBuffer out = ByteBuffer.allocate(8 + json.length + data.position()).order(ByteOrder.LITTLE_ENDIAN);
            out.putLong(json.length).put(json).put(data.array(), 0, data.position());
            Files.write(src.resolve(file), out.array());
        }
        new ObjectMapper().writeValue(src.resolve("model.safetensors.index.json").toFile(), Map.of("metadata", Map.of(), "weight_map", weightMap));
        try (HfCheckpoint ck = HfCheckpoint.open(src)) {
            float[] q = new float[p.length];
            ck.load(layout, q);
            assertArrayEquals(expected, q);
            assertTrue(ck.dtypes().containsValue(Safetensors.DType.BF16) && ck.dtypes().containsValue(Safetensors.DType.F16));
        }
    }

    private String refused(String configJson) throws IOException {
        Path d = Files.createTempDirectory(dir, "bad");
        Files.writeString(d.resolve("config.json"), configJson);
        return assertThrows(IOException.class, () -> HfCheckpoint.open(d).close()).getMessage();
    }

    @Test
    void unsupportedOrBrokenDirectoriesAreRefusedByName() throws IOException {
        assertTrue(refused("{\"model_type\": \"mixtral\"}").contains("model_type 'mixtral' is not supported"));
        assertTrue(refused("{\"model_type\": \"llama\", \"rope_scaling\": {\"type\": \"linear\"}}").contains("rope_scaling.type 'linear' is not supported"));
        assertTrue(refused("{\"model_type\": \"gpt2\", \"n_embd\": 8}").contains("missing or non-integer 'n_head'"));
        assertTrue(refused("{\"model_type\": \"gpt2\", \"activation_function\": \"relu\"}").contains("activation_function 'relu'"));
        assertTrue(refused("{not json").contains("config.json: not valid JSON"));
        String noWeights = refused(new String(new ObjectMapper().writeValueAsBytes(HfFormat.configJson(CONFIGS[0], null, null)), StandardCharsets.UTF_8));
        assertTrue(noWeights.contains("no model.safetensors"), noWeights);
        Path pickle = dir.resolve("pickle");
        HfCheckpoint.write(pickle, CONFIGS[0], params(CONFIGS[0]), null);
        Files.delete(pickle.resolve("model.safetensors"));
        Files.write(pickle.resolve("pytorch_model.bin"), new byte[10]);
        String msg = assertThrows(IOException.class, () -> HfCheckpoint.open(pickle).close()).getMessage();
        assertTrue(msg.contains("pytorch_model.bin: not a torch.save zip archive"), msg);
    }

    private static com.fasterxml.jackson.databind.node.ObjectNode llamaConfig(double theta) {
        ModelConfig c = ModelConfig.llamaBuilder(30, 8, 1, 2, 1, 8).ropeTheta(theta).build();
        return new ObjectMapper().valueToTree(HfFormat.configJson(c, null, null));
    }

    /** Mistral is Llama with a sliding attention window: the context is cut to the window, where the two compute the same. */
    @Test
    void mistralIsLlamaInsideItsWindow() throws IOException {
        var mistral = llamaConfig(10000).put("model_type", "mistral").put("sliding_window", 4);
        ModelConfig c = HfCheckpoint.parseConfig(mistral, Path.of("config.json"));
        assertEquals(4, c.contextLength());
        assertEquals(HfCheckpoint.parseConfig(llamaConfig(10000), Path.of("config.json")).toBuilder().contextLength(4).build(), c);
        assertEquals(8, HfCheckpoint.parseConfig(mistral.deepCopy().putNull("sliding_window"), Path.of("config.json")).contextLength(), "no window");
        assertEquals(8, HfCheckpoint.parseConfig(mistral.deepCopy().put("sliding_window", 4096), Path.of("config.json")).contextLength(), "a window wider than the context");
        assertTrue(parseRefused(mistral.deepCopy().put("sliding_window", 0)).contains("sliding_window must be a positive integer or null, got 0"));
        assertTrue(parseRefused(mistral.deepCopy().put("sliding_window", 2.5)).contains("sliding_window must be a positive integer or null"));
    }

    /** c written (random parameters) as the model directory dir/name, which must read back as c; its config.json. */
    private com.fasterxml.jackson.databind.JsonNode writtenAndReadBack(String name, ModelConfig c) throws IOException {
        Path out = dir.resolve(name);
        HfCheckpoint.write(out, c, params(c), null);
        try (HfCheckpoint ck = HfCheckpoint.open(out)) {
            assertEquals(c, ck.config(), name);
        }
        return new ObjectMapper().readTree(out.resolve("config.json").toFile());
    }

    private static String parseRefused(com.fasterxml.jackson.databind.JsonNode json) {
        Path f = Path.of("/models/x/config.json");
        String msg = assertThrows(IOException.class, () -> HfCheckpoint.parseConfig(json, f)).getMessage();
        assertTrue(msg.startsWith(f.toString()), msg);
        return msg;
    }

    /**
     * transformers 5 writes RoPE's settings inside rope_parameters (modeling_rope_utils.py); Llama 3's
     * rope_type llama3 there must not load as plain RoPE with the default base, nor a base given twice
     * differently.
     */
    @Test
    void ropeParametersOfTransformers5AreReadOrRefusedByKey() throws IOException {
        var v5 = llamaConfig(500000);
        v5.remove("rope_theta");
        v5.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 500000.0);
        assertEquals(500000.0, HfCheckpoint.parseConfig(v5, Path.of("config.json")).ropeTheta());
        var both = llamaConfig(500000);
        both.putObject("rope_parameters").put("rope_theta", 500000);
        assertEquals(500000.0, HfCheckpoint.parseConfig(both, Path.of("config.json")).ropeTheta(), "the same base twice is no conflict");
        assertEquals(500000.0, HfCheckpoint.parseConfig(llamaConfig(500000), Path.of("config.json")).ropeTheta(), "transformers 4's top-level key");

        // Llama 3.1's and 3.2's rope_type llama3 is read with its four parameters, in either place; others are refused by name
        var llama3 = llamaConfig(10000);
        llama3.remove("rope_theta");
        llama3.putObject("rope_parameters").put("rope_theta", 500000).put("rope_type", "llama3").put("factor", 32.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192);
        ModelConfig scaled = HfCheckpoint.parseConfig(llama3, Path.of("config.json"));
        assertEquals(new dev.crucible.tensor.Rope.Llama3Scaling(32, 1, 4, 8192), scaled.ropeScaling());
        assertEquals(500000.0, scaled.ropeTheta());
        var legacy = llamaConfig(500000);
        legacy.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0).put("high_freq_factor", 4.0)
                .put("original_max_position_embeddings", 8192);
        assertEquals(new dev.crucible.tensor.Rope.Llama3Scaling(8, 1, 4, 8192), HfCheckpoint.parseConfig(legacy, Path.of("config.json")).ropeScaling());
        ((com.fasterxml.jackson.databind.node.ObjectNode) legacy.get("rope_scaling")).remove("high_freq_factor");
        String msg = parseRefused(legacy);
        assertTrue(msg.contains("rope_scaling.rope_type 'llama3' needs high_freq_factor"), msg);
        var yarn = llamaConfig(10000);
        yarn.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
        assertTrue(parseRefused(yarn).contains("rope_scaling.rope_type 'yarn' is not supported"));

        var conflict = llamaConfig(10000);
        conflict.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 500000);
        msg = parseRefused(conflict);
        assertTrue(msg.contains("rope_theta 10000.0 conflicts with rope_parameters.rope_theta 500000.0"), msg);
        var types = llamaConfig(10000);
        types.putObject("rope_parameters").put("rope_type", "default");
        types.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
        assertTrue(parseRefused(types).contains("rope_scaling.type 'linear' conflicts with rope_parameters.rope_type 'default'"));
        var perLayer = llamaConfig(10000);
        perLayer.putObject("rope_parameters").putObject("full_attention").put("rope_type", "default");
        assertTrue(parseRefused(perLayer).contains("rope_parameters.full_attention is not supported"));
        var partial = llamaConfig(10000);
        partial.putObject("rope_parameters").put("rope_type", "default").put("partial_rotary_factor", 0.5);
        assertTrue(parseRefused(partial).contains("rope_parameters.partial_rotary_factor 0.5 is not supported"));
        var badTheta = llamaConfig(10000);
        badTheta.put("rope_theta", "big");
        assertTrue(parseRefused(badTheta).contains("rope_theta must be a positive number"));
    }

    @Test
    void fractionalConfigIntegersAreRefusedNotTruncated() {
        var gpt2 = new ObjectMapper().<com.fasterxml.jackson.databind.node.ObjectNode>valueToTree(HfFormat.configJson(CONFIGS[0], null, null));
        gpt2.put("n_embd", 16.5);
        assertTrue(parseRefused(gpt2).contains("non-integer 'n_embd': 16.5"));
        var inner = new ObjectMapper().<com.fasterxml.jackson.databind.node.ObjectNode>valueToTree(HfFormat.configJson(CONFIGS[0], null, null));
        inner.put("n_inner", 64.5);
        assertTrue(parseRefused(inner).contains("non-integer 'n_inner'"));
        var kv = llamaConfig(10000);
        kv.put("num_key_value_heads", 1.5);
        assertTrue(parseRefused(kv).contains("non-integer 'num_key_value_heads'"));
    }

    /** One tensor of a hand-written safetensors file. */
    private record Raw(String name, String dtype, int[] shape, byte[] data) {}

    private static Raw f32(String name, int[] shape, float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return new Raw(name, "F32", shape, b.array());
    }

    private static void writeRaw(Path file, List<Raw> tensors) throws IOException {
        StringBuilder header = new StringBuilder("{");
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        for (Raw t : tensors) {
            int begin = data.size();
            data.writeBytes(t.data());
            header.append(header.length() > 1 ? "," : "").append('"').append(t.name()).append("\":{\"dtype\":\"").append(t.dtype()).append("\",\"shape\":")
                    .append(java.util.Arrays.toString(t.shape()).replace(" ", "")).append(",\"data_offsets\":[").append(begin).append(',').append(data.size()).append("]}");
        }
        byte[] json = header.append('}').toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + data.size()).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json).put(data.toByteArray());
        Files.write(file, out.array());
    }

    /**
     * openai-community/gpt2's model.safetensors names its tensors without "transformer." (wte.weight,
     * h.0.attn.c_attn.weight, ln_f.weight) and may carry attn.bias / attn.masked_bias buffers in
     * another dtype; transformers adds the base model's prefix to every name. Llama's "model." likewise.
     */
    @Test
    void checkpointsNamedWithoutTheBaseModelPrefixImport() throws IOException {
        for (ModelConfig c : new ModelConfig[] {CONFIGS[0], CONFIGS[1]}) {
            ParamLayout layout = new ParamLayout(c);
            float[] p = params(c);
            String prefix = c.style() == ModelConfig.Style.GPT2 ? "transformer." : "model.";
            List<Raw> raw = new java.util.ArrayList<>();
            for (HfFormat.HfTensor h : HfFormat.tensors(layout)) {
                assertTrue(h.hfName().startsWith(prefix), h.hfName());
                raw.add(f32(h.hfName().substring(prefix.length()), h.shape(), HfFormat.extract(h, p)));
            }
            if (c.style() == ModelConfig.Style.GPT2) {
                raw.add(new Raw("h.0.attn.bias", "U8", new int[] {1, 1, 2, 2}, new byte[] {1, 0, 1, 1}));
                raw.add(new Raw("h.1.attn.bias", "BOOL", new int[] {1, 1, 2, 2}, new byte[] {1, 0, 1, 1}));
                raw.add(f32("h.0.attn.masked_bias", new int[] {}, new float[] {-1e4f}));
            }
            Path src = dir.resolve("bare-" + c.style().id());
            Files.createDirectories(src);
            new ObjectMapper().writeValue(src.resolve("config.json").toFile(), HfFormat.configJson(c, null, null));
            writeRaw(src.resolve("model.safetensors"), raw);
            try (HfCheckpoint ck = HfCheckpoint.open(src)) {
                float[] q = new float[p.length];
                ck.load(layout, q);
                assertArrayEquals(p, q, c.style().id());
            }
            // a name the model does not have is still refused, by its name in the file
            raw.add(f32("h.9.extra", new int[] {1}, new float[] {0}));
            writeRaw(src.resolve("model.safetensors"), raw);
            try (HfCheckpoint ck = HfCheckpoint.open(src)) {
                String msg = assertThrows(IOException.class, () -> ck.load(layout, new float[p.length])).getMessage();
                assertTrue(msg.contains("unexpected tensor 'h.9.extra'"), msg);
            }
        }
    }

    /**
     * OLMo 2: written as Olmo2ForCausalLM (its norms named after where they sit, q_norm and k_norm as wide as the
     * projections, no head_dim) and read back as the same model; a config.json in Olmo2Config's form (1B-sized values) parses to
     * output norms and whole-projection QK-norm, with Olmo2Config's eps where the key is absent.
     */
    @Test
    void olmo2CheckpointsWriteAndRead() throws IOException {
        ModelConfig c = ModelConfig.llamaBuilder(37, 16, 2, 4, 2, 16).normPlacement(ModelConfig.NormPlacement.OUTPUT)
                .qkNorm(ModelConfig.QkNorm.WHOLE).tieEmbeddings(false).normEps(1e-6).build();
        assertTrue(c.hfAsStored());
        Path out = dir.resolve("olmo2");
        float[] p = params(c);
        HfCheckpoint.write(out, c, p, null);
        var json = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("olmo2", json.get("model_type").asText());
        assertEquals("Olmo2ForCausalLM", json.get("architectures").get(0).asText());
        assertTrue(!json.has("head_dim") && !json.has("crucible"), json.toString());
        try (Safetensors.Reader r = Safetensors.open(out.resolve("model.safetensors"))) {
            assertArrayEquals(new long[] {16}, r.entries().get("model.layers.1.self_attn.q_norm.weight").shape());
            assertArrayEquals(new long[] {8}, r.entries().get("model.layers.1.self_attn.k_norm.weight").shape());
            assertTrue(r.entries().containsKey("model.layers.0.post_attention_layernorm.weight"));
            assertTrue(r.entries().containsKey("model.layers.0.post_feedforward_layernorm.weight"));
            assertTrue(!r.entries().containsKey("model.layers.0.input_layernorm.weight"));
        }
        try (HfCheckpoint ck = HfCheckpoint.open(out)) {
            assertEquals(c, ck.config());
        }
        var released = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree("""
                {"architectures": ["Olmo2ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "eos_token_id": 100257,
                 "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192,
                 "max_position_embeddings": 4096, "model_type": "olmo2", "num_attention_heads": 16, "num_hidden_layers": 16,
                 "num_key_value_heads": 16, "pad_token_id": 100277, "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 500000,
                 "tie_word_embeddings": false, "torch_dtype": "float32", "use_cache": true, "vocab_size": 100352}""");
        ModelConfig olmo = HfCheckpoint.parseConfig(released, Path.of("config.json"));
        assertTrue(olmo.olmo2() && olmo.hfAsStored());
        assertEquals(ModelConfig.llamaBuilder(100352, 4096, 16, 16, 16, 2048).intermediateSize(8192).tieEmbeddings(false).normEps(1e-6)
                .ropeTheta(500000).normPlacement(ModelConfig.NormPlacement.OUTPUT).qkNorm(ModelConfig.QkNorm.WHOLE).build(), olmo);
        released.remove("rms_norm_eps");
        assertEquals(1e-5, HfCheckpoint.parseConfig(released, Path.of("config.json")).normEps(), "Olmo2Config's default");
        released.put("use_sinks", true);
        String sinks = assertThrows(IOException.class, () -> HfCheckpoint.parseConfig(released, Path.of("config.json"))).getMessage();
        assertTrue(sinks.contains("use_sinks"), sinks);
        // output norms without whole-projection QK-norm, and whole-projection QK-norm on Pre-LN blocks: Crucible's own
        for (ModelConfig own : new ModelConfig[] {c.toBuilder().qkNorm(ModelConfig.QkNorm.NONE).build(),
                ModelConfig.llamaBuilder(37, 16, 2, 4, 2, 16).qkNorm(ModelConfig.QkNorm.WHOLE).build()}) {
            assertTrue(writtenAndReadBack("own-" + own.normPlacement().id(), own).get("model_type").asText().startsWith("crucible_"));
            assertThrows(IllegalArgumentException.class, () -> HfFormat.forTransformers(own, params(own)));
        }
    }

    /**
     * Heads whose width is not hidden_size / num_attention_heads (head_dim): Qwen3-0.6B's 16 heads of 128 on a width of 1024
     * (its config.json's keys and values as other projects quote the released file, which cannot be fetched here) read;
     * a model with them writes head_dim and projections of n_head · head_dim rows, and reads back the same; OLMo 2's file
     * has head_dim only where it is not the default; a head_dim that is not a positive integer is refused by name.
     */
    @Test
    void headDimOtherThanTheWidthOverTheHeads() throws IOException {
        var released = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree("""
                {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 151643,
                 "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024, "initializer_range": 0.02,
                 "intermediate_size": 3072, "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
                 "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
                 "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true,
                 "torch_dtype": "bfloat16", "transformers_version": "4.51.0", "use_cache": true, "use_sliding_window": false,
                 "vocab_size": 151936}""");
        ModelConfig qwen = HfCheckpoint.parseConfig(released, Path.of("config.json"));
        assertEquals(ModelConfig.llamaBuilder(151936, 40960, 28, 16, 8, 1024).intermediateSize(3072).tieEmbeddings(true).normEps(1e-6)
                .ropeTheta(1e6).qkNorm(true).headDim(128).build(), qwen);
        assertEquals(128, qwen.headSize());
        assertEquals(2048, qwen.attentionWidth());
        ParamLayout big = new ParamLayout(qwen);
        assertEquals(596_049_920L, big.size(), "Qwen3-0.6B's parameters, its tied embedding counted once");
        assertEquals(6.0 * big.matmulParams() + 12.0 * 28 * 2048 * 512, big.flopsPerToken(512), "PaLM's attention FLOPs on the 2048-wide attention");
        // head_dim equal to the default is the default
        assertEquals(ModelConfig.llama(64, 8, 1, 4, 2, 32), ModelConfig.llamaBuilder(64, 8, 1, 4, 2, 32).headDim(8).build());
        assertTrue(parseRefused(released.deepCopy().put("head_dim", 0)).contains("head_dim must be positive, got 0"));
        assertTrue(parseRefused(released.deepCopy().put("head_dim", 12.5)).contains("missing or non-integer 'head_dim'"));
        assertTrue(parseRefused(released.deepCopy().put("head_dim", 7)).contains("RoPE needs an even number of rotary dimensions per head, got 7"));

        ModelConfig c = ModelConfig.llamaBuilder(37, 16, 2, 4, 2, 16).qkNorm(true).headDim(8).build(); // 32-wide attention on d = 16
        Path out = dir.resolve("wide-heads");
        float[] p = params(c);
        HfCheckpoint.write(out, c, p, null);
        var json = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("qwen3", json.get("model_type").asText());
        assertEquals(8, json.get("head_dim").asInt());
        try (Safetensors.Reader r = Safetensors.open(out.resolve("model.safetensors"))) {
            assertArrayEquals(new long[] {32, 16}, r.entries().get("model.layers.1.self_attn.q_proj.weight").shape());
            assertArrayEquals(new long[] {16, 16}, r.entries().get("model.layers.1.self_attn.k_proj.weight").shape());
            assertArrayEquals(new long[] {16, 32}, r.entries().get("model.layers.1.self_attn.o_proj.weight").shape());
            assertArrayEquals(new long[] {8}, r.entries().get("model.layers.1.self_attn.q_norm.weight").shape());
        }
        try (HfCheckpoint ck = HfCheckpoint.open(out)) {
            assertEquals(c, ck.config());
            float[] q = new float[p.length];
            ck.load(new ParamLayout(c), q);
            assertArrayEquals(p, q);
        }
        // a checkpoint whose tensors have the default heads' shapes is refused against a head_dim that says otherwise
        var wrongShape = (com.fasterxml.jackson.databind.node.ObjectNode) json.deepCopy();
        java.nio.file.Files.writeString(out.resolve("config.json"), wrongShape.put("head_dim", 4).toString());
        try (HfCheckpoint ck = HfCheckpoint.open(out)) {
            ModelConfig narrow = ck.config();
            IOException e = assertThrows(IOException.class, () -> ck.load(new ParamLayout(narrow), new float[new ParamLayout(narrow).size()]));
            assertTrue(e.getMessage().contains("q_proj"), e.getMessage());
        }
        ModelConfig olmo2 = ModelConfig.llamaBuilder(37, 16, 2, 4, 2, 16).normPlacement(ModelConfig.NormPlacement.OUTPUT).qkNorm(ModelConfig.QkNorm.WHOLE)
                .normEps(1e-6).tieEmbeddings(false).build();
        assertTrue(!writtenAndReadBack("olmo2", olmo2).has("head_dim"));
        assertEquals(6, writtenAndReadBack("olmo2-head_dim", olmo2.toBuilder().headDim(6).build()).get("head_dim").asInt());
        IllegalArgumentException gpt2 = assertThrows(IllegalArgumentException.class, () -> ModelConfig.gpt2Builder(37, 16, 2, 4, 16).headDim(8).build());
        assertTrue(gpt2.getMessage().startsWith("head_dim: "), gpt2.getMessage());
    }

    /** A Gemma-shaped model: Llama style with GeGLU, 1 + w RMSNorms and the embedding times √d, heads twice d / heads wide. */
    private static ModelConfig.Builder gemma(int d) {
        return ModelConfig.llamaBuilder(37, 16, 2, 2, 1, d).glu(ModelConfig.Glu.GEGLU).norm(ModelConfig.Norm.OFFSET_RMSNORM)
                .embeddingMultiplier(ModelConfig.gemmaEmbeddingMultiplier(d)).headDim(d);
    }

    /**
     * Gemma (GemmaForCausalLM) is Llama with GeGLU, RMSNorm gains of 1 + w and the embedding times √d: gemma-2b's config.json
     * (its keys and values as other projects quote the released file, which cannot be fetched here) reads, its 2.5 billion
     * parameters refused by the flat buffer with what they are, its layers counted; hidden_activation decides the gate, hidden_act (the first files' "gelu") does not; a Gemma-shaped model writes
     * model_type gemma, its norms' w as stored, and reads back the same; the same blocks with another multiplier are Crucible's own.
     */
    @Test
    void gemmaCheckpointsWriteAndRead() throws IOException {
        var released = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree("""
                {"architectures": ["GemmaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 2, "eos_token_id": 1,
                 "head_dim": 256, "hidden_act": "gelu", "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 2048, "initializer_range": 0.02,
                 "intermediate_size": 16384, "max_position_embeddings": 8192, "model_type": "gemma", "num_attention_heads": 8,
                 "num_hidden_layers": 18, "num_key_value_heads": 1, "pad_token_id": 0, "rms_norm_eps": 1e-06, "rope_scaling": null,
                 "rope_theta": 10000.0, "torch_dtype": "bfloat16", "transformers_version": "4.42.4", "use_cache": true, "vocab_size": 256000}""");
        ModelConfig g = HfCheckpoint.parseConfig(released, Path.of("config.json"));
        assertEquals(ModelConfig.llamaBuilder(256000, 8192, 18, 8, 1, 2048).intermediateSize(16384).tieEmbeddings(true).normEps(1e-6)
                .glu(ModelConfig.Glu.GEGLU).norm(ModelConfig.Norm.OFFSET_RMSNORM).embeddingMultiplier((float) Math.sqrt(2048)).build(), g);
        assertTrue(g.gemma() && g.hfAsStored());
        // 2,506,172,416 parameters (256000 x 2048 tied, 18 layers of 110,104,576, the final norm): more than one Java array holds
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class, () -> new ParamLayout(g));
        assertTrue(big.getMessage().contains("model has 2506172416 parameters, more than 2^31 - 17"), big.getMessage());
        ModelConfig small = HfCheckpoint.parseConfig(released.deepCopy().put("num_hidden_layers", 2).put("vocab_size", 1000), Path.of("config.json"));
        assertEquals(2L * 110_104_576 + 2048 + 1000 * 2048, new ParamLayout(small).size(), "two of gemma-2b's layers and a small vocabulary");
        assertEquals(g, HfCheckpoint.parseConfig(released.deepCopy().without("hidden_activation"), Path.of("config.json")),
                "no hidden_activation: GELU's tanh form, whatever hidden_act says");
        assertEquals(256, HfCheckpoint.parseConfig(released.deepCopy().without("head_dim"), Path.of("config.json")).headSize(), "GemmaConfig's head_dim");
        assertTrue(parseRefused(released.deepCopy().put("hidden_activation", "gelu")).contains("hidden_activation 'gelu' is not supported"));

        ModelConfig c = gemma(16).build();
        assertTrue(c.gemma() && c.hfAsStored());
        Path out = dir.resolve("gemma");
        float[] p = params(c);
        HfCheckpoint.write(out, c, p, null);
        var json = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("gemma", json.get("model_type").asText());
        assertEquals("GemmaForCausalLM", json.get("architectures").get(0).asText());
        assertEquals("gelu_pytorch_tanh", json.get("hidden_activation").asText());
        assertEquals(16, json.get("head_dim").asInt());
        ParamLayout layout = new ParamLayout(c);
        try (Safetensors.Reader r = Safetensors.open(out.resolve("model.safetensors"))) {
            assertArrayEquals(java.util.Arrays.copyOfRange(p, layout.finalNormW(), layout.finalNormW() + 16), r.floats("model.norm.weight"), "w, not 1 + w");
        }
        try (HfCheckpoint ck = HfCheckpoint.open(out)) {
            assertEquals(c, ck.config());
            float[] q = new float[p.length];
            ck.load(layout, q);
            assertArrayEquals(p, q);
        }
        float[] fresh = new float[layout.size()];
        layout.initialize(fresh, 1);
        for (int i = layout.finalNormW(); i < layout.finalNormW() + 16; i++) assertEquals(0f, fresh[i], "Gemma's gains start at w = 0");
        var own = writtenAndReadBack("gemma-multiplier", gemma(16).embeddingMultiplier(2).build());
        assertEquals("crucible_llama", own.get("model_type").asText());
        assertEquals(2.0, own.get("crucible").get("embedding_multiplier").asDouble());
        assertEquals("offset_rmsnorm", own.get("crucible").get("norm").asText());
    }

    /**
     * Phi (PhiForCausalLM, Phi-1 and 1.5) is GPT-NeoX's parallel block with one LayerNorm for both branches, q, k and v apart
     * and a bias on the head: phi-1_5's config.json (its keys and values as other projects quote the released file) reads with
     * its parameter count; a Phi-shaped model writes Phi's names and keys, one norm per layer, and reads back the same; either
     * of the two alone is Crucible's own; qk_layernorm and RoPE scaling are refused.
     */
    @Test
    void phiCheckpointsWriteAndRead() throws IOException {
        var released = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree("""
                {"_name_or_path": "microsoft/phi-1_5", "architectures": ["PhiForCausalLM"], "attention_dropout": 0.0, "bos_token_id": null,
                 "embd_pdrop": 0.0, "eos_token_id": null, "hidden_act": "gelu_new", "hidden_size": 2048, "initializer_range": 0.02,
                 "intermediate_size": 8192, "layer_norm_eps": 1e-05, "max_position_embeddings": 2048, "model_type": "phi",
                 "num_attention_heads": 32, "num_hidden_layers": 24, "num_key_value_heads": null, "partial_rotary_factor": 0.5,
                 "qk_layernorm": false, "resid_pdrop": 0.0, "rope_scaling": null, "rope_theta": 10000.0, "tie_word_embeddings": false,
                 "torch_dtype": "float16", "transformers_version": "4.37.0", "use_cache": true, "vocab_size": 51200}""");
        ModelConfig phi = HfCheckpoint.parseConfig(released, Path.of("config.json"));
        assertEquals(ModelConfig.gptNeoxBuilder(51200, 2048, 24, 32, 2048).intermediateSize(8192).rotaryFraction(0.5).gelu(ModelConfig.Gelu.TANH)
                .sharedNorm(true).headBias(true).build(), phi);
        assertTrue(phi.phi() && phi.hfAsStored());
        // 51200 x 2048 twice (untied), the head's bias, 24 layers of 50,354,176 (q, k, v, dense, fc1, fc2 with biases, one LayerNorm), the final norm
        assertEquals(1_418_270_720L, new ParamLayout(phi).size(), "phi-1_5's parameters");
        assertEquals(0.5, HfCheckpoint.parseConfig(released.deepCopy().without("partial_rotary_factor"), Path.of("config.json")).rotaryFraction(),
                "PhiConfig's partial_rotary_factor");
        assertTrue(parseRefused(released.deepCopy().put("qk_layernorm", true)).contains("qk_layernorm is not supported"));
        assertTrue(parseRefused(released.deepCopy().set("rope_scaling", new ObjectMapper().readTree("{\"type\": \"linear\", \"factor\": 2}")))
                .contains("'linear' is not supported"));
        assertTrue(parseRefused(released.deepCopy().set("rope_scaling", new ObjectMapper().readTree(
                "{\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 1, \"high_freq_factor\": 4, \"original_max_position_embeddings\": 64}")))
                .contains("rope_scaling is not supported for phi"));
        assertTrue(parseRefused(released.deepCopy().put("num_key_value_heads", 8)).contains("grouped-query attention is not supported for phi"));
        // PhiMLP is ACT2FN[hidden_act]: the exact GELU reads and writes back; transformers 5's rope_parameters holds the factor
        ModelConfig exact = HfCheckpoint.parseConfig(released.deepCopy().put("hidden_act", "gelu"), Path.of("config.json"));
        assertTrue(exact.phi() && exact.gelu() == ModelConfig.Gelu.EXACT);
        assertEquals("gelu", HfFormat.configJson(exact, null, null).get("hidden_act"));
        var v5 = (com.fasterxml.jackson.databind.node.ObjectNode) released.deepCopy().without(java.util.List.of("partial_rotary_factor", "rope_theta"));
        v5.set("rope_parameters", new ObjectMapper().readTree("{\"rope_type\": \"default\", \"rope_theta\": 10000.0, \"partial_rotary_factor\": 0.25}"));
        assertEquals(0.25, HfCheckpoint.parseConfig(v5, Path.of("config.json")).rotaryFraction());

        ModelConfig c = ModelConfig.gptNeoxBuilder(37, 16, 2, 2, 16).sharedNorm(true).headBias(true).rotaryFraction(0.5).gelu(ModelConfig.Gelu.TANH).build();
        Path out = dir.resolve("phi");
        float[] p = params(c);
        HfCheckpoint.write(out, c, p, null);
        var json = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("phi", json.get("model_type").asText());
        assertEquals("PhiForCausalLM", json.get("architectures").get(0).asText());
        assertEquals(0.5, json.get("partial_rotary_factor").asDouble());
        try (Safetensors.Reader r = Safetensors.open(out.resolve("model.safetensors"))) {
            for (String name : new String[] {"model.layers.1.self_attn.q_proj.bias", "model.layers.1.self_attn.dense.weight", "model.layers.1.mlp.fc1.bias",
                    "model.layers.1.input_layernorm.bias", "model.final_layernorm.weight", "lm_head.bias"}) {
                assertTrue(r.entries().containsKey(name), name + " in " + r.entries().keySet());
            }
            assertTrue(r.entries().keySet().stream().noneMatch(k -> k.contains("post_attention_layernorm")), "one norm per layer");
            assertArrayEquals(new long[] {37}, r.entries().get("lm_head.bias").shape());
        }
        try (HfCheckpoint ck = HfCheckpoint.open(out)) {
            assertEquals(c, ck.config());
            float[] q = new float[p.length];
            ck.load(new ParamLayout(c), q);
            assertArrayEquals(p, q);
        }
        ParamLayout.Block b = new ParamLayout(c).block(0);
        assertEquals(b.attnNormW(), b.mlpNormW(), "both branches read the one norm");
        for (ModelConfig own : new ModelConfig[] {c.toBuilder().headBias(false).build(), c.toBuilder().sharedNorm(false).build(),
                ModelConfig.gpt2Builder(37, 16, 2, 2, 16).headBias(true).build(), c.toBuilder().logitSoftcap(30).build()}) {
            var ownJson = writtenAndReadBack("own-" + own.sharedNorm() + "-" + own.headBias() + "-" + own.style().id() + "-" + own.logitSoftcap(), own);
            assertTrue(ownJson.get("model_type").asText().startsWith("crucible_"), ownJson.toString());
            String refused = assertThrows(IllegalArgumentException.class, () -> HfFormat.forTransformers(own, params(own))).getMessage();
            assertTrue(refused.contains("transformers has no architecture for this model"), refused);
        }
    }

    /**
     * LlamaMLP applies ACT2FN[hidden_act] to its gate: gelu_pytorch_tanh (and gelu_new, gelu_fast, the same function) read
     * as GeGLU and write back as gelu_pytorch_tanh, in every Llama-family architecture; exact GELU there is refused by name.
     */
    @Test
    void gatedGeluIsTheLlamaMlpWithGeluHiddenAct() throws IOException {
        for (String act : new String[] {"gelu_pytorch_tanh", "gelu_new", "gelu_fast"}) {
            ModelConfig read = HfCheckpoint.parseConfig(llamaConfig(10000).put("hidden_act", act), Path.of("config.json"));
            assertEquals(ModelConfig.Glu.GEGLU, read.glu(), act);
        }
        ModelConfig geglu = ModelConfig.llamaBuilder(37, 16, 2, 4, 2, 16).glu(ModelConfig.Glu.GEGLU).build();
        assertEquals("gelu_pytorch_tanh", writtenAndReadBack("geglu", geglu).get("hidden_act").asText());
        var qwen3 = writtenAndReadBack("geglu-qwen3", geglu.toBuilder().qkNorm(true).build());
        assertEquals("qwen3", qwen3.get("model_type").asText());
        assertEquals("gelu_pytorch_tanh", qwen3.get("hidden_act").asText());
        assertEquals("silu", writtenAndReadBack("swiglu", geglu.toBuilder().glu(ModelConfig.Glu.SWIGLU).build()).get("hidden_act").asText());
        assertTrue(parseRefused(llamaConfig(10000).put("hidden_act", "gelu")).contains("hidden_act 'gelu' is not supported"));
        IllegalArgumentException gpt2 = assertThrows(IllegalArgumentException.class, () -> ModelConfig.gpt2Builder(37, 16, 2, 4, 16).glu(ModelConfig.Glu.GEGLU).build());
        assertTrue(gpt2.getMessage().startsWith("glu: "), gpt2.getMessage());
    }

    /**
     * Qwen2 is Llama with biases on the query, key and value projections: written as Qwen2ForCausalLM with a q_proj, k_proj
     * and v_proj bias each (the fused projection's bias, split as its weight is), read back the same; a config.json with
     * Qwen2.5-0.5B's keys and values (as other projects quote the released file, which cannot be fetched here) reads; Llama's attention_bias and mlp_bias read and write as their keys say.
     */
    @Test
    void qwen2AndLlamaBiasesWriteAndRead() throws IOException {
        ModelConfig c = ModelConfig.llamaBuilder(37, 16, 2, 4, 2, 16).linearBias(ModelConfig.LinearBias.QKV).ropeTheta(1e6).build();
        assertTrue(c.hfAsStored());
        Path out = dir.resolve("qwen2");
        float[] p = params(c);
        HfCheckpoint.write(out, c, p, null);
        var json = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("qwen2", json.get("model_type").asText());
        assertEquals("Qwen2ForCausalLM", json.get("architectures").get(0).asText());
        assertTrue(!json.has("attention_bias") && !json.get("use_sliding_window").asBoolean(true), json.toString());
        ParamLayout layout = new ParamLayout(c);
        ParamLayout.Block b = layout.block(1);
        try (Safetensors.Reader r = Safetensors.open(out.resolve("model.safetensors"))) {
            assertArrayEquals(new long[] {16}, r.entries().get("model.layers.1.self_attn.q_proj.bias").shape());
            assertArrayEquals(new long[] {8}, r.entries().get("model.layers.1.self_attn.k_proj.bias").shape());
            float[] v = r.floats("model.layers.1.self_attn.v_proj.bias");
            assertArrayEquals(java.util.Arrays.copyOfRange(p, b.qkvB() + 24, b.qkvB() + 32), v, "v's bias is the fused bias's last 8 values");
            for (String none : new String[] {"self_attn.o_proj.bias", "mlp.gate_proj.bias", "mlp.down_proj.bias", "self_attn.qkv_proj.bias"}) {
                assertTrue(!r.entries().containsKey("model.layers.0." + none), none);
            }
        }
        assertTrue(b.attnOutB() < 0 && b.mlpInB() < 0 && b.mlpOutB() < 0);
        try (HfCheckpoint ck = HfCheckpoint.open(out)) {
            assertEquals(c, ck.config());
            float[] q = new float[p.length];
            ck.load(layout, q);
            assertArrayEquals(p, q);
        }
        var released = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree("""
                {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151643,
                 "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02, "intermediate_size": 4864,
                 "max_position_embeddings": 32768, "max_window_layers": 24, "model_type": "qwen2", "num_attention_heads": 14,
                 "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
                 "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.40.1",
                 "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}""");
        ModelConfig qwen = HfCheckpoint.parseConfig(released, Path.of("config.json"));
        assertEquals(ModelConfig.llamaBuilder(151936, 32768, 24, 14, 2, 896).intermediateSize(4864).tieEmbeddings(true).normEps(1e-6)
                .ropeTheta(1e6).linearBias(ModelConfig.LinearBias.QKV).build(), qwen);
        assertTrue(parseRefused(released.deepCopy().put("use_sliding_window", true)).contains("use_sliding_window is not supported"));
        // Llama's keys: attention_bias (q, k, v and o) and mlp_bias, each way round
        for (boolean attention : new boolean[] {false, true}) {
            for (boolean mlp : new boolean[] {false, true}) {
                var llama = llamaConfig(10000).put("attention_bias", attention).put("mlp_bias", mlp);
                ModelConfig read = HfCheckpoint.parseConfig(llama, Path.of("config.json"));
                assertEquals(ModelConfig.LinearBias.ofLlamaKeys(attention, mlp), read.linearBias());
                assertEquals(attention, read.linearBias().attnOut());
                assertEquals(mlp, read.linearBias().mlp());
                var written = new ObjectMapper().valueToTree(HfFormat.configJson(read, null, null));
                assertEquals("llama", written.get("model_type").asText());
                assertEquals(attention, written.get("attention_bias").asBoolean());
                assertEquals(mlp, written.get("mlp_bias").asBoolean());
            }
        }
        // every bias (LlamaForCausalLM's attention_bias and mlp_bias): gate's and up's are the fused MLP input bias's two halves
        ModelConfig all = ModelConfig.llamaBuilder(37, 16, 2, 4, 2, 16).linearBias(ModelConfig.LinearBias.ALL).intermediateSize(24).build();
        Path a = dir.resolve("llama-biases");
        float[] pa = params(all);
        HfCheckpoint.write(a, all, pa, null);
        ParamLayout.Block ab = new ParamLayout(all).block(0);
        try (Safetensors.Reader r = Safetensors.open(a.resolve("model.safetensors"))) {
            assertArrayEquals(java.util.Arrays.copyOfRange(pa, ab.mlpInB(), ab.mlpInB() + 24), r.floats("model.layers.0.mlp.gate_proj.bias"));
            assertArrayEquals(java.util.Arrays.copyOfRange(pa, ab.mlpInB() + 24, ab.mlpInB() + 48), r.floats("model.layers.0.mlp.up_proj.bias"));
            assertArrayEquals(java.util.Arrays.copyOfRange(pa, ab.attnOutB(), ab.attnOutB() + 16), r.floats("model.layers.0.self_attn.o_proj.bias"));
            assertArrayEquals(new long[] {16}, r.entries().get("model.layers.0.mlp.down_proj.bias").shape());
        }
        try (HfCheckpoint ck = HfCheckpoint.open(a)) {
            assertEquals(all, ck.config());
            float[] q = new float[pa.length];
            ck.load(new ParamLayout(all), q);
            assertArrayEquals(pa, q);
        }
        // q, k and v biases with QK-norm is no architecture of transformers': Crucible's own, which keeps its biases
        ModelConfig own = c.toBuilder().qkNorm(true).build();
        var ownJson = writtenAndReadBack("own-qkv-bias", own);
        assertEquals("crucible_qwen3", ownJson.get("model_type").asText());
        assertEquals("qkv", ownJson.get("crucible").get("linear_bias").asText());
        String refusedExport = assertThrows(IllegalArgumentException.class, () -> HfFormat.forTransformers(own, params(own))).getMessage();
        assertTrue(refusedExport.contains("linear_bias: qkv with qk_norm: head"), refusedExport);
        var badBias = llamaConfig(10000).put("model_type", "crucible_llama");
        badBias.putObject("crucible").put("linear_bias", "some");
        assertTrue(parseRefused(badBias).contains("unknown linear_bias 'some'"));
        String styleBias = assertThrows(IllegalArgumentException.class,
                () -> ModelConfig.gpt2Builder(30, 8, 1, 2, 8).linearBias(ModelConfig.LinearBias.QKV).build()).getMessage();
        assertTrue(styleBias.startsWith("linear_bias: "), styleBias);
    }

    /**
     * The first OLMo is Llama with a LayerNorm that learns nothing (OlmoLayerNorm, eps fixed at 1e-5): written as
     * OlmoForCausalLM with no norm tensors at all, read back the same; a config.json with OlmoConfig's keys in the shape of
     * OLMo-1B's reads (written here from OlmoConfig's fields; the released file cannot be fetched where the tests run), with
     * OLMo 1.7's clip_qkv too; with anything OLMo's blocks lack, such a norm is Crucible's own.
     */
    @Test
    void olmoCheckpointsWriteAndRead() throws IOException {
        ModelConfig c = ModelConfig.llamaBuilder(37, 16, 2, 4, 4, 16).norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM).normEps(1e-5)
                .tieEmbeddings(true).build();
        assertTrue(c.olmo() && c.hfAsStored());
        Path out = dir.resolve("olmo");
        float[] p = params(c);
        HfCheckpoint.write(out, c, p, null);
        var json = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("olmo", json.get("model_type").asText());
        assertEquals("OlmoForCausalLM", json.get("architectures").get(0).asText());
        assertTrue(json.has("clip_qkv") && json.get("clip_qkv").isNull() && !json.has("rms_norm_eps") && !json.has("mlp_bias"), json.toString());
        try (Safetensors.Reader r = Safetensors.open(out.resolve("model.safetensors"))) {
            assertTrue(r.entries().keySet().stream().noneMatch(k -> k.contains("norm")), r.entries().keySet().toString());
            assertTrue(r.entries().containsKey("model.layers.1.self_attn.q_proj.weight") && r.entries().containsKey("model.layers.1.mlp.up_proj.weight"));
        }
        try (HfCheckpoint ck = HfCheckpoint.open(out)) {
            assertEquals(c, ck.config());
            float[] q = new float[p.length];
            ck.load(new ParamLayout(c), q);
            assertArrayEquals(p, q);
        }
        var released = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree("""
                {"architectures": ["OlmoForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": null,
                 "clip_qkv": null, "eos_token_id": 50279, "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
                 "intermediate_size": 8192, "max_position_embeddings": 2048, "model_type": "olmo", "num_attention_heads": 16,
                 "num_hidden_layers": 16, "num_key_value_heads": 16, "pad_token_id": 1, "rope_scaling": null, "rope_theta": 10000.0,
                 "tie_word_embeddings": true, "torch_dtype": "float32", "use_cache": true, "vocab_size": 50304}""");
        ModelConfig olmo = HfCheckpoint.parseConfig(released, Path.of("config.json"));
        assertEquals(ModelConfig.llamaBuilder(50304, 2048, 16, 16, 16, 2048).intermediateSize(8192).tieEmbeddings(true).normEps(1e-5)
                .norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM).build(), olmo);
        assertTrue(olmo.olmo());
        // OLMo 1.7's clip_qkv: read, written back as it was, and OLMo's alone (elsewhere Crucible's own)
        ModelConfig clipped = HfCheckpoint.parseConfig(released.deepCopy().put("clip_qkv", 8.0), Path.of("config.json"));
        assertEquals(olmo.toBuilder().clipQkv(8).build(), clipped);
        assertEquals(8.0, HfFormat.configJson(clipped, null, null).get("clip_qkv"));
        assertTrue(parseRefused(released.deepCopy().put("clip_qkv", "8")).contains("clip_qkv must be a positive number or null"));
        assertTrue(parseRefused(released.deepCopy().put("clip_qkv", 0)).contains("clip_qkv must be a positive number or null, got 0"));
        ModelConfig smallClipped = c.toBuilder().clipQkv(8).build(); // OLMo 1.7's blocks at a test's size, written and read back
        assertEquals(8.0, writtenAndReadBack("olmo-clip", smallClipped).get("clip_qkv").asDouble());
        ModelConfig llamaClip = ModelConfig.llamaBuilder(37, 16, 2, 4, 4, 16).clipQkv(4).build();
        assertTrue(!llamaClip.hfExportable());
        var lcJson = writtenAndReadBack("llama-clip", llamaClip);
        assertEquals("crucible_llama", lcJson.get("model_type").asText());
        assertEquals(4.0, lcJson.get("crucible").get("clip_qkv").asDouble());
        String clipRefused = assertThrows(IllegalArgumentException.class, () -> HfFormat.forTransformers(llamaClip, params(llamaClip))).getMessage();
        assertTrue(clipRefused.contains("clip_qkv: 4.0; transformers clamps q, k and v only in OlmoForCausalLM"), clipRefused);
        var badClip = lcJson.deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) badClip.get("crucible")).put("clip_qkv", "abc");
        assertTrue(parseRefused(badClip).contains("crucible.clip_qkv must be a number"));
        var ai2 = new ObjectMapper().createObjectNode().put("model_type", "olmo").put("d_model", 2048).put("n_heads", 16);
        assertTrue(parseRefused(ai2).contains("with -hf in its name"));
        assertEquals(ModelConfig.LinearBias.ATTENTION, HfCheckpoint.parseConfig(released.deepCopy().put("attention_bias", true), Path.of("config.json")).linearBias());
        // the same norm beside QK-norm, or with another eps: no architecture of transformers', Crucible's own
        for (ModelConfig own : new ModelConfig[] {c.toBuilder().qkNorm(true).build(), c.toBuilder().normEps(1e-6).build()}) {
            var ownJson = writtenAndReadBack("own-olmo-" + own.qkNorm().id() + own.normEps(), own);
            assertTrue(ownJson.get("model_type").asText().startsWith("crucible_"), ownJson.toString());
            assertEquals("nonparametric_layernorm", ownJson.get("crucible").get("norm").asText());
            String refusedExport = assertThrows(IllegalArgumentException.class, () -> HfFormat.forTransformers(own, params(own))).getMessage();
            assertTrue(refusedExport.contains("nonparametric_layernorm only as OlmoForCausalLM"), refusedExport);
        }
    }

    /**
     * A checkpoint as EleutherAI's Pythia repositories hold it: config.json as transformers 4.24 wrote it (rotary_pct,
     * rotary_emb_base, use_parallel_residual, hidden_act "gelu", torch_dtype float16), float16 weights, the causal-mask
     * and RoPE-frequency buffers old transformers saved, and query_key_value's rows grouped by head ([q_h; k_h; v_h] for
     * each head, GPTNeoXAttention's view(..., heads, 3·head_size)). Each of q, k and v lands in its own rows here: the
     * file's row (head h, part p, j) is given the value 100·p + 10·h + j (exact in float16), so a wrong regrouping shows by value.
     */
    @Test
    void pythiaCheckpointImports() throws IOException {
        int vocab = 40, d = 16, heads = 2, hs = d / heads, inner = 64;
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("GPTNeoXForCausalLM"));
        config.put("bos_token_id", 0);
        config.put("eos_token_id", 0);
        config.put("hidden_act", "gelu");
        config.put("hidden_size", d);
        config.put("initializer_range", 0.02);
        config.put("intermediate_size", inner);
        config.put("layer_norm_eps", 1e-5);
        config.put("max_position_embeddings", 32);
        config.put("model_type", "gpt_neox");
        config.put("num_attention_heads", heads);
        config.put("num_hidden_layers", 1);
        config.put("rotary_emb_base", 10000);
        config.put("rotary_pct", 0.25);
        config.put("tie_word_embeddings", false);
        config.put("torch_dtype", "float16");
        config.put("transformers_version", "4.24.0");
        config.put("use_cache", true);
        config.put("use_parallel_residual", true);
        config.put("vocab_size", vocab);
        Path src = dir.resolve("pythia");
        Files.createDirectories(src);
        new ObjectMapper().writeValue(src.resolve("config.json").toFile(), config);
        List<Raw> raw = new java.util.ArrayList<>();
        java.util.function.BiFunction<String, int[], Raw> f16 = (name, shape) -> {
            int n = java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            ByteBuffer b = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) b.putShort(Float.floatToFloat16(name.contains("query_key_value.weight") ? 0 : 0.25f + i % 7 * 0.125f));
            return new Raw(name, "F16", shape, b.array());
        };
        String l0 = "gpt_neox.layers.0.";
        ByteBuffer qkv = ByteBuffer.allocate(2 * 3 * d * d).order(ByteOrder.LITTLE_ENDIAN), qkvBias = ByteBuffer.allocate(2 * 3 * d).order(ByteOrder.LITTLE_ENDIAN);
        for (int h = 0; h < heads; h++) {
            for (int part = 0; part < 3; part++) {
                for (int j = 0; j < hs; j++) {
                    for (int c = 0; c < d; c++) qkv.putShort(Float.floatToFloat16(100 * part + 10 * h + j));
                    qkvBias.putShort(Float.floatToFloat16(-(100 * part + 10 * h + j)));
                }
            }
        }
        raw.add(new Raw(l0 + "attention.query_key_value.weight", "F16", new int[] {3 * d, d}, qkv.array()));
        raw.add(new Raw(l0 + "attention.query_key_value.bias", "F16", new int[] {3 * d}, qkvBias.array()));
        for (String[] t : new String[][] {{"gpt_neox.embed_in.weight", vocab + "," + d}, {"embed_out.weight", vocab + "," + d},
                {"gpt_neox.final_layer_norm.weight", "" + d}, {"gpt_neox.final_layer_norm.bias", "" + d},
                {l0 + "input_layernorm.weight", "" + d}, {l0 + "input_layernorm.bias", "" + d},
                {l0 + "post_attention_layernorm.weight", "" + d}, {l0 + "post_attention_layernorm.bias", "" + d},
                {l0 + "attention.dense.weight", d + "," + d}, {l0 + "attention.dense.bias", "" + d},
                {l0 + "mlp.dense_h_to_4h.weight", inner + "," + d}, {l0 + "mlp.dense_h_to_4h.bias", "" + inner},
                {l0 + "mlp.dense_4h_to_h.weight", d + "," + inner}, {l0 + "mlp.dense_4h_to_h.bias", "" + d}}) {
            raw.add(f16.apply(t[0], java.util.Arrays.stream(t[1].split(",")).mapToInt(Integer::parseInt).toArray()));
        }
        raw.add(new Raw(l0 + "attention.bias", "BOOL", new int[] {1, 1, 2, 2}, new byte[] {1, 0, 1, 1}));
        raw.add(f32(l0 + "attention.masked_bias", new int[] {}, new float[] {-1e9f}));
        raw.add(f32(l0 + "attention.rotary_emb.inv_freq", new int[] {1}, new float[] {1f}));
        writeRaw(src.resolve("model.safetensors"), raw);
        try (HfCheckpoint ck = HfCheckpoint.open(src)) {
            ModelConfig c = ck.config();
            assertEquals(ModelConfig.gptNeoxBuilder(vocab, 32, 1, heads, d).intermediateSize(inner).build(), c);
            assertEquals(2, c.rotaryDims(), "int(8 · 0.25) dimensions of each head rotate");
            ParamLayout layout = new ParamLayout(c);
            float[] p = new float[layout.size()];
            ck.load(layout, p);
            ParamLayout.Block b = layout.block(0);
            for (int part = 0; part < 3; part++) {
                for (int h = 0; h < heads; h++) {
                    for (int j = 0; j < hs; j++) {
                        int row = part * d + h * hs + j; // ours: every query head, then every key head, then every value head
                        assertEquals(100 * part + 10 * h + j, p[b.qkvW() + row * d + d - 1], "qkv row " + row);
                        assertEquals(-(100 * part + 10 * h + j), p[b.qkvB() + row], "qkv bias " + row);
                    }
                }
            }
            assertEquals(0.25f, p[layout.lmHead()], "embed_out is the untied head");
            Path back = dir.resolve("pythia-back");
            HfCheckpoint.write(back, c, p, src); // and out again in the file's grouping
            try (Safetensors.Reader r = Safetensors.open(back.resolve("model.safetensors"))) {
                float[] w = r.floats(l0 + "attention.query_key_value.weight");
                for (int row = 0; row < 3 * d; row++) {
                    int h = row / (3 * hs), part = row % (3 * hs) / hs, j = row % hs;
                    assertEquals(100 * part + 10 * h + j, w[row * d], "exported query_key_value row " + row);
                }
            }
        }
        config.put("attention_bias", false);
        new ObjectMapper().writeValue(src.resolve("config.json").toFile(), config);
        String msg = assertThrows(IOException.class, () -> HfCheckpoint.open(src).close()).getMessage();
        assertTrue(msg.contains("attention_bias false is not supported"), msg);
        config.put("attention_bias", true);
        config.put("rotary_pct", 0.3); // head size 10: int(10 · 0.3) = 3 dimensions, an odd count, refused
        config.put("hidden_size", 40);
        config.put("num_attention_heads", 4);
        new ObjectMapper().writeValue(src.resolve("config.json").toFile(), config);
        msg = assertThrows(IOException.class, () -> HfCheckpoint.open(src).close()).getMessage();
        assertTrue(msg.contains("config.json: rotary_pct 0.3 rotates int(10 x 0.3) = 3 dimensions of each head; RoPE needs an even number"), msg);
    }

    /**
     * A model transformers cannot compute as stored keeps its own fields in config.json under a
     * model_type transformers refuses, and reads back as the same config. For transformers, LayerNorm
     * Scaling folds into the gains (the same function, up to float rounding); Post-LN is refused.
     */
    @Test
    void crucibleOnlyModelsAreMarkedFoldedForExportOrRefused() throws IOException {
        ModelConfig lns = ModelConfig.gpt2Builder(37, 16, 3, 2, 16).normScaling(ModelConfig.NormScaling.LAYER_INDEX).build();
        ModelConfig mix = ModelConfig.llamaBuilder(37, 16, 4, 2, 2, 16).normPlacement(ModelConfig.NormPlacement.MIX).mixLnFraction(0.5).build();
        ModelConfig output = ModelConfig.gptNeoxBuilder(37, 16, 2, 2, 16).parallelResidual(false).normPlacement(ModelConfig.NormPlacement.OUTPUT).build();
        for (ModelConfig c : new ModelConfig[] {lns, mix, output}) {
            assertEquals("crucible_" + c.style().id(), writtenAndReadBack("own-" + c.style().id(), c).get("model_type").asText());
        }
        // Llama with QK-norm is Qwen3's architecture; GPT-2 with QK-norm has none
        ModelConfig qwen = ModelConfig.llamaBuilder(37, 16, 2, 2, 2, 16).qkNorm(true).build();
        Path q = dir.resolve("qwen3");
        HfCheckpoint.write(q, qwen, params(qwen), null);
        var qjson = new ObjectMapper().readTree(q.resolve("config.json").toFile());
        assertEquals("qwen3", qjson.get("model_type").asText());
        assertEquals("Qwen3ForCausalLM", qjson.get("architectures").get(0).asText());
        try (HfCheckpoint ck = HfCheckpoint.open(q)) {
            assertEquals(qwen, ck.config());
            assertTrue(ck.dtypes().containsKey("model.layers.1.self_attn.k_norm.weight"));
        }
        ModelConfig gptQk = ModelConfig.gpt2Builder(37, 16, 2, 2, 16).qkNorm(true).build();
        String noArch = assertThrows(IllegalArgumentException.class, () -> HfFormat.forTransformers(gptQk, params(gptQk))).getMessage();
        assertTrue(noArch.contains("Qwen3ForCausalLM"), noArch);
        // a single scale spreads into Llama's gain vector: the exported model computes the same
        ModelConfig osp = ModelConfig.llamaBuilder(37, 16, 2, 2, 2, 16).norm(ModelConfig.Norm.SINGLE_SCALE_RMSNORM).build();
        float[] ospParams = params(osp);
        HfFormat.ForTransformers spread = HfFormat.forTransformers(osp, ospParams);
        assertEquals(ModelConfig.llama(37, 16, 2, 2, 2, 16), spread.config());
        int tb = 2, tt = 10;
        int[] tk = new java.util.SplittableRandom(3).ints(tb * tt, 0, 37).toArray();
        try (dev.crucible.tensor.WorkerPool pool = new dev.crucible.tensor.WorkerPool(2)) {
            Model a = Model.forInference(osp, tb, tt, pool), e = Model.forInference(spread.config(), tb, tt, pool);
            System.arraycopy(ospParams, 0, a.params, 0, ospParams.length);
            System.arraycopy(spread.params(), 0, e.params, 0, spread.params().length);
            assertEquals(a.forward(tk, tk, tb, tt), e.forward(tk, tk, tb, tt), 0f, "spreading a scalar gain changes nothing");
        }
        String refused = assertThrows(IllegalArgumentException.class, () -> HfFormat.forTransformers(mix, params(mix))).getMessage();
        assertTrue(refused.contains("2 Post-LN layer(s)") && refused.contains("norm_placement: pre"), refused);
        String outputRefused = assertThrows(IllegalArgumentException.class, () -> HfFormat.forTransformers(output, params(output))).getMessage();
        assertTrue(outputRefused.contains("norm_placement: output"), outputRefused);

        // LayerNorm Scaling folds into the gains and biases, a parallel GPT-NeoX block's two norms as a sequential one's; a
        // Qwen2's projection biases are copied as they are
        ModelConfig neoxLns = ModelConfig.gptNeoxBuilder(37, 16, 3, 2, 16).normScaling(ModelConfig.NormScaling.LAYER_INDEX).build();
        ModelConfig qwen2Lns = ModelConfig.llamaBuilder(37, 16, 3, 2, 2, 16).linearBias(ModelConfig.LinearBias.QKV)
                .normScaling(ModelConfig.NormScaling.LAYER_INDEX).build();
        for (ModelConfig c : new ModelConfig[] {lns, neoxLns, qwen2Lns}) {
            float[] p = params(c);
            HfFormat.ForTransformers hf = HfFormat.forTransformers(c, p);
            assertTrue(hf.config().hfAsStored());
            assertEquals(c.toBuilder().normScaling(ModelConfig.NormScaling.NONE).build(), hf.config());
            assertFoldedComputesTheSame(c.style().id(), c, p, hf);
        }
    }

    /** The model transformers gets from forTransformers gives the loss and probabilities of the model as Crucible holds it. */
    private static void assertFoldedComputesTheSame(String what, ModelConfig c, float[] p, HfFormat.ForTransformers hf) {
        int b = 2, t = 10;
        int[] tok = new java.util.SplittableRandom(4).ints(b * t, 0, c.vocabSize()).toArray(), tgt = new java.util.SplittableRandom(5).ints(b * t, 0, c.vocabSize()).toArray();
        try (dev.crucible.tensor.WorkerPool pool = new dev.crucible.tensor.WorkerPool(2)) {
            Model held = Model.forInference(c, b, t, pool), folded = Model.forInference(hf.config(), b, t, pool);
            System.arraycopy(p, 0, held.params, 0, p.length);
            System.arraycopy(hf.params(), 0, folded.params, 0, hf.params().length);
            float a = held.forward(tok, tgt, b, t), f = folded.forward(tok, tgt, b, t);
            assertEquals(a, f, 1e-5 * a, what + ": the folded model computes the same loss");
            dev.crucible.tensor.Check.close(what + " probabilities", dev.crucible.tensor.Check.toDouble(held.probabilitiesDense()),
                    folded.probabilitiesDense(), 1e-6, 1e-4);
        }
    }

    /**
     * Gemma's 1 + w gains and an embedding multiplier outside a model transformers computes as Gemma fold for it: 1 + w into
     * an RMSNorm's gains (before LayerNorm Scaling's factor), the multiplier into an untied embedding (the head keeps the
     * unscaled one; GPT-2's learned positions are not scaled).
     */
    @Test
    void gemmaNormsAndEmbeddingMultipliersFoldForTransformers() {
        ModelConfig[] configs = {ModelConfig.gpt2Builder(37, 16, 2, 2, 16).embeddingMultiplier(2).build(),
                ModelConfig.llamaBuilder(37, 16, 2, 2, 2, 16).norm(ModelConfig.Norm.OFFSET_RMSNORM).embeddingMultiplier(3).build(),
                ModelConfig.llamaBuilder(37, 16, 3, 2, 2, 16).norm(ModelConfig.Norm.OFFSET_RMSNORM).normScaling(ModelConfig.NormScaling.LAYER_INDEX).build(),
                gemma(16).nLayer(3).normScaling(ModelConfig.NormScaling.LAYER_INDEX).build(),
                // Phi's one norm, scaled once for both branches
                ModelConfig.gptNeoxBuilder(37, 16, 3, 2, 16).sharedNorm(true).headBias(true).normScaling(ModelConfig.NormScaling.LAYER_INDEX).build()};
        for (ModelConfig c : configs) {
            float[] p = params(c);
            HfFormat.ForTransformers hf = HfFormat.forTransformers(c, p);
            ModelConfig to = hf.config();
            assertTrue(to.hfAsStored() && to.embeddingMultiplier() == 1 && to.norm() == c.styleNorm(), to.toString());
            assertTrue(to.norm() != ModelConfig.Norm.OFFSET_RMSNORM && to.tieEmbeddings() == (c.tieEmbeddings() && c.embeddingMultiplier() == 1), to.toString());
            assertFoldedComputesTheSame(c.toString(), c, p, hf);
        }
        ModelConfig g = gemma(16).build();
        float[] p = params(g);
        HfFormat.ForTransformers same = HfFormat.forTransformers(g, p);
        assertEquals(g, same.config());
        assertArrayEquals(p, same.params(), "Gemma's own model as it is");
    }

    /**
     * Embedding projections are stored as Crucible's own tensors under a Crucible model_type and read
     * back as they were; for transformers they fold into the embeddings (wte·R1ᵀ, wpe·R1ᵀ) and an
     * untied head (head·R2), which compute the same model up to float rounding.
     */
    @Test
    void embeddingProjectionsRoundTripAndFoldForTransformers() throws IOException {
        // with Qwen2's q, k and v biases and with OLMo's norms too: the biases copied, the norms left without tensors
        for (ModelConfig c : new ModelConfig[] {ModelConfig.gpt2Builder(37, 16, 2, 2, 16).embeddingProjection(true).build(),
                ModelConfig.llamaBuilder(37, 16, 2, 2, 2, 16).tieEmbeddings(false).embeddingProjection(true).build(),
                ModelConfig.llamaBuilder(37, 16, 2, 2, 2, 16).linearBias(ModelConfig.LinearBias.QKV).embeddingProjection(true).build(),
                ModelConfig.llamaBuilder(37, 16, 2, 2, 2, 16).norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM).normEps(1e-5).embeddingProjection(true).build(),
                gemma(16).embeddingProjection(true).build(),
                ModelConfig.gptNeoxBuilder(37, 16, 2, 2, 16).sharedNorm(true).headBias(true).gelu(ModelConfig.Gelu.TANH).embeddingProjection(true).build(),
                // Gemma's norm and an embedding multiplier outside Gemma: exported as Llama with 1 + w gains, the multiplier in an untied embedding
                ModelConfig.llamaBuilder(37, 16, 2, 2, 2, 16).norm(ModelConfig.Norm.OFFSET_RMSNORM).embeddingMultiplier(3).embeddingProjection(true).build()}) {
            float[] p = params(c);
            String type = HfFormat.configJson(c.toBuilder().embeddingProjection(false).build(), null, null).get("model_type").toString()
                    .replaceFirst("^" + HfFormat.CRUCIBLE_PREFIX, "");
            Path out = dir.resolve("embproj-" + type + "-" + c.norm().id());
            HfCheckpoint.write(out, c, p, null);
            var json = new ObjectMapper().readTree(out.resolve("config.json").toFile());
            assertEquals("crucible_" + type, json.get("model_type").asText());
            assertTrue(json.get("crucible").get("embedding_projection").asBoolean());
            try (HfCheckpoint ck = HfCheckpoint.open(out)) {
                assertEquals(c, ck.config());
                assertTrue(ck.dtypes().containsKey(ParamLayout.EMBED_PROJ) && ck.dtypes().containsKey(ParamLayout.HEAD_PROJ));
            }
            HfFormat.ForTransformers hf = HfFormat.forTransformers(c, p);
            assertTrue(hf.config().hfAsStored() && !hf.config().tieEmbeddings() && !hf.config().embeddingProjection(), hf.config().toString());
            assertFoldedComputesTheSame(type, c, p, hf);
        }
    }
}
