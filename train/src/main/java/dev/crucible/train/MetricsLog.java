package dev.crucible.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.JsonlTable;
import dev.crucible.io.AtomicWrite;
import dev.crucible.train.tensorboard.EventFile;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A run's metrics.jsonl: one JSON object per logged step, appended and flushed row by row; each
 * row's numbers also go to the run's TensorBoard events as scalars under the same names.
 */
final class MetricsLog implements AutoCloseable {
    static final String FILE = "metrics.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final BufferedWriter out;
    private final EventFile events;

    MetricsLog(Path run, EventFile events) throws IOException {
        out = Files.newBufferedWriter(run.resolve(FILE), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        this.events = events;
    }

    void write(Map<String, Object> row) throws IOException {
        out.write(JSON.writeValueAsString(row));
        out.newLine();
        out.flush();
        long step = ((Number) row.get("step")).longValue();
        for (Map.Entry<String, Object> e : row.entrySet()) {
            if (!e.getKey().equals("step") && e.getValue() instanceof Number n) events.scalar(e.getKey(), step, n.doubleValue());
        }
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
