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
            ModelConfig.llamaBuilder(30, 8, 1, 2, 1, 8).intermediateSize(24).tieEmbeddings(false).normEps(1e-5).ropeTheta(500000).build()};

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
            Path src = dir.resolve("src-" + c.style().id() + c.vocabSize()), back = dir.resolve("back-" + c.style().id() + c.vocabSize());
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
        assertTrue(refused("{\"model_type\": \"mistral\"}").contains("model_type 'mistral' is not supported"));
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
        assertTrue(msg.contains("pickle, which can execute code"), msg);
    }

    private static com.fasterxml.jackson.databind.node.ObjectNode llamaConfig(double theta) {
        ModelConfig c = ModelConfig.llamaBuilder(30, 8, 1, 2, 1, 8).ropeTheta(theta).build();
        return new ObjectMapper().valueToTree(HfFormat.configJson(c, null, null));
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

        var llama3 = llamaConfig(10000);
        llama3.remove("rope_theta");
        llama3.putObject("rope_parameters").put("rope_theta", 500000).put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192);
        String msg = parseRefused(llama3);
        assertTrue(msg.contains("rope_parameters.rope_type 'llama3' is not supported"), msg);
        var legacy = llamaConfig(10000);
        legacy.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0);
        assertTrue(parseRefused(legacy).contains("rope_scaling.rope_type 'llama3' is not supported"));

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
     * A model transformers cannot compute as stored keeps its own fields in config.json under a
     * model_type transformers refuses, and reads back as the same config. For transformers, LayerNorm
     * Scaling folds into the gains (the same function, up to float rounding); Post-LN is refused.
     */
    @Test
    void crucibleOnlyModelsAreMarkedFoldedForExportOrRefused() throws IOException {
        ModelConfig lns = ModelConfig.gpt2Builder(37, 16, 3, 2, 16).normScaling(ModelConfig.NormScaling.LAYER_INDEX).build();
        ModelConfig mix = ModelConfig.llamaBuilder(37, 16, 4, 2, 2, 16).normPlacement(ModelConfig.NormPlacement.MIX).mixLnFraction(0.5).build();
        for (ModelConfig c : new ModelConfig[] {lns, mix}) {
            Path out = dir.resolve("own-" + c.style().id());
            HfCheckpoint.write(out, c, params(c), null);
            var json = new ObjectMapper().readTree(out.resolve("config.json").toFile());
            assertEquals("crucible_" + c.style().id(), json.get("model_type").asText());
            try (HfCheckpoint ck = HfCheckpoint.open(out)) {
                assertEquals(c, ck.config());
            }
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

        float[] p = params(lns);
        HfFormat.ForTransformers hf = HfFormat.forTransformers(lns, p);
        assertTrue(hf.config().hfAsStored());
        assertEquals(ModelConfig.gpt2(37, 16, 3, 2, 16), hf.config());
        int b = 2, t = 10;
        int[] tok = new java.util.SplittableRandom(1).ints(b * t, 0, 37).toArray(), tgt = new java.util.SplittableRandom(2).ints(b * t, 0, 37).toArray();
        try (dev.crucible.tensor.WorkerPool pool = new dev.crucible.tensor.WorkerPool(2)) {
            Model scaled = Model.forInference(lns, b, t, pool), folded = Model.forInference(hf.config(), b, t, pool);
            System.arraycopy(p, 0, scaled.params, 0, p.length);
            System.arraycopy(hf.params(), 0, folded.params, 0, p.length);
            float a = scaled.forward(tok, tgt, b, t), f = folded.forward(tok, tgt, b, t);
            assertEquals(a, f, 1e-5 * a, "the folded model computes the same loss");
            dev.crucible.tensor.Check.close("probabilities", dev.crucible.tensor.Check.toDouble(scaled.probabilitiesDense()), folded.probabilitiesDense(), 1e-6, 1e-4);
        }
    }

    /**
     * Embedding projections are stored as Crucible's own tensors under a Crucible model_type and read
     * back as they were; for transformers they fold into the embeddings (wte·R1ᵀ, wpe·R1ᵀ) and an
     * untied head (head·R2), which compute the same model up to float rounding.
     */
    @Test
    void embeddingProjectionsRoundTripAndFoldForTransformers() throws IOException {
        for (ModelConfig c : new ModelConfig[] {ModelConfig.gpt2Builder(37, 16, 2, 2, 16).embeddingProjection(true).build(),
                ModelConfig.llamaBuilder(37, 16, 2, 2, 2, 16).tieEmbeddings(false).embeddingProjection(true).build()}) {
            float[] p = params(c);
            Path out = dir.resolve("embproj-" + c.style().id());
            HfCheckpoint.write(out, c, p, null);
            var json = new ObjectMapper().readTree(out.resolve("config.json").toFile());
            assertEquals("crucible_" + c.style().id(), json.get("model_type").asText());
            assertTrue(json.get("crucible").get("embedding_projection").asBoolean());
            try (HfCheckpoint ck = HfCheckpoint.open(out)) {
                assertEquals(c, ck.config());
                assertTrue(ck.dtypes().containsKey(ParamLayout.EMBED_PROJ) && ck.dtypes().containsKey(ParamLayout.HEAD_PROJ));
            }
            HfFormat.ForTransformers hf = HfFormat.forTransformers(c, p);
            assertTrue(hf.config().hfAsStored() && !hf.config().tieEmbeddings() && !hf.config().embeddingProjection(), hf.config().toString());
            int b = 2, t = 10;
            int[] tok = new java.util.SplittableRandom(4).ints(b * t, 0, 37).toArray(), tgt = new java.util.SplittableRandom(5).ints(b * t, 0, 37).toArray();
            try (dev.crucible.tensor.WorkerPool pool = new dev.crucible.tensor.WorkerPool(2)) {
                Model projected = Model.forInference(c, b, t, pool), folded = Model.forInference(hf.config(), b, t, pool);
                System.arraycopy(p, 0, projected.params, 0, p.length);
                System.arraycopy(hf.params(), 0, folded.params, 0, hf.params().length);
                float a = projected.forward(tok, tgt, b, t), f = folded.forward(tok, tgt, b, t);
                assertEquals(a, f, 1e-5 * a, c.style() + ": the folded model computes the same loss");
                dev.crucible.tensor.Check.close("probabilities", dev.crucible.tensor.Check.toDouble(projected.probabilitiesDense()),
                        folded.probabilitiesDense(), 1e-6, 1e-4);
            }
        }
    }
}
