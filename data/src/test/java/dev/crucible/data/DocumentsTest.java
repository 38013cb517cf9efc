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

    private static byte[] jsonLines(int n) {
        StringBuilder sb = new StringBuilder();
        java.util.Random r = new java.util.Random(7);
        for (int i = 1; i <= n; i++) sb.append("{\"text\": \"line ").append(i).append(' ').append(r.nextLong()).append("\"}\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Reads f with a sink that keeps the texts it got, and returns the error the read ended with. */
    private String failureAfter(Path f, List<String> texts) {
        return assertThrows(IOException.class, () -> Documents.read(f, (n, t) -> texts.add(t))).getMessage();
    }

    @Test
    void aCutShortOrDamagedCompressedFileIsNamedWithTheLineReached() throws IOException {
        java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(gz)) {
            o.write(jsonLines(20_000));
        }
        Path f = dir.resolve("cut.jsonl.gz");
        Files.write(f, java.util.Arrays.copyOf(gz.toByteArray(), gz.size() / 2));
        List<String> texts = new ArrayList<>();
        String msg = failureAfter(f, texts);
        assertTrue(texts.size() > 1000, "the records before the damage are delivered: " + texts.size());
        assertEquals("line " + texts.size(), texts.getLast().substring(0, texts.getLast().indexOf(' ', 5)));
        assertEquals(f + ":" + (texts.size() + 1) + ": the gzip data is damaged or cut short (Unexpected end of ZLIB input stream); "
                + texts.size() + " line(s) before it were read", msg);

        java.io.ByteArrayOutputStream zst = new java.io.ByteArrayOutputStream();
        try (OutputStream o = new io.airlift.compress.v3.zstd.ZstdOutputStream(zst)) {
            o.write(jsonLines(20_000));
        }
        byte[] z = zst.toByteArray();
        Path cut = dir.resolve("cut.jsonl.zst");
        Files.write(cut, java.util.Arrays.copyOf(z, z.length - 10));
        texts.clear();
        msg = failureAfter(cut, texts);
        assertTrue(msg.startsWith(cut + ":" + (texts.size() + 1) + ": the zstd data is damaged or cut short ("), msg);
        z[z.length / 2] ^= 0x55;
        Path corrupt = dir.resolve("corrupt.jsonl.zst");
        Files.write(corrupt, z);
        texts.clear();
        msg = failureAfter(corrupt, texts);
        assertTrue(msg.startsWith(corrupt + ":" + (texts.size() + 1) + ": the zstd data is damaged or cut short ("), msg);

        Path notGzip = dir.resolve("plain.jsonl.gz");
        Files.write(notGzip, jsonLines(3));
        assertEquals(notGzip + ": not a readable gzip file (Not in GZIP format)", failureAfter(notGzip, texts));
    }

    @Test
    void aDamagedZipEntryIsNamedWithItsArchive() throws IOException {
        Path zip = dir.resolve("src.zip");
        try (java.util.zip.ZipOutputStream o = new java.util.zip.ZipOutputStream(Files.newOutputStream(zip))) {
            for (String name : List.of("a.txt", "b.txt")) {
                o.putNextEntry(new java.util.zip.ZipEntry(name));
                o.write(("the text of " + name + " ").repeat(100).getBytes(StandardCharsets.UTF_8));
                o.closeEntry();
            }
        }
        byte[] b = Files.readAllBytes(zip);
        int header = indexOf(b, "b.txt".getBytes(StandardCharsets.UTF_8)) - 30; // the local header, 30 bytes before its name
        int data = header + 30 + (b[header + 26] & 0xFF | (b[header + 27] & 0xFF) << 8) + (b[header + 28] & 0xFF | (b[header + 29] & 0xFF) << 8);
        b[data] = (byte) 0xFF; // deflate block type 3 does not exist
        Files.write(zip, b);
        List<String> texts = new ArrayList<>();
        String msg = failureAfter(zip, texts);
        assertEquals(1, texts.size(), "a.txt, before the damaged entry, was delivered");
        assertTrue(msg.startsWith(zip + "!b.txt: damaged zip entry after 0 of 1800 bytes (invalid block type)"), msg);
    }

    private static int indexOf(byte[] b, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= b.length; i++) {
            for (int k = 0; k < needle.length; k++) if (b[i + k] != needle[k]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
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
