package dev.crucible.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * A run directory's config.yaml and the record of every version of it the trainer wrote
 * (config_sha256.txt, one SHA-256 per line). Checkpoints store the SHA-256 of the config.yaml they
 * were trained under; on resume, a config.yaml whose hash is neither that nor one the trainer wrote
 * (an allowed change after the checkpoint) was edited by hand, and the resume says so.
 */
final class RunConfigFile {
    static final String FILE = "config.yaml", HISTORY = "config_sha256.txt";

    private RunConfigFile() {}

    /**
     * Writes the run's config.yaml (the infinite schedule's phases written out in steps, so that a
     * resume with more steps keeps them), records its hash, and returns it.
     */
    static String write(Path run, RunConfig cfg) throws IOException {
        Path file = run.resolve(FILE);
        ConfigLoader.write(file, cfg.withSchedule(cfg.schedule().phasesFor(cfg.training().steps())));
        String hash = hash(run);
        Files.writeString(run.resolve(HISTORY), hash + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        return hash;
    }

    /** SHA-256 of config.yaml's bytes. */
    static String hash(Path run) throws IOException {
        return Checkpoints.sha256(run.resolve(FILE));
    }

    /** Whether config.yaml's current content is one the trainer wrote (runs from before this record have none). */
    static boolean writtenByTrainer(Path run, String hash) throws IOException {
        Path h = run.resolve(HISTORY);
        if (!Files.exists(h)) return false;
        List<String> lines = Files.readAllLines(h, StandardCharsets.UTF_8);
        return lines.stream().anyMatch(l -> l.strip().equals(hash));
    }
}
