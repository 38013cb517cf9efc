package dev.crucible.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.JsonlTable;
import dev.crucible.io.AtomicWrite;
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
     * Keeps the rows of steps up to the resume point: later ones came from the interrupted process
     * (read as {@link JsonlTable} reads: a last row cut short by the kill is dropped).
     */
    static void truncate(Path run, int step) throws IOException {
        Path metrics = run.resolve(FILE);
        if (!Files.exists(metrics)) return;
        List<String> keep = new ArrayList<>();
        for (JsonlTable.Row r : JsonlTable.read(metrics)) {
            if (r.value().path("step").asInt(Integer.MAX_VALUE) <= step) keep.add(r.text());
        }
        AtomicWrite.writeLines(metrics, keep);
    }
}
