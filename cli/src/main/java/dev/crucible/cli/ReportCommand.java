package dev.crucible.cli;

import dev.crucible.eval.report.Report;
import dev.crucible.eval.report.Run;
import dev.crucible.tensor.WorkerPool;
import dev.crucible.train.Checkpoints;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Write the capability report of one or more runs: one self-contained HTML file (works offline, no scripts) with the loss "
                + "curves, every evaluated capability over tokens with error bands, emergence and decline, correlation with validation loss, "
                + "a health verdict per checkpoint and sampled generations; and the charts as PNG files.",
                "Evaluate the runs first (crucible eval --run RUN ...) for the capability part."})
public final class ReportCommand implements Callable<Integer> {
    @Parameters(arity = "0..*", paramLabel = "RUN", description = "Run directories (with metrics.jsonl, checkpoints/, eval/results.jsonl).")
    List<Path> runs = new ArrayList<>();
    @Option(names = "--lm-eval", description = "Also a run known from lm-evaluation-harness result files: DIR or DIR=PARAMETERS (repeatable); "
            + "with parameter counts, runs are compared on training FLOPs (6 x parameters x tokens; Crucible's own runs count "
            + "the parameters a token multiplies, without an untied input embedding: Pythia-70M's 44670976 of its 70426624).")
    List<String> lmEval = new ArrayList<>();
    @Option(names = "--tokens-per-step", defaultValue = "2097152", description = "For --lm-eval: tokens per optimizer step (default ${DEFAULT-VALUE}, Pythia's).")
    long tokensPerStep;
    @Option(names = "--out", description = "Where to write report.html and charts/ (default: <run>/report for one run, ./report for several).")
    Path out;
    @Option(names = "--prompt", description = "Prompts to sample from each checkpoint (repeatable; default: \"The \" and \"public static \").")
    List<String> prompts;
    @Option(names = "--samples-tokens", defaultValue = "48", description = "Tokens per sample; 0: no samples (default ${DEFAULT-VALUE}).")
    int sampleTokens;
    @Option(names = "--title", description = "The report's title.")
    String title;
    @Option(names = "--threads", defaultValue = "0", description = "Worker threads (0 = all cores).")
    int threads;
    @Option(names = "--follow", description = "Keep the report of one run in progress current: rewritten as the run trains (and `eval --follow` "
            + "evaluates), with its step, ETA, latest checkpoint and health verdict first; the page reloads itself; ends when the run is over "
            + "and its last checkpoint is evaluated (when the run is being evaluated), with the samples then.")
    boolean follow;
    @Option(names = "--refresh-seconds", defaultValue = "10", description = "With --follow: how often the report is rewritten and the page reloads (default ${DEFAULT-VALUE}).")
    int refreshSeconds;

    @Override
    public Integer call() throws Exception {
        if (runs.isEmpty() && lmEval.isEmpty()) throw new UserError("give run directories and/or --lm-eval DIR[=PARAMETERS]");
        if (follow) return follow();
        List<Run> imported = new ArrayList<>();
        for (String spec : lmEval) {
            int eq = spec.lastIndexOf('=');
            Path d = Path.of(eq > 0 ? spec.substring(0, eq) : spec);
            long params;
            try {
                params = eq > 0 ? Long.parseLong(spec.substring(eq + 1).replace("_", "")) : 0;
            } catch (NumberFormatException e) {
                throw new UserError("--lm-eval " + spec + ": the parameter count after '=' is not a number");
            }
            try {
                imported.add(Run.fromLmEval(d, d.getFileName().toString(), tokensPerStep, params));
            } catch (java.io.IOException e) {
                throw new UserError(e.getMessage());
            }
        }
        Path dir = out != null ? out : runs.size() == 1 && imported.isEmpty() ? runs.getFirst().resolve("report") : Path.of("report");
        Path file = write(runs, imported, dir, title, prompts == null ? List.of("The ", "public static ") : prompts, sampleTokens, threads, System.out);
        System.out.println("open " + file.toAbsolutePath().normalize() + " (charts as PNG in " + dir.resolve("charts") + ")");
        return 0;
    }

    static Path write(List<Path> runs, Path dir, String title, List<String> prompts, int sampleTokens, int threads, PrintStream log) throws IOException {
        return write(runs, List.of(), dir, title, prompts, sampleTokens, threads, log);
    }

    static Path write(List<Path> runs, List<Run> imported, Path dir, String title, List<String> prompts, int sampleTokens, int threads,
                      PrintStream log) throws IOException {
        return write(runs, imported, dir, title, prompts, sampleTokens, threads, log, null);
    }

    static Path write(List<Path> runs, List<Run> imported, Path dir, String title, List<String> prompts, int sampleTokens, int threads,
                      PrintStream log, Report.SweepSummary sweep) throws IOException {
        return write(runs, imported, dir, title, prompts, sampleTokens, threads, log, sweep, null);
    }

    /** The report of a run in progress, rewritten every refreshSeconds until the run is over and evaluated (when it is being evaluated). */
    private int follow() throws Exception {
        if (runs.size() != 1 || !lmEval.isEmpty()) throw new UserError("--follow takes one run directory");
        if (refreshSeconds < 1) throw new UserError("--refresh-seconds must be at least 1");
        Path run = runs.getFirst(), cfgFile = run.resolve("config.yaml");
        if (!Files.isRegularFile(cfgFile)) throw new UserError(run + ": no config.yaml: --follow needs a run directory the trainer writes");
        dev.crucible.train.RunConfig cfg = dev.crucible.train.RunConfigs.readSaved(cfgFile);
        Path dir = out != null ? out : run.resolve("report");
        List<String> ps = prompts == null ? List.of("The ", "public static ") : prompts;
        while (true) {
            boolean over = dev.crucible.train.Trainer.finished(run) && lastEvaluated(run);
            Report.Live live = live(run, cfg, over, refreshSeconds);
            // samples (generations from eight checkpoints) once, at the end: too slow to redo every refresh
            Path file = write(runs, List.of(), dir, title, ps, over ? sampleTokens : 0, threads, System.out, null, live);
            System.out.printf(java.util.Locale.ROOT, "%s: step %d of %d%s -> %s%n", over ? "finished" : "live", live.step(), live.totalSteps(),
                    live.etaSeconds() == null || over ? "" : String.format(java.util.Locale.ROOT, ", ETA %.0f s", live.etaSeconds()), file.toAbsolutePath().normalize());
            if (over) return 0;
            Thread.sleep(refreshSeconds * 1000L);
        }
    }

    /** Whether nobody evaluates the run, or its newest checkpoint has its results. */
    private static boolean lastEvaluated(Path run) throws IOException {
        if (!Files.isDirectory(run.resolve("eval"))) return true;
        List<Path> cks = Checkpoints.list(run);
        return cks.isEmpty() || Files.exists(run.resolve("eval").resolve(cks.getLast().getFileName() + ".json"));
    }

    /** Step, total and ETA from the newest row of metrics.jsonl: the steps left at the last logged speed. */
    static Report.Live live(Path run, dev.crucible.train.RunConfig cfg, boolean over, int refreshSeconds) throws IOException {
        long step = 0;
        Double eta = null;
        Path metrics = run.resolve("metrics.jsonl");
        if (Files.exists(metrics)) {
            List<dev.crucible.data.JsonlTable.Row> rows = dev.crucible.data.JsonlTable.read(metrics);
            if (!rows.isEmpty()) {
                var last = rows.getLast().value();
                step = last.path("step").asLong();
                double speed = last.path("tokens_per_s").asDouble(0);
                if (speed > 0) eta = (cfg.training().steps() - step) * (double) cfg.training().batchTokens() / speed;
            }
        }
        return new Report.Live(step, cfg.training().steps(), eta, over, refreshSeconds);
    }

    static Path write(List<Path> runs, List<Run> imported, Path dir, String title, List<String> prompts, int sampleTokens, int threads,
                      PrintStream log, Report.SweepSummary sweep, Report.Live live) throws IOException {
        List<Run> data = new ArrayList<>();
        try (WorkerPool pool = new WorkerPool(WorkerPool.threadsFor(threads))) {
            for (Path r : runs) {
                if (!Files.isDirectory(r)) throw new UserError(r + ": no such run directory");
                Map<Long, List<Run.Generation>> gens = new LinkedHashMap<>();
                if (sampleTokens > 0 && Files.isDirectory(r.resolve("checkpoints"))) {
                    List<Path> cks = Checkpoints.list(r);
                    for (Path ck : evenly(cks, 8)) {
                        long step = Long.parseLong(ck.getFileName().toString().substring(5));
                        List<Run.Generation> g = new ArrayList<>();
                        for (String p : prompts) g.add(new Run.Generation(p, GenerateCommand.sample(ck, p, sampleTokens, 0.8, 1, pool)));
                        gens.put(step, g);
                    }
                    // and to TensorBoard's text tab: samples/PROMPT at each sampled checkpoint, in <run>/report (a directory of its own,
                    // as TensorBoard follows one growing file per directory); a run directory that cannot be written to only loses that
                    try (dev.crucible.train.tensorboard.EventFile events = new dev.crucible.train.tensorboard.EventFile(r.resolve("report"), "report")) {
                        for (Map.Entry<Long, List<Run.Generation>> e : gens.entrySet()) {
                            for (Run.Generation g : e.getValue()) events.text("samples/" + g.prompt().strip(), e.getKey(), "**" + g.prompt() + "**" + g.text());
                        }
                    } catch (IOException e) {
                        log.println("report: no TensorBoard samples for " + r + " (" + e.getMessage() + ")");
                    }
                }
                try {
                    data.add(Run.read(r, gens));
                } catch (IOException e) {
                    throw new UserError(e.getMessage());
                }
            }
        }
        data.addAll(imported);
        String t = title != null ? title : data.size() == 1 ? "Crucible report: " + data.getFirst().name()
                : "Crucible comparison: " + String.join(" vs ", data.stream().map(Run::name).toList());
        return Report.write(data, dir, t, sweep, live);
    }

    /** At most n items, spread evenly, always with the first and the last. */
    static <T> List<T> evenly(List<T> items, int n) {
        if (items.size() <= n) return items;
        List<T> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(items.get((int) Math.round(i * (items.size() - 1) / (double) (n - 1))));
        return out;
    }

    @Command(name = "compare", mixinStandardHelpOptions = true,
            description = {"Show runs side by side (e.g. two recipes on the same data): one report with each run's curves overlaid, then each run's tables.",
                    "Given a sweep directory (crucible sweep): its variants against the baseline over seeds (mean and 95%% interval, the difference "
                            + "paired over seeds with a t-test) in <sweep>/comparison.md and comparison.json, and the report of all its runs.",
                    "Given --variant NAME=RUN,RUN,... for runs made otherwise (one per seed, e.g. by a bench script run once per seed): the same "
                            + "comparison, paired by each run's training.seed, written to the --out directory."})
    public static final class Compare implements Callable<Integer> {
        @Parameters(arity = "0..*", paramLabel = "RUN", description = "Run directories, or one sweep directory.")
        List<Path> runs = new ArrayList<>();
        @Option(names = "--variant", paramLabel = "NAME=RUN[,RUN...]", description = "A variant and its runs, one per seed (repeat for each variant; instead of RUN...).")
        List<String> variants = new ArrayList<>();
        @Option(names = "--baseline", paramLabel = "NAME", description = "The variant the others are compared with (default: the first --variant).")
        String baseline;
        @Option(names = "--out", defaultValue = "compare", description = "Where to write report.html (default ${DEFAULT-VALUE}).")
        Path out;
        @Option(names = "--samples-tokens", defaultValue = "0", description = "Tokens per sample per checkpoint (default ${DEFAULT-VALUE}: none).")
        int sampleTokens;

        @Override
        public Integer call() throws Exception {
            Report.SweepSummary sweep = null;
            String title = null;
            dev.crucible.train.sweep.Sweep.Manifest m = null;
            if (!variants.isEmpty()) {
                if (!runs.isEmpty()) throw new UserError("compare: give run directories or --variant, not both");
                m = manifest(variants, baseline, out);
                Files.createDirectories(out);
                title = "Crucible comparison: " + String.join(", ", m.variants());
            } else if (baseline != null) {
                throw new UserError("compare: --baseline goes with --variant (it names one of the variants)");
            } else if (runs.size() == 1 && Files.isRegularFile(runs.getFirst().resolve(dev.crucible.train.sweep.Sweep.MANIFEST))) {
                m = dev.crucible.train.sweep.Sweep.Manifest.read(runs.getFirst());
                if (out.toString().equals("compare")) out = m.dir().resolve("compare");
                title = "Crucible sweep: " + m.dir().getFileName();
            }
            if (m != null) {
                sweep = SweepCommand.writeComparison(m, System.out);
                runs = m.runs().stream().map(dev.crucible.train.sweep.Sweep.Manifest.ManifestRun::dir).filter(d -> Files.exists(d.resolve("metrics.jsonl"))).toList();
            }
            if (runs.size() < 2) throw new UserError("compare: give two or more run directories, or a sweep directory");
            Path file = write(runs, List.of(), out, title, List.of("The "), sampleTokens, 0, System.out, sweep);
            System.out.println("open " + file.toAbsolutePath().normalize());
            return 0;
        }

        /**
         * Variants given as NAME=RUN,RUN,... as a sweep's manifest (in dir): each run's seed is its
         * config's training.seed, a variant's differences are from the baseline's run of the same seed.
         */
        static dev.crucible.train.sweep.Sweep.Manifest manifest(List<String> specs, String baseline, Path dir) {
            java.util.Map<String, List<Path>> groups = new java.util.LinkedHashMap<>();
            for (String spec : specs) {
                int eq = spec.indexOf('=');
                String[] dirs = eq < 0 ? new String[0] : spec.substring(eq + 1).split(",", -1);
                if (eq <= 0 || dirs.length == 0 || java.util.Arrays.stream(dirs).anyMatch(String::isBlank)) {
                    throw new UserError("compare: --variant " + spec + ": expected NAME=RUN[,RUN...], no empty RUN");
                }
                String name = spec.substring(0, eq);
                if (groups.containsKey(name)) throw new UserError("compare: --variant " + name + " is given twice");
                groups.put(name, java.util.Arrays.stream(dirs).map(Path::of).toList());
            }
            if (groups.size() < 2) throw new UserError("compare: give two or more --variant groups (a baseline and what to compare with it)");
            String base = baseline != null ? baseline : groups.keySet().iterator().next();
            if (!groups.containsKey(base)) throw new UserError("compare: --baseline " + base + " is none of the --variant names " + groups.keySet());
            List<dev.crucible.train.sweep.Sweep.Manifest.ManifestRun> runs = new ArrayList<>();
            java.util.Map<String, java.util.TreeMap<Long, dev.crucible.train.RunConfig>> configs = new java.util.LinkedHashMap<>(); // variant -> seed -> config
            java.util.Set<Long> seeds = new java.util.TreeSet<>();
            for (var g : groups.entrySet()) {
                java.util.Set<Long> own = new java.util.HashSet<>();
                for (Path run : g.getValue()) {
                    Path config = run.resolve("config.yaml");
                    if (!Files.isRegularFile(config)) throw new UserError("compare: --variant " + g.getKey() + ": " + run + " has no config.yaml (not a run directory)");
                    dev.crucible.train.RunConfig cfg = dev.crucible.train.RunConfigs.readSaved(config);
                    Long seed = cfg.training() == null ? null : cfg.training().seed();
                    if (seed == null) throw new UserError("compare: " + config + " sets no training.seed, so its run cannot be paired with others by seed");
                    if (!own.add(seed)) throw new UserError("compare: --variant " + g.getKey() + " has two runs of seed " + seed + "; give one run per seed");
                    seeds.add(seed);
                    runs.add(new dev.crucible.train.sweep.Sweep.Manifest.ManifestRun(g.getKey(), seed, run));
                    configs.computeIfAbsent(g.getKey(), k -> new java.util.TreeMap<>()).put(seed, cfg.withOut(""));
                }
            }
            java.util.Map<String, List<String>> differences = new java.util.LinkedHashMap<>();
            java.util.TreeMap<Long, dev.crucible.train.RunConfig> baseConfigs = configs.get(base);
            for (var e : configs.entrySet()) { // against the baseline's run of the first seed both have (or their first runs)
                Long shared = e.getValue().keySet().stream().filter(baseConfigs::containsKey).findFirst().orElse(null);
                dev.crucible.train.RunConfig b = shared != null ? baseConfigs.get(shared) : baseConfigs.firstEntry().getValue();
                dev.crucible.train.RunConfig v = shared != null ? e.getValue().get(shared) : e.getValue().firstEntry().getValue();
                differences.put(e.getKey(), dev.crucible.train.RunConfigs.differences(b, v));
            }
            return new dev.crucible.train.sweep.Sweep.Manifest(dir, base, new ArrayList<>(groups.keySet()), new ArrayList<>(seeds), runs, differences);
        }
    }
}
