package dev.crucible.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.crucible.io.AtomicWrite;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header mapping tensor
 * names to dtype, shape and byte offsets (plus optional "__metadata__"), then the raw tensor bytes.
 * Reading treats the file as untrusted: header size, JSON, dtypes, shapes and offsets are all checked
 * (offsets must tile the data section exactly, as the format requires), and errors name the file.
 */
public final class Safetensors {
    private Safetensors() {}

    /** Headers above this are refused before anything is allocated for them. */
    public static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Every dtype of the format (safetensors' tensor.rs), so that a file is validated whole even when
     * it carries tensors that are never read as floats (GPT-2's BOOL or U8 attn.bias buffers); only
     * F32, F16 and BF16 convert to float32 exactly, and {@link Reader#floats} refuses the rest.
     */
    public enum DType {
        BOOL(8), F4(4), F6_E2M3(6), F6_E3M2(6), U8(8), I8(8), F8_E5M2(8), F8_E4M3(8), F8_E8M0(8), F8_E4M3FNUZ(8), F8_E5M2FNUZ(8),
        I16(16), U16(16), F16(16), BF16(16), I32(32), U32(32), F32(32), C64(64), F64(64), I64(64), U64(64);

        public final int bits;

        DType(int bits) {
            this.bits = bits;
        }

        public boolean readsAsFloat() {
            return this == F32 || this == F16 || this == BF16;
        }

        /** Bytes per element (types narrower than a byte: 1, though they pack several to a byte). */
        public int bytes() {
            return Math.max(1, bits / 8);
        }
    }

    /**
     * count elements of a F32, F16 or BF16 tensor, little-endian, from s at element index from, converted to float32 into
     * out from at (the conversions are exact).
     */
    static void toFloats(DType dtype, MemorySegment s, long from, float[] out, int at, int count) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(s, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4 * from, out, at, count);
            case F16 -> {
                for (int i = 0; i < count; i++) out[at + i] = Float.float16ToFloat(s.get(LE_SHORT, 2 * (from + i)));
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) out[at + i] = Float.intBitsToFloat((s.get(LE_SHORT, 2 * (from + i)) & 0xFFFF) << 16);
            }
            default -> throw new IllegalArgumentException(dtype + " is not read as float32");
        }
    }

    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One tensor of a file: offsets are relative to the start of the data section. */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {
        /** The element count; parseEntry has checked that it does not overflow. */
        public long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    /** A tensor to write: its data is produced only when it is written, one tensor at a time. */
    public record Source(String name, int[] shape, Supplier<float[]> data) {}

    /** Writes F32 tensors (in the given order) through a temporary file, fsync and atomic rename. */
    public static void write(Path path, List<Source> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Source t : tensors) {
            long n = 1;
            for (int d : t.shape()) n *= d;
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", "F32");
            var shape = e.putArray("shape");
            for (int d : t.shape()) shape.add(d);
            e.putArray("data_offsets").add(offset).add(offset + 4 * n);
            offset += 4 * n;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8; // the data section starts 8-byte aligned; pad with spaces
        if (path.getParent() != null) Files.createDirectories(path.getParent());
        AtomicWrite.write(path, tmp -> writeData(tmp, head(json, padded), tensors));
    }

    private static ByteBuffer head(byte[] json, int padded) {
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        return head.flip();
    }

    private static void writeData(Path tmp, ByteBuffer head, List<Source> tensors) throws IOException {
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, head);
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (Source t : tensors) {
                float[] data = t.data().get();
                long n = 1;
                for (int d : t.shape()) n *= d;
                if (data.length != n) throw new IllegalStateException("tensor " + t.name() + " has " + data.length + " values, shape says " + n);
                for (float v : data) {
                    if (!buf.hasRemaining()) {
                        buf.flip();
                        writeFully(ch, buf);
                        buf.clear();
                    }
                    buf.putFloat(v);
                }
            }
            buf.flip();
            writeFully(ch, buf);
            ch.force(true);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** Where named tensors come from: one safetensors file, or the shards of a checkpoint. */
    public interface TensorSource {
        Map<String, Entry> entries();

        float[] floats(String name) throws IOException;

        /** The file or directory, for messages. */
        String where();
    }

    /** A file of named tensors, open until closed (read only: closing loses nothing, so it throws nothing). */
    public interface TensorFile extends TensorSource, AutoCloseable {
        @Override
        void close();
    }

    /** An open, validated safetensors file. */
    public static final class Reader implements TensorFile {
        private final Path path;
        private final Arena arena;
        private final MemorySegment data;
        private final Map<String, Entry> entries;
        private final Map<String, String> metadata;

        private Reader(Path path, Arena arena, MemorySegment data, Map<String, Entry> entries, Map<String, String> metadata) {
            this.path = path;
            this.arena = arena;
            this.data = data;
            this.entries = entries;
            this.metadata = metadata;
        }

        public Path path() {
            return path;
        }

        @Override
        public Map<String, Entry> entries() {
            return entries;
        }

        @Override
        public String where() {
            return path.toString();
        }

        public Map<String, String> metadata() {
            return metadata;
        }

        public Entry entry(String name) throws IOException {
            Entry e = entries.get(name);
            if (e == null) throw new IOException(path + ": tensor '" + name + "' is missing");
            return e;
        }

        /** The tensor converted to float32. */
        @Override
        public float[] floats(String name) throws IOException {
            Entry e = entry(name);
            if (!e.dtype().readsAsFloat()) {
                throw new IOException(path + ": tensor '" + name + "' is " + e.dtype() + "; only F32, F16 and BF16 tensors are read as float32");
            }
            long n = e.elements();
            if (n > Integer.MAX_VALUE - 16) throw new IOException(path + ": tensor '" + name + "' has " + n + " elements, too many for one array");
            float[] out = new float[(int) n];
            toFloats(e.dtype(), data.asSlice(e.begin(), e.end() - e.begin()), 0, out, 0, out.length);
            return out;
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    public static Reader open(Path path) throws IOException {
        long size;
        try {
            size = Files.size(path);
        } catch (IOException e) {
            throw new IOException(path + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (size < 8) throw new IOException(path + ": not a safetensors file: " + size + " bytes, no room for the header length");
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLen = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
                throw new IOException(path + ": corrupt safetensors header length " + headerLen + " (file has " + size
                        + " bytes; at most " + MAX_HEADER_BYTES + " accepted)");
            }
            byte[] json = file.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            JsonNode root;
            try {
                root = JSON.readTree(utf8(path, json));
            } catch (JsonProcessingException e) {
                throw new IOException(path + ": safetensors header is not valid JSON: " + e.getOriginalMessage(), e);
            }
            if (root == null || !root.isObject()) throw new IOException(path + ": safetensors header is not a JSON object");
            long dataSize = size - 8 - headerLen;
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) {
                    if (!f.getValue().isObject()) throw new IOException(path + ": __metadata__ is not an object");
                    f.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                entries.put(f.getKey(), parseEntry(path, f.getKey(), f.getValue()));
            }
            List<Entry> sorted = new ArrayList<>(entries.values());
            // by (begin, end) as the reference does: a zero-size tensor at the offset where a non-empty one starts goes first
            sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
            long expect = 0;
            for (Entry e : sorted) {
                if (e.begin() != expect) {
                    throw new IOException(path + ": tensor '" + e.name() + "' starts at byte " + e.begin() + " of the data section, expected "
                            + expect + " (offsets must be contiguous, without holes or overlaps)");
                }
                expect = e.end();
            }
            if (expect != dataSize) {
                throw new IOException(path + ": tensors cover " + expect + " bytes but the data section has " + dataSize
                        + (dataSize < expect ? " (truncated file?)" : " (trailing bytes)"));
            }
            return new Reader(path, arena, file.asSlice(8 + headerLen), Collections.unmodifiableMap(entries), metadata);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The header as text; invalid UTF-8 is refused (as the reference does) rather than read with replacement characters. */
    private static String utf8(Path path, byte[] json) throws IOException {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(json);
        CharBuffer out = CharBuffer.allocate(json.length);
        CoderResult r = dec.decode(in, out, true);
        if (r.isError()) {
            throw new IOException(path + ": safetensors header is not valid UTF-8 at byte " + (8 + in.position()) + " of the file");
        }
        dec.flush(out);
        return out.flip().toString();
    }

    /** A non-negative integer (JSON's 2.0 or 2.5 is not one: the reference reads these as usize). */
    private static long count(JsonNode v) {
        return v != null && v.isIntegralNumber() && v.canConvertToLong() && v.asLong() >= 0 ? v.asLong() : -1;
    }

    private static Entry parseEntry(Path path, String name, JsonNode n) throws IOException {
        String where = path + ": tensor '" + name + "'";
        if (!n.isObject()) throw new IOException(where + ": entry is not an object");
        JsonNode dt = n.get("dtype"), sh = n.get("shape"), off = n.get("data_offsets");
        if (dt == null || !dt.isTextual()) throw new IOException(where + ": missing dtype");
        DType dtype;
        try {
            dtype = DType.valueOf(dt.asText());
        } catch (IllegalArgumentException e) {
            throw new IOException(where + ": unknown dtype '" + dt.asText() + "' (the safetensors format has " + java.util.Arrays.toString(DType.values()) + ")");
        }
        if (sh == null || !sh.isArray()) throw new IOException(where + ": missing shape");
        long[] shape = new long[sh.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = count(sh.get(i));
            if (shape[i] < 0) throw new IOException(where + ": bad shape " + sh + ": " + sh.get(i) + " at index " + i + " is not a non-negative integer");
            try {
                elements = Math.multiplyExact(elements, shape[i]);
            } catch (ArithmeticException e) {
                throw new IOException(where + ": shape " + sh + " has more elements than a 64-bit count holds");
            }
        }
        if (off == null || !off.isArray() || off.size() != 2) throw new IOException(where + ": data_offsets must be [begin, end]");
        long begin = count(off.get(0)), end = count(off.get(1));
        if (begin < 0 || end < 0) throw new IOException(where + ": data_offsets " + off + " are not non-negative integers");
        if (end < begin) throw new IOException(where + ": data_offsets [" + begin + ", " + end + "] end before they begin");
        long bits;
        try {
            bits = Math.multiplyExact(elements, (long) dtype.bits);
        } catch (ArithmeticException e) {
            throw new IOException(where + ": shape " + sh + " of " + dtype + " has more bits than a 64-bit count holds");
        }
        if (bits % 8 != 0) throw new IOException(where + ": shape " + sh + " of " + dtype + " is " + bits + " bits, not a whole number of bytes");
        if (end - begin != bits / 8) {
            throw new IOException(where + ": " + (end - begin) + " bytes for shape " + sh + " of " + dtype + " (expected " + bits / 8 + ")");
        }
        return new Entry(name, dtype, shape, begin, end);
    }
}
