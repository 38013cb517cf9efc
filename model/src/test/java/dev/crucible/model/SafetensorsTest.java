package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void roundTripWithMetadataAndHalfPrecisionReading() throws IOException {
        float[] a = {1, -2.5f, 3e-5f, 7}, b = {0.5f};
        Path f = dir.resolve("t.safetensors");
        Safetensors.write(f, List.of(new Safetensors.Source("a", new int[] {2, 2}, () -> a), new Safetensors.Source("b", new int[] {1}, () -> b)),
                Map.of("format", "pt"));
        long headerLen = ByteBuffer.wrap(Files.readAllBytes(f), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + headerLen) % 8, "data section is 8-byte aligned");
        try (Safetensors.Reader r = Safetensors.open(f)) {
            assertArrayEquals(a, r.floats("a"));
            assertArrayEquals(b, r.floats("b"));
            assertEquals("pt", r.metadata().get("format"));
            assertArrayEquals(new long[] {2, 2}, r.entry("a").shape());
        }
        // F16 and BF16 files as transformers writes them
        Path h = write("{\"x\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},\"y\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[4,6]}}",
                new byte[] {0x00, 0x3C, 0x00, (byte) 0xC0, (byte) 0x80, 0x3F});
        try (Safetensors.Reader r = Safetensors.open(h)) {
            assertArrayEquals(new float[] {1f, -2f}, r.floats("x"));
            assertArrayEquals(new float[] {1f}, r.floats("y"));
        }
    }

    private Path write(String header, byte[] data) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(json.length).put(json).put(data);
        Path f = Files.createTempFile(dir, "bad", ".safetensors");
        Files.write(f, buf.array());
        return f;
    }

    private String error(Path f) {
        IOException e = assertThrows(IOException.class, () -> Safetensors.open(f).close());
        assertTrue(e.getMessage().startsWith(f.toString()), "message names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void corruptFilesGiveClearErrors() throws IOException {
        Path huge = dir.resolve("huge.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE - 3);
        Files.write(huge, b.array());
        assertTrue(error(huge).contains("corrupt safetensors header length"));

        assertTrue(error(write("{not json", new byte[0])).contains("not valid JSON"));
        assertTrue(error(write("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1])).contains("unknown dtype 'Q4'"));
        assertTrue(error(write("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8])).contains("8 bytes for shape [3]"));
        assertTrue(error(write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[4])).contains("truncated"));
        assertTrue(error(write("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}",
                new byte[8])).contains("contiguous"));
        assertTrue(error(write("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4])).contains("bad shape"));

        Path good = dir.resolve("good.safetensors");
        Safetensors.write(good, List.of(new Safetensors.Source("a", new int[] {100}, () -> new float[100])), Map.of());
        byte[] bytes = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 1));
        assertTrue(error(cut).contains("truncated"));
    }

    /** GPT-2 files carry BOOL or U8 attn.bias buffers: every dtype of the format parses, and only reading one as floats is refused. */
    @Test
    void everyDtypeParsesAndOnlyFloatTypesReadAsFloats() throws IOException {
        Path f = write("{\"h.0.attn.bias\":{\"dtype\":\"BOOL\",\"shape\":[1,1,2,2],\"data_offsets\":[0,4]},"
                + "\"m\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6]},\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[6,14]},"
                + "\"e\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[14,16]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]}}",
                new byte[] {1, 0, 1, 1, 7, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0x38, 0x38, 0, 0, (byte) 0x80, 0x3F});
        try (Safetensors.Reader r = Safetensors.open(f)) {
            assertEquals("BOOL", r.entry("h.0.attn.bias").dtype().name());
            assertArrayEquals(new float[] {1f}, r.floats("w"));
            String msg = assertThrows(IOException.class, () -> r.floats("h.0.attn.bias")).getMessage();
            assertTrue(msg.startsWith(f.toString()) && msg.contains("'h.0.attn.bias' is BOOL"), msg);
            assertTrue(assertThrows(IOException.class, () -> r.floats("e")).getMessage().contains("'e' is F8_E4M3"));
        }
        // sizes are still checked for them, in bits: three F4 values are not a whole number of bytes
        assertTrue(error(write("{\"a\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[0,2]}}", new byte[2])).contains("2 bytes for shape [2] of I16 (expected 4)"));
        assertTrue(error(write("{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", new byte[2])).contains("not a whole number of bytes"));
    }

    /** Shapes and offsets are integers as the reference's usize reads them; 2.5 is not truncated to 2. */
    @Test
    void fractionalOrOverflowingShapesAndOffsetsAreRefusedByTensor() throws IOException {
        String frac = error(write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", new byte[8]));
        assertTrue(frac.contains("tensor 'a'") && frac.contains("2.5 at index 0"), frac);
        String off = error(write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.0]}}", new byte[8]));
        assertTrue(off.contains("tensor 'a'") && off.contains("data_offsets [0,8.0]"), off);
        String big = error(write("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,4]}}", new byte[4]));
        assertTrue(big.contains("tensor 'a'") && big.contains("64-bit"), big);
        String bits = error(write("{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,1073741824],\"data_offsets\":[0,4]}}", new byte[4]));
        assertTrue(bits.contains("tensor 'a'") && bits.contains("64-bit"), bits);
    }

    @Test
    void invalidUtf8HeaderIsRefusedWithItsOffset() throws IOException {
        byte[] json = "{\"aX\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".getBytes(StandardCharsets.US_ASCII);
        json[3] = (byte) 0xFF; // lenient decoding would read the name as "a\uFFFD"
        ByteBuffer buf = ByteBuffer.allocate(8 + json.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(json.length).put(json).put(new byte[4]);
        Path f = dir.resolve("utf8.safetensors");
        Files.write(f, buf.array());
        assertTrue(error(f).contains("not valid UTF-8 at byte 11"), error(f));
    }

    /** The reference orders tensors by (begin, end): an empty tensor may be listed after a non-empty one at its offset. */
    @Test
    void zeroSizeTensorAtTheOffsetOfAnotherIsAccepted() throws IOException {
        Path f = write("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                + "\"c\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]}}", new byte[] {0, 0, (byte) 0x80, 0x3F});
        try (Safetensors.Reader r = Safetensors.open(f)) {
            assertArrayEquals(new float[] {1f}, r.floats("a"));
            assertEquals(0, r.floats("b").length);
            assertEquals(0, r.floats("c").length);
        }
    }

    @Test
    void hfExportImportRoundTripsAndChecksShapes() throws IOException {
        for (ModelConfig cfg : new ModelConfig[] {ModelConfig.gpt2(30, 8, 2, 2, 8), ModelConfig.llama(30, 8, 2, 4, 2, 16)}) {
            ParamLayout layout = new ParamLayout(cfg);
            float[] p = new float[layout.size()];
            layout.initialize(p, 3);
            Path f = dir.resolve(cfg.style().id() + ".safetensors");
            Safetensors.write(f, HfFormat.sources(layout, p), Map.of("format", "pt"));
            float[] back = new float[layout.size()];
            try (Safetensors.Reader r = Safetensors.open(f)) {
                HfFormat.load(r, layout, back);
            }
            assertArrayEquals(p, back);
            ParamLayout other = new ParamLayout(cfg.withVocabSize(31));
            try (Safetensors.Reader r = Safetensors.open(f)) {
                String msg = assertThrows(IOException.class, () -> HfFormat.load(r, other, new float[other.size()])).getMessage();
                assertTrue(msg.contains("the model config needs [31, "), msg);
            }
        }
    }
}
