package dev.crucible.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.crucible.eval.HeldoutProbes;
import dev.crucible.eval.Task;
import dev.crucible.eval.Tasks;
import dev.crucible.io.AtomicWrite;
import dev.crucible.model.Model;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.TrainStep;
import dev.crucible.tensor.Rng;
import dev.crucible.tensor.WorkerPool;
import dev.crucible.train.Checkpoints;
import dev.crucible.train.ConfigLoader;
import dev.crucible.train.RunConfig;
import dev.crucible.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The whole job on the built-in data: corpus, cleaning, tokenizer, shards, a training run with
 * log-spaced checkpoints, evaluation of every checkpoint, and the report. Every stage leaves a
 * marker of completion and is skipped on a rerun, so an interrupted quickstart continues where
 * it stopped; training itself resumes from its newest checkpoint.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = {"Run the whole job on the built-in data (no download): clean the default corpus (Europarl in 21 languages + the JDK's "
                + "java.base sources), train a BPE tokenizer, tokenize, train a small model with log-spaced checkpoints, evaluate every "
                + "checkpoint (bits per byte per language and on code, in-context learning, cloze, induction; BLiMP with --tasks-dir), "
                + "and write the capability report.",
                "Rerunning continues an interrupted quickstart; finished stages are reused. --recipe trains a second run that differs "
                + "as the given YAML says (same data, same budget) and writes a comparison."})
public final class QuickstartCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/quickstart", description = "Where everything goes (default ${DEFAULT-VALUE}).")
    Path out;
    @Option(names = "--minutes", defaultValue = "15", description = "Wall-clock budget for the whole job on this machine (default ${DEFAULT-VALUE}); "
            + "training gets about half of it.")
    double minutes;
    @Option(names = "--tasks-dir", description = "Task data laid out as ../shared/data: adds BLiMP (and LAMBADA) to the evaluation.")
    Path tasksDir;
    @Option(names = "--recipe", description = "A YAML file of run-config sections to change (e.g. model: {style: llama, ...}); trains <out>/<name> "
            + "next to the default run and compares the two.")
    Path recipe;
    @Option(names = "--threads", defaultValue = "0", description = "Worker threads (0 = all cores).")
    int threads;
    @Option(names = "--vocab-size", defaultValue = "4096", description = "Tokenizer vocabulary (default ${DEFAULT-VALUE}).")
    int vocabSize;
    @Option(names = "--corpus-percent", defaultValue = "100", description = "Use this share of the default corpus' documents (default ${DEFAULT-VALUE}).")
    double corpusPercent;

    static final double TRAIN_SHARE = 0.5;
    /** BLiMP pairs per paradigm at each checkpoint, for the default 15 minutes. */
    static final int BLIMP_PAIRS = 30;

    @Override
    public Integer call() throws Exception {
        if (minutes <= 0) throw new UserError("--minutes must be positive");
        PrintStream log = System.out;
        long t0 = System.nanoTime();
        Files.createDirectories(out);
        stage(log, 1, "data: clean, tokenizer, shards", t0);
        DefaultCorpus.Prepared data = DefaultCorpus.prepare(out.resolve("data"), vocabSize, corpusPercent, log);
        String name = "run";
        Path cfgFile = out.resolve("run.yaml");
        stage(log, 2, "training configuration", t0);
        if (!Files.exists(cfgFile)) writeConfig(cfgFile, null, log);
        else log.println("config: reusing " + cfgFile);
        if (recipe != null) {
            name = recipe.getFileName().toString().replaceFirst("\\.ya?ml$", "");
            if (name.equals("run") || name.equals("data") || name.equals("report") || name.equals("compare")) throw new UserError("--recipe file name '" + name + "' is reserved; rename it");
            Path recipeCfg = out.resolve(name + ".yaml");
            if (!Files.exists(recipeCfg)) writeConfig(recipeCfg, recipe, log);
            else log.println("config: reusing " + recipeCfg);
            cfgFile = recipeCfg;
        }
        RunConfig cfg = ConfigLoader.load(cfgFile, RunConfig.class);
        Path run = out.resolve(cfg.out());
        stage(log, 3, "training " + run, t0);
        train(cfg, cfgFile, run, log);
        stage(log, 4, "evaluating every checkpoint", t0);
        // evaluation grows and shrinks with the budget, as training does
        double scale = Math.max(0.1, Math.min(4, minutes / 15));
        List<Task> tasks = new ArrayList<>(Tasks.load(null, List.of("induction")));
        tasks.addAll(HeldoutProbes.load(data.shards().resolve("heldout"), HeldoutProbes.Budget.DEFAULT.scaled(scale)));
        if (tasksDir != null) {
            if (!Files.isDirectory(tasksDir.resolve("blimp"))) throw new UserError(tasksDir + ": no blimp/ directory (--tasks-dir points at data laid out as ../shared/data)");
            int pairs = (int) Math.max(5, Math.round(BLIMP_PAIRS * scale));
            for (Task t : Tasks.load(tasksDir, List.of("blimp"))) tasks.add(t.limitedTo(pairs));
        }
        try (WorkerPool pool = new WorkerPool(WorkerPool.threadsFor(threads))) {
            EvalCommand.evaluateRun(run, tasks, 0, 8, pool, log);
        }
        stage(log, 5, "report", t0);
        Path report = ReportCommand.write(List.of(run), out.resolve(name.equals("run") ? "report" : name + "-report"), "Crucible quickstart: " + name,
                List.of("The European Parliament ", "public static int "), 40, threads, log);
        Path compare = null;
        if (recipe != null && Files.exists(out.resolve("run").resolve("eval").resolve("results.jsonl"))) {
            compare = ReportCommand.write(List.of(out.resolve("run"), run), out.resolve("compare"), "Crucible quickstart: default vs " + name, List.of(), 0, threads, log);
        }
        log.printf(Locale.ROOT, "%ndone in %.1f minutes. Everything is in %s:%n", (System.nanoTime() - t0) / 60e9, out);
        log.println("  data/clean/       cleaned JSONL by language and code, _summary.json (per-operator counts), _trace.jsonl (what was removed and why)");
        log.println("  data/shards/      tokenizer.json, token shards (train_*, val_<domain>_*), domains.json, heldout/");
        log.println("  " + out.relativize(run) + "/" + " ".repeat(Math.max(1, 17 - out.relativize(run).toString().length() - 1))
                + "metrics.jsonl, checkpoints/step-*/ (Hugging Face directories), eval/results.jsonl");
        log.println("open " + report.toAbsolutePath().normalize() + (compare != null ? "\nand  " + compare.toAbsolutePath().normalize() : ""));
        return 0;
    }

    static void stage(PrintStream log, int n, String what, long t0) {
        log.printf(Locale.ROOT, "%n[%d/5] %s (%.1f min elapsed)%n", n, what, (System.nanoTime() - t0) / 60e9);
    }

    /** Runs, resumes, or skips training, whichever the run directory calls for. */
    static void train(RunConfig cfg, Path cfgFile, Path run, PrintStream log) throws IOException {
        if (!Files.exists(run.resolve("metrics.jsonl"))) {
            Trainer.start(cfg, cfgFile.toAbsolutePath().getParent(), log);
            return;
        }
        List<Path> cks = Checkpoints.list(run);
        if (!cks.isEmpty() && cks.getLast().getFileName().toString().equals(Checkpoints.dirFor(run, cfg.training().steps()).getFileName().toString())) {
            log.println("training: finished earlier (" + cks.getLast() + ")");
            return;
        }
        log.println("training: resuming the interrupted run");
        Trainer.resume(run, null, null, false, log);
    }

    /** The run config, with steps set so that training takes about TRAIN_SHARE of the budget on this machine. */
    void writeConfig(Path file, Path recipeFile, PrintStream log) throws IOException {
        String base = String.format(Locale.ROOT, """
                # Written by `crucible quickstart`. Rerun the quickstart to continue it; edit a copy and run `crucible train --config`.
                out: %s
                model: {style: gpt2, vocab_size: %d, context_length: 256, n_layer: 4, n_head: 4, d_model: 256}
                data: {train: data/shards/train_*.bin, val: data/shards/val_*.bin, tokenizer: data/shards/tokenizer.json}
                training: {seq_len: 256, micro_batch: 8, batch_tokens: 8192, steps: 1000, seed: 1337, threads: %d}
                optimizer: {lr: 2.0e-3, weight_decay: 0.1, grad_clip: 1.0}
                schedule: {kind: cosine, warmup_steps: 50, min_lr_ratio: 0.1}
                eval: {every: 100, batches: 8}
                checkpoint: {log_spaced_until: 1000, prune_optimizer: true}
                log: {every: 10}
                """, recipeFile == null ? "run" : recipeFile.getFileName().toString().replaceFirst("\\.ya?ml$", ""), vocabSize, threads);
        ObjectNode tree = (ObjectNode) ConfigLoader.YAML.readTree(base);
        if (recipeFile != null) {
            JsonNode changes;
            try {
                changes = ConfigLoader.YAML.readTree(Files.readString(recipeFile));
            } catch (IOException e) {
                throw new UserError(recipeFile + ": not valid YAML (" + e.getMessage().lines().findFirst().orElse("") + ")");
            }
            if (!(changes instanceof ObjectNode o)) throw new UserError(recipeFile + ": a recipe is a mapping of run-config sections to change");
            merge(tree, o);
            ((ObjectNode) tree).put("out", file.getFileName().toString().replaceFirst("\\.ya?ml$", ""));
        }
        Path tmp = AtomicWrite.temporary(file);
        Files.writeString(tmp, ConfigLoader.YAML.writeValueAsString(tree));
        RunConfig cfg = ConfigLoader.load(tmp, RunConfig.class); // validates the recipe's keys with file:line errors
        double stepSeconds = measureStep(cfg);
        int steps = (int) Math.max(20, Math.min(100_000, minutes * 60 * TRAIN_SHARE / stepSeconds));
        log.printf(Locale.ROOT, "config: a training step takes %.2f s here; %d steps fit in %.1f of the %.0f minutes%n", stepSeconds, steps,
                minutes * TRAIN_SHARE, minutes);
        ObjectNode training = (ObjectNode) tree.get("training");
        training.put("steps", steps);
        ((ObjectNode) tree.with("schedule")).put("warmup_steps", Math.max(1, steps / 10));
        ((ObjectNode) tree.with("eval")).put("every", Math.max(1, steps / 10));
        ((ObjectNode) tree.with("checkpoint")).put("log_spaced_until", steps);
        String text = "# Written by `crucible quickstart` (steps fitted to --minutes " + minutes + " on this machine).\n"
                + (recipeFile != null ? "# The default quickstart run, changed by " + recipeFile + ".\n" : "")
                + ConfigLoader.YAML.writeValueAsString(tree);
        AtomicWrite.write(file, t -> {
            Files.writeString(t, text);
            ConfigLoader.load(t, RunConfig.class);
        });
    }

    static void merge(ObjectNode into, ObjectNode changes) {
        changes.fields().forEachRemaining(e -> {
            JsonNode cur = into.get(e.getKey());
            if (cur instanceof ObjectNode c && e.getValue() instanceof ObjectNode v) merge(c, v);
            else into.set(e.getKey(), e.getValue());
        });
    }

    /** Seconds per optimizer step of this config: the best of three timed steps after one warm-up. */
    double measureStep(RunConfig cfg) {
        ModelConfig mc = cfg.model().resolve();
        int b = cfg.training().microBatch(), t = cfg.training().seqLen();
        try (WorkerPool pool = new WorkerPool(WorkerPool.threadsFor(threads))) {
            Model model = Model.forTraining(mc, b, t, pool);
            model.initialize(1);
            TrainStep step = TrainStep.crossEntropy(model, cfg.optimizer().create(model.layout(), pool), cfg.optimizer().gradClip(), pool);
            Rng rng = new Rng(0);
            TrainStep.BatchSource random = batch -> {
                for (int i = 0; i < batch.tokens(); i++) {
                    batch.inputs()[i] = rng.nextInt(mc.vocabSize());
                    batch.targets()[i] = rng.nextInt(mc.vocabSize());
                }
            };
            double best = Double.POSITIVE_INFINITY;
            for (int s = 0; s < 4; s++) {
                long t0 = System.nanoTime();
                step.run(random, 1, 1e-4);
                if (s > 0) best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            // a step is `accumulation` of these; validation and checkpoints add about a tenth
            return best * cfg.training().accumulation() * 1.1;
        }
    }
}
