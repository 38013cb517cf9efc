package dev.crucible.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.crucible.data.ZipDocuments;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our byte-level BPE against jtokkit (an independent tiktoken port) on real text, and its exact round trips. */
class BpeTokenizerTest {
    static BpeTokenizer gpt2, cl100k;
    static final List<String> TEXTS = new ArrayList<>();

    static BpeTokenizer fromJtokkitRanks(String name, String pattern, Map<String, Integer> specials) throws IOException {
        try (InputStream in = Encoding.class.getResourceAsStream("/com/knuddels/jtokkit/" + name + ".tiktoken")) {
            return BpeTokenizer.fromTiktoken(in, pattern, specials);
        }
    }

    @BeforeAll
    static void load() throws IOException {
        gpt2 = fromJtokkitRanks("r50k_base", BpeTokenizer.GPT2_PATTERN, Map.of("<|endoftext|>", 50256));
        cl100k = fromJtokkitRanks("cl100k_base", BpeTokenizer.CL100K_PATTERN, Map.of("<|endoftext|>", 100257));
        TEXTS.add("Hello world! It's a test: don't we'll you've I'm they'd.   Spaces,\ttabs\n\nnewlines\r\n 12345 3.14159 1,000,000");
        TEXTS.add("Ünïcödé façade naïve — “quotes” … 日本語のテキスト 한국어 Ελληνικά русский 🚀🎉👩‍👩‍👧 e\u0301 \u00a0nbsp\u2003em");
        TEXTS.add("    indented code();\n\tif (x == y) { return z; }   \n\n\n   trailing   ");
        // Real text: the JDK's own sources (always present) and the shared data sets when given.
        Path zip = Path.of(System.getProperty("java.home"), "lib", "src.zip");
        if (Files.exists(zip)) {
            for (ZipDocuments.Document d : ZipDocuments.read(zip, n -> n.startsWith("java.base/java/util/") && n.endsWith(".java"), 400_000)) {
                TEXTS.add(new String(d.bytes(), StandardCharsets.UTF_8));
            }
        }
        String data = System.getProperty("crucible.data", "");
        if (!data.isEmpty()) {
            for (String f : new String[] {"tinyshakespeare/input.txt", "llm360_wikitext/wikitext.txt", "wikitext2_pytorch_examples/test.txt",
                    "lambada_openai/lambada_test.jsonl"}) {
                Path p = Path.of(data, f);
                if (Files.exists(p)) {
                    String s = Files.readString(p);
                    TEXTS.add(s.substring(0, Math.min(s.length(), 300_000)));
                }
            }
        }
    }

    @Test
    void gpt2EncodingEqualsJtokkitR50k() {
        Encoding ref = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
        long tokens = 0;
        for (String text : TEXTS) {
            int[] expected = ref.encodeOrdinary(text).toArray(), ours = gpt2.encode(text, false);
            assertArrayEquals(expected, ours, "r50k_base ids for a text starting " + text.substring(0, Math.min(40, text.length())));
            tokens += ours.length;
        }
        assertTrue(tokens > 50_000, "compared " + tokens + " tokens");
    }

    @Test
    void cl100kEncodingEqualsJtokkit() {
        Encoding ref = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
        for (String text : TEXTS) {
            assertArrayEquals(ref.encodeOrdinary(text).toArray(), cl100k.encode(text, false),
                    "cl100k_base ids for a text starting " + text.substring(0, Math.min(40, text.length())));
        }
    }

    @Test
    void specialTokensOnlyWhenAllowed() {
        String text = "one<|endoftext|>two";
        int[] allowed = gpt2.encode(text, true);
        assertEquals(50256, allowed[1]);
        assertEquals(3, allowed.length);
        int[] plain = gpt2.encode(text, false);
        assertTrue(plain.length > 3 && java.util.Arrays.stream(plain).noneMatch(i -> i == 50256), "as plain text the marker is ordinary tokens");
        assertEquals(text, gpt2.decode(allowed));
    }

    @Test
    void arbitraryBytesRoundTripExactly() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int trial = 0; trial < 300; trial++) {
            byte[] b = new byte[rng.nextInt(200)];
            for (int i = 0; i < b.length; i++) b[i] = (byte) (trial % 3 == 0 ? rng.nextInt(256) : rng.nextInt(0x20, 0x7F));
            assertArrayEquals(b, gpt2.decodeBytes(gpt2.encodeBytes(b)), "trial " + trial);
        }
        byte[] invalid = {(byte) 0xC3, 'a', (byte) 0xED, (byte) 0xA0, (byte) 0x80, (byte) 0xF0, (byte) 0x9F, (byte) 0x9A, (byte) 0x80, (byte) 0xFF, (byte) 0xC0, (byte) 0xAF};
        assertArrayEquals(invalid, gpt2.decodeBytes(gpt2.encodeBytes(invalid)), "lone lead byte, surrogate, emoji, 0xFF, overlong");
        for (String text : TEXTS) assertEquals(text, gpt2.decode(gpt2.encode(text, false)));
    }

    @Test
    void tokenizerJsonRoundTrip(@TempDir Path dir) throws IOException {
        // cl100k_base leaves id 100256 unused, which tokenizer.json cannot say: tokenizers numbers added tokens from the vocabulary's size
        String msg = assertThrows(IOException.class, () -> TokenizerJson.write(cl100k, dir.resolve("holed.json"))).getMessage();
        assertTrue(msg.contains("'<|endoftext|>' as id 100256, not 100257"), msg);
        BpeTokenizer dense = fromJtokkitRanks("cl100k_base", BpeTokenizer.CL100K_PATTERN, Map.of("<|endoftext|>", 100256));
        for (BpeTokenizer t : new BpeTokenizer[] {gpt2, dense}) {
            Path f = dir.resolve("tokenizer-" + t.vocabSize() + ".json");
            TokenizerJson.write(t, f);
            BpeTokenizer back = TokenizerJson.read(f);
            assertEquals(t.vocabSize(), back.vocabSize());
            assertEquals(t.specials(), back.specials());
            for (String text : TEXTS.subList(0, 4)) assertArrayEquals(t.encode(text, true), back.encode(text, true));
        }
        String json = Files.readString(dir.resolve("tokenizer-50257.json"));
        assertTrue(json.contains("\"ignore_merges\":true"), "tiktoken takes a piece that is a token whole, and the file says so");
        assertTrue(json.contains("\"ByteLevel\"") && json.contains("\"Ġt\":") || json.contains("\"Ġt\""), "GPT-2's byte-level spelling of ' t'");
    }

    private static String refused(Path dir, String json) throws IOException {
        Path f = Files.createTempFile(dir, "tok", ".json");
        Files.writeString(f, json);
        IOException e = assertThrows(IOException.class, () -> TokenizerJson.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        return e.getMessage();
    }

    @Test
    void unsupportedTokenizersAreRefusedByName(@TempDir Path dir) throws IOException {
        assertTrue(refused(dir, "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}").contains("model type 'Unigram' is not supported"));
        assertTrue(refused(dir, "{\"normalizer\": {\"type\": \"Lowercase\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {}}}").contains("normalizer 'Lowercase' is not supported"));
        assertTrue(refused(dir, "{\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFC\"}, {\"type\": \"Strip\"}]}, "
                + "\"model\": {\"type\": \"BPE\", \"vocab\": {}}}").contains("normalizer.normalizers[1] 'Strip' is not supported"));
        assertTrue(refused(dir, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}, \"pre_tokenizer\": {\"type\": \"Whitespace\"}}").contains("pre_tokenizer 'Whitespace'"));
        assertTrue(refused(dir, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false}}")
                .contains("lacks the single byte"));
        assertTrue(refused(dir, "{oops").contains("not valid JSON"));
    }
}
