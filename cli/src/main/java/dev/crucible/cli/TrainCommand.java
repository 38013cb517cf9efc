package dev.crucible.cli;

import dev.crucible.train.ConfigLoader;
import dev.crucible.train.RunConfig;
import dev.crucible.train.Trainer;
import dev.crucible.train.parallel.Replicas;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model as a run config (YAML) describes it, or continue an interrupted run.",
                "Writes <out>/config.yaml (the resolved config), <out>/metrics.jsonl and <out>/checkpoints/step-NNNNNNN/: each a Hugging Face "
                        + "model directory (config.json, model.safetensors) plus optimizer.safetensors and trainer_state.json for an exact resume.",
                "Paths in the config are relative to the config file. See examples/ for annotated configs.",
                "Under mpirun (mpirun -np N ./crucible train ...) the run is data-parallel over N processes: each trains on its share of "
                        + "every step's batch, gradients are summed over MPI, rank 0 writes; the result does not depend on N (docs/scaling-out.md)."})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, description = "The run config (YAML). With --resume: a changed config to continue under.")
    Path config;
    @Option(names = "--resume", paramLabel = "RUN", description = "Continue the run in this directory from its newest complete checkpoint; "
            + "the result is bit-identical to an uninterrupted run.")
    Path resume;
    @Option(names = "--allow-config-change", description = "With --resume and --config: accept a config that differs from the run's.")
    boolean allowChange;

    /** The replicas of the MPI job this process was started in (one process alone otherwise); an unusable MPI is the user's to fix. */
    static Replicas joinJob() {
        try {
            return Replicas.fromEnvironment(System.getenv());
        } catch (IllegalStateException e) {
            throw new UserError(e.getMessage());
        }
    }

    @Override
    public Integer call() throws Exception {
        if (resume == null && config == null) throw new UserError("train: give --config <run.yaml>, or --resume <run-dir>");
        try (Replicas replicas = joinJob()) {
            try {
                RunConfig cfg = config == null ? null : ConfigLoader.load(config, RunConfig.class);
                Path base = config == null ? null : config.toAbsolutePath().getParent();
                if (resume != null) Trainer.resume(resume, cfg, base, allowChange, System.out, replicas);
                else Trainer.start(cfg, base, System.out, replicas);
            } catch (Exception | Error e) {
                if (replicas.size() == 1) throw e;
                // the other replicas wait in a collective for this one: end them all, with this replica's reason first
                // one write for the whole line: the ranks' stderr meet in mpirun's, and pieces of two lines would interleave
                byte[] line = String.format("crucible (rank %d of %d): %s%n", replicas.rank(), replicas.size(), Main.isUserError(e) ? e.getMessage() : e)
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
                System.err.write(line, 0, line.length);
                System.err.flush();
                if (!Main.isUserError(e) || Boolean.getBoolean("crucible.debug")) e.printStackTrace();
                replicas.abort(Main.isUserError(e) ? 2 : 1);
            }
        }
        return 0;
    }
}
