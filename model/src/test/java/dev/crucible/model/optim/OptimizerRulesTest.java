package dev.crucible.model.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.model.HfFormat;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import dev.crucible.tensor.Check;
import dev.crucible.tensor.Gemm;
import dev.crucible.tensor.NewtonSchulz;
import dev.crucible.tensor.Reference;
import dev.crucible.tensor.Sinkhorn;
import dev.crucible.tensor.SymmetricEigen;
import dev.crucible.tensor.WorkerPool;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Each optimizer against a direct implementation of its formula on small matrices, and the tests of
 * the seed spec (../shared/specs/seed-techniques.md): SPAM's warm-up values, clipping and reset;
 * GaLore's one-step update and its refresh that keeps the moments; Muon's two momentum forms;
 * SinkGD's 2×2 example; SWAN's orthonormal output.
 */
class OptimizerRulesTest {
    static final WorkerPool POOL = new WorkerPool(2);
    static final Gemm GEMM = new Gemm(POOL);

    @AfterAll
    static void close() {
        POOL.close();
    }

    /** A hidden matrix of its own, rows × cols at offset. */
    static MatrixUnit unit(String name, int offset, int rows, int cols) {
        ParamLayout.Tensor t = new ParamLayout.Tensor(name, rows, cols, offset, ParamLayout.Role.HIDDEN_MATRIX, null, ParamLayout.Export.WHOLE,
                List.of());
        return new MatrixUnit(new HfFormat.HfTensor(name, t, 0, rows, false), offset, rows, cols);
    }

    static Hyperparameters settings(Algorithm a, Map<String, Object> keys) {
        Hyperparameters h = a.defaults();
        return h.overlay(new Hyperparameters(null, (Double) keys.get("lr"), (Double) keys.get("beta1"), (Double) keys.get("beta2"),
                (Double) keys.get("eps"), (Double) keys.get("weight_decay"), (Double) keys.get("momentum"), (Integer) keys.get("ns_steps"),
                (String) keys.get("shape_scale"), (Integer) keys.get("rank"), (Integer) keys.get("update_gap"), (Double) keys.get("scale"),
                (Double) keys.get("theta"), (Integer) keys.get("reset_interval"), (Integer) keys.get("reset_warmup"),
                (Integer) keys.get("clip_delay"), (Integer) keys.get("iterations")));
    }

    @Test
    void spamWarmupResetAndClipScheduleAreTheSpecs() {
        double[][] expected = {{0, 0.01}, {1, 0.01011}, {75, 0.49985}, {149, 0.99957}, {150, 1}};
        for (double[] e : expected) assertEquals(e[1], SpamRule.warmup(500 + (long) e[0], 500, 150), 5e-6, "s(" + e[0] + ")");
        for (long t = 1; t < 500; t++) assertEquals(1.0, SpamRule.warmup(t, 500, 150), "no warm-up before the first reset, t=" + t);
        // ΔT = 10: the moments are zeroed on call index 9 (t = 10), whose scale is 0.01
        for (long t = 1; t <= 30; t++) assertEquals(t % 10 == 0, SpamRule.resets(t, 10), "reset at t=" + t);
        assertEquals(0.01, SpamRule.warmup(10, 10, 150), 1e-12);
        // clipping is off at the start and for A steps after each reset
        for (long t = 1; t <= 30; t++) assertEquals(t >= 3 && t % 10 >= 3, SpamRule.clips(t, 5000, 10, 3), "clips at t=" + t);
        assertFalse(SpamRule.clips(15, 0, 10, 3), "theta 0: no clipping");
    }

    /** A whole SPAM run over a model's parameters against Reference.spam with the schedule written out from the spec. */
    @Test
    void spamRunMatchesItsFormula() {
        ModelConfig cfg = ModelConfig.gpt2(29, 8, 1, 2, 16);
        ParamLayout layout = new ParamLayout(cfg);
        Hyperparameters h = settings(Algorithm.SPAM, Map.of("lr", 1e-2, "weight_decay", 0.05, "theta", 20.0, "reset_interval", 10,
                "reset_warmup", 4, "clip_delay", 3));
        Optimizer opt = OptimizerRecipe.of(h, Map.of()).create(layout, POOL);
        SplittableRandom rng = new SplittableRandom(3);
        int n = layout.size();
        float[] p = Check.randomFloats(rng, n, 0.1);
        double[] ref = Check.toDouble(p), m = new double[n], v = new double[n];
        boolean[] decays = new boolean[n];
        for (ParamLayout.Tensor t : layout.tensors()) {
            boolean d = t.role() == ParamLayout.Role.HIDDEN_MATRIX || t.role() == ParamLayout.Role.HEAD;
            for (int i = t.offset(); i < t.end(); i++) decays[i] = d;
        }
        for (int t = 1; t <= 25; t++) {
            float[] g = Check.randomFloats(rng, n, rng.nextInt(6) == 0 ? 30 : 1);
            opt.step(p, g, 0.5f, 1e-2);
            if (t % 10 == 0) {
                java.util.Arrays.fill(m, 0);
                java.util.Arrays.fill(v, 0);
            }
            long j = t < 10 ? 5 : t % 10;
            double s = j < 4 ? 1 - 0.99 * (1 + Math.cos(Math.PI * j / 5)) / 2 : 1;
            double theta = t >= 3 && t % 10 >= 3 ? 20 : 0;
            for (int i = 0; i < n; i++) {
                double[] pi = {ref[i]}, mi = {m[i]}, vi = {v[i]};
                Reference.spam(pi, new double[] {g[i]}, mi, vi, 1e-2, s, 0.9, 0.999, 1e-6, decays[i] ? 0.05 : 0, theta, 0.5, t);
                ref[i] = pi[0];
                m[i] = mi[0];
                v[i] = vi[0];
            }
        }
        Check.close("spam params after 25 steps", ref, p, 1e-6, 1e-4);
    }

    /**
     * Every optimizer gives the same bits on 1, 2 and 3 threads: its parts (whole matrices, fixed ranges
     * of elements) do not depend on the pool, nor does any result within one. Width 100 and a 2,049-token
     * vocabulary: the embedding spans two AdamW parts and every tensor ends mid-vector, so the scalar
     * tails run; SPAM clips from step 2. (AdamW's and SPAM's ranges were once cut where the thread count
     * put them, and their scalar tails summed g²·(1 − β2) in another order.)
     */
    @Test
    void everyOptimizerGivesTheSameBitsOnAnyThreadCount() {
        ParamLayout layout = new ParamLayout(ModelConfig.gpt2(2049, 16, 2, 4, 100));
        int n = layout.size();
        for (Algorithm a : Algorithm.values()) {
            Hyperparameters h = a == Algorithm.SPAM ? settings(a, Map.of("clip_delay", 2, "theta", 2.0)) : Hyperparameters.named(a.id());
            float[][] params = new float[3][];
            for (int threads = 1; threads <= 3; threads++) {
                try (WorkerPool pool = new WorkerPool(threads)) {
                    Optimizer opt = OptimizerRecipe.of(h, Map.of()).create(layout, pool);
                    SplittableRandom rng = new SplittableRandom(11);
                    float[] p = Check.randomFloats(rng, n, 0.1);
                    for (int t = 1; t <= 3; t++) opt.step(p, Check.randomFloats(rng, n, 1), 0.5f, 1e-3);
                    params[threads - 1] = p;
                }
            }
            assertArrayEquals(params[0], params[1], a.id() + ": 1 and 2 threads");
            assertArrayEquals(params[0], params[2], a.id() + ": 1 and 3 threads");
        }
    }

    /** The spec's GaLore test: from zero state, one step is −lr·α·sign(G·Pᵀ)·P (ε → 0). */
    @Test
    void galoreFirstStepIsTheSignOfTheProjectedGradient() {
        SplittableRandom rng = new SplittableRandom(4);
        MatrixUnit u = unit("w", 0, 4, 3);
        Hyperparameters h = settings(Algorithm.GALORE, Map.of("rank", 2, "eps", 1e-20, "lr", 0.1));
        GaLoreRule rule = new GaLoreRule(List.of(u), h, 64, GEMM);
        float[] w = Check.randomFloats(rng, 12, 1), w0 = w.clone(), g = Check.randomFloats(rng, 12, 1);
        rule.step(w, g, 1f, 0.1, 0.1, 1);
        double[] pr = Check.toDouble(rule.projector[0]); // 2 x 3: out 4 >= in 3, projected from the right
        double[] r = Reference.product(Check.toDouble(g), Reference.transpose(pr, 2, 3), 4, 3, 2);
        for (int i = 0; i < r.length; i++) r[i] = Math.signum(r[i]);
        double[] step = Reference.product(r, pr, 4, 2, 3);
        double[] expected = new double[12];
        for (int i = 0; i < 12; i++) expected[i] = w0[i] - 0.1 * 0.25 * step[i];
        Check.close("W1", expected, w, 1e-6, 0);
        // P spans the top-2 right singular vectors of G
        assertProjectorIsTopSubspace(Check.toDouble(g), 4, 3, pr, 2);
    }

    static void assertProjectorIsTopSubspace(double[] g, int m, int n, double[] p, int r) {
        SymmetricEigen.Result e = SymmetricEigen.of(Reference.product(Reference.transpose(g, m, n), g, n, m, n), n);
        double[] exact = new double[n * n], got = Reference.product(Reference.transpose(p, r, n), p, n, r, n);
        for (int a = 0; a < n; a++) for (int b = 0; b < n; b++) for (int i = 0; i < r; i++) exact[a * n + b] += e.vectors()[a * n + i] * e.vectors()[b * n + i];
        Check.close("projector P·Pᵀ", exact, got, 1e-4, 0);
    }

    /** At the refresh (steps before = update_gap) P changes and the moments carry over untouched: m = β1·m_before + (1−β1)·G·P_newᵀ. */
    @Test
    void galoreRefreshKeepsTheMoments() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int[] shape : new int[][] {{12, 7}, {5, 9}}) {
            int rows = shape[0], cols = shape[1];
            MatrixUnit u = unit("w", 0, rows, cols);
            Hyperparameters h = settings(Algorithm.GALORE, Map.of("rank", 3, "update_gap", 3));
            GaLoreRule rule = new GaLoreRule(List.of(u), h, 64, GEMM);
            float[] w = Check.randomFloats(rng, rows * cols, 1);
            for (int t = 1; t <= 3; t++) rule.step(w, Check.randomFloats(rng, rows * cols, 1), 1f, 0.01, 0.01, t);
            float[] p3 = rule.projector[0].clone(), m3 = rule.m[0].clone(), v3 = rule.v[0].clone();
            float[] g = Check.randomFloats(rng, rows * cols, 1);
            rule.step(w, g, 1f, 0.01, 0.01, 4);
            float[] p4 = rule.projector[0];
            assertFalse(java.util.Arrays.equals(p3, p4), "the projector is recomputed at t_before = T");
            boolean right = rows >= cols;
            double[] pd = Check.toDouble(p4), gd = Check.toDouble(g);
            double[] r = right ? Reference.product(gd, Reference.transpose(pd, 3, cols), rows, cols, 3)
                    : Reference.product(Reference.transpose(pd, rows, 3), gd, 3, rows, cols);
            double[] em = new double[r.length], ev = new double[r.length];
            for (int i = 0; i < r.length; i++) {
                em[i] = 0.9 * m3[i] + 0.1 * r[i];
                ev[i] = 0.999 * v3[i] + 0.001 * r[i] * r[i];
            }
            Check.close("m after the refresh", em, rule.m[0], 1e-6, 1e-5);
            Check.close("v after the refresh", ev, rule.v[0], 1e-7, 1e-5);
            if (right) assertProjectorIsTopSubspace(gd, rows, cols, pd, 3);
            else assertProjectorIsTopSubspace(Reference.transpose(gd, rows, cols), cols, rows, Reference.transpose(pd, rows, 3), 3);
        }
    }

    /** Muon against its formula in double, both momentum forms and shape scales, with weight decay, over several steps. */
    @Test
    void muonMatchesItsFormula() {
        SplittableRandom rng = new SplittableRandom(6);
        for (String form : new String[] {Hyperparameters.KELLER, Hyperparameters.MOONLIGHT}) {
            List<MatrixUnit> units = List.of(unit("a", 0, 6, 10), unit("b", 60, 12, 5));
            Hyperparameters h = settings(Algorithm.MUON, Map.of("shape_scale", form, "weight_decay", 0.1));
            MuonRule rule = new MuonRule(units, h, new Algorithm.Kernels(POOL).nsPerWorker(), new NewtonSchulz(GEMM), POOL);
            float[] w = Check.randomFloats(rng, 120, 1);
            double[] ref = Check.toDouble(w);
            double[][] mom = {new double[60], new double[60]};
            boolean keller = form.equals(Hyperparameters.KELLER);
            for (int t = 1; t <= 3; t++) {
                float[] g = Check.randomFloats(rng, 120, 1);
                rule.step(w, g, 0.5f, 0.02, 0.02, t);
                for (int k = 0; k < 2; k++) {
                    MatrixUnit mu = units.get(k);
                    double[] uu = new double[60];
                    for (int i = 0; i < 60; i++) {
                        double gi = g[mu.offset() + i] * 0.5;
                        mom[k][i] = keller ? 0.95 * mom[k][i] + 0.05 * gi : 0.95 * mom[k][i] + gi;
                        uu[i] = keller ? 0.05 * gi + 0.95 * mom[k][i] : gi + 0.95 * mom[k][i];
                    }
                    double[] o = Reference.newtonSchulz5(uu, mu.rows(), mu.cols(), 5);
                    double scale = keller ? Math.sqrt(Math.max(1, (double) mu.rows() / mu.cols())) : 0.2 * Math.sqrt(Math.max(mu.rows(), mu.cols()));
                    for (int i = 0; i < 60; i++) ref[mu.offset() + i] = ref[mu.offset() + i] * (1 - 0.02 * 0.1) - 0.02 * scale * o[i];
                }
            }
            Check.close("muon (" + form + ") after 3 steps", ref, w, 1e-5, 1e-5);
        }
    }

    /** The spec: both momentum forms give the same NS5(u), so updates differ by the shape scale alone. */
    @Test
    void muonMomentumFormsDifferOnlyInScale() {
        SplittableRandom rng = new SplittableRandom(7);
        List<MatrixUnit> units = List.of(unit("a", 0, 8, 20));
        MuonRule keller = new MuonRule(units, settings(Algorithm.MUON, Map.of("shape_scale", "keller")), new Algorithm.Kernels(POOL).nsPerWorker(), new NewtonSchulz(GEMM), POOL);
        MuonRule moon = new MuonRule(units, settings(Algorithm.MUON, Map.of("shape_scale", "moonlight")), new Algorithm.Kernels(POOL).nsPerWorker(), new NewtonSchulz(GEMM), POOL);
        float[] wk = new float[160], wm = new float[160];
        double sk = MuonRule.shapeScale(true, 8, 20), sm = MuonRule.shapeScale(false, 8, 20);
        for (int t = 1; t <= 4; t++) {
            float[] g = Check.randomFloats(rng, 160, 1), bk = wk.clone(), bm = wm.clone();
            keller.step(wk, g, 1f, 0.02, 0.02, t);
            moon.step(wm, g, 1f, 0.02, 0.02, t);
            double[] ok = new double[160];
            float[] om = new float[160];
            for (int i = 0; i < 160; i++) {
                ok[i] = (wk[i] - bk[i]) / sk;
                om[i] = (float) ((wm[i] - bm[i]) / sm);
            }
            Check.close("NS5(u) of the two forms, step " + t, ok, om, 1e-6, 1e-4);
        }
    }

    @Test
    void sinkGdIsTheSpecsExample() {
        float[] g = {3, 4, 0, 5};
        Sinkhorn.normalize(g, 0, 2, 2, 1, new float[2]);
        Check.close("SinkGD L=1", new double[] {1.414214, 0.883452, 0, 1.104315}, g, 1e-6, 0);
        SplittableRandom rng = new SplittableRandom(8);
        float[] a = Check.randomFloats(rng, 7 * 11, 1), big = a.clone(), small = a.clone();
        for (int i = 0; i < a.length; i++) {
            big[i] *= 1000;
            small[i] *= 1e-3f;
        }
        for (int l = 1; l <= 5; l++) {
            float[] x = a.clone();
            Sinkhorn.normalize(x, 0, 7, 11, l, new float[11]);
            for (int c = 0; c < 11; c++) {
                double sq = 0;
                for (int r = 0; r < 7; r++) sq += x[r * 11 + c] * x[r * 11 + c];
                assertEquals(Math.sqrt(7), Math.sqrt(sq), 1e-5, "column " + c + " after " + l + " iterations");
            }
        }
        Sinkhorn.normalize(a, 0, 7, 11, 5, new float[11]);
        Sinkhorn.normalize(big, 0, 7, 11, 5, new float[11]);
        Sinkhorn.normalize(small, 0, 7, 11, 5, new float[11]);
        Check.close("invariant to scale (x1000)", Check.toDouble(a), big, 1e-6, 1e-5);
        Check.close("invariant to scale (x0.001)", Check.toDouble(a), small, 1e-6, 1e-5);
    }

    /** The spec's SWAN test (3×5): GradNorm rows have mean 0 and std 1; the whitened output is orthonormal and is U·Vᵀ of G̃. */
    @Test
    void swanWhitensToThePolarFactor() {
        SplittableRandom rng = new SplittableRandom(9);
        for (int[] shape : new int[][] {{3, 5}, {5, 3}}) {
            int rows = shape[0], cols = shape[1];
            float[] g = Check.randomFloats(rng, rows * cols, 1);
            SwanRule.gradNorm(g, rows, cols);
            for (int r = 0; r < rows; r++) {
                double s = 0, sq = 0;
                for (int c = 0; c < cols; c++) s += g[r * cols + c];
                for (int c = 0; c < cols; c++) sq += Math.pow(g[r * cols + c] - s / cols, 2);
                assertEquals(0, s / cols, 1e-6, "row mean");
                assertEquals(1, Math.sqrt(sq / cols), 1e-5, "row std");
            }
            SwanRule rule = new SwanRule(List.of(unit("w", 0, rows, cols)), settings(Algorithm.SWAN, Map.of()), GEMM, new NewtonSchulz(GEMM));
            float[] o = new float[rows * cols];
            rule.whiten(g, rows, cols, o);
            int p = Math.min(rows, cols);
            double[] od = Check.toDouble(o), gram = rows <= cols ? Reference.product(od, Reference.transpose(od, rows, cols), rows, cols, rows)
                    : Reference.product(Reference.transpose(od, rows, cols), od, cols, rows, cols);
            if (rows <= cols) {
                for (int i = 0; i < p; i++) for (int j = 0; j < p; j++) assertEquals(i == j ? 1 : 0, gram[i * p + j], 1e-5, "O·Oᵀ");
                Check.close("U·Vᵀ", Reference.polar(Check.toDouble(g), rows, cols), o, 1e-5, 0);
            } else {
                // a tall G̃ has centred rows, so G̃·1 = 0 and its rank is cols − 1: Oᵀ·O is the projector I − 1·1ᵀ/cols
                for (int i = 0; i < p; i++) for (int j = 0; j < p; j++) assertEquals((i == j ? 1 : 0) - 1.0 / cols, gram[i * p + j], 1e-5, "Oᵀ·O");
            }
        }
    }

    /**
     * GaLore's state is what the paper's formula says: for each m×n hidden matrix (m ≤ n) a projector
     * of m·r and two moments of n·r, against AdamW's 2·m·n; the other roles keep AdamW's two moments.
     */
    @Test
    void galoreStateSizeIsThePapersFormula() {
        ModelConfig cfg = ModelConfig.llama(97, 16, 2, 4, 2, 64);
        ParamLayout layout = new ParamLayout(cfg);
        GroupedOptimizer galore = OptimizerRecipe.of(Hyperparameters.named("galore"), Map.of()).create(layout, POOL);
        GroupedOptimizer adamw = OptimizerRecipe.of(Hyperparameters.named("adamw"), Map.of()).create(layout, POOL);
        long predicted = 0, hidden = 0;
        List<String> units = new ArrayList<>();
        for (MatrixUnit u : MatrixUnit.of(layout, layout.tensors())) {
            if (u.hf().source().role() != ParamLayout.Role.HIDDEN_MATRIX) continue;
            int m = Math.min(u.rows(), u.cols()), n = Math.max(u.rows(), u.cols()), r = Math.min(64 / 4, m);
            predicted += (long) m * r + 2L * n * r;
            hidden += u.size();
            units.add(u.name());
        }
        assertTrue(units.contains("model.layers.0.self_attn.k_proj.weight") && units.contains("model.layers.1.mlp.up_proj.weight"), units.toString());
        predicted += 2L * (layout.size() - hidden);
        assertEquals(4 * predicted, galore.stateBytes());
        assertEquals(4L * 2 * layout.size(), adamw.stateBytes());
    }
}
