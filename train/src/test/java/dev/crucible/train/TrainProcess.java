package dev.crucible.train;

import java.nio.file.Path;

/** A training run in its own JVM, for tests that kill it: "start <config>" or "resume <run-dir>". */
public final class TrainProcess {
    public static void main(String[] args) throws Exception {
        if (args[0].equals("start")) {
            Path config = Path.of(args[1]).toAbsolutePath();
            Trainer.start(ConfigLoader.load(config, RunConfig.class), config.getParent(), System.out);
        } else {
            Trainer.resume(Path.of(args[1]), null, null, false, System.out);
        }
        System.out.flush();
    }
}
