package dev.crucible.data.parquet;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A reader of Thrift's compact protocol, enough for Parquet's footer and page headers: a struct is
 * read into a map from field id to value (Long for integers, Boolean, byte[] for binary, List, and
 * nested Map for structs), and the Parquet classes pick the fields they need by id.
 */
final class ThriftCompact {
    private final byte[] b;
    private int pos;
    private final String where;

    ThriftCompact(byte[] b, int pos, String where) {
        this.b = b;
        this.pos = pos;
        this.where = where;
    }

    int position() {
        return pos;
    }

    private IOException corrupt(String what) {
        return new IOException(where + ": corrupt Parquet metadata at byte " + pos + " (" + what + ")");
    }

    private int readByte() throws IOException {
        if (pos >= b.length) throw corrupt("unexpected end");
        return b[pos++] & 0xFF;
    }

    long varint() throws IOException {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int x = readByte();
            v |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) return v;
        }
        throw corrupt("varint too long");
    }

    long zigzag() throws IOException {
        long v = varint();
        return (v >>> 1) ^ -(v & 1);
    }

    /** Reads a struct (after its opening): field id -> value. */
    Map<Integer, Object> struct() throws IOException {
        Map<Integer, Object> out = new HashMap<>();
        int lastId = 0;
        while (true) {
            int h = readByte();
            if (h == 0) return out;
            int type = h & 0x0F, delta = h >>> 4;
            int id = delta != 0 ? lastId + delta : (int) zigzag();
            lastId = id;
            out.put(id, value(type));
        }
    }

    private Object value(int type) throws IOException {
        return switch (type) {
            case 1 -> Boolean.TRUE;
            case 2 -> Boolean.FALSE;
            case 3 -> (long) (byte) readByte();
            case 4, 5, 6 -> zigzag();
            case 7 -> {
                long bits = 0;
                for (int i = 0; i < 8; i++) bits |= (long) readByte() << (8 * i);
                yield Double.longBitsToDouble(bits);
            }
            case 8 -> {
                int len = (int) varint();
                if (len < 0 || pos + len > b.length) throw corrupt("binary length " + len);
                byte[] v = java.util.Arrays.copyOfRange(b, pos, pos + len);
                pos += len;
                yield v;
            }
            case 9, 10 -> {
                int h = readByte();
                int size = h >>> 4, elem = h & 0x0F;
                if (size == 15) size = (int) varint();
                List<Object> l = new ArrayList<>(Math.min(size, 1 << 16));
                for (int i = 0; i < size; i++) l.add(elem == 1 || elem == 2 ? readByte() == 1 : value(elem));
                yield l;
            }
            case 11 -> {
                int size = (int) varint();
                Map<Object, Object> m = new HashMap<>();
                if (size > 0) {
                    int kv = readByte();
                    for (int i = 0; i < size; i++) m.put(value(kv >>> 4), value(kv & 0x0F));
                }
                yield m;
            }
            case 12 -> struct();
            default -> throw corrupt("unknown field type " + type);
        };
    }

    static long i(Map<Integer, Object> s, int id, long dflt) {
        Object v = s.get(id);
        return v instanceof Long l ? l : dflt;
    }

    static String str(Map<Integer, Object> s, int id) {
        Object v = s.get(id);
        return v instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : null;
    }

    @SuppressWarnings("unchecked")
    static Map<Integer, Object> sub(Map<Integer, Object> s, int id) {
        Object v = s.get(id);
        return v instanceof Map<?, ?> m ? (Map<Integer, Object>) m : null;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Map<Integer, Object> s, int id) {
        Object v = s.get(id);
        return v instanceof List<?> l ? (List<Object>) l : List.of();
    }
}
