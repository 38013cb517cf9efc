package dev.crucible.data;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/**
 * One JSON value per line, as JSON Lines requires: the home of that rule for every reader of
 * .jsonl (corpora, tables, refining programs' side files, evaluation tasks). Jackson's readTree stops after the first value and ignores the rest of
 * the line, so {"text":"a"}{"text":"b"} would keep "a" and silently lose "b".
 */
public final class JsonLine {
    private JsonLine() {}

    /** A line whose first value parsed but is followed by more than JSON whitespace. */
    public static final class TrailingContent extends IOException {
        TrailingContent(int column) {
            super("more after the first JSON value, at column " + column + " (one value per line)");
        }
    }

    /**
     * The line's one JSON value (null for an empty line). Throws TrailingContent when something
     * follows the value, and Jackson's own exception when the value itself does not parse, so a
     * caller can tell a line cut short (no complete value) from a damaged one.
     */
    public static JsonNode parse(ObjectMapper mapper, String line) throws IOException {
        try (JsonParser p = mapper.createParser(line)) {
            JsonNode v = mapper.readTree(p);
            if (v == null || v.isMissingNode()) return null;
            // after a closing brace or bracket the parser has read nothing further; callers refuse scalars anyway
            if (!v.isContainerNode()) return v;
            int end = (int) p.currentLocation().getCharOffset();
            for (int i = end; i < line.length(); i++) {
                char c = line.charAt(i);
                if (c != ' ' && c != '\t' && c != '\r' && c != '\n') throw new TrailingContent(i + 1);
            }
            return v;
        }
    }
}
