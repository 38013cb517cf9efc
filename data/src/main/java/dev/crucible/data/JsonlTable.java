package dev.crucible.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the JSON-lines tables Crucible writes (metrics.jsonl, eval/results.jsonl), with one policy
 * for every reader: blank lines are skipped; the last line, if it is not a JSON object, is left out
 * (a process killed while appending it cut it short); any other line that is not a JSON object stops
 * the read with the file and line number, since the file was damaged in some other way. So does a
 * line with anything after its object: a kill never leaves that, and dropping it would lose a row.
 */
public final class JsonlTable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonlTable() {}

    /** A row: its 1-based line number, its text and its parsed object. */
    public record Row(int line, String text, JsonNode value) {}

    public static List<Row> read(Path file) throws IOException {
        // decoded leniently: a kill can cut the last line inside a multi-byte character
        List<String> lines = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines().toList();
        int last = lines.size();
        while (last > 0 && lines.get(last - 1).isBlank()) last--;
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < last; i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            JsonNode v;
            String problem = null;
            try {
                v = JsonLine.parse(JSON, line);
            } catch (JsonLine.TrailingContent e) {
                // a kill cuts a line short; it cannot add a second value after a complete one
                throw new IOException(file + ":" + (i + 1) + ": " + e.getMessage() + "; the file is damaged: fix or remove that line");
            } catch (IOException e) {
                v = null;
                problem = e.getMessage().lines().findFirst().orElse("");
            }
            if (v == null || !v.isObject()) {
                if (i == last - 1) break; // cut short by a kill
                throw new IOException(file + ":" + (i + 1) + ": not a JSON object" + (problem != null ? " (" + problem + ")" : "")
                        + "; the file is damaged: fix or remove that line");
            }
            rows.add(new Row(i + 1, line, v));
        }
        return rows;
    }
}
