package dev.crucible.cli;

import dev.crucible.train.ConfigLoader;
import dev.crucible.train.RunConfig;
import dev.crucible.train.Trainer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model as a run config (YAML) describes it.",
                "Writes <out>/config.yaml (the resolved config), <out>/metrics.jsonl and <out>/checkpoints/step-NNNNNNN/ "
                        + "(model.safetensors with Hugging Face names, config.json). Paths in the config are relative to the config file.",
                "See examples/ in the repository for annotated configs."})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "The run config (YAML).")
    Path config;

    @Override
    public Integer call() throws Exception {
        RunConfig cfg = ConfigLoader.load(config, RunConfig.class);
        Path base = config.toAbsolutePath().getParent();
        new Trainer(cfg, base, System.out).run();
        return 0;
    }
}
