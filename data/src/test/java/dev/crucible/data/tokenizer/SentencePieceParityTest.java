package dev.crucible.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SentencePiece-style BPE (characters as symbols, byte fallback, "▁" for spaces) against Hugging Face tokenizers'
 * own output (hf-sp/cases.json, written by make_cases.py with tokenizers installed), on a vocabulary trained there
 * on tiny Shakespeare and laid out as Llama 2's: the layouts transformers writes for Llama 2 (legacy: Prepend and
 * Replace normalizers; and Metaspace with prepend_scheme first), Gemma's (no space put before the text), and
 * Metaspace's other schemes with split, without byte fallback (unknown tokens, fused) and with byte tokens missing
 * (unknown tokens, not fused). Each case: the ids of a text with and without special tokens matched, with the
 * begin-of-sequence token the post_processor adds, and the text decode gives back; and decodes of byte tokens that
 * are not UTF-8 and of leading spaces.
 */
class SentencePieceParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path dir() throws URISyntaxException {
        return Path.of(SentencePieceParityTest.class.getResource("/tokenizer/hf-sp/cases.json").toURI()).getParent();
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    @Test
    void everyCaseAsTokenizersEncodesAndDecodesIt() throws IOException, URISyntaxException {
        JsonNode root = JSON.readTree(dir().resolve("cases.json").toFile());
        assertTrue(root.get("tokenizers").asText().startsWith("0."), root.get("tokenizers").asText());
        Map<String, BpeTokenizer> tokenizers = new HashMap<>();
        List<String> wrong = new ArrayList<>();
        int compared = 0;
        for (JsonNode c : root.get("cases")) {
            String name = c.get("tokenizer").asText(), text = c.get("text").asText();
            BpeTokenizer t = tokenizers.computeIfAbsent(name, SentencePieceParityTest::read);
            int[] ids = t.encode(text, true), asText = t.encode(text, false);
            String where = name + " '" + (text.length() > 60 ? text.substring(0, 60) + "...'" : text + "'");
            if (!Arrays.equals(ints(c.get("ids")), ids)) wrong.add(where + ": ids " + Arrays.toString(ids) + ", Hugging Face's " + c.get("ids"));
            if (!Arrays.equals(ints(c.get("ids_specials_as_text")), asText)) {
                wrong.add(where + " with special tokens as text: ids " + Arrays.toString(asText) + ", Hugging Face's " + c.get("ids_specials_as_text"));
            }
            int[] around = t.postProcessor().around(ids);
            if (!Arrays.equals(ints(c.get("with_special_tokens")), around)) wrong.add(where + " with the post_processor's tokens: " + Arrays.toString(around));
            String decoded = t.decode(ints(c.get("ids")));
            if (!c.get("decoded").asText().equals(decoded)) wrong.add(where + ": decodes to '" + decoded + "', Hugging Face's '" + c.get("decoded").asText() + "'");
            compared++;
        }
        for (JsonNode c : root.get("decodes")) {
            String name = c.get("tokenizer").asText(), decoded = tokenizers.get(name).decode(ints(c.get("ids")));
            if (!c.get("decoded").asText().equals(decoded)) wrong.add(name + " " + c.get("ids") + ": decodes to '" + decoded + "', Hugging Face's '" + c.get("decoded").asText() + "'");
            compared++;
        }
        assertEquals(5 * 19 + 5 * 8, compared);
        assertTrue(wrong.isEmpty(), wrong.size() + " cases differ:\n" + String.join("\n", wrong));
    }

    /**
     * LLM360's WikiText sample (1,000 lines, 457 KB; ../shared/data): every variant's ids for the whole file as one text
     * (one piece of 457 KB where nothing pre-tokenizes: the priority-queue merge) and line by line, against the SHA-256 of
     * tokenizers' ids.
     */
    @Test
    void realTextAsTokenizersEncodesIt() throws IOException, URISyntaxException {
        String data = System.getProperty("crucible.data", "");
        Path file = Path.of(data, "llm360_wikitext", "wikitext.txt");
        org.junit.jupiter.api.Assumptions.assumeTrue(!data.isEmpty() && java.nio.file.Files.isRegularFile(file), "needs ../shared/data (-Dcrucible.data=...)");
        String text = java.nio.file.Files.readString(file);
        JsonNode expected = JSON.readTree(dir().resolve("cases.json").toFile()).get("wikitext");
        assertEquals(5, expected.size());
        for (JsonNode e : expected) {
            BpeTokenizer t = read(e.get("tokenizer").asText());
            int[] whole = t.encode(text, true);
            assertEquals(e.get("tokens").asInt(), whole.length, e.get("tokenizer").asText());
            assertEquals(e.get("sha256").asText(), digest(List.of(whole)), e.get("tokenizer").asText());
            List<int[]> lines = new ArrayList<>();
            for (String line : text.split("\n", -1)) lines.add(t.encode(line, true));
            assertEquals(e.get("lines").asInt(), lines.size());
            assertEquals(e.get("lines_sha256").asText(), digest(lines), e.get("tokenizer").asText() + ", line by line");
        }
    }

    /** As make_cases.py's digest: each list's ids comma-separated, the lists on lines of their own. */
    private static String digest(List<int[]> idLists) {
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < idLists.size(); k++) {
            if (k > 0) b.append('\n');
            int[] ids = idLists.get(k);
            for (int i = 0; i < ids.length; i++) b.append(i > 0 ? "," : "").append(ids[i]);
        }
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static BpeTokenizer read(String name) {
        try {
            return TokenizerJson.read(dir().resolve(name + ".json"));
        } catch (IOException | URISyntaxException e) {
            throw new AssertionError(name + ": " + e.getMessage(), e);
        }
    }

    /** A token's bytes are what it stands for inside a text: "▁" a space, &lt;0xXX&gt; its byte, an added token its text. */
    @Test
    void tokenBytesAreWhatTheTokensStandForInsideAText() {
        BpeTokenizer t = read("sp-llama");
        int[] ids = t.encode("I say, caf\u00e9 <s>", true);
        StringBuilder joined = new StringBuilder();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int id : ids) bytes.writeBytes(t.bytes(id));
        joined.append(bytes.toString(StandardCharsets.UTF_8));
        assertEquals(" I say, caf\u00e9 <s>", joined.toString(), "the space Metaspace puts before the text is in the first token's bytes");
        assertEquals("I say, caf\u00e9 <s>", t.decode(ids), "and decode drops it, as tokenizers' Strip does");
        assertArrayEquals(new byte[] {(byte) 0xC3}, t.bytes(t.encode("\u00e9", true)[1]));
    }

    /**
     * Written back, every variant reads as the same tokenizer: the same ids and decoded text for every case, and the same
     * special tokens around a text. What differs in a way that changes ids is named; the decoder changes none.
     */
    @Test
    void writtenBackAsRead(@TempDir Path tmp) throws IOException, URISyntaxException {
        JsonNode cases = JSON.readTree(dir().resolve("cases.json").toFile()).get("cases");
        for (String name : new String[] {"sp-llama-legacy", "sp-llama", "sp-gemma", "sp-metaspace-always", "sp-metaspace-never"}) {
            BpeTokenizer t = read(name);
            TokenizerJson.write(t, tmp.resolve(name + ".json"));
            BpeTokenizer back = TokenizerJson.read(tmp.resolve(name + ".json"));
            assertNull(t.differenceFrom(back), name);
            assertEquals(t.postProcessor(), back.postProcessor(), name);
            for (JsonNode c : cases) {
                if (!c.get("tokenizer").asText().equals(name)) continue;
                String text = c.get("text").asText();
                assertArrayEquals(ints(c.get("ids")), back.encode(text, true), name + " '" + text + "'");
                assertEquals(c.get("decoded").asText(), back.decode(ints(c.get("ids"))), name + " '" + text + "'");
            }
        }
        assertTrue(read("sp-llama").differenceFrom(read("sp-gemma")).startsWith("normalizer"), read("sp-llama").differenceFrom(read("sp-gemma")));
        assertEquals("byte fallback true vs false, or its byte tokens differ", read("sp-llama").differenceFrom(read("sp-metaspace-always"))
                .replaceFirst("^pre-tokenizer .*", "byte fallback true vs false, or its byte tokens differ"));
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(dir().resolve("sp-llama.json").toFile());
        ((com.fasterxml.jackson.databind.node.ArrayNode) root.get("decoder").get("decoders")).remove(3); // no Strip
        java.nio.file.Files.writeString(tmp.resolve("no-strip.json"), root.toString());
        BpeTokenizer noStrip = TokenizerJson.read(tmp.resolve("no-strip.json"));
        assertNull(read("sp-llama").differenceFrom(noStrip), "the decoder changes no id");
        assertEquals(" hi", noStrip.decode(noStrip.encode("hi", true)));
        ((com.fasterxml.jackson.databind.node.ObjectNode) root.get("model")).put("fuse_unk", false);
        java.nio.file.Files.writeString(tmp.resolve("no-fuse.json"), root.toString());
        assertEquals("fuse_unk true vs false", read("sp-llama").differenceFrom(TokenizerJson.read(tmp.resolve("no-fuse.json"))));
    }

    /**
     * The document separator of a tokenizer without end-of-text: the token its post_processor puts before a text, whatever
     * its name (Gemma's &lt;bos&gt;), in shards and as the document start.
     */
    @Test
    void theDocumentSeparatorIsTheTokenPutBeforeAText(@TempDir Path tmp) throws IOException, URISyntaxException {
        String gemma = java.nio.file.Files.readString(dir().resolve("sp-gemma.json")).replace("\"<s>\"", "\"<bos>\"");
        Path model = java.nio.file.Files.createDirectories(tmp.resolve("gemma"));
        java.nio.file.Files.writeString(model.resolve("tokenizer.json"), gemma);
        BpeTokenizer t = TokenizerJson.read(model.resolve("tokenizer.json"));
        assertEquals(1, t.special("<bos>"));
        assertEquals(1, t.documentSeparator());
        assertEquals(1, TextEncoding.forModel(model, 960).documentStart());
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(gemma);
        root.putNull("post_processor");
        java.nio.file.Files.writeString(tmp.resolve("no-template.json"), root.toString());
        assertEquals(1, TokenizerJson.read(tmp.resolve("no-template.json")).documentSeparator(), "<bos> by name");
        assertEquals(1, read("sp-llama").documentSeparator());
    }

    /**
     * A model directory with a Llama 2-style tokenizer: its begin-of-sequence token before a prompt and as the document
     * start, from tokenizer_config.json, and from tokenizer.json alone without one.
     */
    @Test
    void aModelDirectoryEncodesAsTransformersDoes(@TempDir Path tmp) throws IOException, URISyntaxException {
        Path model = java.nio.file.Files.createDirectories(tmp.resolve("llama"));
        java.nio.file.Files.copy(dir().resolve("sp-llama-legacy.json"), model.resolve("tokenizer.json"));
        TextEncoding bare = TextEncoding.forModel(model, 960);
        assertEquals(1, bare.documentStart(), "<s> without a tokenizer_config.json");
        int[] hi = bare.encode("hi");
        assertArrayEquals(new int[] {1, hi[0], hi[1]}, bare.encodeWithSpecialTokens("hi"));
        java.nio.file.Files.writeString(model.resolve("tokenizer_config.json"),
                "{\"tokenizer_class\": \"LlamaTokenizerFast\", \"add_bos_token\": true, \"add_eos_token\": true, \"bos_token\": \"<s>\", \"eos_token\": \"</s>\"}");
        TextEncoding configured = TextEncoding.forModel(model, 960);
        assertEquals(1, configured.documentStart());
        assertArrayEquals(new int[] {1, hi[0], hi[1], 2}, configured.encodeWithSpecialTokens("hi"), "add_eos_token rebuilds the template, as LlamaTokenizerFast does");
    }

    /** Raw bytes: valid runs as text without the space put before a text, each byte of an invalid sequence its byte token. */
    @Test
    void rawBytesEncodeWithoutThePrefixSpace() {
        for (String name : new String[] {"sp-llama-legacy", "sp-llama"}) {
            BpeTokenizer t = read(name);
            byte[] data = {'h', 'i', ' ', 't', 'h', 'e', 'r', 'e', (byte) 0xC3, 'x'};
            int[] ids = t.encodeBytes(data);
            java.io.ByteArrayOutputStream back = new java.io.ByteArrayOutputStream();
            for (int id : ids) back.writeBytes(t.bytes(id));
            assertArrayEquals(data, back.toByteArray(), name);
        }
    }

    /** The priority queue long pieces merge by gives the scan's merges, ties to the leftmost included, on pieces of every length. */
    @Test
    void longPiecesMergeAsTheScanMerges() {
        java.util.Random random = new java.util.Random(7);
        String letters = "\u2581\u2581\u2581eeettaaoinshrdlucmfwyp,.'\n\u00e9";
        for (String name : new String[] {"sp-llama", "sp-metaspace-never"}) {
            BpeTokenizer t = read(name);
            int merged = 0;
            for (int trial = 0; trial < 300; trial++) {
                StringBuilder b = new StringBuilder();
                int n = 1 + random.nextInt(trial < 100 ? 12 : 600);
                for (int i = 0; i < n; i++) b.append(letters.charAt(random.nextInt(letters.length())));
                int[] initial = t.symbols().initial(b.toString());
                int[] scan = t.merge(initial.clone()), heap = t.mergeByHeap(initial.clone());
                assertArrayEquals(scan, heap, name + " '" + b + "'");
                merged += initial.length - scan.length;
            }
            assertTrue(merged > 10_000, "pieces that merge: " + merged);
        }
        BpeTokenizer t = read("sp-llama"); // runs of one symbol: equal ranks side by side, the leftmost first
        for (int n = 1; n < 70; n++) {
            int[] initial = t.symbols().initial("e".repeat(n) + "\u2581".repeat(n));
            assertArrayEquals(t.merge(initial.clone()), t.mergeByHeap(initial.clone()), "run of " + n);
        }
    }

    private String refused(java.util.function.Consumer<com.fasterxml.jackson.databind.node.ObjectNode> edit) throws IOException, URISyntaxException {
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(dir().resolve("sp-llama.json").toFile());
        edit.accept(root);
        Path f = java.nio.file.Files.createTempFile("sp", ".json");
        try {
            java.nio.file.Files.writeString(f, root.toString());
            IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> TokenizerJson.read(f));
            assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
            return e.getMessage();
        } finally {
            java.nio.file.Files.delete(f);
        }
    }

    /** What Crucible does not compute, or tokenizers would not build, is refused with the key named. */
    @Test
    void decodersNormalizersAndSettingsNotComputedAreRefusedByKey() throws IOException, URISyntaxException {
        var decoders = (java.util.function.Function<com.fasterxml.jackson.databind.node.ObjectNode, com.fasterxml.jackson.databind.node.ArrayNode>)
                r -> (com.fasterxml.jackson.databind.node.ArrayNode) r.get("decoder").get("decoders");
        String msg = refused(r -> decoders.apply(r).addObject().put("type", "CTC"));
        assertTrue(msg.contains("decoder.decoders[4].type 'CTC' is not supported for BPE on characters"), msg);
        msg = refused(r -> r.putObject("decoder").put("type", "ByteLevel"));
        assertTrue(msg.contains("decoder is ByteLevel but the pre_tokenizer is not"), msg);
        msg = refused(r -> ((com.fasterxml.jackson.databind.node.ObjectNode) decoders.apply(r).get(3)).put("start", -1));
        assertTrue(msg.contains("decoder.decoders[3].start and .stop must be counts"), msg);
        msg = refused(r -> ((com.fasterxml.jackson.databind.node.ObjectNode) decoders.apply(r).get(0)).putObject("pattern").put("Regex", "("));
        assertTrue(msg.contains("decoder.decoders[0].pattern.Regex does not compile"), msg);
        msg = refused(r -> ((com.fasterxml.jackson.databind.node.ObjectNode) r.get("pre_tokenizer")).put("prepend_scheme", "sometimes"));
        assertTrue(msg.contains("pre_tokenizer.prepend_scheme \"sometimes\" is not always, first or never"), msg);
        msg = refused(r -> ((com.fasterxml.jackson.databind.node.ObjectNode) r.get("pre_tokenizer")).put("replacement", "__"));
        assertTrue(msg.contains("pre_tokenizer.replacement must be one character"), msg);
        msg = refused(r -> r.putObject("normalizer").put("type", "Precompiled"));
        assertTrue(msg.contains("normalizer 'Precompiled' is not supported"), msg);
        msg = refused(r -> r.putObject("normalizer").put("type", "Replace").put("content", "x").putObject("pattern").put("String", ""));
        assertTrue(msg.contains("normalizer.pattern is the empty string"), msg);
        msg = refused(r -> ((com.fasterxml.jackson.databind.node.ObjectNode) r.get("model")).put("unk_token", "<nope>").put("byte_fallback", false));
        assertTrue(msg.contains("model.unk_token '<nope>' is not in model.vocab, and a character without a token of its own would need it"), msg);
        msg = refused(r -> ((com.fasterxml.jackson.databind.node.ObjectNode) r.get("model")).put("byte_fallback", "yes"));
        assertTrue(msg.contains("model.byte_fallback must be true or false"), msg);
        msg = refused(r -> {
            var pre = (com.fasterxml.jackson.databind.node.ObjectNode) r.get("pre_tokenizer");
            pre.remove("prepend_scheme");
            pre.put("add_prefix_space", false);
        });
        assertTrue(msg.contains("pre_tokenizer.add_prefix_space false does not match prepend_scheme always"), msg);
        msg = refused(r -> {
            var steps = r.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers");
            steps.addObject().put("type", "Metaspace").put("replacement", "\u2581").put("prepend_scheme", "first");
            steps.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false).putObject("pattern").put("Regex", "\\d");
        });
        assertTrue(msg.contains("pre_tokenizer.pretokenizers[1]: Split after Metaspace is not supported"), msg);
    }

    /** What tokenizers accepts is read: an unknown token no character can need, a Metaspace with neither scheme key (always). */
    @Test
    void settingsTokenizersAcceptsAreRead(@TempDir Path tmp) throws IOException, URISyntaxException {
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(dir().resolve("sp-llama.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) root.get("model")).put("unk_token", "<nope>");
        ((com.fasterxml.jackson.databind.node.ObjectNode) root.get("pre_tokenizer")).remove("prepend_scheme");
        java.nio.file.Files.writeString(tmp.resolve("t.json"), root.toString());
        BpeTokenizer t = TokenizerJson.read(tmp.resolve("t.json"));
        assertEquals(t.symbols().whole("\u2581h"), t.encode("<s>hi", true)[1], "always: a \u2581 after the added token too");
        // tokenizers' Replace finds matches as its Split does: no empty match where the last one ended (Java's replaceAll has one)
        assertEquals("-a-b-b-", new TextNormalizer.Replace("x*", true, "-").apply("abxxb"), "normalizers.Replace(Regex('x*'), '-').normalize_str('abxxb')");
    }
}
