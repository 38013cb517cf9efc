package dev.crucible.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.ShardSet;
import dev.crucible.data.tokenizer.BpeTokenizer;
import dev.crucible.data.tokenizer.TokenizerJson;
import dev.crucible.model.AdamWOptimizer;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.Model;
import dev.crucible.model.ModelConfig;
import dev.crucible.tensor.Cpu;
import dev.crucible.tensor.PeakFlops;
import dev.crucible.tensor.WorkerPool;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The training loop: gradient accumulation to batch_tokens, AdamW with clipping, the learning-rate
 * schedule, periodic validation loss, metrics.jsonl, checkpoints on the configured schedule and a
 * progress line with ETA. A run either starts fresh ({@link #start}) or continues from its newest
 * complete checkpoint ({@link #resume}); both go through the same loop, so a resumed run computes
 * exactly what the uninterrupted run would have.
 */
public final class Trainer {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Result of a run, for callers and tests. */
    public record Summary(Path runDir, int steps, long tokens, double firstLoss, double lastLoss, Double firstVal, Double lastVal,
                          double tokensPerSecond) {}

    private Trainer() {}

    /**
     * A fresh run of cfg. base: the directory that relative paths in the config are resolved against
     * (the config file's). The run directory receives the resolved config with absolute paths.
     */
    public static Summary start(RunConfig cfg, Path base, PrintStream console) throws IOException {
        RunConfig resolved = resolve(cfg, base);
        Path run = Path.of(resolved.out());
        if (Files.exists(run.resolve("metrics.jsonl"))) {
            throw new IOException(run + " already holds a run (metrics.jsonl); continue it with --resume " + run
                    + ", or choose another 'out'");
        }
        Files.createDirectories(run);
        ConfigLoader.write(run.resolve("config.yaml"), resolved);
        return loop(resolved, run, null, console);
    }

    /**
     * Continues the run in runDir from its newest checkpoint that verifies. With a new config, its
     * differences from the run's config are refused unless allowChange (then the new config wins).
     */
    public static Summary resume(Path runDir, RunConfig newCfg, Path newBase, boolean allowChange, PrintStream console) throws IOException {
        Path run = runDir.toAbsolutePath().normalize();
        Path cfgFile = run.resolve("config.yaml");
        if (!Files.isRegularFile(cfgFile)) throw new IOException(run + " is not a run directory (no config.yaml)");
        RunConfig saved = ConfigLoader.load(cfgFile, RunConfig.class);
        RunConfig cfg = saved;
        if (newCfg != null) {
            RunConfig proposed = resolve(newCfg, newBase);
            proposed = new RunConfig(saved.out(), proposed.model(), proposed.data(), proposed.training(), proposed.optimizer(),
                    proposed.schedule(), proposed.eval(), proposed.checkpoint(), proposed.log());
            List<String> diff = differences(saved, proposed);
            if (!diff.isEmpty()) {
                if (!allowChange) {
                    throw new IllegalArgumentException("the config differs from the run's (" + cfgFile + ") in: " + String.join("; ", diff)
                            + ". Resume with the run's own config (omit --config), or pass --allow-config-change to continue under the new one");
                }
                console.println("config changed on resume (allowed): " + String.join("; ", diff));
                ConfigLoader.write(cfgFile, proposed);
            }
            cfg = proposed;
        }
        Checkpoints.removeIncomplete(run);
        List<Path> cks = new ArrayList<>(Checkpoints.list(run));
        if (cks.isEmpty()) { // interrupted before its first checkpoint: starting over computes the same run
            console.println("no checkpoint yet in " + run + ": starting the run over from step 0");
            truncateMetrics(run.resolve("metrics.jsonl"), -1);
            return loop(cfg, run, null, console);
        }
        IOException lastError = null;
        for (int i = cks.size() - 1; i >= 0; i--) {
            try {
                Checkpoints.State st = Checkpoints.verify(cks.get(i));
                return loop(cfg, run, new Resume(cks.get(i), st), console);
            } catch (IOException e) {
                if (!Files.exists(cks.get(i).resolve(Checkpoints.OPTIMIZER)) && !Files.exists(cks.get(i).resolve(Checkpoints.STATE))) continue;
                console.println("warning: skipping checkpoint " + cks.get(i) + ": " + e.getMessage());
                lastError = e;
            }
        }
        throw new IOException(run + ": no complete checkpoint with optimizer state to resume from"
                + (lastError != null ? " (last problem: " + lastError.getMessage() + ")" : ""));
    }

    private record Resume(Path dir, Checkpoints.State state) {}

    private static Summary loop(RunConfig cfg, Path run, Resume from, PrintStream console) throws IOException {
        RunConfig.Training tr = cfg.training();
        ModelConfig mc = cfg.model().resolve();
        String configHash = Checkpoints.sha256(ConfigLoader.YAML.writeValueAsBytes(cfg));
        int threads = tr.threads() > 0 ? tr.threads() : Cpu.cores();
        Cpu.requireSimd();
        Path base = run; // data paths in a resolved config are absolute
        try (ShardSet train = ShardSet.open(base, cfg.data().train());
             ShardSet val = cfg.data().val() == null ? null : ShardSet.open(base, cfg.data().val());
             WorkerPool pool = new WorkerPool(threads)) {
            train.requireVocabulary(mc.vocabSize());
            if (val != null) val.requireVocabulary(mc.vocabSize());
            int b = tr.microBatch(), t = tr.seqLen(), accum = tr.accumulation();
            Model model = new Model(mc, b, t, pool);
            AdamWOptimizer opt = new AdamWOptimizer(model.layout(), cfg.optimizer().settings(), pool);
            DataLoader loader = new DataLoader(train, b, t, tr.seed(), true);
            int startStep = 0;
            long tokens = 0;
            if (from == null && tr.initFrom() != null) {
                try (HfCheckpoint init = HfCheckpoint.open(Path.of(tr.initFrom()))) {
                    init.load(model.layout(), model.params);
                }
                console.println("initialised from " + tr.initFrom());
            } else if (from == null) {
                model.initialize(tr.seed());
            } else {
                Checkpoints.State st = from.state();
                if (st.step() > tr.steps()) throw new IllegalArgumentException("the checkpoint is at step " + st.step() + ", beyond training.steps " + tr.steps());
                Checkpoints.load(from.dir(), model, opt, st);
                loader.seek(st.dataEpoch(), st.dataPosition());
                startStep = st.step();
                tokens = st.tokens();
                truncateMetrics(run.resolve("metrics.jsonl"), startStep);
            }
            Checkpoints.RunTokenizer tokenizer = cfg.data().tokenizer() == null ? null : Checkpoints.RunTokenizer.read(Path.of(cfg.data().tokenizer()));
            LrSchedule schedule = LrSchedule.of(cfg);
            double peak = PeakFlops.measure(pool);
            double flopsPerToken = model.layout().flopsPerToken(t);

            console.println(Cpu.describe(threads));
            console.printf(Locale.ROOT, "model: %s, %,d parameters (%s), context %d%n", mc.style().id(), model.layout().size(),
                    human(model.layout().size()), mc.contextLength());
            console.printf(Locale.ROOT, "data: %s: %,d tokens in %d shard(s), %,d windows of %d%s%n", train.spec(), train.totalTokens(),
                    train.shards().size(), loader.windows(), t, val != null ? String.format(Locale.ROOT, "; val %,d tokens", val.totalTokens()) : "");
            console.printf(Locale.ROOT, "batch: %d x %d tokens x %d accumulation = %,d tokens/step, %d steps = %,d tokens (%.2f epochs)%n",
                    b, t, accum, tr.batchTokens(), tr.steps(), (long) tr.batchTokens() * tr.steps(),
                    (double) tr.batchTokens() * tr.steps() / loader.tokensPerEpoch());
            console.printf(Locale.ROOT, "run directory: %s%s%n", run, from != null ? " (resuming at step " + startStep + " from " + from.dir() + ")" : "");

            int[] inputs = new int[b * t], targets = new int[b * t];
            double firstLoss = Double.NaN, lastLoss = Double.NaN;
            Double firstVal = null, lastVal = null;
            try (BufferedWriter metrics = Files.newBufferedWriter(run.resolve("metrics.jsonl"), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                if (val != null && from == null) { // the untrained model: the first point of every validation curve
                    firstVal = lastVal = validate(model, val, b, t, cfg.eval().batches(), inputs, targets);
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("step", 0);
                    row.put("tokens", 0);
                    row.put("val_loss", round(firstVal, 5));
                    writeRow(metrics, row);
                    console.printf(Locale.ROOT, "step 0/%d | val %.4f%n", tr.steps(), firstVal);
                }
                long start = System.nanoTime(), windowStart = start;
                long windowTokens = 0, startTokens = tokens;
                double recentStepSec = 0, tokensPerSec = 0;
                for (int step = startStep; step < tr.steps(); step++) {
                    long stepStart = System.nanoTime();
                    model.zeroGrad();
                    double loss = 0;
                    for (int micro = 0; micro < accum; micro++) {
                        loader.next(inputs, targets);
                        loss += model.forward(inputs, targets, b, t);
                        model.backward(1f / (b * t * accum));
                    }
                    loss /= accum;
                    if (!Double.isFinite(loss)) {
                        throw new IllegalStateException("loss became " + loss + " at step " + step + "; lower the learning rate (optimizer.lr = "
                                + cfg.optimizer().lr() + ") or check the data");
                    }
                    double lr = schedule.at(step);
                    double gradNorm = opt.step(model.params, model.grads, lr);
                    long tokensBefore = tokens;
                    tokens += tr.batchTokens();
                    windowTokens += tr.batchTokens();
                    if (Double.isNaN(firstLoss)) firstLoss = loss;
                    lastLoss = loss;
                    double stepSec = (System.nanoTime() - stepStart) / 1e9;
                    recentStepSec = step == startStep ? stepSec : 0.9 * recentStepSec + 0.1 * stepSec;

                    int done = step + 1;
                    boolean last = done == tr.steps();
                    boolean checkpointNow = last || cfg.checkpoint().due(done, tokensBefore, tokens);
                    // validation also at every checkpoint, so each checkpoint's downstream scores have a loss beside them
                    boolean evalNow = val != null && (checkpointNow || cfg.eval().every() > 0 && done % cfg.eval().every() == 0);
                    Double valLoss = null;
                    long pauseStart = System.nanoTime();
                    if (evalNow) {
                        valLoss = validate(model, val, b, t, cfg.eval().batches(), inputs, targets);
                        if (firstVal == null) firstVal = valLoss;
                        lastVal = valLoss;
                    }
                    windowStart += System.nanoTime() - pauseStart; // throughput counts training time only
                    if (last || evalNow || done % cfg.log().every() == 0 || step == startStep) {
                        long now = System.nanoTime();
                        tokensPerSec = windowTokens / ((now - windowStart) / 1e9);
                        windowStart = now;
                        windowTokens = 0;
                        double mfu = tokensPerSec * flopsPerToken / (peak * 1e9);
                        Map<String, Object> row = new LinkedHashMap<>();
                        row.put("step", done);
                        row.put("tokens", tokens);
                        row.put("train_loss", round(loss, 5));
                        if (valLoss != null) row.put("val_loss", round(valLoss, 5));
                        row.put("lr", lr);
                        row.put("grad_norm", round(gradNorm, 5));
                        row.put("tokens_per_s", round(tokensPerSec, 1));
                        row.put("mfu", round(mfu, 4));
                        row.put("elapsed_s", round((now - start) / 1e9, 2));
                        writeRow(metrics, row);
                        double eta = recentStepSec * (tr.steps() - done);
                        console.printf(Locale.ROOT, "step %d/%d | loss %.4f%s | lr %.2e | grad %.3f | %,.0f tok/s | MFU %.0f%% | ETA %s%n",
                                done, tr.steps(), loss, valLoss != null ? String.format(Locale.ROOT, " | val %.4f", valLoss) : "", lr, gradNorm,
                                tokensPerSec, 100 * mfu, duration(eta));
                    }
                    if (checkpointNow) {
                        long ckptStart = System.nanoTime();
                        console.println("checkpoint: writing step " + done);
                        Checkpoints.State st = new Checkpoints.State(done, tokens, loader.epoch(), loader.position(), tr.seed(),
                                opt.stepCount(), configHash);
                        Path dir = Checkpoints.write(run, st, model, opt, tokenizer);
                        if (cfg.checkpoint().pruneOptimizer()) Checkpoints.pruneOptimizerState(run, dir);
                        console.println("checkpoint: " + dir);
                        windowStart += System.nanoTime() - ckptStart;
                    }
                }
                double total = (System.nanoTime() - start) / 1e9;
                long trained = tokens - startTokens;
                console.printf(Locale.ROOT, "done: %d steps, %,d tokens in %s (%,.0f tokens/s); metrics in %s%n", tr.steps() - startStep, trained,
                        duration(total), trained / Math.max(total, 1e-9), run.resolve("metrics.jsonl"));
                return new Summary(run, tr.steps(), tokens, firstLoss, lastLoss, firstVal, lastVal, trained / Math.max(total, 1e-9));
            }
        }
    }

    private static void writeRow(BufferedWriter metrics, Map<String, Object> row) throws IOException {
        metrics.write(JSON.writeValueAsString(row));
        metrics.newLine();
        metrics.flush();
    }

    /** Keeps the metrics rows of steps up to the resume point: later ones came from the interrupted process. */
    static void truncateMetrics(Path metrics, int step) throws IOException {
        if (!Files.exists(metrics)) return;
        List<String> keep = new ArrayList<>();
        for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            try {
                if (JSON.readTree(line).path("step").asInt(Integer.MAX_VALUE) <= step) keep.add(line);
            } catch (IOException e) {
                break; // a row cut short by the kill: everything after it is gone too
            }
        }
        Path tmp = metrics.resolveSibling(metrics.getFileName() + ".tmp");
        Files.write(tmp, keep, StandardCharsets.UTF_8);
        Files.move(tmp, metrics, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Mean loss over `batches` batches of windows spread evenly over all the validation shards (the
     * same windows every time). Spread, not the first ones: validation shards of several domains
     * come one after the other, and the first batches would measure only the first domain.
     */
    static double validate(Model model, ShardSet val, int b, int t, int batches, int[] inputs, int[] targets) {
        DataLoader loader = new DataLoader(val, b, t, 0, false);
        int n = Math.min(batches, Math.max(1, loader.windows() / b));
        long total = (long) n * b;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < b; r++) {
                long k = (long) i * b + r;
                loader.read((int) ((2 * k + 1) * loader.windows() / (2 * total)) % loader.windows(), r, inputs, targets);
            }
            sum += model.forward(inputs, targets, b, t);
        }
        return sum / n;
    }

    /**
     * The config with the model spelled out and every path absolute (out, data, init_from), as stored
     * in the run directory. With init_from, the model is that directory's, and a model section, if
     * given, must agree with it.
     */
    static RunConfig resolve(RunConfig cfg, Path base) throws IOException {
        RunConfig.Training tr = cfg.training();
        ModelConfig mc;
        String preset = cfg.model() == null ? null : cfg.model().preset();
        if (tr.initFrom() != null) {
            Path init = base.resolve(tr.initFrom()).toAbsolutePath().normalize();
            try (HfCheckpoint ck = HfCheckpoint.open(init)) {
                mc = ck.config();
            }
            if (cfg.model() != null && !cfg.model().resolve().equals(mc)) {
                throw new IllegalArgumentException("model: differs from the model in training.init_from (" + init + "/config.json): "
                        + cfg.model().resolve() + " vs " + mc + "; omit the model section to use the checkpoint's");
            }
            if (tr.seqLen() > mc.contextLength()) {
                throw new IllegalArgumentException("training.seq_len: " + tr.seqLen() + " exceeds the context length " + mc.contextLength() + " of " + init);
            }
            tr = new RunConfig.Training(tr.seqLen(), tr.microBatch(), tr.batchTokens(), tr.steps(), tr.seed(), tr.threads(), init.toString());
        } else {
            mc = cfg.model().resolve();
        }
        String train = base.resolve(cfg.data().train()).normalize().toString();
        String val = cfg.data().val() == null ? null : base.resolve(cfg.data().val()).normalize().toString();
        String tok = null;
        if (cfg.data().tokenizer() != null) {
            Path tp = base.resolve(cfg.data().tokenizer()).toAbsolutePath().normalize();
            BpeTokenizer t = TokenizerJson.read(tp);
            if (t.vocabSize() > mc.vocabSize()) {
                throw new IllegalArgumentException("data.tokenizer: " + tp + " has " + t.vocabSize() + " tokens, more than the model's vocab_size " + mc.vocabSize());
            }
            tok = tp.toString();
        }
        return new RunConfig(base.resolve(cfg.out()).toAbsolutePath().normalize().toString(), RunConfig.ModelSpec.of(mc, preset),
                new RunConfig.Data(train, val, tok), tr, cfg.optimizer(), cfg.schedule(), cfg.eval(), cfg.checkpoint(), cfg.log());
    }

    /** "key: old -> new" for every dotted key whose value differs. */
    static List<String> differences(RunConfig a, RunConfig b) {
        Map<String, Object> fa = flatten(ConfigLoader.YAML.convertValue(a, Map.class)), fb = flatten(ConfigLoader.YAML.convertValue(b, Map.class));
        List<String> out = new ArrayList<>();
        TreeMap<String, Object> keys = new TreeMap<>(fa);
        keys.putAll(fb);
        for (String k : keys.keySet()) {
            Object x = fa.get(k), y = fb.get(k);
            if (x == null ? y != null : !x.equals(y)) out.add(k + ": " + x + " -> " + y);
        }
        return out;
    }

    private static Map<String, Object> flatten(Map<?, ?> m) {
        Map<String, Object> out = new TreeMap<>();
        m.forEach((k, v) -> {
            if (v instanceof Map<?, ?> sub) flatten(sub).forEach((k2, v2) -> out.put(k + "." + k2, v2));
            else if (v != null) out.put(k.toString(), v);
        });
        return out;
    }

    private static double round(double x, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(x * f) / f;
    }

    static String human(long n) {
        if (n >= 1_000_000_000) return String.format(Locale.ROOT, "%.1fB", n / 1e9);
        if (n >= 1_000_000) return String.format(Locale.ROOT, "%.1fM", n / 1e6);
        if (n >= 1_000) return String.format(Locale.ROOT, "%.1fK", n / 1e3);
        return Long.toString(n);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s >= 3600) return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
        if (s >= 60) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return s + "s";
    }
}
