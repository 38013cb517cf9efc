package dev.crucible.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * UTF-8 decoding that refuses invalid bytes instead of replacing them with U+FFFD, so a corpus in
 * another encoding is reported (file and byte offset) rather than silently turned into garbage
 * that every later statistic counts as text.
 */
public final class StrictUtf8 {
    private StrictUtf8() {}

    /** Thrown with the offset of the first byte that is not part of a valid UTF-8 sequence. */
    public static final class Invalid extends Exception {
        final long offset;

        Invalid(long offset) {
            super("not valid UTF-8 at byte " + offset, null, false, false);
            this.offset = offset;
        }

        public long offset() {
            return offset;
        }
    }

    static String decode(byte[] bytes, int length) throws Invalid {
        boolean ascii = true;
        for (int i = 0; i < length && ascii; i++) ascii = bytes[i] >= 0;
        if (ascii) return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, 0, length);
        CharBuffer out = CharBuffer.allocate(length);
        CoderResult r = decoder.decode(in, out, true);
        if (r.isError()) throw new Invalid(in.position());
        r = decoder.flush(out);
        if (r.isError()) throw new Invalid(in.position());
        return out.flip().toString();
    }

    public static String decode(byte[] bytes) throws Invalid {
        return decode(bytes, bytes.length);
    }

    /** Reads '\n'-terminated lines as raw bytes (a trailing '\r' is kept; JSON treats it as whitespace). */
    static final class LineReader {
        private final InputStream in;
        private final byte[] buffer = new byte[1 << 16];
        private int pos, limit;
        private byte[] line = new byte[256];
        private int length;
        private long lineStart, consumed;

        LineReader(InputStream in) {
            this.in = in;
        }

        /** Advances to the next line; false at the end of the stream. */
        boolean next() throws IOException {
            length = 0;
            lineStart = consumed;
            boolean any = false;
            while (true) {
                if (pos == limit) {
                    limit = in.read(buffer);
                    pos = 0;
                    if (limit <= 0) {
                        limit = 0;
                        return any;
                    }
                }
                any = true;
                int start = pos;
                while (pos < limit && buffer[pos] != '\n') pos++;
                append(start, pos - start);
                consumed += pos - start;
                if (pos < limit) {
                    pos++;
                    consumed++;
                    return true;
                }
            }
        }

        private void append(int from, int n) {
            if (length + n > line.length) line = Arrays.copyOf(line, Math.max(line.length * 2, length + n));
            System.arraycopy(buffer, from, line, length, n);
            length += n;
        }

        byte[] bytes() {
            return line;
        }

        int length() {
            return length;
        }

        /** The offset of this line's first byte in the stream. */
        long start() {
            return lineStart;
        }
    }
}
