package dev.crucible.data.parquet;

import dev.crucible.data.StrictUtf8;
import io.airlift.compress.v3.snappy.SnappyJavaDecompressor;
import io.airlift.compress.v3.zstd.ZstdJavaDecompressor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Reads one top-level string column of a Parquet file, row by row, without Hadoop: the footer and
 * page headers are Thrift compact structs; pages are data pages v1 or v2 with PLAIN or dictionary
 * (PLAIN_DICTIONARY, RLE_DICTIONARY) encoding, uncompressed, Snappy, gzip or Zstandard; optional
 * columns carry RLE/bit-packed definition levels, and their nulls are skipped. One column chunk is
 * in memory at a time. Nested and repeated columns are refused with a clear message.
 */
public final class ParquetText {
    private ParquetText() {}

    /** Receives each non-null value with its row number (1-based, over the whole file). */
    public interface Sink {
        void row(long row, String text) throws IOException;
    }

    /** Receives each non-null value's bytes as stored, with its row number and its row group (0-based, as pyarrow counts). */
    public interface RawSink {
        void row(long row, int rowGroup, byte[] value) throws IOException;
    }

    static final byte[] MAGIC = "PAR1".getBytes(StandardCharsets.US_ASCII);
    static final int BYTE_ARRAY = 6, OPTIONAL = 1, REPEATED = 2;

    /**
     * Reads every non-null value of the column; returns the number of null rows skipped. A value
     * that is not valid UTF-8 stops the read, naming the file, row group, row and byte, rather than
     * reaching the sink with U+FFFD in place of what was there.
     */
    public static long read(Path file, String column, Sink sink) throws IOException {
        return readRaw(file, column, (row, group, value) -> {
            String text;
            try {
                text = StrictUtf8.decode(value);
            } catch (StrictUtf8.Invalid e) {
                throw new IOException(file + ":" + row + ": " + invalid(column, group, e));
            }
            sink.row(row, text);
        });
    }

    /** What is wrong with a value that is not UTF-8, and where in the file it is (after file:row). */
    public static String invalid(String column, int group, StrictUtf8.Invalid e) {
        return "not valid UTF-8 at byte " + e.offset() + " of its '" + column + "' value (row group " + group + ")";
    }

    /** As {@link #read}, handing on each value's bytes undecoded, so the caller decides what invalid UTF-8 means. */
    public static long readRaw(Path file, String column, RawSink sink) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 12) throw new IOException(file + ": not a Parquet file (too short)");
            byte[] head = read(ch, 0, 4), tail = read(ch, size - 8, 8);
            if (!Arrays.equals(head, MAGIC) || !Arrays.equals(Arrays.copyOfRange(tail, 4, 8), MAGIC)) throw new IOException(file + ": not a Parquet file (no PAR1 magic)");
            int footerLen = ByteBuffer.wrap(tail, 0, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
            if (footerLen <= 0 || footerLen > size - 12) throw new IOException(file + ": corrupt Parquet footer length " + footerLen);
            Map<Integer, Object> meta = new ThriftCompact(read(ch, size - 8 - footerLen, footerLen), 0, file.toString()).struct();
            int maxDef = definitionLevel(file, ThriftCompact.list(meta, 2), column);
            long row = 0, nulls = 0;
            int groupIndex = 0;
            for (Object rg : ThriftCompact.list(meta, 4)) {
                @SuppressWarnings("unchecked") Map<Integer, Object> group = (Map<Integer, Object>) rg;
                Map<Integer, Object> chunk = null;
                for (Object c : ThriftCompact.list(group, 1)) {
                    @SuppressWarnings("unchecked") Map<Integer, Object> cm = ThriftCompact.sub((Map<Integer, Object>) c, 3);
                    List<Object> path = cm == null ? List.of() : ThriftCompact.list(cm, 3);
                    if (path.size() == 1 && column.equals(new String((byte[]) path.getFirst(), StandardCharsets.UTF_8))) chunk = cm;
                }
                if (chunk == null) throw new IOException(file + ": a row group has no column chunk for '" + column + "'");
                long[] counters = {row, nulls};
                readChunk(file, ch, chunk, maxDef, counters, groupIndex++, sink);
                row = counters[0];
                nulls = counters[1];
            }
            return nulls;
        }
    }

    /** The column's maximum definition level (0 required, 1 optional); refuses what this reader does not handle. */
    static int definitionLevel(Path file, List<Object> schema, String column) throws IOException {
        if (schema.isEmpty()) throw new IOException(file + ": Parquet schema is empty");
        List<String> columns = new ArrayList<>();
        int i = 1;
        while (i < schema.size()) {
            @SuppressWarnings("unchecked") Map<Integer, Object> el = (Map<Integer, Object>) schema.get(i);
            String name = ThriftCompact.str(el, 4);
            long children = ThriftCompact.i(el, 5, 0);
            if (children > 0) { // a group: skip it and everything under it
                if (column.equals(name)) throw new IOException(file + ": column '" + column + "' is a nested group; only flat string columns are read");
                i = skip(schema, i);
                continue;
            }
            columns.add(name);
            if (column.equals(name)) {
                long type = ThriftCompact.i(el, 1, -1), rep = ThriftCompact.i(el, 3, 0);
                if (type != BYTE_ARRAY) throw new IOException(file + ": column '" + column + "' is not a string column (physical type " + type + ")");
                if (rep == REPEATED) throw new IOException(file + ": column '" + column + "' is repeated; only flat string columns are read");
                return rep == OPTIONAL ? 1 : 0;
            }
            i++;
        }
        throw new IOException(file + ": no column '" + column + "' (top-level columns: " + String.join(", ", columns) + ")");
    }

    private static int skip(List<Object> schema, int i) {
        @SuppressWarnings("unchecked") Map<Integer, Object> el = (Map<Integer, Object>) schema.get(i);
        long children = ThriftCompact.i(el, 5, 0);
        i++;
        for (long c = 0; c < children; c++) i = skip(schema, i);
        return i;
    }

    private static byte[] read(FileChannel ch, long pos, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(len);
        while (buf.hasRemaining()) {
            if (ch.read(buf, pos + buf.position()) < 0) throw new IOException("unexpected end of file");
        }
        return buf.array();
    }

    private static void readChunk(Path file, FileChannel ch, Map<Integer, Object> cm, int maxDef, long[] counters, int group, RawSink sink)
            throws IOException {
        long codec = ThriftCompact.i(cm, 4, 0), numValues = ThriftCompact.i(cm, 5, 0), compressedSize = ThriftCompact.i(cm, 7, 0);
        long dataOffset = ThriftCompact.i(cm, 9, 0), dictOffset = ThriftCompact.i(cm, 11, 0);
        long start = dictOffset > 0 && dictOffset < dataOffset ? dictOffset : dataOffset;
        if (compressedSize <= 0 || compressedSize > Integer.MAX_VALUE - 16 || start + compressedSize > ch.size()) {
            throw new IOException(file + ": corrupt column chunk (offset " + start + ", " + compressedSize + " bytes)");
        }
        byte[] chunk = read(ch, start, (int) compressedSize);
        String where = file + " (column chunk at byte " + start + ")";
        byte[][] dictionary = null;
        long seen = 0;
        int pos = 0;
        while (seen < numValues && pos < chunk.length) {
            ThriftCompact tc = new ThriftCompact(chunk, pos, where);
            Map<Integer, Object> ph = tc.struct();
            int type = (int) ThriftCompact.i(ph, 1, -1), uncompressed = (int) ThriftCompact.i(ph, 2, 0), compressed = (int) ThriftCompact.i(ph, 3, 0);
            int body = tc.position();
            if (compressed < 0 || body + compressed > chunk.length) throw new IOException(where + ": page of " + compressed + " bytes runs past the chunk");
            pos = body + compressed;
            switch (type) {
                case 2 -> { // dictionary page: PLAIN values
                    Map<Integer, Object> dh = ThriftCompact.sub(ph, 7);
                    int n = (int) ThriftCompact.i(dh, 1, 0);
                    byte[] data = decompress(codec, chunk, body, compressed, uncompressed, where);
                    dictionary = new byte[n][];
                    int[] p = {0};
                    for (int k = 0; k < n; k++) dictionary[k] = plain(data, p, where);
                }
                case 0 -> { // data page v1: levels and values, all compressed together
                    Map<Integer, Object> dh = ThriftCompact.sub(ph, 5);
                    int n = (int) ThriftCompact.i(dh, 1, 0), encoding = (int) ThriftCompact.i(dh, 2, 0);
                    byte[] data = decompress(codec, chunk, body, compressed, uncompressed, where);
                    int[] p = {0};
                    int[] def = null;
                    if (maxDef > 0) {
                        int len = le32(data, p[0]);
                        p[0] += 4;
                        def = new Hybrid(data, p[0], p[0] + len, 1, where).read(n);
                        p[0] += len;
                    }
                    emit(data, p, data.length, n, def, encoding, dictionary, counters, group, sink, where);
                    seen += n;
                }
                case 3 -> { // data page v2: levels uncompressed first, then values (compressed unless is_compressed is false)
                    Map<Integer, Object> dh = ThriftCompact.sub(ph, 8);
                    int n = (int) ThriftCompact.i(dh, 1, 0), encoding = (int) ThriftCompact.i(dh, 4, 0);
                    int defLen = (int) ThriftCompact.i(dh, 5, 0), repLen = (int) ThriftCompact.i(dh, 6, 0);
                    boolean isCompressed = !Boolean.FALSE.equals(dh.get(7));
                    int[] def = maxDef > 0 ? new Hybrid(chunk, body + repLen, body + repLen + defLen, 1, where).read(n) : null;
                    int valuesAt = body + repLen + defLen, valuesLen = compressed - repLen - defLen;
                    byte[] values = isCompressed ? decompress(codec, chunk, valuesAt, valuesLen, uncompressed - repLen - defLen, where)
                            : Arrays.copyOfRange(chunk, valuesAt, valuesAt + valuesLen);
                    emit(values, new int[] {0}, values.length, n, def, encoding, dictionary, counters, group, sink, where);
                    seen += n;
                }
                default -> { } // index pages and unknown pages: skipped
            }
        }
    }

    private static void emit(byte[] data, int[] p, int end, int n, int[] def, int encoding, byte[][] dictionary, long[] counters, int group, RawSink sink,
            String where)
            throws IOException {
        int present = 0;
        if (def == null) present = n;
        else for (int d : def) if (d > 0) present++;
        int[] indices = null;
        if (encoding == 2 || encoding == 8) { // PLAIN_DICTIONARY, RLE_DICTIONARY
            if (dictionary == null) throw new IOException(where + ": dictionary-encoded page without a dictionary page");
            int width = data[p[0]++] & 0xFF;
            indices = new Hybrid(data, p[0], end, width, where).read(present);
        } else if (encoding != 0) {
            throw new IOException(where + ": unsupported value encoding " + encoding + " (PLAIN and dictionary encodings are read)");
        }
        int v = 0;
        for (int k = 0; k < n; k++) {
            counters[0]++;
            if (def != null && def[k] == 0) {
                counters[1]++;
                continue;
            }
            byte[] bytes;
            if (indices != null) {
                int ix = indices[v++];
                if (ix < 0 || ix >= dictionary.length) throw new IOException(where + ": dictionary index " + ix + " out of range");
                bytes = dictionary[ix];
            } else {
                bytes = plain(data, p, where);
            }
            sink.row(counters[0], group, bytes);
        }
    }

    private static byte[] plain(byte[] data, int[] p, String where) throws IOException {
        if (p[0] + 4 > data.length) throw new IOException(where + ": truncated PLAIN value");
        int len = le32(data, p[0]);
        p[0] += 4;
        if (len < 0 || p[0] + len > data.length) throw new IOException(where + ": PLAIN value of " + len + " bytes runs past the page");
        byte[] v = Arrays.copyOfRange(data, p[0], p[0] + len);
        p[0] += len;
        return v;
    }

    static int le32(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16 | (b[i + 3] & 0xFF) << 24;
    }

    static byte[] decompress(long codec, byte[] src, int off, int len, int uncompressed, String where) throws IOException {
        try {
            return switch ((int) codec) {
                case 0 -> Arrays.copyOfRange(src, off, off + len);
                case 1 -> {
                    byte[] out = new byte[uncompressed];
                    int n = new SnappyJavaDecompressor().decompress(src, off, len, out, 0, out.length);
                    yield n == out.length ? out : Arrays.copyOf(out, n);
                }
                case 2 -> new GZIPInputStream(new ByteArrayInputStream(src, off, len)).readAllBytes();
                case 6 -> {
                    byte[] out = new byte[uncompressed];
                    int n = new ZstdJavaDecompressor().decompress(src, off, len, out, 0, out.length);
                    yield n == out.length ? out : Arrays.copyOf(out, n);
                }
                default -> throw new IOException(where + ": unsupported compression codec " + codec + " (uncompressed, Snappy, gzip and Zstandard are read)");
            };
        } catch (RuntimeException e) {
            throw new IOException(where + ": cannot decompress a page (" + e.getMessage() + ")", e);
        }
    }

    /** Parquet's RLE / bit-packed hybrid encoding of small integers (levels, dictionary indices). */
    static final class Hybrid {
        private final byte[] b;
        private int pos;
        private final int end, width;
        private final String where;

        Hybrid(byte[] b, int pos, int end, int width, String where) {
            this.b = b;
            this.pos = pos;
            this.end = Math.min(end, b.length);
            this.width = width;
            this.where = where;
        }

        int[] read(int n) throws IOException {
            int[] out = new int[n];
            int k = 0;
            while (k < n) {
                if (pos >= end) throw new IOException(where + ": RLE/bit-packed run ends after " + k + " of " + n + " values");
                long header = 0;
                for (int shift = 0; ; shift += 7) {
                    int x = b[pos++] & 0xFF;
                    header |= (long) (x & 0x7F) << shift;
                    if ((x & 0x80) == 0) break;
                }
                if ((header & 1) == 0) { // RLE run: count, then the value in ceil(width / 8) bytes
                    int count = (int) (header >>> 1), value = 0;
                    if (pos + (width + 7) / 8 > end) throw new IOException(where + ": RLE run runs past the page");
                    for (int i = 0; i < (width + 7) / 8; i++) value |= (b[pos++] & 0xFF) << (8 * i);
                    for (int i = 0; i < count && k < n; i++) out[k++] = value;
                } else { // bit-packed: groups of 8 values, least significant bit first
                    int values = (int) (header >>> 1) * 8;
                    if ((long) pos + (header >>> 1) * width > end) throw new IOException(where + ": bit-packed run runs past the page");
                    long bitPos = (long) pos * 8;
                    for (int i = 0; i < values; i++) {
                        int v = 0;
                        for (int bit = 0; bit < width; bit++, bitPos++) {
                            if ((b[(int) (bitPos >>> 3)] >>> (bitPos & 7) & 1) != 0) v |= 1 << bit;
                        }
                        if (k < n) out[k++] = v;
                    }
                    pos += (int) (header >>> 1) * width;
                }
            }
            return out;
        }
    }
}
