package dev.crucible.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.ShardSet;
import dev.crucible.model.AdamWOptimizer;
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
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The training loop: gradient accumulation to batch_tokens, AdamW with clipping, the learning-rate
 * schedule, periodic validation loss, metrics.jsonl, checkpoints and a progress line with ETA.
 */
public final class Trainer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RunConfig cfg;
    private final Path base;
    private final PrintStream console;

    /** base: the directory that relative paths in the config are resolved against (the config file's). */
    public Trainer(RunConfig cfg, Path base, PrintStream console) {
        this.cfg = cfg;
        this.base = base;
        this.console = console;
    }

    /** Result of a run, for callers and tests. */
    public record Summary(Path runDir, int steps, long tokens, double firstLoss, double lastLoss, Double firstVal, Double lastVal,
                          double tokensPerSecond) {}

    public Summary run() throws IOException {
        RunConfig.Training tr = cfg.training();
        ModelConfig mc = cfg.model().resolve();
        Path run = base.resolve(cfg.out()).normalize();
        if (Files.exists(run.resolve("metrics.jsonl"))) {
            throw new IOException(run + " already holds a run (metrics.jsonl); choose another 'out' or remove it");
        }
        Files.createDirectories(run);
        ConfigLoader.write(run.resolve("config.yaml"), resolved(mc));

        int threads = tr.threads() > 0 ? tr.threads() : Cpu.cores();
        Cpu.requireSimd();
        try (ShardSet train = ShardSet.open(base, cfg.data().train());
             ShardSet val = cfg.data().val() == null ? null : ShardSet.open(base, cfg.data().val());
             WorkerPool pool = new WorkerPool(threads);
             BufferedWriter metrics = Files.newBufferedWriter(run.resolve("metrics.jsonl"), StandardCharsets.UTF_8,
                     StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            train.requireVocabulary(mc.vocabSize());
            if (val != null) val.requireVocabulary(mc.vocabSize());
            int b = tr.microBatch(), t = tr.seqLen(), accum = tr.accumulation();
            Model model = new Model(mc, b, t, pool);
            model.initialize(tr.seed());
            AdamWOptimizer opt = new AdamWOptimizer(model.layout(), cfg.optimizer().settings(), pool);
            DataLoader loader = new DataLoader(train, b, t, tr.seed(), true);
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
            console.printf(Locale.ROOT, "run directory: %s%n", run);

            int[] inputs = new int[b * t], targets = new int[b * t];
            long tokens = 0;
            double firstLoss = Double.NaN, lastLoss = Double.NaN;
            Double firstVal = null, lastVal = null;
            if (val != null) { // the untrained model: the first point of every validation curve
                firstVal = lastVal = validate(model, val, b, t, cfg.eval().batches(), inputs, targets);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("step", 0);
                row.put("tokens", 0);
                row.put("val_loss", round(firstVal, 5));
                metrics.write(JSON.writeValueAsString(row));
                metrics.newLine();
                console.printf(Locale.ROOT, "step 0/%d | val %.4f%n", tr.steps(), firstVal);
            }
            long start = System.nanoTime(), windowStart = start;
            long windowTokens = 0;
            double recentStepSec = 0;
            double tokensPerSec = 0;
            for (int step = 0; step < tr.steps(); step++) {
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
                tokens += tr.batchTokens();
                windowTokens += tr.batchTokens();
                if (step == 0) firstLoss = loss;
                lastLoss = loss;
                double stepSec = (System.nanoTime() - stepStart) / 1e9;
                recentStepSec = step == 0 ? stepSec : 0.9 * recentStepSec + 0.1 * stepSec;

                int done = step + 1;
                boolean last = done == tr.steps();
                boolean evalNow = val != null && (last || cfg.eval().every() > 0 && done % cfg.eval().every() == 0);
                Double valLoss = null;
                long pauseStart = System.nanoTime();
                if (evalNow) {
                    valLoss = validate(model, val, b, t, cfg.eval().batches(), inputs, targets);
                    lastVal = valLoss;
                }
                windowStart += System.nanoTime() - pauseStart; // throughput counts training time only
                if (last || evalNow || done % cfg.log().every() == 0 || step == 0) {
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
                    metrics.write(JSON.writeValueAsString(row));
                    metrics.newLine();
                    metrics.flush();
                    double eta = recentStepSec * (tr.steps() - done);
                    console.printf(Locale.ROOT, "step %d/%d | loss %.4f%s | lr %.2e | grad %.3f | %,.0f tok/s | MFU %.0f%% | ETA %s%n",
                            done, tr.steps(), loss, valLoss != null ? String.format(Locale.ROOT, " | val %.4f", valLoss) : "", lr, gradNorm,
                            tokensPerSec, 100 * mfu, duration(eta));
                }
                if (last || cfg.checkpoint().every() > 0 && done % cfg.checkpoint().every() == 0) {
                    long ckptStart = System.nanoTime();
                    Path dir = Checkpoints.write(run, done, tokens, model);
                    console.println((last ? "final checkpoint: " : "checkpoint: ") + dir);
                    windowStart += System.nanoTime() - ckptStart;
                }
            }
            double total = (System.nanoTime() - start) / 1e9;
            console.printf(Locale.ROOT, "done: %d steps, %,d tokens in %s (%,.0f tokens/s); metrics in %s%n", tr.steps(), tokens,
                    duration(total), tokens / total, run.resolve("metrics.jsonl"));
            return new Summary(run, tr.steps(), tokens, firstLoss, lastLoss, firstVal, lastVal, tokens / total);
        }
    }

    /** Mean loss over the first `batches` batches of the validation shards (the same windows every time). */
    static double validate(Model model, ShardSet val, int b, int t, int batches, int[] inputs, int[] targets) {
        DataLoader loader = new DataLoader(val, b, t, 0, false);
        int n = Math.min(batches, Math.max(1, loader.windows() / b));
        double sum = 0;
        for (int i = 0; i < n; i++) {
            loader.next(inputs, targets);
            sum += model.forward(inputs, targets, b, t);
        }
        return sum / n;
    }

    private RunConfig resolved(ModelConfig mc) {
        return new RunConfig(cfg.out(), RunConfig.ModelSpec.of(mc, cfg.model().preset()), cfg.data(), cfg.training(), cfg.optimizer(),
                cfg.schedule(), cfg.eval(), cfg.checkpoint(), cfg.log());
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
