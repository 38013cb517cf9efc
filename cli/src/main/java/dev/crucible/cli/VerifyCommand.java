package dev.crucible.cli;

import dev.crucible.eval.analysis.SeedStatistics;
import dev.crucible.eval.analysis.SweepComparison;
import dev.crucible.io.AtomicWrite;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.train.sweep.Sweep;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `crucible data verify`: Ultra-FineWeb's "efficient verification". A nearly-trained checkpoint is
 * annealed twice per seed, on the reference data alone and with the candidate data mixed in, the
 * rate warming up briefly and then falling linearly to zero (the decay phase of a WSD schedule, as
 * MiniCPM and Ultra-FineWeb anneal); both are validated on the same held-out data and evaluated on the
 * same tasks, and the difference is tested paired over seeds. It is a sweep (base.yaml and sweep.yaml
 * written into the output directory, then run and compared as `crucible sweep` does), so it resumes
 * where it was killed and `crucible compare` and `crucible report` read it.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Decide whether candidate data helps: anneal a nearly-trained checkpoint twice per seed (reference data alone; reference "
                + "with the candidate mixed in), validate and evaluate both the same way, and test the difference paired over seeds "
                + "(Ultra-FineWeb's efficient verification). Writes <out>/base.yaml and sweep.yaml and runs them as a sweep: resumable, and "
                + "`crucible compare <out>` shows it again."})
final class VerifyCommand implements Callable<Integer> {
    @Option(names = "--base", required = true, description = "The checkpoint to anneal (a Crucible checkpoint or an imported HF directory).")
    Path base;
    @Option(names = "--reference", required = true, description = "Token shards of the default mixture: a directory from `data tokenize` "
            + "(train_*.bin, val_*.bin) or with train.bin and val.bin.")
    Path reference;
    @Option(names = "--candidate", required = true, description = "Token shards of the candidate data, laid out the same way.")
    Path candidate;
    @Option(names = "--share", defaultValue = "0.3", description = "The candidate's share of the training rows in the mixed run (default ${DEFAULT-VALUE}).")
    double share;
    @Option(names = "--steps", defaultValue = "200", description = "Annealing steps (default ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--lr", defaultValue = "1.0e-3", description = "Peak learning rate of the anneal (default ${DEFAULT-VALUE}); use the base run's rate at the point it is taken from.")
    double lr;
    @Option(names = "--warmup", defaultValue = "10", description = "Warm-up steps before the linear decay to zero (default ${DEFAULT-VALUE}).")
    int warmup;
    @Option(names = "--seq-len", defaultValue = "256", description = "Sequence length (at most the model's context; default ${DEFAULT-VALUE}).")
    int seqLen;
    @Option(names = "--micro-batch", defaultValue = "8", description = "Rows per micro-batch (default ${DEFAULT-VALUE}).")
    int microBatch;
    @Option(names = "--seeds", defaultValue = "2", description = "Seeds 1..N: each orders the data of both runs the same way (default ${DEFAULT-VALUE}).")
    int seeds;
    @Option(names = "--val-batches", defaultValue = "16", description = "Validation batches per source (default ${DEFAULT-VALUE}).")
    int valBatches;
    @Option(names = "--tasks", split = ",", description = "Tasks to evaluate the annealed checkpoints on, as `crucible eval` names them "
            + "(e.g. blimp,lambada,probes:DIR); validation losses are always compared.")
    List<String> tasks;
    @Option(names = "--limit", defaultValue = "0", description = "Examples per task (0: all; default ${DEFAULT-VALUE}).")
    int limit;
    @Option(names = "--decide-by", defaultValue = "val_loss/reference", description = "The metric that decides (default ${DEFAULT-VALUE}: the "
            + "loss on held-out reference data; a task's as TASK:METRIC).")
    String decideBy;
    @Option(names = "--out", defaultValue = "runs/verify", description = "The verification's directory (default ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (!(share > 0 && share < 1)) throw new UserError("--share: must be in (0, 1), got " + share);
        if (steps < 1 || warmup < 0 || warmup >= steps || seeds < 1 || microBatch < 1 || valBatches < 1) {
            throw new UserError("--steps, --seeds, --micro-batch and --val-batches must be positive and --warmup below --steps");
        }
        int context;
        try (HfCheckpoint ck = HfCheckpoint.open(base)) {
            context = ck.config().contextLength();
        } catch (IOException e) {
            throw new UserError(base + ": not a model directory (" + e.getMessage() + ")");
        }
        String[] ref = shards(reference), cand = shards(candidate);
        sameTokenizer(base, reference);
        sameTokenizer(base, candidate);
        Files.createDirectories(out);
        String baseYaml = String.format(Locale.ROOT, """
                # written by crucible data verify: the anneal both variants share
                data:
                  sources:
                    - {name: reference, train: %s, val: %s, weight: 1.0}
                    - {name: candidate, train: %s, val: %s, weight: 0.0}   # validated, not trained on
                training: {seq_len: %d, micro_batch: %d, steps: %d, init_from: %s}
                optimizer: {name: adamw, lr: %s, weight_decay: 0.1}
                schedule: {kind: wsd, warmup_steps: %d, decay_fraction: 1.0, min_lr_ratio: 0.0}
                eval: {every: %d, batches: %d}
                checkpoint: {every: %d}
                log: {every: %d}
                """, q(ref[0]), q(ref[1]), q(cand[0]), q(cand[1]), Math.min(seqLen, context), microBatch, steps, q(base.toAbsolutePath().normalize().toString()),
                Double.toString(lr), warmup, Math.max(1, steps / 4), valBatches, steps, Math.max(1, steps / 20));
        StringBuilder sweep = new StringBuilder("# written by crucible data verify\nbase: base.yaml\nseeds: [");
        for (int s = 1; s <= seeds; s++) sweep.append(s == 1 ? "" : ", ").append(s);
        sweep.append("]\nvariants:\n  reference: {}\n  with_candidate: {data.sources: [")
                .append(String.format(Locale.ROOT, "{name: reference, train: %s, val: %s, weight: %s}, {name: candidate, train: %s, val: %s, weight: %s}",
                        q(ref[0]), q(ref[1]), Double.toString(1 - share), q(cand[0]), q(cand[1]), Double.toString(share)))
                .append("]}\nbaseline: reference\nout: .\n");
        if (tasks != null && !tasks.isEmpty()) {
            List<String> named = new ArrayList<>();
            for (String t : tasks) named.add(q(t.startsWith("probes:") ? "probes:" + Path.of(t.substring(7)).toAbsolutePath().normalize() : t));
            sweep.append("eval: {tasks: [").append(String.join(", ", named)).append("], limit: ").append(limit).append("}\n");
        }
        AtomicWrite.writeString(out.resolve("base.yaml"), baseYaml);
        AtomicWrite.writeString(out.resolve("sweep.yaml"), sweep.toString());
        SweepCommand run = new SweepCommand();
        run.file = out.resolve("sweep.yaml");
        run.threads = 0;
        run.parallel = 1;
        run.call();
        verdict(SweepComparison.of(Sweep.Manifest.read(out.toAbsolutePath().normalize())));
        return 0;
    }

    /** The decision, in words, from the metric that decides. */
    private void verdict(SweepComparison c) {
        SweepComparison.Row row = c.rows().stream().filter(r -> r.variant().equals("with_candidate") && r.metric().equals(decideBy)).findFirst().orElse(null);
        if (row == null || row.difference() == null || row.difference().n() == 0) {
            System.out.println("verdict: no " + decideBy + " to decide by (metrics: " + String.join(", ", c.rows().stream().map(SweepComparison.Row::metric).distinct().toList()) + ")");
            return;
        }
        SeedStatistics.Difference d = row.difference();
        boolean better = row.lowerIsBetter() ? d.mean() < 0 : d.mean() > 0;
        String change = Double.isNaN(d.halfWidth()) ? String.format(Locale.ROOT, "%+.4f", d.mean()) : String.format(Locale.ROOT, "%+.4f ± %.4f", d.mean(), d.halfWidth());
        String verdict;
        if (Double.isNaN(d.p())) verdict = "undecided: one seed gives no test; run with --seeds 2 or more";
        else if (!d.significant(SweepComparison.ALPHA)) verdict = "no significant difference: the candidate neither helps nor hurts at this budget";
        else verdict = better ? "the candidate HELPS" : "the candidate HURTS";
        System.out.printf(Locale.ROOT, "verdict (%s, with the candidate minus without, %d seeds, paired t-test%s): %s -> %s%n", decideBy, d.n(),
                Double.isNaN(d.p()) ? "" : String.format(Locale.ROOT, ", p = %.3g", d.p()), change, verdict);
    }

    /** A shard directory's training and validation shards, as absolute globs or files. */
    private static String[] shards(Path dir) {
        if (!Files.isDirectory(dir)) throw new UserError(dir + ": not a directory of token shards");
        Path d = dir.toAbsolutePath().normalize();
        if (Files.isRegularFile(d.resolve("train.bin")) && Files.isRegularFile(d.resolve("val.bin"))) return new String[] {d.resolve("train.bin").toString(), d.resolve("val.bin").toString()};
        try (var files = Files.list(d)) {
            List<String> names = files.map(p -> p.getFileName().toString()).toList();
            if (names.stream().anyMatch(n -> n.startsWith("train_") && n.endsWith(".bin")) && names.stream().anyMatch(n -> n.startsWith("val_") && n.endsWith(".bin"))) {
                return new String[] {d.resolve("train_*.bin").toString(), d.resolve("val_*.bin").toString()};
            }
        } catch (IOException e) {
            throw new UserError(dir + ": cannot list (" + e.getMessage() + ")");
        }
        throw new UserError(dir + ": no token shards (train.bin and val.bin, or train_*.bin and val_*.bin as `crucible data tokenize` writes them)");
    }

    /** Shards made with another tokenizer than the model's would train it on the wrong ids. */
    private static void sameTokenizer(Path model, Path shards) throws IOException {
        Path a = model.resolve("tokenizer.json"), b = shards.resolve("tokenizer.json");
        if (Files.isRegularFile(a) && Files.isRegularFile(b) && Files.mismatch(a, b) != -1) {
            var x = dev.crucible.data.tokenizer.TokenizerJson.read(a);
            String diff = x.differenceFrom(dev.crucible.data.tokenizer.TokenizerJson.read(b));
            if (diff != null) throw new UserError(shards + " was tokenized with another tokenizer than " + model + " (" + diff + ")");
        }
    }

    private static String q(String s) {
        return "'" + s.replace("'", "''") + "'";
    }
}
