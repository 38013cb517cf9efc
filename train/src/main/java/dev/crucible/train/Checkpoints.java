package dev.crucible.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.crucible.model.HfFormat;
import dev.crucible.model.Model;
import dev.crucible.model.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Checkpoint directories under run/checkpoints/step-NNNNNNN: model.safetensors with Hugging Face
 * tensor names and transformers' config.json. A checkpoint is assembled in a temporary directory
 * and renamed into place, so an interrupted write never leaves a partial checkpoint behind.
 */
public final class Checkpoints {
    private Checkpoints() {}

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static Path dirFor(Path run, long step) {
        return run.resolve("checkpoints").resolve(String.format("step-%07d", step));
    }

    public static Path write(Path run, long step, long tokens, Model model) throws IOException {
        Path dir = dirFor(run, step);
        Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
        deleteRecursively(tmp);
        Files.createDirectories(tmp);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("crucible.step", Long.toString(step));
        meta.put("crucible.tokens", Long.toString(tokens));
        Safetensors.write(tmp.resolve("model.safetensors"), HfFormat.sources(model.layout(), model.params), meta);
        JSON.writeValue(tmp.resolve("config.json").toFile(), HfFormat.configJson(model.config(), null, null));
        deleteRecursively(dir);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        return dir;
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
