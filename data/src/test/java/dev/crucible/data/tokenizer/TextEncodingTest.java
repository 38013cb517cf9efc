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
}
