package dev.crucible.data.parquet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.data.Documents;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files written by two independent JavaScript writers (hyparquet-writer: data pages v2, Snappy or
 * none, dictionary encoding, several row groups and pages; parquetjs: data pages v1, gzip), made by
 * src/test/resources/parquet/make_fixtures.mjs.
 */
class ParquetTextTest {
    @TempDir
    Path tmp;

    static Path fixture(String name) throws URISyntaxException {
        return Path.of(ParquetTextTest.class.getResource("/parquet/" + name).toURI());
    }

    /** The texts make_fixtures.mjs writes. */
    static List<String> texts() {
        List<String> t = new ArrayList<>();
        for (int i = 0; i < 40; i++) t.add("Document " + i + ": naïve café — 😀 line one\nline two of " + i);
        t.add("");
        t.add("a repeated text");
        t.add("a repeated text");
        return t;
    }

    record Row(long row, String text) {}

    static List<Row> read(Path f, String column) throws IOException {
        List<Row> out = new ArrayList<>();
        ParquetText.read(f, column, (row, text) -> out.add(new Row(row, text)));
        return out;
    }

    @Test
    void snappyPagesV2SeveralRowGroups() throws Exception {
        List<Row> rows = read(fixture("hyparquet-snappy.parquet"), "text");
        assertEquals(texts(), rows.stream().map(Row::text).toList());
        assertEquals(43, rows.getLast().row());
        // an optional column: the nulls (every third row) are skipped, row numbers kept
        List<Row> notes = read(fixture("hyparquet-snappy.parquet"), "note");
        assertEquals(43 - 15, notes.size());
        assertEquals(new Row(2, "note 1"), notes.getFirst());
        assertEquals(0, ParquetText.read(fixture("hyparquet-snappy.parquet"), "text", (r, t) -> { }));
        assertEquals(15, ParquetText.read(fixture("hyparquet-snappy.parquet"), "note", (r, t) -> { }));
    }

    @Test
    void dictionaryEncoding() throws Exception {
        List<Row> rows = read(fixture("hyparquet-dictionary.parquet"), "text");
        assertEquals(300, rows.size());
        for (int i = 0; i < 300; i++) assertEquals(List.of("alpha", "beta", "gamma δ").get(i % 3), rows.get(i).text());
    }

    @Test
    void gzipPagesV1WithANull() throws Exception {
        List<Row> rows = read(fixture("parquetjs-gzip.parquet"), "text");
        List<String> expected = new ArrayList<>(texts());
        expected.remove(5); // row 6 has no text
        assertEquals(expected, rows.stream().map(Row::text).toList());
        assertEquals(7, rows.get(5).row());
    }

    @Test
    void documentsReadsTheTextColumn() throws Exception {
        List<String> names = new ArrayList<>();
        Documents.read(fixture("hyparquet-snappy.parquet"), (name, text) -> names.add(name));
        assertEquals(43, names.size());
        assertTrue(names.getFirst().endsWith("hyparquet-snappy.parquet:1"));
    }

    @Test
    void aValueThatIsNotUtf8IsMalformedWithItsRowGroupAndRowNotReplaced() throws Exception {
        byte[] b = Files.readAllBytes(fixture("hyparquet-snappy.parquet"));
        // Snappy keeps "naïve" as a literal in row 1 (row group 0) and row 17 (row group 1); rows 2-4 and 18-20 copy it
        for (int at : new int[] {143, 804}) {
            assertEquals((byte) 0xC3, b[at]);
            b[at] = (byte) 0xFF;
        }
        Path f = tmp.resolve("latin.parquet");
        Files.write(f, b);
        IOException e = assertThrows(IOException.class, () -> read(f, "text"));
        assertEquals(f + ":1: not valid UTF-8 at byte 14 of its 'text' value (row group 0)", e.getMessage());
        List<String> problems = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        Documents.read(f, (name, text) -> texts.add(text), (where, problem) -> problems.add(where + ": " + problem));
        List<String> expectedProblems = new ArrayList<>();
        for (int row : new int[] {1, 2, 3, 4}) expectedProblems.add(f + ":" + row + ": not valid UTF-8 at byte 14 of its 'text' value (row group 0)");
        for (int row : new int[] {17, 18, 19, 20}) expectedProblems.add(f + ":" + row + ": not valid UTF-8 at byte 15 of its 'text' value (row group 1)");
        assertEquals(expectedProblems, problems);
        List<String> expected = new ArrayList<>(texts());
        expected.subList(16, 20).clear();
        expected.subList(0, 4).clear();
        assertEquals(expected, texts, "every other row is read, none with U+FFFD");
    }

    @Test
    void clearErrors() throws Exception {
        assertTrue(assertThrows(IOException.class, () -> read(fixture("hyparquet-snappy.parquet"), "body")).getMessage()
                .endsWith("no column 'body' (top-level columns: id, text, note)"));
        assertTrue(assertThrows(IOException.class, () -> read(fixture("hyparquet-snappy.parquet"), "id")).getMessage()
                .contains("column 'id' is not a string column"));
        Path junk = tmp.resolve("junk.parquet");
        Files.writeString(junk, "PAR1 definitely not parquet");
        assertTrue(assertThrows(IOException.class, () -> read(junk, "text")).getMessage().contains("junk.parquet: not a Parquet file"));
        byte[] b = Files.readAllBytes(fixture("hyparquet-snappy.parquet"));
        b[b.length - 5] = 0x7F; // footer length far past the start of the file
        Path damaged = tmp.resolve("damaged.parquet");
        Files.write(damaged, b);
        assertTrue(assertThrows(IOException.class, () -> read(damaged, "text")).getMessage().contains("damaged.parquet: corrupt Parquet footer length"));
        byte[] t = Files.readAllBytes(fixture("hyparquet-snappy.parquet"));
        Path truncated = tmp.resolve("truncated.parquet");
        Files.write(truncated, java.util.Arrays.copyOfRange(t, t.length / 2, t.length)); // footer intact, offsets now point past the data
        IOException e = assertThrows(IOException.class, () -> read(truncated, "text"));
        assertTrue(e.getMessage().startsWith(truncated.toString()), e.getMessage());
    }
}
