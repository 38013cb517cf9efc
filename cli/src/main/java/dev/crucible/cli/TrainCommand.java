package dev.crucible.cli;

import picocli.CommandLine.Command;

@Command(name = "train", mixinStandardHelpOptions = true, description = "Train a model from a run config (YAML).")
public final class TrainCommand implements Runnable {
    @Override
    public void run() {
        throw new UserError("train: not wired yet");
    }
}
