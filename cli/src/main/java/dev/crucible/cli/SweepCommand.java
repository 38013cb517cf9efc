package dev.crucible.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.crucible.eval.Task;
import dev.crucible.eval.Tasks;
import dev.crucible.eval.analysis.SweepComparison;
import dev.crucible.model.WeightQuantizer;
import dev.crucible.io.AtomicWrite;
import dev.crucible.tensor.WorkerPool;
import dev.crucible.train.sweep.Sweep;
import dev.crucible.train.sweep.SweepConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
    @Option(names = "--parallel", defaultValue = "1", paramLabel = "N", description = "Runs at once (default ${DEFAULT-VALUE}): the cores divided among "
            + "them (each run started with training.threads = cores / N, evaluated with as many), each run's output in its directory's sweep.log.")
    int parallel;

    @Override
    public Integer call() throws Exception {
        if (parallel < 1) throw new UserError("--parallel: must be >= 1, got " + parallel);
        Sweep sweep = Sweep.load(file);
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "sweep %s: %d variant(s) x %d seed(s) = %d runs in %s; baseline %s%n", file, sweep.variants().size(), sweep.seeds().size(),
                sweep.runs().size(), sweep.dir(), sweep.baseline());
        sweep.differences().forEach((v, d) -> out.println("  " + v + ": " + (d.isEmpty() ? "(the base config)" : String.join("; ", d))));
        sweep.checkAll();
        SweepConfig.Eval ev = sweep.config().eval();
        Path here = file.toAbsolutePath().getParent();
        // paths in task names (probes:DIR, tasks.yaml) are relative to the sweep file, as every path in it is
        List<String> names = ev == null ? List.of() : ev.tasks().stream().map(t -> t.startsWith("probes:") ? "probes:" + here.resolve(t.substring(7)).normalize()
                : t.endsWith(".yaml") || t.endsWith(".yml") ? here.resolve(t).normalize().toString() : t).toList();
        List<Task> tasks = ev == null ? List.of() : Tasks.load(ev.data() == null ? null : here.resolve(ev.data()), names);
        if (dryRun) return 0;
        sweep.checkStarted();
        sweep.writeManifest();
        int n = sweep.runs().size();
        if (parallel == 1) {
            for (int i = 0; i < n; i++) runOne(sweep, sweep.runs().get(i), i, 0, WorkerPool.threadsFor(threads), tasks, out);
        } else {
            int each = Math.max(1, WorkerPool.threadsFor(threads) / parallel);
            ExecutorService exec = Executors.newFixedThreadPool(parallel);
            CompletionService<Object> done = new ExecutorCompletionService<>(exec);
            try {
                for (int i = 0; i < n; i++) {
                    Sweep.Run r = sweep.runs().get(i);
                    int k = i;
                    done.submit(() -> {
                        Files.createDirectories(r.dir());
                        try (PrintStream log = new PrintStream(Files.newOutputStream(r.dir().resolve("sweep.log"),
                                StandardOpenOption.CREATE, StandardOpenOption.APPEND), true, StandardCharsets.UTF_8)) {
                            synchronized (out) {
                                out.printf(Locale.ROOT, "=== run %d/%d: %s, seed %d started (%s/sweep.log)%n", k + 1, n, r.variant(), r.seed(), r.dir());
                            }
                            runOne(sweep, r, k, each, each, tasks, log);
                        }
                        synchronized (out) {
                            out.printf(Locale.ROOT, "=== run %d/%d: %s, seed %d done%n", k + 1, n, r.variant(), r.seed());
                        }
                        return null;
                    });
                }
                for (int i = 0; i < n; i++) { // the first failure, whichever run it is, stops the sweep (queued runs do not start)
                    try {
                        done.take().get();
                    } catch (ExecutionException e) {
                        throw e.getCause() instanceof Exception x ? x : e;
                    }
                }
            } finally {
                exec.shutdownNow();
            }
        }
        writeComparison(Sweep.Manifest.read(sweep.dir()), out);
        return 0;
    }

    /** One run: trained (started with trainThreads, 0 = its config's), then its checkpoints evaluated with evalThreads. */
    private void runOne(Sweep sweep, Sweep.Run r, int i, int trainThreads, int evalThreads, List<Task> tasks, PrintStream out) throws IOException {
        out.printf(Locale.ROOT, "=== run %d/%d: %s, seed %d (%s)%s%n", i + 1, sweep.runs().size(), r.variant(), r.seed(), r.dir(),
                Sweep.finished(r) ? ": finished" : "");
        sweep.train(r, trainThreads, out);
        if (!tasks.isEmpty()) {
            try (WorkerPool pool = new WorkerPool(evalThreads)) {
                SweepConfig.Eval ev = sweep.config().eval();
                EvalCommand.evaluateRun(r.dir(), tasks, ev.limit(), 8, pool, out);
                if (ev.quantize() != null) EvalCommand.evaluateRun(r.dir(), tasks, ev.limit(), 8, pool, out, ev.quantize(), WeightQuantizer.named(ev.quantize()), false);
            }
        }
    }

    /** The comparison of a sweep's variants: printed, and written as comparison.md and comparison.json in the sweep directory. */
    static dev.crucible.eval.report.Report.SweepSummary writeComparison(Sweep.Manifest m, PrintStream out) throws IOException {
        SweepComparison c = SweepComparison.of(m);
        StringBuilder md = new StringBuilder(c.table()).append('\n');
        for (String s : c.summaries()) md.append("- ").append(s).append('\n');
        String scaling = c.scaling();
        if (scaling != null) md.append('\n').append(scaling);
        AtomicWrite.write(m.dir().resolve("comparison.md"), tmp -> Files.writeString(tmp, md));
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        AtomicWrite.write(m.dir().resolve("comparison.json"), tmp -> json.writeValue(tmp.toFile(), Map.of("baseline", m.baseline(), "rows", c.json(),
                "summaries", c.summaries(), "unfinished", c.unfinished())));
        out.print(md);
        out.println("wrote " + m.dir().resolve("comparison.md") + " and comparison.json");
        return new dev.crucible.eval.report.Report.SweepSummary(c.table() + (scaling == null ? "" : "\n" + scaling), c.summaries());
    }
}
