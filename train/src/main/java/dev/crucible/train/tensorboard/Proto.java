package dev.crucible.train.tensorboard;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The few protocol-buffer encodings TensorBoard's Event messages need (varints, 64- and 32-bit
 * fixed, length-delimited fields, packed doubles), written by hand: the format is small and stable,
 * and protobuf-java would be a dependency for four messages.
 */
final class Proto {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    byte[] bytes() {
        return out.toByteArray();
    }

    private void varint(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private void key(int field, int wireType) {
        varint((long) field << 3 | wireType);
    }

    Proto int64(int field, long v) {
        key(field, 0);
        varint(v);
        return this;
    }

    Proto float64(int field, double v) {
        key(field, 1);
        long b = Double.doubleToRawLongBits(v);
        for (int i = 0; i < 8; i++) out.write((int) (b >>> (8 * i)));
        return this;
    }

    Proto float32(int field, float v) {
        key(field, 5);
        int b = Float.floatToRawIntBits(v);
        for (int i = 0; i < 4; i++) out.write(b >>> (8 * i));
        return this;
    }

    Proto bytes(int field, byte[] v) {
        key(field, 2);
        varint(v.length);
        out.write(v, 0, v.length);
        return this;
    }

    Proto string(int field, String v) {
        return bytes(field, v.getBytes(StandardCharsets.UTF_8));
    }

    Proto message(int field, Proto m) {
        return bytes(field, m.bytes());
    }

    /** A repeated double field, packed (proto3's default for repeated scalars). */
    Proto packedDoubles(int field, double[] v) {
        Proto p = new Proto();
        for (double d : v) {
            long b = Double.doubleToRawLongBits(d);
            for (int i = 0; i < 8; i++) p.out.write((int) (b >>> (8 * i)));
        }
        return bytes(field, p.bytes());
    }
}
