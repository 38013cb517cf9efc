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
final class JsonlShardWriter implements Pipeline.Sink, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final String compression;
    private final int shardDocs;
    private final String partitionBy;
    private final Map<String, Part> parts = new TreeMap<>();

    /** Per partition: documents, UTF-8 text bytes and shard files written. */
    record Counts(long docs, long bytes, int shards) {}

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
        String key = partitionBy == null ? "" : safe(doc.meta().getOrDefault(partitionBy, "none"));
        Part p = parts.computeIfAbsent(key, k -> new Part());
        if (p.gen == null || p.inShard == shardDocs) {
            closePart(p);
            Path d = key.isEmpty() ? dir : dir.resolve(key);
            Files.createDirectories(d);
            String ext = switch (compression) {
                case "gzip" -> ".gz";
                case "zstd" -> ".zst";
                default -> "";
            };
            OutputStream raw = new BufferedOutputStream(Files.newOutputStream(d.resolve(String.format("part-%05d.jsonl%s", p.shards++, ext))), 1 << 16);
            p.out = switch (compression) {
                case "gzip" -> new GZIPOutputStream(raw, 1 << 16);
                case "zstd" -> new BufferedOutputStream(new io.airlift.compress.v3.zstd.ZstdJavaOutputStream(raw), 1 << 16);
                default -> raw;
            };
            p.gen = JSON.getFactory().createGenerator(p.out);
            p.gen.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
            p.inShard = 0;
        }
        JsonGenerator g = p.gen;
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
        p.inShard++;
        p.docs++;
        p.bytes += TextStats.utf8Length(doc.text());
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
