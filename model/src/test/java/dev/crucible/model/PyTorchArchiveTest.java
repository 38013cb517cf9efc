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
 * torch.save's archives (pytorch_model.bin) against safetensors files of the same values (resources/pytorch, written
 * by make_fixtures.py with torch): a GPT-2 in float32 with a tied head sharing its storage, a transposed view and two
 * views of one storage; a Llama in bfloat16 and float16 sharded over two files; a pickle that would run code; the
 * format before PyTorch 1.6.
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
        assertTrue(e.getMessage().contains("calls posix.system") && e.getMessage().contains("it is not run"), e.getMessage());
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
        assertTrue(e.getMessage().contains("storage data/0 has 100 bytes, not the 640 its 160 elements need"), e.getMessage());
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
}
