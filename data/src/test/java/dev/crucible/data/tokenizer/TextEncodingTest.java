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
}
