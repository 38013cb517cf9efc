package dev.crucible.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One policy for the JSON-lines tables: a cut-short last row is dropped, any other bad row names its file and line. */
class JsonlTableTest {
    @TempDir
    Path dir;

    @Test
    void aLastRowCutShortIsDroppedAndBlankLinesSkipped() throws IOException {
        Path f = dir.resolve("metrics.jsonl");
        byte[] cut = "{\"step\":1}\n\n{\"step\":2}\n{\"step\":3,\"note\":\"\u00e9".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Files.write(f, java.util.Arrays.copyOf(cut, cut.length - 1)); // the kill also cut the last character in half
        var rows = JsonlTable.read(f);
        assertEquals(2, rows.size());
        assertEquals(1, rows.get(0).value().get("step").asInt());
        assertEquals(3, rows.get(1).line(), "line numbers count blank lines");
        assertEquals("{\"step\":2}", rows.get(1).text());
    }

    @Test
    void aBadRowBeforeTheLastStopsTheReadWithFileAndLine() throws IOException {
        Path f = dir.resolve("results.jsonl");
        Files.writeString(f, "{\"step\":1}\n{\"step\":2\n{\"step\":3}\n");
        String msg = assertThrows(IOException.class, () -> JsonlTable.read(f)).getMessage();
        assertTrue(msg.startsWith(f + ":2: not a JSON object ("), msg);
        Files.writeString(f, "{\"step\":1}\n[1, 2]\n{\"step\":3}\n");
        msg = assertThrows(IOException.class, () -> JsonlTable.read(f)).getMessage();
        assertTrue(msg.startsWith(f + ":2: not a JSON object"), msg);
    }
    @Test
    void aRowWithMoreAfterItsObjectIsDamageEvenOnTheLastLine() throws IOException {
        Path f = dir.resolve("metrics.jsonl");
        Files.writeString(f, "{\"step\":1}{\"step\":2}\n{\"step\":3}\n");
        String msg = assertThrows(IOException.class, () -> JsonlTable.read(f)).getMessage();
        assertTrue(msg.startsWith(f + ":1: more after the first JSON value, at column 11"), msg);
        Files.writeString(f, "{\"step\":1}\n{\"step\":2} x\n");
        msg = assertThrows(IOException.class, () -> JsonlTable.read(f)).getMessage();
        assertTrue(msg.startsWith(f + ":2: more after the first JSON value, at column 12"), msg);
    }
}
