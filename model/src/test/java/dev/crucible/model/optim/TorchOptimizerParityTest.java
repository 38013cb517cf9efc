package dev.crucible.model.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import dev.crucible.model.Safetensors;
import dev.crucible.model.TorchParityTest;
import dev.crucible.tensor.Check;
import dev.crucible.tensor.Gemm;
import dev.crucible.tensor.NewtonSchulz;
import dev.crucible.tensor.WorkerPool;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every optimizer against the same update written in plain PyTorch from its paper's pseudo-code
 * (torch_optimizers.py), over several steps on the same gradients: the matrices after the last step
 * agree within the case's tolerance (absolute and relative). AdamW, SPAM, SinkGD and Muon compute
 * the same float32 arithmetic in another order (1e-5); GaLore's projector comes from a randomised SVD
 * here and an exact one there, on gradients with a decaying spectrum as real ones have (2e-5, with
 * both sides' singular vectors signed alike: GaLore's moments depend on the basis); SWAN whitens by
 * 10 coupled Newton–Schulz steps here and by an exact SVD there (2e-5). Runs when /usr/bin/python3
 * has torch.
 */
class TorchOptimizerParityTest {
    record Case(String name, Algorithm algorithm, Map<String, Object> keys, int[][] matrices, int steps, double tolerance) {}

    @Test
    void everyOptimizerAgreesWithPlainPyTorch(@TempDir Path dir) throws Exception {
        assumeTrue(TorchParityTest.torchAvailable(), "python3 with torch not found: install Debian's python3-torch to run this check");
        ParamLayout layout = new ParamLayout(ModelConfig.gpt2(29, 8, 1, 2, 16));
        int flat = layout.size();
        List<Case> cases = List.of(
                new Case("adamw", Algorithm.ADAMW, Map.of("lr", 1e-2, "weight_decay", 0.1), new int[][] {{1, flat}}, 3, 1e-5),
                new Case("spam", Algorithm.SPAM, Map.of("lr", 1e-2, "weight_decay", 0.1, "theta", 5.0, "reset_interval", 4, "reset_warmup", 2,
                        "clip_delay", 2), new int[][] {{1, flat}}, 6, 1e-5),
                new Case("galore", Algorithm.GALORE, Map.of("rank", 4, "update_gap", 2, "weight_decay", 0.1), new int[][] {{24, 16}, {12, 30}},
                        3, 2e-5),
                new Case("muon_keller", Algorithm.MUON, Map.of("weight_decay", 0.1), new int[][] {{20, 12}, {10, 24}}, 3, 1e-5),
                new Case("muon_moonlight", Algorithm.MUON, Map.of("shape_scale", "moonlight", "lr", 1e-3, "weight_decay", 0.1),
                        new int[][] {{20, 12}, {10, 24}}, 3, 1e-5),
                new Case("swan", Algorithm.SWAN, Map.of("weight_decay", 0.1), new int[][] {{8, 20}, {20, 8}}, 2, 2e-5),
                new Case("sinkgd", Algorithm.SINKGD, Map.of("weight_decay", 0.1), new int[][] {{8, 20}, {20, 8}}, 2, 1e-5));
        SplittableRandom rng = new SplittableRandom(21);
        List<Safetensors.Source> in = new ArrayList<>();
        List<Map<String, Object>> spec = new ArrayList<>();
        Map<String, float[]> ours = new LinkedHashMap<>();
        try (WorkerPool pool = new WorkerPool(2)) {
            Gemm gemm = new Gemm(pool);
            for (Case c : cases) {
                Hyperparameters h = OptimizerRulesTest.settings(c.algorithm(), c.keys());
                List<MatrixUnit> units = new ArrayList<>();
                int size = 0;
                for (int[] m : c.matrices()) {
                    units.add(OptimizerRulesTest.unit(c.name() + "." + units.size(), size, m[0], m[1]));
                    size += m[0] * m[1];
                }
                UpdateRule rule = switch (c.algorithm()) {
                    case ADAMW -> new AdamWRule(layout, layout.tensors(), h, pool);
                    case SPAM -> new SpamRule(layout, layout.tensors(), h, pool);
                    case GALORE -> new GaLoreRule(units, h, 64, gemm);
                    case SWAN -> new SwanRule(units, h, gemm, new NewtonSchulz(gemm));
                    case SINKGD -> new SinkGdRule(units, h, pool);
                    case MUON -> new MuonRule(units, h, new Algorithm.Kernels(pool).nsPerWorker(), new NewtonSchulz(gemm), pool);
                };
                float[] w = Check.randomFloats(rng, size, 0.5);
                for (MatrixUnit u : units) in.add(source(u.name() + ".w", u, w.clone()));
                for (int t = 1; t <= c.steps(); t++) {
                    float[] g = new float[size];
                    for (MatrixUnit u : units) {
                        float[] gu = c.algorithm() == Algorithm.GALORE ? decaying(rng, u.rows(), u.cols()) : spiky(rng, u.size());
                        System.arraycopy(gu, 0, g, u.offset(), u.size());
                        in.add(source(u.name() + ".g" + t, u, g));
                    }
                    rule.step(w, g, 1f, h.lr(), h.lr(), t);
                }
                for (MatrixUnit u : units) ours.put(u.name() + ".w", java.util.Arrays.copyOfRange(w, u.offset(), u.offset() + u.size()));
                Map<String, Object> s = new LinkedHashMap<>(h.given());
                spec.add(Map.of("name", c.name(), "algorithm", c.algorithm().id(), "settings", s, "matrices", c.matrices(), "steps", c.steps(),
                        "lr", h.lr()));
            }
        }
        Safetensors.write(dir.resolve("in.safetensors"), in, Map.of());
        new ObjectMapper().writeValue(dir.resolve("cases.json").toFile(), spec);
        for (String script : new String[] {"torch_reference.py", "torch_optimizers.py"}) {
            try (InputStream s = TorchParityTest.class.getResourceAsStream(script)) {
                Files.copy(s, dir.resolve(script));
            }
        }
        Process proc = new ProcessBuilder(TorchParityTest.PYTHON, dir.resolve("torch_optimizers.py").toString(), dir.toString())
                .redirectErrorStream(true).start();
        String output = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, proc.waitFor(), "torch_optimizers.py failed:\n" + output);
        try (Safetensors.Reader out = Safetensors.open(dir.resolve("out.safetensors"))) {
            for (Case c : cases) {
                for (int k = 0; k < c.matrices().length; k++) {
                    String key = c.name() + "." + k + ".w";
                    Check.close(key + " after " + c.steps() + " steps", Check.toDouble(out.floats(key)), ours.get(key), c.tolerance(), c.tolerance());
                }
            }
        }
    }

    private static Safetensors.Source source(String name, MatrixUnit u, float[] buf) {
        float[] values = java.util.Arrays.copyOfRange(buf, u.offset(), u.offset() + u.size());
        return new Safetensors.Source(name, new int[] {u.rows(), u.cols()}, () -> values);
    }

    /** Gaussian entries with a few large ones, so that SPAM's clipping acts. */
    private static float[] spiky(SplittableRandom rng, int n) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) g[i] = (float) (rng.nextGaussian() * (rng.nextInt(40) == 0 ? 20 : 1));
        return g;
    }

    /** Σ 0.5^i · a_i·b_iᵀ over Gaussian a_i, b_i: a spectrum that decays like a gradient's, with gaps for the SVD. */
    private static float[] decaying(SplittableRandom rng, int rows, int cols) {
        float[] g = new float[rows * cols];
        for (int i = 0; i < Math.min(rows, cols); i++) {
            double[] a = new double[rows], b = new double[cols];
            for (int r = 0; r < rows; r++) a[r] = rng.nextGaussian();
            for (int c = 0; c < cols; c++) b[c] = rng.nextGaussian();
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) g[r * cols + c] += (float) (Math.pow(0.5, i) * a[r] * b[c]);
        }
        return g;
    }
}
