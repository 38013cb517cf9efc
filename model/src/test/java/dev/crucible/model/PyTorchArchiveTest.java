package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * torch.save's archives (pytorch_model.bin) against safetensors files of the same values and against values known by
 * construction (resources/pytorch, written by make_fixtures.py with torch 1.13, some pickles by hand): a GPT-2 in float32
 * with a tied head sharing its storage, a transposed view and two views of one storage; a Llama in bfloat16 and float16
 * sharded over two files; pickle protocols 2 and 4, zip64, 0-d, empty and expanded tensors; what torch 2.1+ writes for
 * float8; and the files that must be refused: a pickle that would run code, one that holds itself, sizes that overflow,
 * a pickle too large to read, the format before PyTorch 1.6.
 */
class PyTorchArchiveTest {
    @TempDir
    Path tmp;

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(PyTorchArchiveTest.class.getResource("/pytorch/" + name).toURI());
    }

    /** The model directory without its model.safetensors, so that only the pickles are there. */
    private Path picklesOnly(String model) throws IOException, URISyntaxException {
        Path out = Files.createDirectories(tmp.resolve(model));
        try (var files = Files.list(fixture(model))) {
            for (Path f : files.toList()) if (!f.getFileName().toString().equals("model.safetensors")) Files.copy(f, out.resolve(f.getFileName()));
        }
        return out;
    }

    private static float[] load(Path dir) throws IOException {
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            ParamLayout layout = new ParamLayout(ck.config());
            float[] flat = new float[layout.size()];
            ck.load(layout, flat);
            return flat;
        }
    }

    @Test
    void aModelReadsTheSameFromItsPicklesAsFromSafetensors() throws IOException, URISyntaxException {
        for (String model : new String[] {"gpt2", "llama"}) {
            float[] pickled = load(picklesOnly(model)), safe = load(fixture(model));
            assertArrayEquals(safe, pickled, model);
            assertTrue(java.util.stream.IntStream.range(0, safe.length).filter(i -> safe[i] != 0).count() > safe.length * 0.9, model + ": values were read");
        }
    }

    /** Every tensor of the archive against the safetensors file: views with offsets and strides, dtypes, the tied head. */
    @Test
    void tensorsWithOffsetsStridesAndSharedStorages() throws IOException, URISyntaxException {
        try (PyTorchArchive bin = PyTorchArchive.open(fixture("gpt2/pytorch_model.bin")); Safetensors.Reader safe = Safetensors.open(fixture("gpt2/model.safetensors"))) {
            assertEquals(safe.entries().size() + 1, bin.entries().size(), "lm_head.weight besides: " + bin.entries().keySet());
            for (var e : safe.entries().values()) {
                Safetensors.Entry b = bin.entries().get(e.name());
                assertEquals(e.dtype(), b.dtype(), e.name());
                assertArrayEquals(e.shape(), b.shape(), e.name());
                if (e.dtype().readsAsFloat()) assertArrayEquals(safe.floats(e.name()), bin.floats(e.name()), e.name());
            }
            assertArrayEquals(bin.floats("transformer.wte.weight"), bin.floats("lm_head.weight"), "the tied head is the embedding's storage");
            assertEquals(Safetensors.DType.BOOL, bin.entries().get("transformer.h.0.attn.bias").dtype());
            IOException bool = assertThrows(IOException.class, () -> bin.floats("transformer.h.0.attn.bias"));
            assertTrue(bool.getMessage().contains("is BOOL; only F32, F16 and BF16"), bool.getMessage());
        }
        try (PyTorchArchive shard = PyTorchArchive.open(fixture("llama/pytorch_model-00001-of-00002.bin"))) {
            assertEquals(Safetensors.DType.F16, shard.entries().get("model.layers.0.self_attn.o_proj.weight").dtype());
            assertEquals(Safetensors.DType.BF16, shard.entries().get("model.layers.0.self_attn.q_proj.weight").dtype());
            assertEquals(Safetensors.DType.F32, shard.entries().get("model.layers.0.self_attn.rotary_emb.inv_freq").dtype());
        }
    }

    /** A pickle that names anything but what a state dict needs is refused with the global named, before any of it is built. */
    @Test
    void aPickleThatWouldRunCodeIsRefused() throws URISyntaxException {
        Path evil = fixture("evil.bin");
        IOException e = assertThrows(IOException.class, () -> PyTorchArchive.open(evil));
        assertTrue(e.getMessage().startsWith(evil + ": evil/data.pkl, byte "), e.getMessage());
        assertTrue(e.getMessage().contains("names posix.system") && e.getMessage().contains("it is not run"), e.getMessage());
        IOException legacy = assertThrows(IOException.class, () -> PyTorchArchive.open(fixture("legacy.bin")));
        assertTrue(legacy.getMessage().contains("torch.save's format before PyTorch 1.6"), legacy.getMessage());
    }

    /** A damaged archive: a truncated pickle, a missing storage record. */
    @Test
    void damagedArchivesAreRefusedWithTheRecordAndByte() throws IOException, URISyntaxException {
        Path cut = rewrite("gpt2/pytorch_model.bin", "cut.bin", (name, data) -> name.endsWith("data.pkl") ? java.util.Arrays.copyOf(data, 700) : data);
        IOException e = assertThrows(IOException.class, () -> PyTorchArchive.open(cut));
        assertTrue(e.getMessage().startsWith(cut + ": pytorch_model/data.pkl, byte ") && e.getMessage().contains("ends inside an opcode"), e.getMessage());
        Path missing = rewrite("gpt2/pytorch_model.bin", "missing.bin", (name, data) -> name.endsWith("data/4") ? null : data);
        e = assertThrows(IOException.class, () -> PyTorchArchive.open(missing));
        assertTrue(e.getMessage().contains("tensor 'transformer.h.0.attn.c_attn.weight': storage record data/4 is missing"), e.getMessage());
        Path shortStorage = rewrite("gpt2/pytorch_model.bin", "short.bin", (name, data) -> name.endsWith("data/0") ? java.util.Arrays.copyOf(data, 100) : data);
        e = assertThrows(IOException.class, () -> PyTorchArchive.open(shortStorage));
        assertTrue(e.getMessage().contains("storage data/0 has 100 bytes, not the 640 the pickle gives it"), e.getMessage());
    }

    private Path rewrite(String from, String to, java.util.function.BiFunction<String, byte[], byte[]> edit) throws IOException, URISyntaxException {
        Path out = tmp.resolve(to);
        try (ZipFile in = new ZipFile(fixture(from).toFile()); ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(out))) {
            for (var it = in.entries(); it.hasMoreElements(); ) {
                ZipEntry e = it.nextElement();
                byte[] data = edit.apply(e.getName(), in.getInputStream(e).readAllBytes());
                if (data == null) continue;
                z.putNextEntry(new ZipEntry(e.getName()));
                z.write(data);
                z.closeEntry();
            }
        }
        return out;
    }

    private static float[] floats(PyTorchArchive a, String name) throws IOException {
        return a.floats(name);
    }

    /** Shapes torch.save writes, in pickle protocol 4 and in protocol 2 with zip64 records and a byteorder record: the values made. */
    @Test
    void shapesAndProtocols() throws IOException, URISyntaxException {
        for (String file : new String[] {"shapes.bin", "shapes-zip64.bin"}) {
            try (PyTorchArchive a = PyTorchArchive.open(fixture(file))) {
                assertArrayEquals(new float[] {3.5f}, floats(a, "scalar"), file);
                assertArrayEquals(new long[0], a.entries().get("scalar").shape(), file);
                assertEquals(0, floats(a, "empty").length, file);
                assertArrayEquals(new long[] {0, 4}, a.entries().get("empty").shape(), file);
                assertArrayEquals(new float[] {0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3}, floats(a, "expanded"), file);
                float[] big = floats(a, "big");
                assertEquals(70000, big.length, file);
                for (float v : big) assertEquals(2.5f, v, file);
                assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, floats(a, "half_t"), file);
                assertArrayEquals(new float[] {3, 4.5f, 6, 7.5f, 9}, floats(a, "bf16_slice"), file);
                for (int i = 0; i < 60; i++) assertArrayEquals(new float[] {i, i}, floats(a, String.format("t%02d", i)), file);
                assertEquals(Safetensors.DType.C64, a.entries().get("freqs_cis").dtype(), "a complex buffer is listed, not read as float32");
            }
        }
        IOException big = assertThrows(IOException.class, () -> PyTorchArchive.open(fixture("big-endian.bin")));
        assertTrue(big.getMessage().contains("byteorder 'big' is not supported"), big.getMessage());
        try (PyTorchArchive flat = PyTorchArchive.open(fixture("flat.bin"))) { // views of one flat storage, as DeepSpeed's zero_to_fp32 saves them
            assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, floats(flat, "a.weight"));
            assertArrayEquals(new float[] {6, 7, 8, 9}, floats(flat, "a.bias"));
            assertEquals(24, flat.entries().get("a.bias").begin(), "the view's bytes in its storage");
        }
    }

    /** What torch 2.1+ writes for a float8 tensor, and a tensor rebuilt through _rebuild_from_type_v2. */
    @Test
    void newerRebuildFunctions() throws IOException, URISyntaxException {
        try (PyTorchArchive v3 = PyTorchArchive.open(fixture("v3.bin"))) {
            assertEquals(Safetensors.DType.F8_E4M3, v3.entries().get("w").dtype());
            assertArrayEquals(new long[] {4}, v3.entries().get("w").shape());
            IOException e = assertThrows(IOException.class, () -> v3.floats("w"));
            assertTrue(e.getMessage().contains("is F8_E4M3; only F32, F16 and BF16"), e.getMessage());
        }
        try (PyTorchArchive t = PyTorchArchive.open(fixture("from-type.bin"))) {
            assertArrayEquals(new float[] {1, 2, 3, 4}, t.floats("w"));
        }
    }

    /** Pickles that would exhaust memory or stack, or read other bytes than they describe, are refused with where. */
    @Test
    void hostilePicklesAreRefused() throws IOException, URISyntaxException {
        IOException cycle = assertThrows(IOException.class, () -> PyTorchArchive.open(fixture("cycle.bin")));
        assertTrue(cycle.getMessage().contains("_rebuild_tensor_v2 without a storage"), cycle.getMessage());
        IOException overflow = assertThrows(IOException.class, () -> PyTorchArchive.open(fixture("overflow.bin")));
        assertTrue(overflow.getMessage().contains("a tensor whose size overflows"), overflow.getMessage());
        Path many = tmp.resolve("many.bin"); // a few MB of EMPTY_DICT opcodes: a million containers
        byte[] pkl = new byte[PyTorchArchive.MAX_OBJECTS + 8];
        java.util.Arrays.fill(pkl, (byte) '}');
        pkl[0] = (byte) 0x80;
        pkl[1] = 2;
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(many))) {
            z.putNextEntry(new ZipEntry("many/data.pkl"));
            z.write(pkl);
            z.closeEntry();
        }
        IOException objects = assertThrows(IOException.class, () -> PyTorchArchive.open(many));
        assertTrue(objects.getMessage().contains("builds more than " + PyTorchArchive.MAX_OBJECTS + " objects"), objects.getMessage());
        Path huge = tmp.resolve("huge.bin"); // deflated, it is small on disk
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(huge))) {
            z.putNextEntry(new ZipEntry("huge/data.pkl"));
            byte[] chunk = new byte[1 << 20];
            for (long n = 0; n <= PyTorchArchive.MAX_PICKLE_BYTES; n += chunk.length) z.write(chunk);
            z.closeEntry();
        }
        IOException size = assertThrows(IOException.class, () -> PyTorchArchive.open(huge));
        assertTrue(size.getMessage().contains("more than the " + PyTorchArchive.MAX_PICKLE_BYTES), size.getMessage());
        Path cut = tmp.resolve("cut-short.bin");
        byte[] whole = Files.readAllBytes(fixture("gpt2/pytorch_model.bin"));
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length / 2));
        IOException zip = assertThrows(IOException.class, () -> PyTorchArchive.open(cut));
        assertTrue(zip.getMessage().startsWith(cut + ": not a readable zip archive"), zip.getMessage());
    }
}
