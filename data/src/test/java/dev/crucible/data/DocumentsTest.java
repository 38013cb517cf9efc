package dev.crucible.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DocumentsTest {
    @TempDir
    Path dir;

    private List<String[]> read(Path p) throws IOException {
        List<String[]> out = new ArrayList<>();
        Documents.read(p, (n, t) -> out.add(new String[] {n, t}));
        return out;
    }

    @Test
    void sourceLanguageFromTheExtension() {
        assertEquals("java", Documents.sourceLanguage("jdk-src!java.base/java/util/List.java"));
        assertEquals("python", Documents.sourceLanguage("/data/code.zip!pkg/mod.PY"));
        assertEquals("cpp", Documents.sourceLanguage("src/a.hpp"));
        assertEquals(null, Documents.sourceLanguage("/data/web.jsonl:12"));
        assertEquals(null, Documents.sourceLanguage("notes.txt"));
        assertEquals(null, Documents.sourceLanguage("europarl:7"));
    }

    @Test
    void builtInEuroparlCorpus() throws IOException {
        List<String[]> docs = read(Path.of("builtin:europarl"));
        assertEquals(17_597, docs.size(), "Lucene's Europarl sample");
        assertTrue(docs.stream().allMatch(d -> !d[1].isBlank()), "every document has a body");
        long bytes = docs.stream().mapToLong(d -> d[1].getBytes(StandardCharsets.UTF_8).length).sum();
        assertTrue(bytes > 19_000_000, "19.3 MB of document bodies (21 MB with titles and dates): " + bytes);
        assertTrue(assertThrows(IOException.class, () -> read(Path.of("builtin:wikipedia"))).getMessage().contains("unknown built-in corpus"));
    }

    @Test
    void textThatIsNotUtf8IsReportedWithItsPlaceNotReplaced() throws IOException {
        Files.writeString(dir.resolve("a.txt"), "caf\u00e9 ok");
        Files.write(dir.resolve("b.txt"), "caf\u00e9 latin-1".getBytes(StandardCharsets.ISO_8859_1));
        Files.write(dir.resolve("c.jsonl"), concat("{\"text\": \"one\"}\n{\"text\": \"".getBytes(StandardCharsets.UTF_8),
                new byte[] {'x', (byte) 0xC3, '"', '}', '\n'}, "{\"text\": \"\u00fcber\"}\n".getBytes(StandardCharsets.UTF_8)));
        String msg = assertThrows(IOException.class, () -> read(dir.resolve("b.txt"))).getMessage();
        assertEquals(dir.resolve("b.txt") + ": not valid UTF-8 at byte 3", msg);
        List<String> problems = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        Documents.read(dir, (n, t) -> texts.add(t), (where, problem) -> problems.add(where + ": " + problem));
        assertEquals(List.of("caf\u00e9 ok", "one", "\u00fcber"), texts, "valid documents are read, the invalid ones skipped");
        assertEquals(List.of(dir.resolve("b.txt") + ": not valid UTF-8 at byte 3",
                dir.resolve("c.jsonl") + ":2: not valid UTF-8 at byte 27 of the file"), problems);
    }

    @Test
    void aLineWithMoreThanOneJsonValueIsMalformedNotHalfRead() throws IOException {
        Path f = dir.resolve("two.jsonl");
        Files.writeString(f, "{\"text\": \"ok\"}\n{\"text\":\"a\"}{\"text\":\"b\"}\n{\"text\":\"c\"} garbage\n{\"text\": \"last\"}  \r\n");
        String msg = assertThrows(IOException.class, () -> read(f)).getMessage();
        assertEquals(f + ":2: more after the first JSON value, at column 13 (one value per line)", msg);
        List<String> problems = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        Documents.read(f, (n, t) -> texts.add(t), (where, problem) -> problems.add(where + ": " + problem));
        assertEquals(List.of("ok", "last"), texts, "trailing JSON whitespace (CR included) is allowed");
        assertEquals(List.of(f + ":2: more after the first JSON value, at column 13 (one value per line)",
                f + ":3: more after the first JSON value, at column 14 (one value per line)"), problems);
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    @Test
    void filesByExtensionAndLocatedErrors() throws IOException {
        Files.writeString(dir.resolve("a.txt"), "plain text");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(dir.resolve("b.jsonl.gz")))) {
            o.write("{\"text\": \"one\"}\n\n{\"text\": \"two\"}\n".getBytes(StandardCharsets.UTF_8));
        }
        List<String[]> docs = read(dir);
        assertEquals(List.of("plain text", "one", "two"), docs.stream().map(d -> d[1]).toList());
        Files.writeString(dir.resolve("c.jsonl"), "{\"text\": \"ok\"}\n{\"txt\": \"no\"}\n");
        String msg = assertThrows(IOException.class, () -> read(dir.resolve("c.jsonl"))).getMessage();
        assertEquals(dir.resolve("c.jsonl") + ":2: no \"text\" string field", msg);
        assertTrue(assertThrows(IOException.class, () -> read(dir.resolve("missing"))).getMessage().contains("no such file or directory"));
    }
}
