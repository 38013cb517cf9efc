package dev.crucible.train;

import dev.crucible.model.DistillationLoss;
import dev.crucible.model.Growth;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.Loss;
import dev.crucible.model.Model;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import dev.crucible.model.TrainStep;
import dev.crucible.model.optim.Optimizer;
import dev.crucible.tensor.Cpu;
import dev.crucible.tensor.PeakFlops;
import dev.crucible.tensor.Rng;
import dev.crucible.tensor.WorkerPool;
import dev.crucible.train.parallel.Replicas;
import dev.crucible.train.tensorboard.EventFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A training run: the {@link TrainStep} repeated over the data with the learning-rate schedule,
 * validation loss ({@link Validation}), metrics.jsonl ({@link MetricsLog}), checkpoints when the
 * config's policy says ({@link RunConfig.Checkpoint#due}) and a progress line with ETA. A run either
 * starts fresh ({@link #start}) or continues from its newest complete checkpoint ({@link #resume});
 * both go through the same loop, so a resumed run computes exactly what the uninterrupted run would
 * have. One trainer at a time holds a run directory ({@link RunLock}).
 */
public final class Trainer {

    /**
     * Result of a run, for callers and tests. steps: the last step trained (before training.steps when
     * eval.stop_below ended it); trainingSeconds: the wall-clock time of the steps this process ran,
     * validation, diagnostics and checkpoint writes excluded; stopped: whether eval.stop_below ended it.
     */
    public record Summary(Path runDir, int steps, long tokens, double firstLoss, double lastLoss, Double firstVal, Double lastVal,
                          double tokensPerSecond, double trainingSeconds, boolean stopped) {}

    /**
     * Whether the run in this directory is over: its checkpoint at training.steps is written, or
     * eval.stop_below ended it at its newest checkpoint (what sweeps and `eval --follow` wait for).
     */
    public static boolean finished(Path run) throws IOException {
        Path cfgFile = run.resolve(RunConfigFile.FILE);
        if (!Files.isRegularFile(cfgFile)) return false;
        RunConfig cfg = RunConfigs.readSaved(cfgFile);
        if (Files.isRegularFile(Checkpoints.dirFor(run, cfg.training().steps()).resolve(Checkpoints.STATE))) return true;
        if (cfg.eval().stopBelow() == null) return false;
        List<Path> cks = Checkpoints.list(run);
        if (cks.isEmpty()) return false;
        Path newest = cks.getLast();
        return Files.isRegularFile(newest.resolve(Checkpoints.STATE))
                && validatedAtOrBelow(run, Checkpoints.state(newest).step(), cfg.eval().stopBelow());
    }

    /** Whether metrics.jsonl records a finite validation loss at or below limit at this step (a run that eval.stop_below ended there). */
    private static boolean validatedAtOrBelow(Path run, int step, double limit) throws IOException {
        Path metrics = run.resolve(MetricsLog.FILE);
        if (!Files.exists(metrics)) return false;
        for (dev.crucible.data.JsonlTable.Row r : dev.crucible.data.JsonlTable.read(metrics)) {
            if (r.value().path("step").asInt(-1) != step || !r.value().has("val_loss")) continue;
            double v = r.value().get("val_loss").asDouble(Double.NaN);
            if (Double.isFinite(v) && v <= limit) return true;
        }
        return false;
    }

    private Trainer() {}

    /**
     * A fresh run of cfg. base: the directory that relative paths in the config are resolved against
     * (the config file's). The run directory receives the resolved config with absolute paths.
     */
    public static Summary start(RunConfig cfg, Path base, PrintStream console) throws IOException {
        return start(cfg, base, console, Replicas.single());
    }

    /**
     * A fresh run, data-parallel over the replicas: each trains on its share of every global batch and
     * rank 0 alone holds the run directory, writes to it and prints (console is ignored elsewhere).
     */
    public static Summary start(RunConfig cfg, Path base, PrintStream console, Replicas replicas) throws IOException {
        RunConfig resolved = RunConfigs.resolve(cfg, base);
        Path run = Path.of(resolved.out());
        PrintStream out = replicas.writes() ? console : SILENT;
        try (RunLock lock = replicas.writes() ? RunLock.acquire(run) : null) {
            String hash = null;
            if (replicas.writes()) {
                if (Files.exists(run.resolve(MetricsLog.FILE))) {
                    throw new IOException(run + " already holds a run (metrics.jsonl); continue it with --resume " + run
                            + ", or choose another 'out'");
                }
                hash = RunConfigFile.write(run, resolved);
            }
            replicas.barrier(); // the others start once rank 0 holds the run
            return new Loop(resolved, hash, run, null, out, replicas).run();
        }
    }

    /**
     * Continues the run in runDir from its newest checkpoint that verifies. With a new config, its
     * differences from the run's config are refused unless allowChange (then the new config wins).
     */
    public static Summary resume(Path runDir, RunConfig newCfg, Path newBase, boolean allowChange, PrintStream console) throws IOException {
        return resume(runDir, newCfg, newBase, allowChange, console, Replicas.single());
    }

    /**
     * Continues a run data-parallel over the replicas (as many as it started with, or not: the global
     * batch and the data order do not depend on them). Rank 0 chooses the checkpoint, the others load it.
     */
    public static Summary resume(Path runDir, RunConfig newCfg, Path newBase, boolean allowChange, PrintStream console, Replicas replicas)
            throws IOException {
        Path run = runDir.toAbsolutePath().normalize();
        Path cfgFile = run.resolve(RunConfigFile.FILE);
        boolean writes = replicas.writes();
        PrintStream out = writes ? console : SILENT;
        if (!Files.isRegularFile(cfgFile)) throw new IOException(run + " is not a run directory (no config.yaml)");
        try (RunLock lock = writes ? RunLock.acquire(run) : null) {
            RunConfig saved = RunConfigs.readSaved(cfgFile);
            RunConfig cfg = saved;
            if (newCfg != null) {
                RunConfig proposed = RunConfigs.resolve(newCfg, newBase).withOut(saved.out());
                // phases the new config leaves out are the run's, not re-derived from its new steps (which would move the cool-down under a running run)
                proposed = proposed.withSchedule(proposed.schedule().phasesFrom(saved.schedule()));
                List<String> diff = RunConfigs.differences(saved, proposed);
                if (!diff.isEmpty()) {
                    if (!allowChange) {
                        throw new IllegalArgumentException("the config differs from the run's (" + cfgFile + ") in: " + String.join("; ", diff)
                                + ". Resume with the run's own config (omit --config), or pass --allow-config-change to continue under the new one");
                    }
                    out.println("config changed on resume (allowed): " + String.join("; ", diff));
                    if (writes) RunConfigFile.write(run, proposed);
                }
                cfg = proposed;
            }
            if (!writes) { // rank 0 has chosen the checkpoint (the step, or -1 for none) once it has read and checked the files
                int step = replicas.broadcast(0);
                Path ck = step < 0 ? null : Checkpoints.dirFor(run, step);
                if (ck != null && !Files.isDirectory(ck)) throw new IOException(ck + ": rank 0 resumes from it, but this rank cannot see it (a shared file system?)");
                return new Loop(cfg, null, run, ck == null ? null : new Resume(ck, Checkpoints.state(ck)), out, replicas).run();
            }
            String hash = RunConfigFile.hash(run);
            Checkpoints.removeIncomplete(run);
            List<Path> cks = new ArrayList<>(Checkpoints.list(run));
            if (cks.isEmpty()) { // interrupted before its first checkpoint: starting over computes the same run
                out.println("no checkpoint yet in " + run + ": starting the run over from step 0");
                MetricsLog.truncate(run, -1);
                Diagnostics.truncate(run, -1);
                replicas.broadcast(-1);
                return new Loop(cfg, hash, run, null, out, replicas).run();
            }
            Resume from = newestVerified(cks, out);
            if (!from.state().configSha256().equals(hash) && !RunConfigFile.writtenByTrainer(run, hash) && !allowChange) {
                throw new IllegalArgumentException(cfgFile + " is not the config " + from.dir() + " was trained with, nor one the trainer wrote "
                        + "(its SHA-256 differs: it was edited by hand); put it back, or pass --allow-config-change to continue under it");
            }
            replicas.broadcast(from.state().step());
            return new Loop(cfg, hash, run, from, out, replicas).run();
        }
    }

    private static final PrintStream SILENT = new PrintStream(java.io.OutputStream.nullOutputStream());

    /** Only verification is tried here: an error while training from a good checkpoint is that error, not a reason to try an older one. */
    private static Resume newestVerified(List<Path> cks, PrintStream console) throws IOException {
        IOException lastError = null;
        for (int i = cks.size() - 1; i >= 0; i--) {
            Path ck = cks.get(i);
            try {
                return new Resume(ck, Checkpoints.verify(ck));
            } catch (IOException e) {
                if (!Files.exists(ck.resolve(Checkpoints.OPTIMIZER)) && !Files.exists(ck.resolve(Checkpoints.STATE))) continue;
                console.println("warning: skipping checkpoint " + ck + ": " + e.getMessage());
                lastError = e;
            }
        }
        throw new IOException(cks.getFirst().getParent().getParent() + ": no complete checkpoint with optimizer state to resume from"
                + (lastError != null ? " (last problem: " + lastError.getMessage() + ")" : ""));
    }

    private record Resume(Path dir, Checkpoints.State state) {}

    /** One pass of the training loop over a run directory the caller holds. */
    private static final class Loop {
        private final RunConfig cfg;
        /** SHA-256 of the config.yaml the run trains under, recorded in every checkpoint. */
        private final String configHash;
        private final RunConfig.Training tr;
        private final Path run;
        private final Resume from;
        private final PrintStream console;
        private final Replicas replicas;
        /** Rank 0: validates, writes metrics, diagnostics and checkpoints. */
        private final boolean writes;
        private double firstLoss = Double.NaN, lastLoss = Double.NaN;
        private Double firstVal, lastVal;

        Loop(RunConfig cfg, String configHash, Path run, Resume from, PrintStream console, Replicas replicas) {
            this.cfg = cfg;
            this.configHash = configHash;
            this.tr = cfg.training();
            this.run = run;
            this.from = from;
            this.console = console;
            this.replicas = replicas;
            this.writes = replicas.writes();
        }

        Summary run() throws IOException {
            ModelConfig mc = cfg.model().resolve();
            int n = replicas.size();
            if (tr.accumulation() % n != 0) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "training: a step of batch_tokens %d is %d micro-batches of %d x %d tokens, "
                        + "which %d replicas cannot share equally; choose micro_batch so that batch_tokens / (micro_batch x seq_len) is a multiple of %d",
                        tr.batchTokens(), tr.accumulation(), tr.microBatch(), tr.seqLen(), n, n));
            }
            if (n > 1 && tr.distill() != null && tr.distill().select() != null) {
                throw new IllegalArgumentException("training.distill.select (SALT_DS) chooses rows by the teacher's loss, which data parallelism cannot "
                        + "share among replicas yet; run it in one process, or distil without select");
            }
            // a run eval.stop_below ended trains no further (rank 0 reads its metrics; every replica learns the answer)
            if (from != null && cfg.eval().stopBelow() != null
                    && replicas.broadcast(writes && validatedAtOrBelow(run, from.state().step(), cfg.eval().stopBelow()) ? 1 : 0) == 1) {
                console.printf(Locale.ROOT, "the run ended at step %d, where validation loss reached eval.stop_below %.4f: nothing to train%n",
                        from.state().step(), cfg.eval().stopBelow());
                return new Summary(run, from.state().step(), from.state().tokens(), Double.NaN, Double.NaN, null, null, 0, 0, true);
            }
            int threads = tr.threads() > 0 ? tr.threads() : threadsPerReplica(replicas, console);
            Cpu.requireSimd();
            int b = tr.microBatch(), t = tr.seqLen();
            Checkpoints.RunTokenizer tokenizer = cfg.data().tokenizer() == null ? null : Checkpoints.RunTokenizer.read(Path.of(cfg.data().tokenizer()));
            try (RunData data = new RunData(run, cfg.data(), mc.vocabSize(), b, t, tr.seed(), cfg.eval().batches(),
                    tokenizer == null ? null : tokenizer.tokenizer());
                 WorkerPool pool = new WorkerPool(threads)) {
                if (cfg.eval().stopBelow() != null && !data.validates()) {
                    throw new IllegalArgumentException("eval.stop_below: the run has no validation data to compare with it (give data.val, or a val to a data source)");
                }
                Model model = Model.forTraining(mc, b, t, pool);
                Optimizer opt = cfg.optimizer().create(model.layout(), pool);
                TrainStep step = TrainStep.crossEntropy(model, opt, cfg.optimizer().gradClip(), tr.zLoss(), pool);
                int startStep = 0;
                long tokens = 0;
                double flops = 0;
                if (from != null) {
                    Checkpoints.State st = from.state();
                    if (st.step() > tr.steps()) throw new IllegalArgumentException("the checkpoint is at step " + st.step() + ", beyond training.steps " + tr.steps());
                    Checkpoints.load(from.dir(), model, opt, st);
                    data.mixture().seek(st.data());
                    startStep = st.step();
                    tokens = st.tokens();
                    flops = Double.isNaN(st.flops()) ? tokens * model.layout().flopsPerToken(t) : st.flops();
                    if (writes) {
                        MetricsLog.truncate(run, startStep);
                        Diagnostics.truncate(run, startStep);
                    }
                } else if (tr.initFrom() != null) {
                    try (HfCheckpoint init = HfCheckpoint.open(Path.of(tr.initFrom()))) {
                        init.load(model.layout(), model.params);
                    }
                    console.println("initialised from " + tr.initFrom());
                } else if (tr.growFrom() != null) {
                    grow(model, data.mixture());
                } else {
                    model.initialize(tr.seed());
                }
                replicas.broadcast(model.params); // every replica starts from rank 0's weights, whatever each one read or drew
                if (n > 1) step.dataParallel((grads, losses) -> {
                    replicas.sum(grads);
                    replicas.sum(losses);
                }, n, replicas.rank());
                // the teacher only while it teaches: a run resumed after the distillation phase needs no teacher
                DistillationLoss kd = tr.distill() == null || startStep >= tr.distill().untilStep() ? null : teacher(b, t, pool);
                describe(mc, model, data, threads, startStep);
                try (EventFile events = writes ? new EventFile(run, "train") : null;
                     MetricsLog metrics = writes ? new MetricsLog(run, events) : null; Diagnostics diagnostics = writes ? new Diagnostics(run, events) : null) {
                    // TensorBoard drops what the interrupted process logged after the checkpoint, as metrics.jsonl was truncated
                    if (writes && startStep > 0) events.restartAt(startStep + 1);
                    return train(model, step, kd, data, metrics, diagnostics, events, tokenizer, pool, startStep, tokens, flops);
                }
            }
        }

        /**
         * Without training.threads: each replica on a machine gets an equal share of its cores, and no
         * more than its CPU affinity allows (mpirun binds each of 2 ranks to one core by default).
         */
        private static int threadsPerReplica(Replicas replicas, PrintStream console) {
            if (replicas.size() == 1) return WorkerPool.threadsFor(0);
            int share = Math.max(1, Cpu.machineCores() / replicas.localSize()), allowed = Cpu.cores();
            if (allowed < share) {
                console.printf(Locale.ROOT, "note: mpirun bound each rank to %d core(s) of the %d its share would be; pass --bind-to none to give each "
                        + "rank %d threads%n", allowed, share, share);
            }
            return Math.min(share, allowed);
        }

        /** The distillation teacher, inference-only, with room for the run's micro-batch. */
        private DistillationLoss teacher(int b, int t, WorkerPool pool) throws IOException {
            RunConfig.Distill d = tr.distill();
            try (HfCheckpoint ck = HfCheckpoint.open(Path.of(d.teacher()))) {
                Model teacher = Model.forInference(ck.config(), b, t, pool);
                ck.load(teacher.layout(), teacher.params);
                teacher.packWeights();
                console.printf(Locale.ROOT, "distillation: teacher %s (%,d parameters), weight %s, temperature %s, for steps 1-%d%n", d.teacher(),
                        teacher.layout().size(), d.weight(), d.temperature(), d.untilStep());
                return new DistillationLoss(teacher, d.weight(), d.temperature(), pool);
            }
        }

        /** SALT_DS's selection: the teacher's loss band from a sample of the stream drawn with a seed of its own. */
        private TeacherSelection selection(DistillationLoss kd, RunData data) {
            RunConfig.Select sel = tr.distill().select();
            long t0 = System.nanoTime();
            TeacherSelection s = new TeacherSelection(kd.teacher(), data.mixture(), data.another(Rng.derive(tr.seed(), "salt-ds-sample").nextLong()),
                    tr.microBatch(), tr.seqLen(), sel.low(), sel.high(), sel.sample());
            console.printf(Locale.ROOT, "SALT_DS: distilling on rows whose teacher loss lies in [%.3f, %.3f] nats (its %s-%s quantiles over %d sampled rows, %.1f s)%n",
                    s.low(), s.high(), sel.low(), sel.high(), sel.sample(), (System.nanoTime() - t0) / 1e9);
            return s;
        }

        /** What orders a training stream: each source's name, shards, weight and unique-token limit (not its validation). */
        private static List<String> ordering(RunConfig.Data d) {
            return d.streams().stream().map(x -> x.name() + " " + x.train() + " weight " + x.weight() + " max_unique_tokens " + x.maxUniqueTokens()).toList();
        }

        /** G_stack: the model's weights from grow_from's checkpoint, stacked; the data order continued from it if asked. */
        private void grow(Model model, DataMixture mixture) throws IOException {
            RunConfig.GrowFrom g = tr.growFrom();
            Path dir = Path.of(g.checkpoint());
            Growth.Grown grown = Growth.stack(dir, g.factor());
            System.arraycopy(grown.params(), 0, model.params, 0, grown.params().length);
            int layers = grown.source().nLayer();
            console.printf(Locale.ROOT, "grown from %s: its %d layers stacked x%d (0-%d repeated) into %d; fresh optimizer and schedule%n", dir, layers,
                    g.factor(), layers - 1, model.config().nLayer());
            if (!Growth.copiesActAsSources(grown.source(), g.factor())) {
                console.println("note: the model's layers compute per their index (Mix-LN placement or LayerNorm Scaling), so the grown model does not "
                        + "compute exactly what its stacked copies did at their old indices");
            }
            if (g.continueData()) {
                Path smallConfig = dir.getParent() == null || dir.getParent().getParent() == null ? dir.resolve(RunConfigFile.FILE)
                        : dir.getParent().getParent().resolve(RunConfigFile.FILE);
                if (!Files.isRegularFile(dir.resolve(Checkpoints.STATE)) || !Files.isRegularFile(smallConfig)) {
                    throw new IllegalArgumentException("training.grow_from.continue_data: " + dir + " is not a checkpoint of a Crucible run (it needs its "
                            + Checkpoints.STATE + " and the run's " + smallConfig + "); set continue_data: false");
                }
                Checkpoints.State st = Checkpoints.state(dir);
                RunConfig small = RunConfigs.readSaved(smallConfig);
                List<String> differ = new ArrayList<>();
                if (st.seed() != tr.seed()) differ.add("seed " + st.seed() + " vs " + tr.seed());
                if (small.training().seqLen().intValue() != tr.seqLen()) differ.add("seq_len " + small.training().seqLen() + " vs " + tr.seqLen());
                if (!ordering(small.data()).equals(ordering(cfg.data()))) differ.add("data " + ordering(small.data()) + " vs " + ordering(cfg.data()));
                if (!differ.isEmpty()) {
                    throw new IllegalArgumentException("training.grow_from.continue_data: " + dir + " was trained on another data order ("
                            + String.join(", ", differ) + "); set continue_data: false or match them");
                }
                mixture.seek(st.data());
                console.printf(Locale.ROOT, "data: continuing where %s stopped (%s)%n", dir, st.data().sources().entrySet().stream()
                        .map(e -> String.format(Locale.ROOT, "%sepoch %d, window %,d", st.data().sources().size() > 1 ? e.getKey() + " " : "",
                                e.getValue().epoch(), e.getValue().position())).collect(java.util.stream.Collectors.joining("; ")));
            }
        }

        private void describe(ModelConfig mc, Model model, RunData data, int threads, int startStep) {
            int b = tr.microBatch(), t = tr.seqLen();
            console.println(Cpu.describe(threads));
            console.printf(Locale.ROOT, "model: %s, %,d parameters (%s), context %d%n", mc.style().id(), model.layout().size(),
                    human(model.layout().size()), mc.contextLength());
            data.describe(console, t, tr.batchTokens(), tr.steps());
            console.printf(Locale.ROOT, "batch: %d x %d tokens x %d accumulation = %,d tokens/step, %d steps = %,d tokens%n",
                    b, t, tr.accumulation(), tr.batchTokens(), tr.steps(), (long) tr.batchTokens() * tr.steps());
            String caution = LrSchedule.of(cfg).caution();
            if (caution != null) console.println("warning: schedule: " + caution);
            if (replicas.size() > 1) {
                console.printf(Locale.ROOT, "data-parallel: %d replicas (%s), each %d of a step's %d micro-batches, %d threads each; rank 0 writes%n",
                        replicas.size(), replicas, tr.accumulation() / replicas.size(), tr.accumulation(), threads);
            }
            console.printf(Locale.ROOT, "run directory: %s%s%n", run, from != null ? " (resuming at step " + startStep + " from " + from.dir() + ")" : "");
        }

        private Summary train(Model model, TrainStep step, DistillationLoss kd, RunData data, MetricsLog metrics, Diagnostics diagnostics,
                              EventFile events, Checkpoints.RunTokenizer tokenizer, WorkerPool pool, int startStep, long tokens, double flops)
                throws IOException {
            LrSchedule schedule = LrSchedule.of(cfg);
            if (writes && data.validates() && from == null) { // the untrained model: the first point of every validation curve
                Map<String, Double> vals = data.validate(model);
                firstVal = lastVal = vals.get("val_loss");
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("step", 0);
                row.put("tokens", 0);
                vals.forEach((k, v) -> row.put(k, round(v, 5)));
                metrics.write(row);
                console.printf(Locale.ROOT, "step 0/%d | val %.4f%n", tr.steps(), firstVal);
            }
            int accumulation = tr.accumulation() / replicas.size();
            TrainStep.BatchSource batches = replicas.size() == 1 ? batch -> data.mixture().next(batch.inputs(), batch.targets())
                    : new ReplicaShare(data.mixture(), replicas.rank(), replicas.size(), accumulation, tr.microBatch());
            TeacherSelection selection = kd == null || tr.distill().select() == null ? null : selection(kd, data);
            java.util.function.DoubleSupplier peak = () -> PeakFlops.measure(pool) * replicas.size(); // MFU of the whole job, each replica as fast as rank 0
            Progress progress = new Progress(peak, peak.getAsDouble(), model.layout().flopsPerToken(tr.seqLen()), tokens, flops); // clocks start with training
            Loss plain = step.loss();
            int lastStep = tr.steps();
            boolean stopped = false;
            Double stopBelow = cfg.eval().stopBelow();
            for (int s = startStep; s < tr.steps(); s++) {
                boolean distilling = kd != null && s < tr.distill().untilStep();
                step.loss(distilling ? kd : plain);
                int done = s + 1;
                boolean checkpointNow = done == tr.steps() || cfg.checkpoint().due(done, progress.tokens, progress.tokens + tr.batchTokens());
                // validation also at every checkpoint, so each checkpoint's downstream scores have a loss beside them (rank 0 validates)
                boolean evalStep = data.validates() && (checkpointNow || cfg.eval().every() > 0 && done % cfg.eval().every() == 0);
                boolean diagnose = writes && cfg.diagnostics().due(done, checkpointNow);
                step.captureUpdate(diagnose);
                step.dropout(model.config().dropout() > 0 && s >= tr.dropoutFromStep(), tr.seed(), s);
                double lr = schedule.at(s);
                TrainStep.Result r = step.run(distilling && selection != null ? selection : batches, accumulation, lr);
                if (!r.updated()) {
                    throw new IllegalStateException("loss became " + r.loss() + (Double.isFinite(r.loss()) ? " with gradient norm " + r.gradNorm() : "")
                            + " at step " + s + "; lower the learning rate (optimizer.lr = " + cfg.optimizer().lr() + ") or check the data"
                            + (kd != null && s < tr.distill().untilStep() ? " and the teacher" : ""));
                }
                progress.stepDone(tr.batchTokens(), s == startStep);
                if (Double.isNaN(firstLoss)) firstLoss = r.loss();
                lastLoss = r.loss();
                boolean evalNow = writes && evalStep;
                Map<String, Double> vals = null;
                if (evalNow) {
                    long pause = System.nanoTime();
                    vals = data.validate(model);
                    if (firstVal == null) firstVal = vals.get("val_loss");
                    lastVal = vals.get("val_loss");
                    progress.paused(pause);
                }
                // the finish line (as metrics.jsonl rounds it, so a resume reads the same decision): rank 0 validated, every replica learns it
                boolean reached = stopBelow != null && evalStep && replicas.broadcast(evalNow && Double.isFinite(vals.get("val_loss"))
                        && round(vals.get("val_loss"), 5) <= stopBelow ? 1 : 0) == 1;
                if (reached) checkpointNow = true;
                boolean last = done == tr.steps() || reached;
                if (diagnose) {
                    long pause = System.nanoTime();
                    diagnostics.write(done, progress.tokens, model, step.paramsBeforeLastUpdate());
                    progress.paused(pause);
                }
                if (writes && (last || evalNow || done % cfg.log().every() == 0 || s == startStep)) log(metrics, progress, done, r, lr, vals, data.epochs(), distilling);
                if (writes && checkpointNow) {
                    long pause = System.nanoTime();
                    console.println("checkpoint: writing step " + done);
                    Checkpoints.State st = new Checkpoints.State(done, progress.tokens, progress.flops, data.mixture().state(), tr.seed(),
                            step.optimizer().stepCount(), configHash);
                    Path dir = Checkpoints.write(run, st, model, step.optimizer(), tokenizer);
                    if (cfg.checkpoint().pruneOptimizer()) Checkpoints.pruneOptimizerState(run, dir);
                    for (ParamLayout.Tensor ten : model.layout().tensors()) { // TensorBoard's distributions: every tensor's weights and last gradients
                        events.histogram("weights/" + ten.name(), done, model.params, ten.offset(), ten.rows() * ten.cols());
                        events.histogram("gradients/" + ten.name(), done, model.grads, ten.offset(), ten.rows() * ten.cols());
                    }
                    console.println("checkpoint: " + dir);
                    progress.paused(pause);
                }
                if (reached) {
                    console.printf(Locale.ROOT, "reached eval.stop_below %.4f at step %d (validation loss %.4f): the run ends here%n", stopBelow, done,
                            lastVal == null ? Double.NaN : lastVal);
                    lastStep = done;
                    stopped = true;
                    break;
                }
            }
            double total = (System.nanoTime() - progress.start) / 1e9;
            long trained = progress.tokens - tokens;
            double training = progress.trainingSeconds();
            console.printf(Locale.ROOT, "done: %d steps, %,d tokens in %s (%,.0f tokens/s; %s of it training, the rest validation and checkpoints); "
                    + "metrics in %s%n", lastStep - startStep, trained, duration(total), trained / Math.max(total, 1e-9), duration(training), run.resolve(MetricsLog.FILE));
            if (selection != null) {
                long[] c = selection.counts();
                console.printf(Locale.ROOT, "SALT_DS: kept %,d of the %,d rows drawn while distilling (%.0f%%)%n", c[1], c[0], 100.0 * c[1] / Math.max(1, c[0]));
            }
            if (kd != null && kd.teacherNanos() > 0) {
                double scoring = selection == null ? 0 : selection.scoringNanos() / 1e9, teacher = kd.teacherNanos() / 1e9 + scoring;
                console.printf(Locale.ROOT, "teacher: %.2f s of forward passes over the %d distillation steps run here%s, %.1f%% of the run's time%n", teacher,
                        Math.max(0, Math.min(tr.steps(), tr.distill().untilStep()) - startStep),
                        selection == null ? "" : String.format(Locale.ROOT, " (%.2f s of them scoring rows for SALT_DS)", scoring), 100 * teacher / total);
            }
            if (diagnostics != null && diagnostics.seconds() > 0) {
                console.printf(Locale.ROOT, "diagnostics: %.2f s, %.2f%% of the run's time (%s)%n", diagnostics.seconds(), 100 * diagnostics.seconds() / total,
                        run.resolve(Diagnostics.FILE));
            }
            return new Summary(run, lastStep, progress.tokens, firstLoss, lastLoss, firstVal, lastVal, trained / Math.max(total, 1e-9), training,
                    stopped);
        }

        /** A metrics row and the progress line. */
        private void log(MetricsLog metrics, Progress progress, int done, TrainStep.Result r, double lr, Map<String, Double> vals,
                         Map<String, Double> epochs, boolean distilling) throws IOException {
            Double valLoss = vals == null ? null : vals.get("val_loss");
            double tokensPerSec = progress.tokensPerSecondSinceLastLog();
            double mfu = progress.mfu(tokensPerSec);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("step", done);
            row.put("tokens", progress.tokens);
            row.put("flops", progress.flops);
            row.put("train_loss", round(r.loss(), 5));
            if (tr.zLoss() > 0) row.put("z_loss", round(r.auxiliaryLoss(), 6)); // in the gradient, not in train_loss
            if (distilling) row.put("kd_loss", round(r.auxiliaryLoss(), 5)); // CE(teacher, student); train_loss stays CE(labels)
            if (vals != null) vals.forEach((k, v) -> row.put(k, round(v, 5)));
            epochs.forEach((k, v) -> row.put(k, round(v, 4)));
            row.put("lr", lr);
            row.put("grad_norm", round(r.gradNorm(), 5));
            row.put("tokens_per_s", round(tokensPerSec, 1));
            row.put("mfu", round(mfu, 4));
            row.put("elapsed_s", round((System.nanoTime() - progress.start) / 1e9, 2));
            metrics.write(row);
            double eta = progress.recentStepSeconds * (tr.steps() - done);
            console.printf(Locale.ROOT, "step %d/%d | loss %.4f%s | lr %.2e | grad %.3f | %,.0f tok/s | MFU %.0f%% | ETA %s%n",
                    done, tr.steps(), r.loss(), valLoss != null ? String.format(Locale.ROOT, " | val %.4f", valLoss) : "", lr, r.gradNorm(),
                    tokensPerSec, 100 * mfu, duration(eta));
        }
    }

    /**
     * Tokens and FLOPs trained so far, and throughput over the training time only: validation and
     * checkpoint writes are paused out of it.
     */
    static final class Progress {
        final double flopsPerToken;
        /** The FMA probe's rate (GFLOP/s), and how to take it again. */
        double peakGflops;
        final java.util.function.DoubleSupplier probe;
        final long start = System.nanoTime();
        long tokens, windowTokens, windowStart = start, stepStart = start, pausedNanos;
        double flops, recentStepSeconds;

        /** peakGflops: the probe's first reading, taken before training's clocks start here. */
        Progress(java.util.function.DoubleSupplier probe, double peakGflops, double flopsPerToken, long tokens, double flops) {
            this.probe = probe;
            this.peakGflops = peakGflops;
            this.flopsPerToken = flopsPerToken;
            this.tokens = tokens;
            this.flops = flops;
        }

        /**
         * Model FLOPs utilisation at this rate. Training cannot outrun the probe's FMA loop, so a value
         * above 1 means the probe ran while something else held the cores (another job on a shared
         * host): the probe is taken again and the larger reading kept.
         */
        double mfu(double tokensPerSec) {
            double mfu = tokensPerSec * flopsPerToken / (peakGflops * 1e9);
            if (mfu > 1) {
                peakGflops = Math.max(peakGflops, probe.getAsDouble());
                mfu = tokensPerSec * flopsPerToken / (peakGflops * 1e9);
            }
            return mfu;
        }

        void stepDone(int batchTokens, boolean first) {
            long now = System.nanoTime();
            tokens += batchTokens;
            flops += flopsPerToken * batchTokens;
            windowTokens += batchTokens;
            double sec = (now - stepStart) / 1e9;
            recentStepSeconds = first ? sec : 0.9 * recentStepSeconds + 0.1 * sec;
            stepStart = now;
        }

        /** Time since pauseStart was not training. */
        void paused(long pauseStart) {
            long d = System.nanoTime() - pauseStart;
            pausedNanos += d;
            windowStart += d;
            stepStart += d;
        }

        /** Time since training started, pauses excluded. */
        double trainingSeconds() {
            return (System.nanoTime() - start - pausedNanos) / 1e9;
        }

        double tokensPerSecondSinceLastLog() {
            long now = System.nanoTime();
            double tps = windowTokens / ((now - windowStart) / 1e9);
            windowStart = now;
            windowTokens = 0;
            return tps;
        }
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
