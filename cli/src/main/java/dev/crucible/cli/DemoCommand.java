package dev.crucible.cli;

import picocli.CommandLine.Command;

@Command(name = "demo", mixinStandardHelpOptions = true, description = "Train a small model on built-in data.")
public final class DemoCommand implements Runnable {
    @Override
    public void run() {
        throw new UserError("demo: not wired yet");
    }
}
