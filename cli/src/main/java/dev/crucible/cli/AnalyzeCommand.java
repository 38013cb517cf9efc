package dev.crucible.cli;

import dev.crucible.eval.analysis.Analysis;
import dev.crucible.eval.analysis.Series;
import dev.crucible.eval.analysis.Stability;
import dev.crucible.eval.analysis.Trajectories;
import dev.crucible.train.Checkpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "analyze", mixinStandardHelpOptions = true,
        description = {"Read a checkpoint series' downstream scores and say what they show: for each task and accuracy metric, its chance level, "
                + "first, best and final score, the step it rises significantly above its start (emergence), and whether it declines after its peak.",
                "Also: groups of metrics that move together, with a held-out forecast of each member from the others; with several "
                + "runs (--lm-eval or --run, repeated), which early metric best predicts the final one.",
                "Sources: a directory of lm-evaluation-harness result files (one per checkpoint, e.g. Pythia's published evals), or a run evaluated by 'crucible eval --run'.",
                "For a run, also a verdict per checkpoint on training health from metrics.jsonl: loss and gradient-norm spikes, validation trend."})
public final class AnalyzeCommand implements Callable<Integer> {
    @Option(names = "--lm-eval", description = "Directory of lm-evaluation-harness result JSON files (step in the file name or model_args); "
            + "repeat it for several runs (then also: early indicators).")
    List<Path> lmEvals;
    @Option(names = "--early-target", description = "With several runs: the final metric (task/metric) that early readings should predict "
            + "(default lambada_openai/acc for --lm-eval runs, induction/induction_gain for Crucible runs).")
    String earlyTarget;
    @Option(names = "--early-at", defaultValue = "0.1", description = "With several runs: where the early reading is taken, as a fraction of each "
            + "run's tokens (default ${DEFAULT-VALUE}).")
    double earlyAt;
    @Option(names = "--tokens-per-step", defaultValue = "2097152", description = "For --lm-eval: tokens per optimizer step (default ${DEFAULT-VALUE}, Pythia's).")
    long tokensPerStep;
    @Option(names = "--run", description = "A run directory with eval/results.jsonl; repeat it for several runs (then also: early indicators; "
            + "the rest of the analysis is of the first).")
    List<Path> runs;
    @Option(names = "--tasks", split = ",", description = "Only these tasks (default: all with a known chance level).")
    List<String> tasks;

    @Override
    public Integer call() throws Exception {
        if ((lmEvals == null) == (runs == null)) throw new UserError("give either --lm-eval DIR or --run RUN (either one or more times)");
        List<Series> all;
        Path lmEval = lmEvals == null ? null : lmEvals.getFirst(), run = runs == null ? null : runs.getFirst();
        int several = lmEvals != null ? lmEvals.size() : runs.size();
        if (several > 1) {
            java.util.Map<String, List<Series>> byRun = new java.util.LinkedHashMap<>();
            if (lmEvals != null) {
                for (Path p : lmEvals) byRun.put(p.getFileName().toString(), Trajectories.fromLmEval(p, p.getFileName().toString(), tokensPerStep));
            } else {
                for (Path r : runs) {
                    String name = runName(r, runs);
                    if (byRun.put(name, Trajectories.fromResultsJsonl(results(r))) != null) throw new UserError(r + ": given twice (" + name + ")");
                }
            }
            String target = earlyTarget != null ? earlyTarget : lmEvals != null ? "lambada_openai/acc" : "induction/induction_gain";
            var ind = dev.crucible.eval.analysis.EarlyIndicators.rank(byRun, target, earlyAt);
            System.out.printf(Locale.ROOT, "early indicators: which metric at %.0f%% of each run's tokens ranks the %d runs as their final %s does (Spearman)%n",
                    100 * earlyAt, byRun.size(), target);
            if (ind.isEmpty()) System.out.println("  none: needs at least 3 runs that all have " + target);
            if (!ind.isEmpty()) {
                System.out.printf(Locale.ROOT, "  %-50s %6s  %s%n", "metric", "rho", "one-sided p over random pairings of the runs (Holm-adjusted over the "
                        + ind.size() + " metrics); with n runs no p is below 1/n!");
            }
            for (var i : ind.subList(0, Math.min(15, ind.size()))) {
                System.out.printf(Locale.ROOT, "  %-50s %6.2f  p %.3g (%.3g)  (%d runs)%n", i.metric(), i.rho(), i.p(), i.pHolm(), i.runs());
            }
            System.out.println();
        }
        if (lmEval != null) {
            all = Trajectories.fromLmEval(lmEval, lmEval.getFileName().toString(), tokensPerStep);
        } else {
            Path metrics = run.resolve("metrics.jsonl");
            if (Files.exists(metrics)) {
                long[] steps = Checkpoints.list(run).stream().mapToLong(p -> Long.parseLong(p.getFileName().toString().substring(5))).toArray();
                System.out.println("training health (loss and gradient-norm spikes by robust z-score > " + Stability.SPIKE_Z + ", validation trend):");
                for (String v : Stability.verdicts(Stability.read(metrics), steps)) System.out.println("  " + v);
                System.out.println();
            }
            all = Trajectories.fromResultsJsonl(results(run));
        }
        int shown = 0;
        System.out.printf(Locale.ROOT, "%-40s %-8s %6s %7s %7s %9s %7s %9s  %s%n", "task", "metric", "chance", "first", "best", "at step", "final", "emerges", "verdict");
        for (Series s : all) {
            double chance = s.chance();
            if (Double.isNaN(chance) || !s.metric().equals("acc") && !s.metric().equals("acc_norm")) continue;
            if (tasks != null && !tasks.contains(s.task())) continue;
            Analysis.Peak p = Analysis.peak(s);
            long e = Analysis.emergence(s, chance);
            System.out.printf(Locale.ROOT, "%-40s %-8s %6.3f %7.3f %7.3f %9d %7.3f %9s  %s%n", s.task(), s.metric(), chance, s.first().value(), p.value(), p.step(),
                    p.finalValue(), e < 0 ? "-" : Long.toString(e), Analysis.verdict(s, chance));
            shown++;
        }
        if (shown == 0) System.out.println("no accuracy metric with a known chance level in " + (lmEval != null ? lmEval : run));
        List<Series> forGroups = all.stream().filter(s -> !s.task().startsWith("blimp_") && !s.metric().endsWith("_stderr")
                && !s.metric().equals("byte_perplexity") && !s.metric().equals("word_perplexity")).toList();
        var groups = dev.crucible.eval.analysis.Groups.find(forGroups, 0.8);
        System.out.println();
        System.out.println("metrics that move together (every pair Spearman >= 0.8 over the checkpoints; lower-is-better metrics negated):");
        if (groups.isEmpty()) System.out.println("  none");
        List<String> unoriented = dev.crucible.eval.analysis.Groups.unoriented(forGroups);
        if (!unoriented.isEmpty()) System.out.println("  left out, direction unknown: " + String.join(", ", unoriented));
        List<String> sparse = dev.crucible.eval.analysis.Groups.sparse(forGroups);
        if (!sparse.isEmpty()) System.out.println("  left out, lacking checkpoints most metrics have: " + String.join(", ", sparse));
        for (var g : groups) {
            long ok = g.forecasts().stream().filter(dev.crucible.eval.analysis.Groups.Forecast::beatsNaive).count();
            System.out.printf(Locale.ROOT, "  [weakest %.2f%s] %s%n", g.minRho(), g.forecasts().isEmpty() ? ""
                    : String.format(Locale.ROOT, "; held-out forecast beats the last value for %d of %d", ok, g.forecasts().size()), String.join(", ", g.members()));
        }
        return 0;
    }

    private static Path results(Path run) {
        Path table = run.resolve("eval").resolve("results.jsonl");
        if (!Files.exists(table)) throw new UserError(table + " not found: evaluate the run first (crucible eval --run " + run + " --data ...)");
        return table;
    }

    /** A run's name among several: its path below what they share (a sweep's variant/seed-N), else its directory's name. */
    static String runName(Path run, List<Path> all) {
        Path abs = run.toAbsolutePath().normalize(), common = abs.getParent();
        for (Path p : all) {
            Path q = p.toAbsolutePath().normalize();
            while (common != null && !q.startsWith(common)) common = common.getParent();
        }
        return common == null ? abs.toString() : common.relativize(abs).toString();
    }
}
