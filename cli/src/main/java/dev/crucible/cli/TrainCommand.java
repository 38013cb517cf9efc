package dev.crucible.cli;

import dev.crucible.train.ConfigLoader;
import dev.crucible.train.RunConfig;
import dev.crucible.train.Trainer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model as a run config (YAML) describes it, or continue an interrupted run.",
                "Writes <out>/config.yaml (the resolved config), <out>/metrics.jsonl and <out>/checkpoints/step-NNNNNNN/: each a Hugging Face "
                        + "model directory (config.json, model.safetensors) plus optimizer.safetensors and trainer_state.json for an exact resume.",
                "Paths in the config are relative to the config file. See examples/ for annotated configs."})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, description = "The run config (YAML). With --resume: a changed config to continue under.")
    Path config;
    @Option(names = "--resume", paramLabel = "RUN", description = "Continue the run in this directory from its newest complete checkpoint; "
            + "the result is bit-identical to an uninterrupted run.")
    Path resume;
    @Option(names = "--allow-config-change", description = "With --resume and --config: accept a config that differs from the run's.")
    boolean allowChange;

    @Override
    public Integer call() throws Exception {
        if (resume == null && config == null) throw new UserError("train: give --config <run.yaml>, or --resume <run-dir>");
        RunConfig cfg = config == null ? null : ConfigLoader.load(config, RunConfig.class);
        Path base = config == null ? null : config.toAbsolutePath().getParent();
        if (resume != null) Trainer.resume(resume, cfg, base, allowChange, System.out);
        else Trainer.start(cfg, base, System.out);
        return 0;
    }
}
