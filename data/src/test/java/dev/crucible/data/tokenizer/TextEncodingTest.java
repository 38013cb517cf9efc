package dev.crucible.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextEncodingTest {
    @TempDir
    Path dir;

    Path modelDir(String name, BpeTokenizer t) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        TokenizerJson.write(t, d.resolve("tokenizer.json"));
        return d;
    }

    @Test
    void checkpointsWithTheSameTokenizerShareOneCachedEncoding() throws IOException {
        BpeTrainer tr = new BpeTrainer(BpeTokenizer.GPT2_PATTERN);
        tr.add("the cat sat on the mat, the cat sat");
        BpeTokenizer t = tr.train(270, List.of("<|endoftext|>"));
        TextEncoding a = TextEncoding.forModel(modelDir("step-1", t), 270), b = TextEncoding.forModel(modelDir("step-2", t), 270);
        assertSame(a, b);
        int[] first = a.encode("the cat sat<|endoftext|>");
        assertSame(first, b.encode("the cat sat<|endoftext|>")); // tokenized once for the whole series
        assertArrayEquals(t.encode("the cat sat<|endoftext|>", true), first);
        BpeTrainer other = new BpeTrainer(BpeTokenizer.GPT2_PATTERN);
        other.add("completely different text here");
        assertNotSame(a, TextEncoding.forModel(modelDir("other", other.train(270, List.of("<|endoftext|>"))), 270));
        // a text seen once (a corpus's document) gets the same tokens and stays out of the cache
        int before = a.cached();
        assertArrayEquals(t.encode("a mat the cat sat on, once", true), a.encodeOnce("a mat the cat sat on, once"));
        assertEquals(before, a.cached());
        assertSame(first, a.encodeOnce("the cat sat<|endoftext|>")); // what the cache has, it gives
    }

    @Test
    void specialTokensComeFromThePostProcessor() throws IOException {
        Path d = Files.createDirectories(dir.resolve("llama"));
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(TextEncodingTest.class.getResource("/tokenizer/hf/gpt2.json"));
        root.set("post_processor", json.readTree("{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<|endoftext|>\", \"type_id\": 0}}, "
                + "{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": [], "
                + "\"special_tokens\": {\"<|endoftext|>\": {\"id\": \"<|endoftext|>\", \"ids\": [262], \"tokens\": [\"<|endoftext|>\"]}}}"));
        json.writeValue(d.resolve("tokenizer.json").toFile(), root);
        TextEncoding llama = TextEncoding.forModel(d, 263);
        assertArrayEquals(new int[] {256}, llama.encode("hi"));
        assertArrayEquals(new int[] {262, 256}, llama.encodeWithSpecialTokens("hi"));
        assertArrayEquals(new int[] {262}, llama.encodeWithSpecialTokens(""));
        llama.encodeWithSpecialTokens("hi")[0] = 7; // a new array each time: the cached one is untouched
        assertArrayEquals(new int[] {256}, llama.encode("hi"));
        TextEncoding bytes = TextEncoding.forModel(Files.createDirectories(dir.resolve("bytes")), 256);
        assertArrayEquals(bytes.encode("hi"), bytes.encodeWithSpecialTokens("hi"));
    }

    /** transformers rebuilds a Llama or Gemma tokenizer's template from tokenizer_config.json; other classes keep tokenizer.json's. */
    @Test
    void aLlamaTokenizerClassTakesItsTemplateFromTokenizerConfig() throws IOException {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(TextEncodingTest.class.getResource("/tokenizer/hf/gpt2.json"));
        java.util.function.BiFunction<String, String, Path> model = (name, config) -> {
            try {
                Path d = Files.createDirectories(dir.resolve(name));
                json.writeValue(d.resolve("tokenizer.json").toFile(), root);
                if (config != null) Files.writeString(d.resolve("tokenizer_config.json"), config);
                return d;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        String bos = "\"bos_token\": {\"content\": \"<|endoftext|>\", \"special\": true}, \"eos_token\": \"h\"";
        assertArrayEquals(new int[] {262, 256}, TextEncoding.forModel(model.apply("llama", "{\"tokenizer_class\": \"LlamaTokenizerFast\", " + bos + "}"), 263)
                .encodeWithSpecialTokens("hi"), "add_bos_token defaults to true");
        assertArrayEquals(new int[] {262, 256, 104}, TextEncoding.forModel(model.apply("eos", "{\"tokenizer_class\": \"LlamaTokenizer\", \"add_eos_token\": true, "
                + bos + "}"), 263).encodeWithSpecialTokens("hi"));
        assertArrayEquals(new int[] {256}, TextEncoding.forModel(model.apply("none", "{\"tokenizer_class\": \"GemmaTokenizerFast\", \"add_bos_token\": false, "
                + bos + "}"), 263).encodeWithSpecialTokens("hi"));
        assertArrayEquals(new int[] {256}, TextEncoding.forModel(model.apply("fast", "{\"tokenizer_class\": \"PreTrainedTokenizerFast\", " + bos + "}"), 263)
                .encodeWithSpecialTokens("hi"), "tokenizer.json's own (none)");
        assertArrayEquals(new int[] {256}, TextEncoding.forModel(model.apply("noconfig", null), 263).encodeWithSpecialTokens("hi"));
        // the document start is lm-evaluation-harness's prefix token: bos_token, else eos_token, else end-of-text
        assertEquals(104, TextEncoding.forModel(model.apply("bos-h", "{\"bos_token\": \"h\", \"eos_token\": \"i\"}"), 263).documentStart());
        assertEquals(105, TextEncoding.forModel(model.apply("eos-i", "{\"bos_token\": null, \"eos_token\": {\"content\": \"i\"}}"), 263).documentStart());
        assertEquals(105, TextEncoding.forModel(model.apply("bos-two", "{\"bos_token\": \"hq\", \"eos_token\": \"i\"}"), 263).documentStart());
        assertEquals(262, TextEncoding.forModel(model.apply("noconfig", null), 263).documentStart());
        // special_tokens_map.json's tokens over an older tokenizer_config.json's, as transformers 4 loads them; either file alone
        Path both = model.apply("both", "{\"bos_token\": \"h\"}");
        Files.writeString(both.resolve("special_tokens_map.json"), "{\"bos_token\": {\"content\": \"i\", \"special\": true}}");
        assertEquals(105, TextEncoding.forModel(both, 263).documentStart());
        Path modern = model.apply("modern", "{\"bos_token\": \"h\", \"added_tokens_decoder\": {}}"); // transformers reads the map only for older configs
        Files.writeString(modern.resolve("special_tokens_map.json"), "{\"bos_token\": \"i\"}");
        assertEquals(104, TextEncoding.forModel(modern, 263).documentStart());
        Path mapOnly = model.apply("map-only", null);
        Files.writeString(mapOnly.resolve("special_tokens_map.json"), "{\"eos_token\": \"q\"}");
        assertEquals(113, TextEncoding.forModel(mapOnly, 263).documentStart());
        // GPT-NeoX's class adds nothing unless asked, whatever tokenizer.json says; its default bos_token is end-of-text
        root.set("post_processor", json.readTree("{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"h\", \"type_id\": 0}}, "
                + "{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": [], \"special_tokens\": {\"h\": {\"id\": \"h\", \"ids\": [104], \"tokens\": [\"h\"]}}}"));
        assertArrayEquals(new int[] {104, 256}, TextEncoding.forModel(model.apply("template", null), 263).encodeWithSpecialTokens("hi"));
        assertArrayEquals(new int[] {256}, TextEncoding.forModel(model.apply("neox", "{\"tokenizer_class\": \"GPTNeoXTokenizerFast\"}"), 263)
                .encodeWithSpecialTokens("hi"));
        assertArrayEquals(new int[] {262, 256}, TextEncoding.forModel(model.apply("neox-bos", "{\"tokenizer_class\": \"GPTNeoXTokenizer\", \"add_bos_token\": true}"),
                263).encodeWithSpecialTokens("hi"));
        // what transformers refuses is refused, naming the file; an encoding still loads, with tokenizer.json's special tokens
        BpeTokenizer t = TokenizerJson.read(model.apply("plain", null).resolve("tokenizer.json"));
        String[][] refused = {
            {"{\"tokenizer_class\": \"LlamaTokenizerFast\", \"bos_token\": null}", ": add_bos_token is true but bos_token is null (transformers refuses this too)"},
            {"{\"tokenizer_class\": \"LlamaTokenizerFast\"}", ": bos_token '<s>' is not one token of tokenizer.json"}, // the class's default
            {"{\"tokenizer_class\": \"LlamaTokenizerFast\", \"bos_token\": \"hq\"}", ": bos_token 'hq' is not one token of tokenizer.json"},
            {"{\"tokenizer_class\": \"LlamaTokenizerFast\", \"add_bos_token\": \"yes\", " + bos + "}", ": add_bos_token must be true or false, got \"yes\""}};
        for (int i = 0; i < refused.length; i++) {
            Path d = model.apply("refused-" + i, refused[i][0]);
            IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> TokenizerConfig.read(d).postProcessor(t));
            assertEquals(d.resolve("tokenizer_config.json") + refused[i][1], e.getMessage());
            assertArrayEquals(new int[] {104, 256}, TextEncoding.forModel(d, 263).encodeWithSpecialTokens("hi"), "tokenizer.json's template");
        }
        Path broken = model.apply("broken", "{not json");
        assertEquals(262, TextEncoding.forModel(broken, 263).documentStart());
    }
}
