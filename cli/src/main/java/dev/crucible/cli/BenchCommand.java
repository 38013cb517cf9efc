package dev.crucible.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.model.DistillationLoss;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.Model;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.TrainStep;
import dev.crucible.model.optim.GroupedOptimizer;
import dev.crucible.tensor.Attention;
import dev.crucible.tensor.Cpu;
import dev.crucible.tensor.Gemm;
import dev.crucible.tensor.MemoryBandwidth;
import dev.crucible.tensor.PeakFlops;
import dev.crucible.tensor.Rng;
import dev.crucible.tensor.WorkerPool;
import dev.crucible.train.ConfigLoader;
import dev.crucible.train.RunConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Throughput benchmarks. Each prints a human-readable report; with --json its last line is one JSON
 * object with at least tokens_per_s, gflops, peak_fraction and peak_rss_mb, so scripts can compare runs.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure throughput (not a test: figures go to docs/benchmarks.md).",
        subcommands = {BenchCommand.Train.class, BenchCommand.Matmul.class, BenchCommand.Generate.class, BenchCommand.Eval.class,
                BenchData.Tokenizer.class, BenchData.Bpe.class, BenchData.Data.class, BenchAllReduce.class, BenchServe.class})
public final class BenchCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    static final class Common {
        @Option(names = "--model", defaultValue = "tiny", description = "Model preset (${COMPLETION-CANDIDATES}); default ${DEFAULT-VALUE}.",
                completionCandidates = Presets.class)
        String preset;
        @Option(names = "--batch", description = "Sequences per step (default: 8 for most presets, 4 for gpt2-small).")
        Integer batch;
        @Option(names = "--seq", description = "Tokens per sequence (default: 256; 64 for gpt2-small).")
        Integer seq;
        @Option(names = "--threads", defaultValue = "0", description = "Worker threads (0 = all cores).")
        int threads;
        @Option(names = "--json", description = "End with one JSON line of the results.")
        boolean json;
        @Option(names = "--set", paramLabel = "KEY=VALUE", description = "A model key as run.yaml writes it, on top of the preset "
                + "(e.g. --set norm_placement=post --set norm_scaling=layer_index); repeatable.")
        List<String> set = new ArrayList<>();

        ModelConfig config() {
            if (set.isEmpty()) return ModelConfig.preset(preset);
            Map<String, Object> keys = new LinkedHashMap<>();
            keys.put("preset", preset);
            keys.putAll(keyValues("--set", set, "model"));
            try {
                return ConfigLoader.defaults(RunConfig.ModelSpec.class, keys).resolve();
            } catch (IllegalArgumentException e) {
                throw new UserError("--set: " + e.getMessage().lines().findFirst().orElse(""));
            }
        }

        /** The preset and its changes, for reports. */
        String describe() {
            return set.isEmpty() ? preset : preset + " " + String.join(" ", set);
        }

        int batch() {
            return batch != null ? batch : preset.equals("gpt2-small") ? 4 : 8;
        }

        int seq() {
            return seq != null ? seq : preset.equals("gpt2-small") ? 64 : 256;
        }

        WorkerPool pool() {
            Cpu.requireSimd();
            int n = WorkerPool.threadsFor(threads);
            System.out.println(Cpu.describe(n));
            return new WorkerPool(n);
        }
    }

    /** KEY=VALUE options as a run.yaml section's keys, each value read as YAML. */
    static Map<String, Object> keyValues(String flag, List<String> kvs, String section) {
        Map<String, Object> keys = new LinkedHashMap<>();
        for (String kv : kvs) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new UserError(flag + " " + kv + ": expected KEY=VALUE (a key of run.yaml's " + section + " section)");
            try {
                keys.put(kv.substring(0, eq), ConfigLoader.YAML.readValue(kv.substring(eq + 1), Object.class));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new UserError(flag + " " + kv + ": not a YAML value");
            }
        }
        return keys;
    }

    static final class Presets extends ArrayList<String> {
        Presets() {
            super(ModelConfig.PRESETS.keySet());
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Time full training steps (forward, backward, optimizer) on random tokens.")
    static final class Train implements Runnable {
        @Mixin
        Common c;
        @Option(names = "--optimizer", defaultValue = "adamw", paramLabel = "NAME",
                description = "The optimizer at run.yaml's defaults for it: adamw, spam, galore, swan, sinkgd, muon (default ${DEFAULT-VALUE}).")
        String optimizer;
        @Option(names = "--accumulation", defaultValue = "1", paramLabel = "N",
                description = "Micro-batches per step (gradient accumulation; the optimizer's share of a step shrinks with it), default ${DEFAULT-VALUE}.")
        int accumulation;
        @Option(names = "--opt", paramLabel = "KEY=VALUE", description = "An optimizer key as run.yaml writes it, on top of the optimizer's "
                + "defaults (e.g. --opt shape_scale=moonlight --opt update_gap=1); repeatable.")
        List<String> optKeys = new ArrayList<>();
        @Option(names = "--steps", defaultValue = "10", description = "Timed steps (default ${DEFAULT-VALUE}).")
        int steps;
        @Option(names = "--warmup", defaultValue = "3", description = "Untimed warm-up steps (default ${DEFAULT-VALUE}).")
        int warmup;
        @Option(names = "--profile", description = "Also report time per kind of operation (forward and backward), averaged over the timed steps.")
        boolean profile;
        @Option(names = "--teacher", paramLabel = "PRESET|DIR", description = "Distil from this teacher (a preset, randomly initialised, or a model "
                + "directory; same vocabulary): time SALT's step, the teacher's forward included and reported apart.")
        String teacherSpec;

        /** The teacher's loss for --teacher, or null. */
        private DistillationLoss teacher(ModelConfig student, int b, int t, WorkerPool pool) throws IOException {
            if (teacherSpec == null) return null;
            Model teacher;
            if (ModelConfig.PRESETS.containsKey(teacherSpec)) {
                teacher = Model.forInference(ModelConfig.preset(teacherSpec), b, t, pool);
                teacher.initialize(7);
            } else {
                try (HfCheckpoint ck = HfCheckpoint.open(Path.of(teacherSpec))) {
                    teacher = Model.forInference(ck.config(), b, t, pool);
                    ck.load(teacher.layout(), teacher.params);
                }
            }
            teacher.packWeights();
            if (teacher.config().vocabSize() != student.vocabSize()) {
                throw new UserError("--teacher: its vocabulary (" + teacher.config().vocabSize() + ") is not the model's (" + student.vocabSize() + ")");
            }
            return new DistillationLoss(teacher, 0.5, 1.0, pool);
        }

        @Override
        public void run() {
            ModelConfig cfg = c.config();
            int b = c.batch(), t = c.seq();
            try (WorkerPool pool = c.pool()) {
                double peak = PeakFlops.measure(pool);
                Model model = Model.forTraining(cfg, b, t, pool);
                model.initialize(1337);
                // the optimizer and clipping a run.yaml gets by default for this optimizer's name
                RunConfig.Optimizer section;
                GroupedOptimizer opt;
                try {
                    Map<String, Object> keys = new LinkedHashMap<>(keyValues("--opt", optKeys, "optimizer"));
                    keys.put("name", optimizer);
                    section = ConfigLoader.defaults(RunConfig.Optimizer.class, keys);
                    opt = section.create(model.layout(), pool);
                } catch (IllegalArgumentException e) {
                    Throwable root = e;
                    while (root.getCause() != null) root = root.getCause(); // the record's own message, not Jackson's wrapping
                    throw new UserError("--optimizer/--opt: " + root.getMessage().lines().findFirst().orElse(""));
                }
                TrainStep trainStep = TrainStep.crossEntropy(model, opt, section.gradClip(), pool);
                DistillationLoss kd = teacher(cfg, b, t, pool);
                if (kd != null) trainStep.loss(kd);
                Rng rng = new Rng(0);
                TrainStep.BatchSource random = batch -> {
                    for (int i = 0; i < batch.tokens(); i++) {
                        batch.inputs()[i] = rng.nextInt(cfg.vocabSize());
                        batch.targets()[i] = rng.nextInt(cfg.vocabSize());
                    }
                };
                long inferenceBytes = Model.memoryBytes(cfg, b, t, false, pool);
                if (accumulation < 1) throw new UserError("--accumulation: must be >= 1, got " + accumulation);
                double flopsPerStep = model.layout().flopsPerToken(t) * b * t * accumulation;
                System.out.printf(Locale.ROOT, "model %s (%s): %,d parameters, batch %d x %d x %d micro-batches, %.1f GFLOP per step (6N + 12·L·d·T per token)%n",
                        c.describe(), cfg.style().id(), model.layout().size(), b, t, accumulation, flopsPerStep / 1e9);
                System.out.printf(Locale.ROOT, "machine peak (FMA loop, %d threads): %.1f GFLOP/s%n", pool.size(), peak);
                if (kd != null) {
                    System.out.printf(Locale.ROOT, "distilling from %s: %,d parameters (about %.1f GFLOP per step forward)%n", teacherSpec, kd.teacher().layout().size(),
                            kd.teacher().layout().flopsPerToken(t) / 3 * b * t * accumulation / 1e9);
                }
                double[] ms = new double[steps], fwd = new double[steps], bwd = new double[steps], upd = new double[steps], tch = new double[steps];
                var threadBean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
                long allocStart = 0, poolWait0 = 0;
                for (int s = 0; s < warmup + steps; s++) {
                    if (s == warmup) {
                        model.profile().reset();
                        model.profile().enable(profile);
                        poolWait0 = pool.callerWaitNanos();
                        allocStart = threadBean.getCurrentThreadAllocatedBytes();
                    }
                    long t0 = System.nanoTime(), teacher0 = kd == null ? 0 : kd.teacherNanos();
                    trainStep.dropout(cfg.dropout() > 0, 1337, s); // as the trainer does from dropout_from_step on
                    TrainStep.Result r = trainStep.run(random, accumulation, 1e-4);
                    double stepMs = (System.nanoTime() - t0) / 1e6;
                    System.out.printf(Locale.ROOT, "step %d%s: loss %.4f %.1f ms (forward %.1f, backward %.1f, optimizer %.1f)%n", s,
                            s < warmup ? " (warmup)" : "", r.loss(), stepMs, r.forwardNanos() / 1e6, r.backwardNanos() / 1e6,
                            r.optimizerNanos() / 1e6);
                    if (s >= warmup) {
                        int k = s - warmup;
                        ms[k] = stepMs;
                        fwd[k] = r.forwardNanos() / 1e6;
                        bwd[k] = r.backwardNanos() / 1e6;
                        upd[k] = r.optimizerNanos() / 1e6;
                        tch[k] = kd == null ? 0 : (kd.teacherNanos() - teacher0) / 1e6;
                    }
                }
                // Only the driving thread allocates (some kernels hand small closures to the pool; workers allocate nothing).
                double allocKbPerStep = (threadBean.getCurrentThreadAllocatedBytes() - allocStart) / 1024.0 / steps;
                double med = median(ms);
                double tps = (double) b * t * accumulation / (med / 1e3), gflops = flopsPerStep / (med / 1e3) / 1e9;
                System.out.printf(Locale.ROOT, "median step %.1f ms (forward %.1f, backward %.1f, optimizer %.1f): %.0f tokens/s, %.1f GFLOP/s, %.0f%% of peak, peak RSS %d MB, %.1f KB allocated per step%n",
                        med, median(fwd), median(bwd), median(upd), tps, gflops, 100 * gflops / peak, peakRssMb(), allocKbPerStep);
                double activationKbPerToken = (model.memoryBytes() - 8.0 * model.layout().size()) / 1024.0 / ((long) b * t);
                System.out.printf(Locale.ROOT, "model buffers at %d x %d: %.1f MB to train (parameters, gradients, every layer's activations: %.1f KB "
                                + "per token of the micro-batch), %.1f MB for inference%n", b, t, model.memoryBytes() / 1e6, activationKbPerToken, inferenceBytes / 1e6);
                long weightBytes = 4L * model.layout().size(), stateBytes = opt.stateBytes();
                System.out.printf(Locale.ROOT, "optimizer %s: %.1f MB of state (%.2f x the weights' %.1f MB); its step %.1f ms, %.1f%% of the step%n",
                        opt.name(), stateBytes / 1e6, (double) stateBytes / weightBytes, weightBytes / 1e6, median(upd), 100 * median(upd) / med);
                if (kd != null) {
                    System.out.printf(Locale.ROOT, "teacher %s: its forward %.1f ms per step (inside forward above), %.1f%% of the step%n", teacherSpec,
                            median(tch), 100 * median(tch) / med);
                }
                Map<String, Double> prof = model.profile().millis();
                double poolWaitMs = (pool.callerWaitNanos() - poolWait0) / 1e6 / steps;
                if (profile) {
                    System.out.println("profile (ms per step):");
                    prof.forEach((k, v) -> System.out.printf(Locale.ROOT, "  %-22s %8.1f%n", k, v / steps));
                    System.out.printf(Locale.ROOT, "  (the calling thread waited %.1f ms per step at the ends of parallel jobs for the other workers)%n",
                            poolWaitMs);
                }
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("bench", "train");
                out.put("model", c.describe());
                out.put("params", model.layout().size());
                out.put("batch", b);
                out.put("seq", t);
                out.put("accumulation", accumulation);
                out.put("threads", pool.size());
                out.put("step_ms_median", round(med));
                out.put("step_ms_min", round(Arrays.stream(ms).min().orElse(0)));
                out.put("forward_ms", round(median(fwd)));
                out.put("backward_ms", round(median(bwd)));
                out.put("optimizer", opt.name() + (optKeys.isEmpty() ? "" : " " + String.join(" ", optKeys)));
                out.put("optimizer_ms", round(median(upd)));
                out.put("optimizer_state_mb", round(stateBytes / 1e6));
                if (kd != null) {
                    out.put("teacher", teacherSpec);
                    out.put("teacher_ms", round(median(tch)));
                }
                out.put("weights_mb", round(weightBytes / 1e6));
                out.put("alloc_kb_per_step", round(allocKbPerStep));
                out.put("training_model_mb", round(model.memoryBytes() / 1e6));
                out.put("activation_kb_per_token", round(activationKbPerToken));
                out.put("inference_model_mb", round(inferenceBytes / 1e6));
                standardFields(out, tps, gflops, peak);
                if (profile) {
                    Map<String, Double> perStep = new LinkedHashMap<>();
                    prof.forEach((k, v) -> perStep.put(k, round(v / steps)));
                    out.put("profile_ms", perStep);
                    out.put("pool_caller_wait_ms", round(poolWaitMs));
                }
                if (c.json) printJson(out);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    @Command(name = "matmul", mixinStandardHelpOptions = true,
            description = "Time the packed GEMM on every matrix shape of one training step of a model (all three forms).")
    static final class Matmul implements Runnable {
        private static final int WARMUP_ROUNDS = 2;
        @Mixin
        Common c;
        @Option(names = "--reps", defaultValue = "5", description = "Repetitions per shape, best taken (default ${DEFAULT-VALUE}).")
        int reps;

        record Shape(String name, int m, int n, int k, boolean transA, boolean transB) {}

        private static float[][] operands(Rng rng, Shape s) {
            return new float[][] {random(rng, (long) s.m() * s.k()), random(rng, (long) s.k() * s.n()), new float[s.m() * s.n()]};
        }

        /** One product of the shape's training form on operands {A, B, C}. */
        private static void multiply(Gemm gemm, Shape s, float[][] abc) {
            float[] a = abc[0], b = abc[1], out = abc[2];
            if (s.transA()) gemm.multiply(s.m(), s.n(), s.k(), a, 0, 1, s.m(), b, 0, s.n(), 1, out, 0, s.n(), true);
            else if (s.transB()) gemm.multiply(s.m(), s.n(), s.k(), a, 0, s.k(), 1, b, 0, 1, s.k(), out, 0, s.n(), false);
            else gemm.multiply(s.m(), s.n(), s.k(), a, 0, s.k(), 1, b, 0, s.n(), 1, out, 0, s.n(), true);
        }

        @Override
        public void run() {
            ModelConfig cfg = c.config();
            int bt = c.batch() * c.seq(), d = cfg.dModel();
            int w = Attention.qkvWidth(cfg.nHead(), cfg.nKvHead(), cfg.headSize());
            int[][] layers = {{w, d}, {d, cfg.nHead() * cfg.headSize()}, {cfg.plan().layer(0).mlp().inWidth(cfg.intermediateSize()), d}, {d, cfg.intermediateSize()}, {cfg.vocabSize(), d}};
            String[] names = {"qkv", "attn_out", "mlp_in", "mlp_out", "lm_head"};
            List<Shape> shapes = new ArrayList<>();
            for (int i = 0; i < layers.length; i++) {
                int oc = layers[i][0], in = layers[i][1];
                shapes.add(new Shape(names[i] + " Y=X·Wᵀ", bt, oc, in, false, true));
                shapes.add(new Shape(names[i] + " dX=dY·W", bt, in, oc, false, false));
                shapes.add(new Shape(names[i] + " dW=dYᵀ·X", oc, in, bt, true, false));
            }
            try (WorkerPool pool = c.pool()) {
                double peak = PeakFlops.measure(pool);
                Gemm gemm = new Gemm(pool);
                System.out.printf(Locale.ROOT, "machine peak (FMA loop, %d threads): %.1f GFLOP/s%n", pool.size(), peak);
                System.out.printf(Locale.ROOT, "%-22s %6s %6s %6s %9s %8s%n", "shape", "M", "N", "K", "ms", "GFLOP/s");
                double totalFlops = 0, totalSec = 0, stepSec = 0;
                Rng rng = new Rng(1);
                // every shape a few times before any is timed: the first shapes would otherwise run while the JIT still
                // compiles the kernels on one of the cores (after one round, `tiny`'s second shape measured 160-233 GFLOP/s
                // in three runs, ~300 warm). Operands made per shape, so that only one shape's are alive at a time.
                for (int round = 0; round < WARMUP_ROUNDS; round++) {
                    for (Shape s : shapes) {
                        float[][] abc = operands(rng, s);
                        for (int r = 0; r < 3; r++) multiply(gemm, s, abc);
                    }
                }
                for (Shape s : shapes) {
                    float[][] abc = operands(rng, s);
                    double best = Double.MAX_VALUE;
                    multiply(gemm, s, abc); // these operands into the caches, as the warm-up left another shape's there
                    for (int r = 0; r < reps; r++) {
                        long t0 = System.nanoTime();
                        multiply(gemm, s, abc);
                        best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                    }
                    double flops = 2.0 * s.m() * s.n() * s.k();
                    totalFlops += flops;
                    totalSec += best;
                    stepSec += best * (s.name().startsWith("lm_head") ? 1 : cfg.nLayer());
                    System.out.printf(Locale.ROOT, "%-22s %6d %6d %6d %9.2f %8.1f%n", s.name(), s.m(), s.n(), s.k(), best * 1e3, flops / best / 1e9);
                }
                double gflops = totalFlops / totalSec / 1e9;
                double tps = bt / stepSec;
                System.out.printf(Locale.ROOT, "all shapes: %.1f GFLOP/s, %.0f%% of peak; the matmuls of one training step take %.0f ms (%.0f tokens/s if nothing else ran), peak RSS %d MB%n",
                        gflops, 100 * gflops / peak, stepSec * 1e3, tps, peakRssMb());
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("bench", "matmul");
                out.put("model", c.describe());
                out.put("batch", c.batch());
                out.put("seq", c.seq());
                out.put("threads", pool.size());
                standardFields(out, tps, gflops, peak);
                if (c.json) printJson(out);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private static float[] random(Rng rng, long n) {
            float[] a = new float[(int) n];
            for (int i = 0; i < a.length; i++) a[i] = (float) (rng.nextDouble() - 0.5);
            return a;
        }
    }

    @Command(name = "generate", mixinStandardHelpOptions = true,
            description = "Time incremental decoding with the key/value cache (one sequence, random weights): tokens/s over a full context, "
                    + "and a prompt of as many tokens prefilled (32 positions per pass over the weights).")
    static final class Generate implements Runnable {
        @Mixin
        Common c;
        @Option(names = "--tokens", description = "Tokens per sequence (default: the model's context, at most 512).")
        Integer tokens;
        @Option(names = "--reps", defaultValue = "3", description = "Timed sequences after one warm-up sequence (default ${DEFAULT-VALUE}).")
        int reps;

        @Override
        public void run() {
            ModelConfig cfg = c.config();
            int n = tokens != null ? tokens : Math.min(cfg.contextLength(), 512);
            try (WorkerPool pool = c.pool()) {
                double peak = PeakFlops.measure(pool);
                double bandwidth = MemoryBandwidth.measure(pool); // before the model, whose heap it would otherwise share
                dev.crucible.model.ParamLayout layout = new dev.crucible.model.ParamLayout(cfg);
                float[] params = new float[layout.size()];
                layout.initialize(params, 1);
                dev.crucible.model.Generator g = new dev.crucible.model.Generator(cfg, params, n, pool);
                dev.crucible.model.Sampler sampler = new dev.crucible.model.Sampler(cfg.vocabSize(), 1.0, 0, 1.0, 1);
                int[] prompt = new java.util.SplittableRandom(2).ints(n, 0, cfg.vocabSize()).toArray();
                double best = Double.MAX_VALUE, bestPrefill = Double.MAX_VALUE;
                for (int r = 0; r <= reps; r++) {
                    g.reset();
                    long t0 = System.nanoTime();
                    int tok = 0;
                    for (int i = 0; i < n; i++) tok = sampler.sample(g.next(tok));
                    double sec = (System.nanoTime() - t0) / 1e9;
                    g.reset();
                    t0 = System.nanoTime();
                    g.prefill(0, prompt, 0, n);
                    double prefillSec = (System.nanoTime() - t0) / 1e9;
                    System.out.printf(Locale.ROOT, "sequence %d%s: %d tokens in %.2f s (%.0f tokens/s); a prompt of %d tokens in %.3f s%n",
                            r, r == 0 ? " (warmup)" : "", n, sec, n / sec, n, prefillSec);
                    if (r > 0) {
                        best = Math.min(best, sec);
                        bestPrefill = Math.min(bestPrefill, prefillSec);
                    }
                }
                double prefillTps = n / bestPrefill;
                double tps = n / best, gflops = 2.0 * layout.matmulParams() * tps / 1e9;
                // Every weight is read once per token (an untied input embedding only by its row), and the KV
                // cache up to the position: position p reads p + 1 rows, (n + 1) / 2 on average.
                double kvFloats = 2.0 * cfg.nLayer() * cfg.nKvHead() * cfg.headSize() * (n + 1) / 2.0;
                double weights = layout.matmulParams();
                double bytesPerToken = 4.0 * (weights + kvFloats), gbs = bytesPerToken * tps / 1e9;
                System.out.printf(Locale.ROOT, "%s: %.0f tokens/s generating %d tokens (2N FLOP per token: %.1f GFLOP/s, %.0f%% of peak), peak RSS %d MB%n",
                        c.preset, tps, n, gflops, 100 * gflops / peak, peakRssMb());
                System.out.printf(Locale.ROOT, "memory: %.1f MB read per token (weights and KV cache) = %.1f GB/s, %.0f%% of the %.1f GB/s the read probe measures (%d threads)%n",
                        bytesPerToken / 1e6, gbs, 100 * gbs / bandwidth, bandwidth, pool.size());
                System.out.printf(Locale.ROOT, "prefill: %.0f tokens/s, a prompt of %d tokens fed %d positions per pass (the same bits as token by token): %.1f x decoding%n",
                        prefillTps, n, dev.crucible.model.Generator.PREFILL_ROWS, prefillTps / tps);
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("bench", "generate");
                out.put("model", c.describe());
                out.put("tokens", n);
                out.put("threads", pool.size());
                standardFields(out, tps, gflops, peak);
                out.put("gb_per_s", Math.round(gbs * 10) / 10.0);
                out.put("bandwidth_gb_per_s", Math.round(bandwidth * 10) / 10.0);
                out.put("bandwidth_fraction", Math.round(gbs / bandwidth * 1000) / 1000.0);
                out.put("prefill_tokens_per_s", round(prefillTps));
                if (c.json) printJson(out);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = "Time log-likelihood scoring on BLiMP-sized requests (1 context token, 8-16 continuation tokens, random weights) "
                    + "against the plain forward pass on full training batches of the same model.")
    static final class Eval implements Runnable {
        @Mixin
        Common c;
        @Option(names = "--requests", defaultValue = "2000", description = "Scored requests per repetition (default ${DEFAULT-VALUE}).")
        int requests;
        @Option(names = "--eval-batch", defaultValue = "8", description = "Rows of the model's context length the scoring model holds, "
                + "as crucible eval --batch (default ${DEFAULT-VALUE}); short requests are packed into its positions.")
        int evalBatch;
        @Option(names = "--context-tokens", defaultValue = "1", description = "Context tokens per request (default ${DEFAULT-VALUE}, as BLiMP; about 80 for LAMBADA).")
        int contextTokens;
        @Option(names = "--continuation-tokens", defaultValue = "8-16", description = "Scored tokens per request, MIN-MAX (default ${DEFAULT-VALUE}, as BLiMP; 1-3 for LAMBADA).")
        String continuationTokens;
        @Option(names = "--generate", defaultValue = "0", description = "Also time greedy generation (a generation task's decoding) of this many tokens "
                + "after each request's context (default ${DEFAULT-VALUE}: not timed).")
        int generate;

        @Override
        public void run() {
            ModelConfig cfg = c.config();
            try (WorkerPool pool = c.pool()) {
                double peak = PeakFlops.measure(pool);
                Rng rng = new Rng(2);
                java.util.List<dev.crucible.eval.LogLikelihood.Request> reqs = new java.util.ArrayList<>();
                long scoredTokens = 0, rowTokens = 0; // the tokens scored, and the tokens of the rows that score them
                String[] range = continuationTokens.split("-");
                int minCont = Integer.parseInt(range[0].strip()), maxCont = Integer.parseInt(range[range.length - 1].strip());
                if (generate < 0) throw new UserError("--generate must be 0 (off) or a token count, got " + generate);
                if (contextTokens < 1 || minCont < 1 || maxCont < minCont || contextTokens + maxCont - 1 > cfg.contextLength()) {
                    throw new UserError("--context-tokens " + contextTokens + " and --continuation-tokens " + continuationTokens
                            + " must be at least 1, MIN <= MAX, and fit the model's context of " + cfg.contextLength());
                }
                for (int i = 0; i < requests; i++) {
                    int[] ctx = new int[contextTokens], cont = new int[minCont + rng.nextInt(maxCont - minCont + 1)];
                    for (int j = 0; j < ctx.length; j++) ctx[j] = rng.nextInt(cfg.vocabSize());
                    for (int j = 0; j < cont.length; j++) cont[j] = rng.nextInt(cfg.vocabSize());
                    reqs.add(new dev.crucible.eval.LogLikelihood.Request(ctx, cont));
                    scoredTokens += cont.length;
                    rowTokens += ctx.length + cont.length - 1;
                }
                Model scoringModel = Model.forInference(cfg, evalBatch, cfg.contextLength(), pool); // as the evaluator makes it
                scoringModel.initialize(1);
                scoringModel.packWeights();
                dev.crucible.eval.LogLikelihood scorer = new dev.crucible.eval.LogLikelihood(scoringModel);
                // The reference: forward passes alone on full training batches.
                int b = c.batch(), t = c.seq();
                Model train = Model.forTraining(cfg, b, t, pool);
                train.initialize(1);
                int[] tok = new int[b * t];
                for (int i = 0; i < tok.length; i++) tok[i] = rng.nextInt(cfg.vocabSize());
                // Rounds of both, so that the host's drift falls on both alike; the first round warms up. The forward
                // runs about as many tokens per round as the scoring (at least two passes), so each is timed over a like span.
                int passes = (int) Math.max(2, Math.min(50, rowTokens / (b * t)));
                double best = Double.MAX_VALUE, fwd = Double.MAX_VALUE;
                long allocated = 0;
                int scoringPasses = 0;
                for (int r = 0; r < 4; r++) {
                    long a0 = allocatedBytesAllThreads(), t0 = System.nanoTime();
                    scorer.score(reqs);
                    if (r > 0) best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                    scoringPasses = scorer.passes();
                    allocated = allocatedBytesAllThreads() - a0; // the last round's: warm, compiled
                    t0 = System.nanoTime();
                    for (int pass = 0; pass < passes; pass++) train.forward(tok, tok, b, t);
                    if (r > 0) fwd = Math.min(fwd, (System.nanoTime() - t0) / 1e9 / passes);
                }
                double generatedTps = 0;
                if (generate > 0) { // as a generation task decodes: every context, eval-batch at a time; the first call warms up
                    java.util.List<int[]> contexts = new java.util.ArrayList<>();
                    for (var q : reqs) contexts.add(q.context());
                    double g = Double.MAX_VALUE;
                    for (int r = 0; r < 2; r++) {
                        long t0 = System.nanoTime();
                        scorer.greedy(contexts, generate, ids -> false);
                        if (r > 0) g = (System.nanoTime() - t0) / 1e9;
                    }
                    generatedTps = (double) requests * generate / g;
                }
                double evalTps = scoredTokens / best;
                double bytesPerRequest = (double) allocated / requests;
                double fwdTps = b * t / fwd;
                // BLiMP's requests: the document-start token, then a sentence of 8-16 tokens
                boolean blimpShaped = contextTokens == 1 && minCont == 8 && maxCont == 16;
                double blimpSeconds = 134_000.0 * (scoredTokens / (double) requests) / evalTps;
                double gflops = 2.0 * train.layout().matmulParams() * evalTps / 1e9;
                double requestsPerSecond = requests / best;
                System.out.printf(Locale.ROOT, "%s: scoring %,.0f tokens/s, %,.0f requests/s (%d requests of %d context and %s scored tokens, %d passes of up to %d x %d positions); "
                        + "training forward %,.0f tokens/s (%d x %d); %speak RSS %d MB; %.0f bytes allocated per scored request (all threads)%n",
                        c.preset, evalTps, requestsPerSecond, requests, contextTokens, continuationTokens, scoringPasses, evalBatch, cfg.contextLength(), fwdTps, b, t,
                        blimpShaped ? String.format(Locale.ROOT, "all of BLiMP (67,000 pairs) would take about %.0f s, ", blimpSeconds) : "",
                        peakRssMb(), bytesPerRequest);
                if (generate > 0) {
                    System.out.printf(Locale.ROOT, "greedy generation: %,.0f tokens/s (%d contexts of %d tokens, %d tokens each, %d at a time)%n", generatedTps, requests,
                            contextTokens, generate, evalBatch);
                }
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("bench", "eval");
                out.put("model", c.describe());
                out.put("threads", pool.size());
                out.put("forward_tokens_per_s", round(fwdTps));
                out.put("context_tokens", contextTokens);
                out.put("continuation_tokens", continuationTokens);
                out.put("requests_per_s", round(requestsPerSecond));
                out.put("scoring_passes", scoringPasses);
                if (generate > 0) out.put("generated_tokens_per_s", round(generatedTps));
                if (blimpShaped) out.put("blimp_seconds", round(blimpSeconds));
                out.put("alloc_bytes_per_request", round(bytesPerRequest));
                standardFields(out, evalTps, gflops, peak);
                if (c.json) printJson(out);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    /** The fields every bench result carries, so scripts can compare runs of any bench command. */
    /** Bytes allocated so far by every live thread (HotSpot's per-thread counters). */
    static long allocatedBytesAllThreads() {
        var bean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long total = 0;
        for (long b : bean.getThreadAllocatedBytes(bean.getAllThreadIds())) if (b > 0) total += b;
        return total;
    }

    static void standardFields(Map<String, Object> out, double tokensPerSecond, double gflops, double peak) {
        out.put("tokens_per_s", round(tokensPerSecond));
        out.put("gflops", round(gflops));
        out.put("peak_gflops", round(peak));
        out.put("peak_fraction", Math.round(gflops / peak * 1000) / 1000.0);
        out.put("peak_rss_mb", peakRssMb());
    }

    static void printJson(Map<String, Object> out) throws IOException {
        System.out.println(new ObjectMapper().writeValueAsString(out));
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length == 0 ? 0 : s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static double round(double x) {
        return Math.round(x * 10) / 10.0;
    }

    /** High-water mark of resident memory (Linux /proc; -1 elsewhere). */
    static long peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
