package dev.crucible.data.pipeline;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

/**
 * Writes documents as JSONL shards ({"id", "text", the input record's other fields, then the metadata}):
 * {@code dir/[partition/]part-NNNNN.jsonl[.gz|.zst]}, a new shard every shardDocs documents. With a
 * partition key, each value of that metadata field gets its own directory ("none" if absent).
 */
public final class JsonlShardWriter implements Pipeline.Sink, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final String compression;
    private final int shardDocs;
    private final String partitionBy;
    private final Map<String, Part> parts = new TreeMap<>();

    /** Per partition: documents, UTF-8 text bytes and shard files written. */
    public record Counts(long docs, long bytes, int shards) {}

    private static final class Part {
        OutputStream out;
        JsonGenerator gen;
        long docs, bytes;
        int shards, inShard;
    }

    /** compression: gzip, zstd or none. */
    JsonlShardWriter(Path dir, String compression, int shardDocs, String partitionBy) {
        this.dir = dir;
        this.compression = compression;
        this.shardDocs = shardDocs;
        this.partitionBy = partitionBy;
    }

    @Override
    public void accept(Doc doc) throws IOException {
        String key = partition(doc, partitionBy);
        Part p = parts.computeIfAbsent(key, k -> new Part());
        if (p.gen == null || p.inShard == shardDocs) {
            closePart(p);
            Path d = key.isEmpty() ? dir : dir.resolve(key);
            Files.createDirectories(d);
            p.out = compressed(Files.newOutputStream(d.resolve(shardName(p.shards++, compression))), compression);
            p.gen = generator(p.out);
            p.inShard = 0;
        }
        write(p.gen, doc);
        p.inShard++;
        p.docs++;
        p.bytes += TextStats.utf8Length(doc.text());
    }

    /** The partition directory (relative to the output; "" without partition_by) a document goes to. */
    public static String partition(Doc doc, String partitionBy) {
        return partitionBy == null ? "" : safe(doc.meta().getOrDefault(partitionBy, "none"));
    }

    /** The file name of a partition's index-th shard. */
    public static String shardName(int index, String compression) {
        String ext = switch (compression) {
            case "gzip" -> ".gz";
            case "zstd" -> ".zst";
            default -> "";
        };
        return String.format("part-%05d.jsonl%s", index, ext);
    }

    /** raw, buffered and compressed as the output's compression says. */
    public static OutputStream compressed(OutputStream raw, String compression) throws IOException {
        OutputStream buffered = new BufferedOutputStream(raw, 1 << 16);
        return switch (compression) {
            case "gzip" -> new GZIPOutputStream(buffered, 1 << 16);
            case "zstd" -> new BufferedOutputStream(new io.airlift.compress.v3.zstd.ZstdJavaOutputStream(buffered), 1 << 16);
            default -> buffered;
        };
    }

    /** A JSON generator on out that leaves out open when closed. */
    public static JsonGenerator generator(OutputStream out) throws IOException {
        JsonGenerator g = JSON.getFactory().createGenerator(out);
        g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
        return g;
    }

    /** One output line: {"id", "text", the input record's other fields, then the metadata}. */
    public static void write(JsonGenerator g, Doc doc) throws IOException {
        g.writeStartObject();
        String ownId = doc.fields().get("id");
        g.writeFieldName("id");
        if (ownId != null) g.writeRawValue(ownId); // as the input wrote it (a number stays a number)
        else g.writeString(doc.id());
        g.writeStringField("text", doc.text());
        for (Map.Entry<String, String> e : doc.fields().entrySet()) {
            if (e.getKey().equals("id") || e.getKey().equals("text") || doc.meta().containsKey(e.getKey())) continue;
            g.writeFieldName(e.getKey());
            g.writeRawValue(e.getValue());
        }
        for (Map.Entry<String, String> e : doc.meta().entrySet()) {
            if (!e.getKey().equals("id") && !e.getKey().equals("text")) g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
        g.writeRaw('\n');
    }

    /** A metadata value as a directory name: letters, digits, '-', '_' and '.' only. */
    static String safe(String value) {
        String s = value.replaceAll("[^A-Za-z0-9._-]", "_");
        return s.isEmpty() || s.startsWith(".") ? "_" + s : s;
    }

    private static void closePart(Part p) throws IOException {
        if (p.gen == null) return;
        p.gen.close();
        p.out.close();
        p.gen = null;
    }

    Map<String, Counts> counts() {
        Map<String, Counts> out = new TreeMap<>();
        parts.forEach((k, p) -> out.put(k, new Counts(p.docs, p.bytes, p.shards)));
        return out;
    }

    @Override
    public void close() throws IOException {
        for (Part p : parts.values()) closePart(p);
    }
}
