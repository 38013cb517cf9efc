package dev.crucible.train.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.train.ConfigLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sweep files: the variants and runs they make, and every mistake refused with the file, line and key before anything runs. */
class SweepTest {
    @TempDir
    Path dir;

    private Path sweep(String body) throws IOException {
        Files.writeString(dir.resolve("base.yaml"), """
                model: tiny
                data: {train: train.bin, val: val.bin}
                training: {steps: 10, seed: 5}
                """);
        Path f = dir.resolve("sweep-" + System.nanoTime() + ".yaml");
        Files.writeString(f, body);
        return f;
    }

    private String error(String body) throws IOException {
        Path f = sweep(body);
        return assertThrows(ConfigLoader.ConfigException.class, () -> Sweep.load(f)).getMessage();
    }

    @Test
    void aGridIsEveryCombinationRunSeedBySeed() throws IOException {
        Sweep s = Sweep.load(sweep("""
                base: base.yaml
                seeds: [1, 2]
                grid:
                  model.norm_placement: [pre, mix]
                  optimizer.lr: [1.0e-3, 2.0e-3]
                out: out
                """));
        assertEquals(List.of("norm_placement=pre+lr=0.001", "norm_placement=pre+lr=0.002", "norm_placement=mix+lr=0.001", "norm_placement=mix+lr=0.002"),
                s.variants().stream().map(Sweep.Variant::name).toList());
        assertEquals(8, s.runs().size());
        assertEquals(List.of(1L, 1L, 1L, 1L, 2L, 2L, 2L, 2L), s.runs().stream().map(Sweep.Run::seed).toList(), "seed by seed");
        Sweep.Run r = s.runs().get(7);
        assertEquals(dir.resolve("out/norm_placement=mix+lr=0.002/seed-2"), r.dir());
        assertEquals(2L, r.config().training().seed(), "the sweep's seed replaces the base's");
        assertEquals("mix", r.config().model().normPlacement());
        assertEquals("tiny", r.config().model().preset(), "model: tiny became {preset: tiny, ...}");
        assertEquals(2.0e-3, r.config().optimizer().lr());
        assertEquals("norm_placement=pre+lr=0.001", s.baseline());
        assertEquals(List.of("model.norm_placement: pre -> mix", "optimizer.lr: 0.001 -> 0.002"), s.differences().get("norm_placement=mix+lr=0.002"));
        assertTrue(s.differences().get("norm_placement=pre+lr=0.001").isEmpty(), "the baseline differs from itself in nothing");
    }

    @Test
    void namedVariantsWithABaseline() throws IOException {
        Sweep s = Sweep.load(sweep("""
                base: base.yaml
                set: {training.steps: 4, eval.every: 2}
                seeds: [3]
                variants:
                  adamw: {}
                  muon: {optimizer.name: muon, optimizer.lr: 0.02}
                  deeper: {model.n_layer: 8}
                baseline: adamw
                """));
        assertEquals(List.of("adamw", "muon", "deeper"), s.variants().stream().map(Sweep.Variant::name).toList());
        assertEquals("muon", s.runs().get(1).config().optimizer().name());
        assertEquals(4, s.runs().get(2).config().training().steps(), "set applies to every run");
        assertEquals(8, s.runs().get(2).config().model().resolve().nLayer());
        assertTrue(s.differences().get("muon").contains("optimizer.name: adamw -> muon"), s.differences().toString());
        assertEquals(dir.resolve("runs/sweep/deeper/seed-3"), s.runs().get(2).dir(), "out defaults to runs/sweep");
    }

    /** The documented example loads: 3 variants x 3 seeds over examples/demo-llama.yaml. */
    @Test
    void theExampleSweepLoads() throws IOException {
        Sweep s = Sweep.load(Path.of("..", "examples", "sweep-norms.yaml"));
        assertEquals(9, s.runs().size());
        assertEquals("pre_ln", s.baseline());
        assertEquals(List.of("model.norm_placement: pre -> mix"), s.differences().get("mix_ln"));
        assertEquals(150, s.runs().getFirst().config().training().steps());
    }

    /** The architecture options' sweep: 6 variants x 3 seeds, each one key from Pre-LN. */
    @Test
    void theArchitectureSweepLoads() throws IOException {
        Sweep s = Sweep.load(Path.of("..", "examples", "sweep-architecture.yaml"));
        assertEquals(18, s.runs().size());
        assertEquals("pre_ln", s.baseline());
        assertEquals(List.of("model.embedding_projection: false -> true"), s.differences().get("embedding_projection"));
        assertEquals(List.of("training.z_loss: 0.0 -> 1.0E-4"), s.differences().get("z_loss"));
    }

    /** The width study with its fourth budget: 3 widths x 4 budgets x 3 seeds into the width study's directory. */
    @Test
    void theLongWidthStudyLoads() throws IOException {
        Sweep s = Sweep.load(Path.of("..", "examples", "scaling", "sweep-width-long.yaml"));
        assertEquals(36, s.runs().size());
        assertEquals("d_model=128+steps=8000", s.baseline());
        assertEquals(Sweep.load(Path.of("..", "examples", "scaling", "sweep-width.yaml")).runs().getFirst().dir(), s.runs().getFirst().dir());
    }

    /** The scaling study's preset: 3 depths x 2 budgets, its baseline among them. */
    @Test
    void theScalingStudyLoads() throws IOException {
        Sweep s = Sweep.load(Path.of("..", "examples", "scaling", "sweep.yaml"));
        assertEquals(6, s.runs().size());
        assertEquals("n_layer=4+steps=450", s.baseline());
        assertEquals(List.of("model.n_layer: 4 -> 8", "training.steps: 450 -> 150"), s.differences().get("n_layer=8+steps=150"));
    }

    @Test
    void mistakesAreRefusedWithTheFileLineAndKey() throws IOException {
        String m = error("base: base.yaml\ngrid:\n  model.norm_placment: [pre, mix]\n");
        assertTrue(m.matches(".*sweep-\\d+\\.yaml:3:3: grid: 'model.norm_placment' names no config key under 'model' \\(there: .*norm_placement.*"), m);
        m = error("base: base.yaml\nvariants:\n  a: {}\n  b: {training.learning_rate: 1}\n");
        assertTrue(m.contains(":4:7: variants: 'training.learning_rate' names no config key under 'training'"), m);
        m = error("base: base.yaml\ngrid: {}\n");
        assertTrue(m.contains(":2:") && m.contains("grid: empty"), m);
        m = error("base: base.yaml\ngrid:\n  optimizer.lr: []\n");
        assertTrue(m.contains("grid.optimizer.lr: no values"), m);
        m = error("base: base.yaml\nvariants:\n  a: {optimizer.lr: fast}\n");
        assertTrue(m.contains(":3:7: variant 'a'") && m.contains("fast"), m);
        m = error("base: base.yaml\nvariants:\n  a: {}\nbaseline: b\n");
        assertTrue(m.contains(":4:1: baseline: no variant is named 'b'"), m);
        m = error("base: nowhere.yaml\n");
        assertTrue(m.contains(":1:1: base:") && m.contains("does not exist"), m);
        m = error("base: base.yaml\nset: {training.stepz: 4}\n");
        assertTrue(m.contains(":2:7: set: 'training.stepz' names no config key"), m);
        m = error("base: base.yaml\nseeds: [1, 1]\n");
        assertTrue(m.contains("seeds: a seed appears twice"), m);
        m = error("base: base.yaml\nunknown: 1\n");
        assertTrue(m.contains("unknown key 'unknown'"), m);
        m = error("base: base.yaml\nset: {training: {steps: 100}}\n");
        assertTrue(m.contains("set: 'training' names a section, which would replace every key of it"), m);
        m = error("base: base.yaml\ngrid:\n  training.seed: [1, 2]\n");
        assertTrue(m.contains("grid: 'training.seed' is set by the sweep's seeds"), m);
        m = error("base: base.yaml\ngrid:\n  optimizer.lr: [1.0e-3, 0.001]\n");
        assertTrue(m.contains("two combinations are both named 'lr=0.001'"), m);
        m = error("base: base.yaml\nvariants:\n  a: {optimizer.lr: }\n");
        assertTrue(m.contains("optimizer.lr: no value"), m);
        m = error("base: base.yaml\nseeds: [1, null]\n");
        assertTrue(m.contains("seeds: an empty entry"), m);
        m = error("base: base.yaml\ngrid:\n  model.n_layer.x: [1]\n");
        assertTrue(m.contains("goes below 'model.n_layer', which is a value"), m);
    }
}
