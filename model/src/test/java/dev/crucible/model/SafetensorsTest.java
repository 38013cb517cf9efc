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
        assertTrue(error(write("{\"a\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1])).contains("unsupported dtype I8"));
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
