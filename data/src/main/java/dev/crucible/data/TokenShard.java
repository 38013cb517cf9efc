package dev.crucible.data;

import dev.crucible.io.AtomicWrite;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A token shard in llm.c's layout, read through a memory map: a header of 256 little-endian int32
 * (magic, version, token count, zeros) followed by the tokens, uint16 (magic 20240520, version 1)
 * or uint32 for vocabularies above 65535 (magic 20240801, version 7, as llm.c's Llama-3 data).
 */
public final class TokenShard implements AutoCloseable {
    public static final int HEADER_INTS = 256, HEADER_BYTES = HEADER_INTS * 4;
    public static final int MAGIC_U16 = 20240520, VERSION_U16 = 1, MAGIC_U32 = 20240801, VERSION_U32 = 7;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final long count;
    private final boolean wide;

    private TokenShard(Path path, Arena arena, MemorySegment data, long count, boolean wide) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.count = count;
        this.wide = wide;
    }

    /** Opens and validates a shard; every defect is reported with the file name. */
    public static TokenShard open(Path path) throws IOException {
        long size;
        try {
            size = Files.size(path);
        } catch (IOException e) {
            throw new IOException(path + ": cannot read token shard (" + e.getMessage() + ")", e);
        }
        if (size < HEADER_BYTES) {
            throw new IOException(path + ": not a token shard: " + size + " bytes, shorter than the " + HEADER_BYTES + "-byte header");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            int magic = seg.get(U32, 0), version = seg.get(U32, 4), n = seg.get(U32, 8);
            boolean wide;
            if (magic == MAGIC_U16 && version == VERSION_U16) wide = false;
            else if (magic == MAGIC_U32 && version == VERSION_U32) wide = true;
            else {
                throw new IOException(path + ": not a token shard: header magic " + magic + " version " + version + " (expected "
                        + MAGIC_U16 + "/" + VERSION_U16 + " for uint16 or " + MAGIC_U32 + "/" + VERSION_U32 + " for uint32 tokens)");
            }
            if (n < 0) throw new IOException(path + ": corrupt header: negative token count " + n);
            long expected = HEADER_BYTES + (long) n * (wide ? 4 : 2);
            if (size != expected) {
                throw new IOException(path + ": header declares " + n + " tokens (" + expected + " bytes) but the file has " + size
                        + " bytes" + (size < expected ? " (truncated?)" : ""));
            }
            return new TokenShard(path, arena, seg.asSlice(HEADER_BYTES), n, wide);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public long size() {
        return count;
    }

    public int get(long i) {
        return wide ? data.getAtIndex(U32, i) : Short.toUnsignedInt(data.getAtIndex(U16, i));
    }

    /** Copies n tokens starting at start into dst[off..]. */
    public void read(long start, int[] dst, int off, int n) {
        if (start < 0 || start + n > count) {
            throw new IndexOutOfBoundsException(path + ": tokens [" + start + ", " + (start + n) + ") outside [0, " + count + ")");
        }
        if (wide) {
            MemorySegment.copy(data, U32, start * 4, dst, off, n);
        } else {
            for (int i = 0; i < n; i++) dst[off + i] = Short.toUnsignedInt(data.getAtIndex(U16, start + i));
        }
    }

    @Override
    public void close() {
        arena.close();
    }

    /**
     * Writes tokens as a shard, uint16 when every id fits (vocabSize ≤ 65536), else uint32; through a
     * temporary file renamed into place, so a reader never sees a half-written shard.
     */
    public static void write(Path path, int[] tokens, int n, int vocabSize) throws IOException {
        boolean wide = vocabSize > 65536;
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(wide ? MAGIC_U32 : MAGIC_U16).putInt(wide ? VERSION_U32 : VERSION_U16).putInt(n).position(HEADER_BYTES).flip();
        if (path.getParent() != null) Files.createDirectories(path.getParent());
        AtomicWrite.write(path, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                while (header.hasRemaining()) ch.write(header);
                ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    int t = tokens[i];
                    if (t < 0 || t >= vocabSize) throw new IllegalArgumentException("token " + t + " at index " + i + " outside vocabulary of " + vocabSize);
                    if (buf.remaining() < 4) {
                        buf.flip();
                        while (buf.hasRemaining()) ch.write(buf);
                        buf.clear();
                    }
                    if (wide) buf.putInt(t);
                    else buf.putShort((short) t);
                }
                buf.flip();
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
        });
    }
}
