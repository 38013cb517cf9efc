package dev.crucible.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.model.ModelConfig;
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
        assertContains(error("model: {preset: tiny, n_kv_head: 4}\ndata: {train: x}\n"), "model.n_kv_head: must divide n_head (6), got 4");
        assertContains(error("training: {steps: 3}\n"), "data: missing");
        assertContains(error("data: {train: x}\ntraining: {seq_len: 1024}\n"), "exceeds the model's context_length 256");
        assertContains(error("data: {train: x\n"), "not valid YAML");
        assertContains(error("data: [1, 2]\n"), "data: expected a section of keys");
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
        var s = c.optimizer().settings();
        assertEquals(new dev.crucible.model.AdamWOptimizer.Settings(0.001, 0.9, 0.95, 1e-8, 0.2), s.get(dev.crucible.model.ParamLayout.Role.HIDDEN_MATRIX));
        assertEquals(new dev.crucible.model.AdamWOptimizer.Settings(0.001, 0.9, 0.95, 1e-8, 0.2), s.get(dev.crucible.model.ParamLayout.Role.HEAD));
        assertEquals(new dev.crucible.model.AdamWOptimizer.Settings(0.003, 0.9, 0.95, 1e-8, 0.1), s.get(dev.crucible.model.ParamLayout.Role.EMBEDDING));
        assertEquals(new dev.crucible.model.AdamWOptimizer.Settings(0.001, 0.9, 0.99, 1e-8, 0), s.get(dev.crucible.model.ParamLayout.Role.NORM));
        assertEquals(new dev.crucible.model.AdamWOptimizer.Settings(0.001, 0.9, 0.95, 1e-8, 0), s.get(dev.crucible.model.ParamLayout.Role.BIAS));
        assertContains(error("data: {train: x}\noptimizer: {groups: {embeddings: {lr: 0.1}}}\n"),
                "optimizer.groups.embeddings: unknown parameter role (roles: hidden_matrix, embedding, head, norm, bias)");
        assertContains(error("data: {train: x}\noptimizer: {groups: {head: {beta1: 1.5}}}\n"), "optimizer.groups.head.beta1: must be in [0, 1)");
        assertContains(error("data: {train: x}\noptimizer: {name: lion}\n"), "optimizer.name: unknown optimizer 'lion'");
    }

    @Test
    void normPlacementAndScalingKeys() throws IOException {
        ModelConfig m = load("model: {preset: tiny-llama, norm_placement: mix, mix_ln_fraction: 0.5}\ndata: {train: x}\n").model().resolve();
        assertEquals(ModelConfig.NormPlacement.MIX, m.normPlacement());
        assertEquals(3, m.postLnLayers());
        assertEquals(ModelConfig.NormScaling.LAYER_INDEX,
                load("model: {preset: tiny, norm_scaling: layer_index}\ndata: {train: x}\n").model().resolve().normScaling());
        assertContains(error("model: {preset: tiny, norm_placement: sandwich}\ndata: {train: x}\n"), "unknown norm placement 'sandwich'");
        assertContains(error("model: {preset: tiny, norm_placement: post, norm_scaling: layer_index}\ndata: {train: x}\n"),
                "norm_scaling: layer_index scaling is defined for Pre-LN layers");
        assertContains(error("model: {preset: tiny, mix_ln_fraction: 1.5}\ndata: {train: x}\n"), "mix_ln_fraction: must be in [0, 1]");
        assertTrue(load("model: {preset: tiny-llama, qk_norm: true}\ndata: {train: x}\n").model().resolve().qkNorm());
        assertEquals(ModelConfig.Norm.SINGLE_SCALE_RMSNORM,
                load("model: {preset: tiny-llama, norm: single_scale_rmsnorm}\ndata: {train: x}\n").model().resolve().norm());
        assertEquals(ModelConfig.Norm.RMSNORM, load("model: {preset: tiny, style: llama}\ndata: {train: x}\n").model().resolve().norm(),
                "a preset in the other style takes that style's norm");
    }
}
