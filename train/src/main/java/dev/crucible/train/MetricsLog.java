package dev.crucible.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A run's metrics.jsonl: one JSON object per logged step, appended and flushed row by row. */
final class MetricsLog implements AutoCloseable {
    static final String FILE = "metrics.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final BufferedWriter out;

    MetricsLog(Path run) throws IOException {
        out = Files.newBufferedWriter(run.resolve(FILE), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    void write(Map<String, Object> row) throws IOException {
        out.write(JSON.writeValueAsString(row));
        out.newLine();
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /**
     * Keeps the rows of steps up to the resume point: later ones came from the interrupted process.
     * Only the last row may be cut short (a kill mid-write) and is dropped; a malformed row before it
     * means the file was damaged otherwise and stops the resume with its line number.
     */
    static void truncate(Path run, int step) throws IOException {
        Path metrics = run.resolve(FILE);
        if (!Files.exists(metrics)) return;
        List<String> lines = Files.readAllLines(metrics, StandardCharsets.UTF_8);
        List<String> keep = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            int rowStep;
            try {
                rowStep = JSON.readTree(line).path("step").asInt(Integer.MAX_VALUE);
            } catch (IOException e) {
                if (i == lines.size() - 1) break; // cut short by the kill
                throw new IOException(metrics + ":" + (i + 1) + ": not a JSON row (" + e.getMessage().lines().findFirst().orElse("")
                        + "); fix or remove that line before resuming", e);
            }
            if (rowStep <= step) keep.add(line);
        }
        Path tmp = metrics.resolveSibling(FILE + ".tmp");
        Files.write(tmp, keep, StandardCharsets.UTF_8);
        Files.move(tmp, metrics, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
