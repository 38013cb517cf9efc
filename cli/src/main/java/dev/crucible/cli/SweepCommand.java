package dev.crucible.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.crucible.eval.Task;
import dev.crucible.eval.Tasks;
import dev.crucible.eval.analysis.SweepComparison;
import dev.crucible.io.AtomicWrite;
import dev.crucible.tensor.WorkerPool;
import dev.crucible.train.sweep.Sweep;
import dev.crucible.train.sweep.SweepConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `crucible sweep`: every variant of a base run config, each over the sweep's seeds, trained, evaluated and compared. */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = {"Run a sweep: a base run config and its variants (a grid of keys and values, or named variants), each trained with every "
                + "seed, in <out>/<variant>/seed-<seed>, the checkpoints evaluated on the sweep's eval.tasks; then the comparison with the baseline "
                + "over seeds (<out>/comparison.md, comparison.json; again with `crucible compare <out>`).",
                "Resumable: run it again and it continues with the run it was in (bit-identically) and skips what is done. Every run config is "
                        + "checked before the first run starts."})
final class SweepCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SWEEP", description = "The sweep file (YAML): base, seeds, grid or variants, baseline, out, eval.")
    Path file;
    @Option(names = "--dry-run", description = "Check the sweep and list its runs and each variant's differences from the baseline; train nothing.")
    boolean dryRun;
    @Option(names = "--threads", defaultValue = "0", description = "Worker threads for evaluation (0 = all cores); training uses each run's training.threads.")
    int threads;

    @Override
    public Integer call() throws Exception {
        Sweep sweep = Sweep.load(file);
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "sweep %s: %d variant(s) x %d seed(s) = %d runs in %s; baseline %s%n", file, sweep.variants().size(), sweep.seeds().size(),
                sweep.runs().size(), sweep.dir(), sweep.baseline());
        sweep.differences().forEach((v, d) -> out.println("  " + v + ": " + (d.isEmpty() ? "(the base config)" : String.join("; ", d))));
        if (dryRun) return 0;
        sweep.writeManifest();
        SweepConfig.Eval ev = sweep.config().eval();
        List<Task> tasks = ev == null ? List.of() : Tasks.load(ev.data() == null ? null : file.toAbsolutePath().getParent().resolve(ev.data()), ev.tasks());
        int i = 0;
        for (Sweep.Run r : sweep.runs()) {
            i++;
            out.printf(Locale.ROOT, "=== run %d/%d: %s, seed %d (%s)%s%n", i, sweep.runs().size(), r.variant(), r.seed(), r.dir(),
                    Sweep.finished(r) ? ": finished" : "");
            sweep.train(r, out);
            if (!tasks.isEmpty()) {
                try (WorkerPool pool = new WorkerPool(WorkerPool.threadsFor(threads))) {
                    EvalCommand.evaluateRun(r.dir(), tasks, ev.limit(), 8, pool, out);
                }
            }
        }
        writeComparison(Sweep.Manifest.read(sweep.dir()), out);
        return 0;
    }

    /** The comparison of a sweep's variants: printed, and written as comparison.md and comparison.json in the sweep directory. */
    static void writeComparison(Sweep.Manifest m, PrintStream out) throws IOException {
        SweepComparison c = SweepComparison.of(m);
        StringBuilder md = new StringBuilder(c.table()).append('\n');
        for (String s : c.summaries()) md.append("- ").append(s).append('\n');
        AtomicWrite.write(m.dir().resolve("comparison.md"), tmp -> java.nio.file.Files.writeString(tmp, md));
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        AtomicWrite.write(m.dir().resolve("comparison.json"), tmp -> json.writeValue(tmp.toFile(), Map.of("baseline", m.baseline(), "rows", c.json(),
                "summaries", c.summaries(), "unfinished", c.unfinished())));
        out.print(md);
        out.println("wrote " + m.dir().resolve("comparison.md") + " and comparison.json");
    }
}
