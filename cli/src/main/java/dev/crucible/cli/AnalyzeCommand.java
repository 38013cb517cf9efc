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
                "Sources: a directory of lm-evaluation-harness result files (one per checkpoint, e.g. Pythia's published evals), or a run evaluated by 'crucible eval --run'.",
                "For a run, also a verdict per checkpoint on training health from metrics.jsonl: loss and gradient-norm spikes, validation trend."})
public final class AnalyzeCommand implements Callable<Integer> {
    @Option(names = "--lm-eval", description = "Directory of lm-evaluation-harness result JSON files (step in the file name or model_args).")
    Path lmEval;
    @Option(names = "--tokens-per-step", defaultValue = "2097152", description = "For --lm-eval: tokens per optimizer step (default ${DEFAULT-VALUE}, Pythia's).")
    long tokensPerStep;
    @Option(names = "--run", description = "A run directory with eval/results.jsonl.")
    Path run;
    @Option(names = "--tasks", split = ",", description = "Only these tasks (default: all with a known chance level).")
    List<String> tasks;

    @Override
    public Integer call() throws Exception {
        if ((lmEval == null) == (run == null)) throw new UserError("give either --lm-eval DIR or --run RUN");
        List<Series> all;
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
            Path table = run.resolve("eval").resolve("results.jsonl");
            if (!Files.exists(table)) throw new UserError(table + " not found: evaluate the run first (crucible eval --run " + run + " --data ...)");
            all = Trajectories.fromResultsJsonl(table);
        }
        int shown = 0;
        System.out.printf(Locale.ROOT, "%-40s %-8s %6s %7s %7s %9s %7s %9s  %s%n", "task", "metric", "chance", "first", "best", "at step", "final", "emerges", "verdict");
        for (Series s : all) {
            double chance = Analysis.chance(s.task(), s.metric());
            if (Double.isNaN(chance) || !s.metric().equals("acc") && !s.metric().equals("acc_norm")) continue;
            if (tasks != null && !tasks.contains(s.task())) continue;
            Analysis.Peak p = Analysis.peak(s);
            long e = Analysis.emergence(s, chance);
            System.out.printf(Locale.ROOT, "%-40s %-8s %6.3f %7.3f %7.3f %9d %7.3f %9s  %s%n", s.task(), s.metric(), chance, s.first().value(), p.value(), p.step(),
                    p.finalValue(), e < 0 ? "-" : Long.toString(e), Analysis.verdict(s, chance));
            shown++;
        }
        if (shown == 0) System.out.println("no accuracy metric with a known chance level in " + (lmEval != null ? lmEval : run));
        return 0;
    }
}
