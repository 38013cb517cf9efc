package dev.crucible.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import dev.crucible.model.optim.Hyperparameters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configs map onto records; every mistake is reported with file, line and the dotted key. */
class ConfigLoaderTest {
    @TempDir
    Path dir;

    private RunConfig load(String yaml) throws IOException {
        Path f = dir.resolve("run.yaml");
        Files.writeString(f, yaml);
        return ConfigLoader.load(f, RunConfig.class);
    }

    private String error(String yaml) {
        return assertThrows(ConfigLoader.ConfigException.class, () -> load(yaml)).getMessage();
    }

    private static void assertContains(String message, String expected) {
        assertTrue(message.contains(expected), "expected '" + expected + "' in: " + message);
    }

    /** examples/demo-llama.yaml documents every key: it loads, and with its commented alternatives switched on, so do they. */
    @Test
    void theDocumentedExampleAndItsRegimesLoad() throws IOException {
        Path example = Path.of("..", "examples", "demo-llama.yaml");
        RunConfig c = ConfigLoader.load(example, RunConfig.class);
        assertEquals("wsd", c.schedule().kind());
        String regimes = Files.readString(example).replaceFirst("  train: .*\n  val: .*\n  max_unique_tokens: 0 .*\n", "")
                .replace("  # sources:", "  sources:").replace("  #   - {name: new", "    - {name: new").replace("  #   - {name: old", "    - {name: old")
                .replace("  # distill:", "  distill:").replace("  #   teacher: DIR", "    teacher: DIR").replace("  #   weight:", "    weight:")
                .replace("  #   temperature:", "    temperature:").replace("  #   until_step:", "    until_step:").replace("  #   select:", "    select:");
        RunConfig r = load(regimes);
        assertEquals(java.util.List.of("new", "old"), r.data().streams().stream().map(RunConfig.Source::name).toList());
        assertEquals(0.05, r.data().streams().get(1).weight());
        assertEquals(60, r.training().distill().untilStep());
        assertEquals(0.9, r.training().distill().select().high());
        assertContains(error("data: {train: a.bin}\ntraining: {steps: 10, distill: {teacher: t, until_step: 11}}\n"), "training.distill.until_step: 11 is beyond");
        assertContains(error("data: {train: a.bin, sources: [{name: x, train: b.bin}]}\n"), "data.sources: give train or sources, not both");
        assertContains(error("data: {sources: [{name: x, train: a.bin}, {name: x, train: b.bin}]}\n"), "the name 'x' appears twice");
        assertContains(error("data: {train: a.bin}\ntraining: {steps: 100}\nschedule: {kind: infinite, warmup_steps: 80}\n"), "exceed training.steps 100");
        RunConfig.Schedule inf = load("data: {train: a.bin}\ntraining: {steps: 100}\nschedule: {kind: infinite, warmup_steps: 5}\n").schedule();
        assertEquals(null, inf.cooldownSteps(), "left to the run: a resume with more steps takes the run's");
        assertEquals(10, inf.phasesFor(100).cooldownSteps(), "a tenth of the steps");
        assertEquals(20, inf.phasesFor(100).annealSteps(), "a fifth");
        assertContains(error("data: {train: a.bin}\nschedule: {kind: cosine, anneal_steps: 5}\n"), "schedule.anneal_steps: a setting of the infinite schedule");
        assertEquals(20, load("data: {train: a.bin}\ntraining: {steps: 100, distill: {teacher: t}}\n").training().distill().untilStep(), "a fifth");
        ModelConfig qwen2 = load(Files.readString(example).replace("  # linear_bias: qkv ", "  linear_bias: qkv ")
                .replace("  # clip_qkv: 8.0 ", "  clip_qkv: 8.0 ").replace("  # logit_softcap: 30.0 ", "  logit_softcap: 30.0 ").replace("  # head_dim: 96 ", "  head_dim: 96 ")
                .replace("  # glu: geglu ", "  glu: geglu ").replace("  # embedding_multiplier: 13.856406 ", "  embedding_multiplier: 13.856406 ")
                .replace("  norm: rmsnorm ", "  norm: offset_rmsnorm ")).model().resolve();
        assertEquals(ModelConfig.LinearBias.QKV, qwen2.linearBias(), "the example's linear_bias, switched on");
        assertEquals(8.0, qwen2.clipQkv(), "and its clip_qkv");
        assertEquals(30.0, qwen2.logitSoftcap(), "and its logit_softcap");
        assertEquals(384, qwen2.attentionWidth(), "and its head_dim");
        assertEquals(ModelConfig.Glu.GEGLU, qwen2.glu(), "and its glu");
        assertEquals((float) 13.856406, qwen2.embeddingMultiplier(), "and its embedding_multiplier, held as the float the model multiplies by");
        assertEquals(ModelConfig.Norm.OFFSET_RMSNORM, qwen2.norm(), "and Gemma's norm");
        ModelConfig gemma = load(Files.readString(example).replace("  # glu: geglu ", "  glu: geglu ").replace("  norm: rmsnorm ", "  norm: offset_rmsnorm ")
                .replace("  # embedding_multiplier: 13.856406 ", "  embedding_multiplier: 13.856406 ")).model().resolve();
        assertTrue(gemma.gemma(), "the example's Gemma keys make a model that exports as Gemma: " + gemma);
        assertEquals(qwen2, RunConfig.ModelSpec.of(qwen2, null).resolve());
        // the GPT-NeoX keys, switched on with that style (which has no grouped-query attention)
        String neox = Files.readString(example).replace("  style: llama ", "  style: gpt_neox ").replace("  n_kv_head: 2 ", "  n_kv_head: 4 ")
                .replace("  # parallel_residual: true ", "  parallel_residual: false ").replace("  # rotary_fraction: 0.25 ", "  rotary_fraction: 0.5 ")
                .replace("  # gelu: exact ", "  gelu: tanh ");
        ModelConfig m = load(neox).model().resolve();
        assertEquals(ModelConfig.Style.GPT_NEOX, m.style());
        assertEquals(false, m.parallelResidual());
        assertEquals(24, m.rotaryDims(), "half of each 48-dimension head");
        assertEquals(ModelConfig.Gelu.TANH, m.gelu());
        // Phi's: GPT-NeoX's parallel block with one norm and a bias on the head
        ModelConfig phi = load(Files.readString(example).replace("  style: llama ", "  style: gpt_neox ").replace("  n_kv_head: 2 ", "  n_kv_head: 4 ")
                .replace("  # gelu: exact ", "  gelu: tanh ").replace("  # shared_norm: true ", "  shared_norm: true ")
                .replace("  # head_bias: true ", "  head_bias: true ").replace("  norm: rmsnorm ", "  norm: layernorm ")).model().resolve();
        assertTrue(phi.phi(), "the example's Phi keys make a model that exports as Phi: " + phi);
        assertEquals(phi, RunConfig.ModelSpec.of(phi, null).resolve());
    }

    @Test
    void minimalConfigGetsDefaults() throws IOException {
        RunConfig c = load("data: {train: shards/}\n");
        assertEquals("runs/run", c.out());
        assertEquals(ModelConfig.preset("nano"), c.model().resolve());
        assertEquals(256, c.training().seqLen());
        assertEquals(1, c.training().accumulation());
        assertEquals("cosine", c.schedule().kind());
    }

    @Test
    void presetShorthandAndOverrides() throws IOException {
        assertEquals(ModelConfig.preset("tiny-llama"), load("model: tiny-llama\ndata: {train: x}\n").model().resolve());
        ModelConfig m = load("model: {preset: tiny, vocab_size: 256, n_layer: 2}\ndata: {train: x}\n").model().resolve();
        assertEquals(256, m.vocabSize());
        assertEquals(2, m.nLayer());
        assertEquals(384, m.dModel());
        ModelConfig full = load("model: {style: llama, vocab_size: 100, context_length: 64, n_layer: 2, n_head: 4, n_kv_head: 2, d_model: 64}\n"
                + "data: {train: x}\ntraining: {seq_len: 64}\n").model().resolve();
        assertEquals(ModelConfig.llama(100, 64, 2, 4, 2, 64), full);
        ModelConfig neox = load("model: {style: gpt_neox, vocab_size: 100, context_length: 64, n_layer: 2, n_head: 4, d_model: 64}\n"
                + "data: {train: x}\ntraining: {seq_len: 64}\n").model().resolve();
        assertEquals(ModelConfig.gptNeoxBuilder(100, 64, 2, 4, 64).build(), neox, "GPT-NeoX's defaults: parallel, a quarter rotary, exact GELU");
        assertEquals(ModelConfig.preset("tiny-neox"), load("model: tiny-neox\ndata: {train: x}\n").model().resolve());
        ModelConfig tinyAsNeox = load("model: {preset: tiny, style: gpt_neox}\ndata: {train: x}\n").model().resolve();
        assertEquals(ModelConfig.preset("tiny-neox"), tinyAsNeox, "a preset's shape in another style takes that style's defaults");
        ModelConfig llama3 = load("model: {preset: tiny-llama, rope_theta: 500000, rope_scaling: {factor: 32, low_freq_factor: 1, high_freq_factor: 4, "
                + "original_max_position_embeddings: 8192}}\ndata: {train: x}\n").model().resolve();
        assertEquals(new dev.crucible.tensor.Rope.Llama3Scaling(32, 1, 4, 8192), llama3.ropeScaling());
        assertEquals(llama3, RunConfig.ModelSpec.of(llama3, null).resolve(), "written into a run's config and read back");
        ModelConfig qwen2 = load("model: {preset: tiny-llama, linear_bias: qkv, rope_theta: 1000000}\ndata: {train: x}\n").model().resolve();
        assertEquals(ModelConfig.preset("tiny-llama").toBuilder().linearBias(ModelConfig.LinearBias.QKV).ropeTheta(1e6).build(), qwen2);
        assertEquals(qwen2, RunConfig.ModelSpec.of(qwen2, null).resolve(), "Qwen2's biases written into a run's config and read back");
        assertEquals(null, RunConfig.ModelSpec.of(ModelConfig.preset("tiny"), "tiny").linearBias(), "a style's own biases are not written");
    }

    @Test
    void unknownKeyNamesKeyFileLineAndAlternatives() {
        String msg = error("data: {train: x}\ntraining:\n  seq_len: 128\n  learning_rate: 0.1\n");
        assertTrue(msg.startsWith(dir.resolve("run.yaml") + ":4:3:"), msg);
        assertTrue(msg.contains("unknown key 'training.learning_rate'"), msg);
        assertTrue(msg.contains("seq_len"), "lists the allowed keys: " + msg);
        assertContains(error("data: {train: x}\nmodle: tiny\n"), "unknown key 'modle'");
    }

    @Test
    void badValuesNameTheirKey() {
        String lr = error("data: {train: x}\noptimizer: {lr: -1}\n");
        assertContains(lr, "optimizer.lr: must be positive, got -1.0");
        assertTrue(lr.startsWith(dir.resolve("run.yaml") + ":2:13:"), lr);
        assertContains(error("data: {train: x}\ntraining: {steps: many}\n"), "training.steps: cannot read 'many' as an integer");
        assertTrue(error("data: {train: x}\ntraining: {seq_len: 128, micro_batch: 4, batch_tokens: 1000}\n")
                .contains("training.batch_tokens: must be a positive multiple of micro_batch x seq_len = 512"));
        assertContains(error("model: gpt5\ndata: {train: x}\n"), "unknown model preset 'gpt5'");
        assertContains(error("data: {train: x}\nschedule: {kind: linear}\n"), "schedule.kind: unknown schedule 'linear'");
        assertContains(error("model: {preset: tiny, parallel_residual: true}\ndata: {train: x}\n"), "model.parallel_residual: a gpt_neox-style option");
        assertContains(error("model: {preset: tiny-llama, rotary_fraction: 0.5}\ndata: {train: x}\n"), "model.rotary_fraction: RoPE on part of each head");
        assertContains(error("model: {preset: tiny, linear_bias: qkv}\ndata: {train: x}\n"), "model.linear_bias: GPT-2 and GPT-NeoX style have a bias on every projection");
        assertContains(error("model: {preset: tiny-llama, linear_bias: q}\ndata: {train: x}\n"), "unknown linear_bias 'q' (expected none, qkv, attention, mlp or all)");
        assertContains(error("model: {preset: tiny, clip_qkv: -8}\ndata: {train: x}\n"), "model.clip_qkv: must be positive, or 0 for no clamp, got -8.0");
        assertContains(error("model: {preset: tiny, embedding_multiplier: 0}\ndata: {train: x}\n"), "model.embedding_multiplier: must be positive and finite as a float32, got 0.0");
        assertContains(error("model: {preset: tiny, logit_softcap: -1}\ndata: {train: x}\n"), "model.logit_softcap: must be positive (and a float32 whose inverse is finite), or 0 for none, got -1.0");
        assertContains(error("model: {preset: tiny, shared_norm: true}\ndata: {train: x}\n"), "model.shared_norm: one norm for both branches needs them side by side");
        assertContains(error("model: {preset: tiny, glu: geglu}\ndata: {train: x}\n"), "model.glu: a gated MLP is Llama style's");
        assertContains(error("model: {preset: tiny-llama, glu: reglu}\ndata: {train: x}\n"), "unknown glu 'reglu' (expected swiglu or geglu)");
        assertContains(error("model: {preset: tiny, head_dim: 32}\ndata: {train: x}\n"), "model.head_dim: a head width other than d_model / n_head is a Llama-style option");
        assertContains(error("model: {preset: tiny-llama, head_dim: 7}\ndata: {train: x}\n"), "model.head_dim: RoPE needs an even number of rotary dimensions per head, got 7");
        assertContains(error("model: {preset: tiny-llama, head_dim: -4}\ndata: {train: x}\n"), "model.head_dim: must be positive, or 0 for d_model / n_head, got -4");
        assertContains(error("model: {preset: tiny-neox, gelu: relu}\ndata: {train: x}\n"), "unknown gelu 'relu' (expected tanh or exact)");
        assertContains(error("model: {preset: tiny, rope_scaling: {factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64}}\n"
                + "data: {train: x}\n"), "rope_scaling: scales RoPE's frequencies; GPT-2 style has learned positions");
        assertContains(error("model: {preset: tiny-llama, rope_scaling: {factor: 8, low_freq_factor: 4, high_freq_factor: 1, original_max_position_embeddings: 64}}\n"
                + "data: {train: x}\n"), "high_freq_factor: must exceed low_freq_factor (4.0), got 1.0");
        assertContains(error("model: {preset: tiny-llama, rope_scaling: {factor: 8, high_freq_factor: 4, original_max_position_embeddings: 64}}\n"
                + "data: {train: x}\n"), "low_freq_factor: missing");
        assertContains(error("model: {preset: tiny-neox, rotary_fraction: 0.01}\ndata: {train: x}\n"),
                "model.rotary_fraction: RoPE needs an even number of rotary dimensions per head, got 0");
        assertContains(error("model: {preset: tiny, n_kv_head: 4}\ndata: {train: x}\n"), "model.n_kv_head: must divide n_head (6), got 4");
        assertContains(error("training: {steps: 3}\n"), "data: missing");
        assertContains(error("data: {train: x}\ntraining: {seq_len: 1024}\n"), "exceeds the model's context_length 256");
        assertContains(error("data: {train: x\n"), "not valid YAML");
        assertContains(error("data: [1, 2]\n"), "data: expected a section of keys");
        // a second section of the same name would replace the first one whole
        String twice = error("data: {train: x}\ntraining: {steps: 10, seq_len: 64}\ntraining: {steps: 2000}\n");
        assertTrue(twice.startsWith(dir.resolve("run.yaml") + ":3:"), twice);
        assertContains(twice, "Duplicate field 'training'");
    }

    @Test
    void missingFileIsNamed() {
        Path missing = dir.resolve("nope.yaml");
        String msg = assertThrows(ConfigLoader.ConfigException.class, () -> ConfigLoader.load(missing, RunConfig.class)).getMessage();
        assertEquals(missing + ": no such file", msg);
    }

    @Test
    void resolvedConfigRoundTrips() throws IOException {
        RunConfig c = load("model: {preset: tiny, vocab_size: 300}\ndata: {train: a, val: b}\n"
                + "optimizer: {lr: 0.001, groups: {embedding: {lr: 0.003}, norm: {weight_decay: 0.01}}}\n");
        Path out = dir.resolve("resolved.yaml");
        RunConfig resolved = c.withModel(RunConfig.ModelSpec.of(c.model().resolve(), "tiny"));
        ConfigLoader.write(out, resolved);
        assertEquals(resolved, ConfigLoader.load(out, RunConfig.class));
    }

    /** hidden_size was the MLP width, but Hugging Face's hidden_size is d_model: the old key is refused with the new name. */
    @Test
    void renamedKeysAreRefusedWithTheirNewName() {
        String msg = error("model: {preset: tiny, hidden_size: 1536}\ndata: {train: x}\n");
        assertTrue(msg.startsWith(dir.resolve("run.yaml") + ":1:"), msg);
        assertContains(msg, "'model.hidden_size' was renamed: write model.intermediate_size");
        assertContains(error("data: {train: x}\noptimizer: {decay_embeddings: true}\n"), "optimizer.groups.embedding.weight_decay");
    }

    @Test
    void intermediateSizeAndOptimizerGroups() throws IOException {
        RunConfig c = load("model: {preset: tiny, intermediate_size: 1000}\ndata: {train: x}\n"
                + "optimizer: {lr: 0.001, weight_decay: 0.2, groups: {embedding: {lr: 0.003, weight_decay: 0.1}, norm: {beta2: 0.99}}}\n");
        assertEquals(1000, c.model().resolve().intermediateSize());
        var s = c.optimizer().recipe().byRole();
        assertEquals(Hyperparameters.adamW(0.001, 0.9, 0.95, 1e-8, 0.2), s.get(ParamLayout.Role.HIDDEN_MATRIX));
        assertEquals(Hyperparameters.adamW(0.001, 0.9, 0.95, 1e-8, 0.2), s.get(ParamLayout.Role.HEAD));
        assertEquals(Hyperparameters.adamW(0.003, 0.9, 0.95, 1e-8, 0.1), s.get(ParamLayout.Role.EMBEDDING));
        assertEquals(Hyperparameters.adamW(0.001, 0.9, 0.99, 1e-8, 0), s.get(ParamLayout.Role.NORM));
        assertEquals(Hyperparameters.adamW(0.001, 0.9, 0.95, 1e-8, 0), s.get(ParamLayout.Role.BIAS));
        assertContains(error("data: {train: x}\noptimizer: {groups: {embeddings: {lr: 0.1}}}\n"),
                "optimizer.groups.embeddings: unknown parameter role (roles: hidden_matrix, embedding, head, norm, bias)");
        assertContains(error("data: {train: x}\noptimizer: {groups: {head: {beta1: 1.5}}}\n"), "optimizer.groups.head.beta1: must be in [0, 1)");
        assertContains(error("data: {train: x}\noptimizer: {name: lion}\n"), "optimizer.name: unknown optimizer 'lion'");
    }

    /** The example: Muon on the hidden matrices, AdamW with its own rates on embedding and head, AdamW's defaults elsewhere. */
    @Test
    void optimizerByNameWithGroupsPerRole() throws IOException {
        RunConfig c = load("model: tiny\ndata: {train: x}\noptimizer:\n  name: muon\n  lr: 0.02\n  momentum: 0.95\n  groups:\n"
                + "    embedding: {name: adamw, lr: 3.0e-3}\n    head: {name: adamw, lr: 3.0e-3}\n");
        var s = c.optimizer().recipe().byRole();
        assertEquals("muon", s.get(ParamLayout.Role.HIDDEN_MATRIX).name());
        assertEquals(0.02, s.get(ParamLayout.Role.HIDDEN_MATRIX).lr());
        assertEquals(5, s.get(ParamLayout.Role.HIDDEN_MATRIX).nsSteps());
        assertEquals("keller", s.get(ParamLayout.Role.HIDDEN_MATRIX).shapeScale());
        assertEquals(Hyperparameters.adamW(3e-3, 0.9, 0.95, 1e-8, 0), s.get(ParamLayout.Role.EMBEDDING));
        assertEquals(Hyperparameters.adamW(3e-3, 0.9, 0.95, 1e-8, 0.1), s.get(ParamLayout.Role.HEAD));
        assertEquals(Hyperparameters.adamW(6e-4, 0.9, 0.95, 1e-8, 0), s.get(ParamLayout.Role.NORM));
        assertEquals(0.02, c.optimizer().recipe().baseLr());
        // the written config spells out the defaults the run used, and reads back the same
        Path out = dir.resolve("muon.yaml");
        ConfigLoader.write(out, c);
        String text = Files.readString(out);
        assertTrue(text.contains("ns_steps: 5") && text.contains("shape_scale: keller") && !text.contains("beta1"), text);
        assertEquals(c, ConfigLoader.load(out, RunConfig.class));

        // Moonlight's form has its own defaults: AdamW's lr and weight decay 0.1
        var moon = load("data: {train: x}\noptimizer: {name: muon, shape_scale: moonlight}\n").optimizer();
        assertEquals(1e-3, moon.lr());
        assertEquals(0.1, moon.weightDecay());
        var g = load("model: tiny\ndata: {train: x}\noptimizer: {name: galore, rank: 64}\n").optimizer().recipe().byRole();
        assertEquals(64, g.get(ParamLayout.Role.HIDDEN_MATRIX).rank());
        assertEquals(200, g.get(ParamLayout.Role.HIDDEN_MATRIX).updateGap());
        assertEquals("adamw", g.get(ParamLayout.Role.EMBEDDING).name());
        var spam = load("data: {train: x}\noptimizer: {name: spam}\n").optimizer().recipe().byRole();
        for (ParamLayout.Role r : ParamLayout.Role.values()) assertEquals("spam", spam.get(r).name(), r.id());
        assertEquals(5000.0, spam.get(ParamLayout.Role.NORM).theta());
    }

    /** Wrong keys and values out of range are refused before training, with the file, line and key. */
    @Test
    void optimizerKeysAreCheckedWithFileLineAndKey() throws IOException {
        String rankAbove = error("model: tiny\ndata: {train: x}\noptimizer:\n  name: galore\n  rank: 512\n");
        assertTrue(rankAbove.startsWith(dir.resolve("run.yaml") + ":5:"), rankAbove);
        assertContains(rankAbove, "optimizer.rank: 512 is above the smaller side of every matrix it would project (the largest: "
                + "transformer.h.0.attn.c_attn.weight, 1152x384)");
        // with grouped-query attention k_proj and v_proj are narrower: a rank above them is capped there, as the reference's SVD slicing does
        load("model: tiny-llama-gqa\ndata: {train: x}\noptimizer: {name: galore, rank: 256}\n");
        assertContains(error("data: {train: x}\noptimizer:\n  name: spam\n  clip_delay: 1\n"),
                "optimizer.clip_delay: must be >= 2 with theta > 0, got 1");
        assertContains(error("data: {train: x}\noptimizer:\n  name: adamw\n  groups:\n    norm: {name: spam, reset_warmup: 500}\n"),
                "optimizer.groups.norm.reset_warmup: must be below reset_interval (500), got 500");
        assertContains(error("data: {train: x}\noptimizer: {name: muon, momentum: 0.9, groups: {hidden_matrix: {name: adamw}}}\n"),
                "optimizer.name: muon would update no parameters");
        String negative = error("data: {train: x}\noptimizer:\n  name: galore\n  rank: -2\n");
        assertTrue(negative.startsWith(dir.resolve("run.yaml") + ":4:"), negative);
        assertContains(negative, "optimizer.rank: must be >= 1, got -2");
        String wrongKey = error("data: {train: x}\noptimizer:\n  name: muon\n  beta1: 0.9\n");
        assertTrue(wrongKey.startsWith(dir.resolve("run.yaml") + ":4:"), wrongKey);
        assertContains(wrongKey, "optimizer.beta1: not a setting of muon (its keys: lr, momentum, ns_steps, shape_scale, weight_decay)");
        assertContains(error("data: {train: x}\noptimizer:\n  name: muon\n  groups:\n    head: {rank: 4}\n"),
                "optimizer.groups.head.rank: not a setting of adamw");
        assertContains(error("data: {train: x}\noptimizer: {groups: {norm: {name: muon}}}\n"),
                "optimizer.groups.norm.name: muon updates whole matrices; norm parameters are vectors (use adamw or spam)");
        assertContains(error("data: {train: x}\noptimizer: {groups: {head: {name: lion}}}\n"), "optimizer.groups.head.name: unknown optimizer 'lion'");
        assertContains(error("data: {train: x}\noptimizer: {name: muon, shape_scale: square}\n"), "optimizer.shape_scale: must be keller");
        assertContains(error("data: {train: x}\noptimizer: {name: spam, reset_interval: 0}\n"), "optimizer.reset_interval: must be >= 1");
        assertContains(error("data: {train: x}\noptimizer: {name: adamw, rnak: 3}\n"), "unknown key 'optimizer.rnak'");
    }

    @Test
    void normPlacementAndScalingKeys() throws IOException {
        ModelConfig m = load("model: {preset: tiny-llama, norm_placement: mix, mix_ln_fraction: 0.5}\ndata: {train: x}\n").model().resolve();
        assertEquals(ModelConfig.NormPlacement.MIX, m.normPlacement());
        assertEquals(3, m.postLnLayers());
        ModelConfig output = load("model: {preset: tiny-llama, norm_placement: output}\ndata: {train: x}\n").model().resolve();
        assertEquals(ModelConfig.NormPlacement.OUTPUT, output.normPlacement());
        assertEquals(0, output.postLnLayers());
        assertContains(error("model: {preset: tiny-neox, norm_placement: output}\ndata: {train: x}\n"), "parallel_residual");
        assertEquals(ModelConfig.NormScaling.LAYER_INDEX,
                load("model: {preset: tiny, norm_scaling: layer_index}\ndata: {train: x}\n").model().resolve().normScaling());
        assertContains(error("model: {preset: tiny, norm_placement: sandwich}\ndata: {train: x}\n"), "unknown norm placement 'sandwich'");
        assertContains(error("model: {preset: tiny, norm_placement: post, norm_scaling: layer_index}\ndata: {train: x}\n"),
                "norm_scaling: layer_index scaling is defined for Pre-LN layers");
        assertContains(error("model: {preset: tiny, mix_ln_fraction: 1.5}\ndata: {train: x}\n"), "mix_ln_fraction: must be in [0, 1]");
        assertEquals(ModelConfig.QkNorm.HEAD, load("model: {preset: tiny-llama, qk_norm: true}\ndata: {train: x}\n").model().resolve().qkNorm());
        assertEquals(ModelConfig.QkNorm.WHOLE, load("model: {preset: tiny-llama, qk_norm: whole}\ndata: {train: x}\n").model().resolve().qkNorm());
        assertEquals(ModelConfig.QkNorm.NONE, load("model: {preset: tiny-llama, qk_norm: false}\ndata: {train: x}\n").model().resolve().qkNorm());
        assertContains(error("model: {preset: tiny, qk_norm: both}\ndata: {train: x}\n"), "unknown qk_norm 'both'");
        assertEquals(ModelConfig.Norm.SINGLE_SCALE_RMSNORM,
                load("model: {preset: tiny-llama, norm: single_scale_rmsnorm}\ndata: {train: x}\n").model().resolve().norm());
        assertEquals(ModelConfig.Norm.RMSNORM, load("model: {preset: tiny, style: llama}\ndata: {train: x}\n").model().resolve().norm(),
                "a preset in the other style takes that style's norm");
    }
}
