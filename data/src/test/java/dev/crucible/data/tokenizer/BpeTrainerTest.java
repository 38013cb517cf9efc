package dev.crucible.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.data.ZipDocuments;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTrainerTest {

    @Test
    void mergesTheMostFrequentPairFirst() {
        BpeTrainer t = new BpeTrainer(BpeTokenizer.GPT2_PATTERN);
        for (int i = 0; i < 10; i++) t.add("aaab aaab abab ");
        BpeTokenizer tok = t.train(256 + 3 + 1, List.of("<|endoftext|>"));
        // Pair counts: (a,a) 40, (a,b) 40, ... ties break to the smaller ids: 'a'(97),'a'(97) < 'a','b'(98).
        assertArrayEquals("aa".getBytes(StandardCharsets.US_ASCII), tok.bytes(256));
        assertEquals(256 + 3, tok.special("<|endoftext|>"));
        assertEquals(260, tok.vocabSize());
    }

    @Test
    void trainedOnRealTextItCompressesRoundTripsAndIsDeterministic(@TempDir Path dir) throws IOException {
        String data = System.getProperty("crucible.data", "");
        Path shakespeare = data.isEmpty() ? null : Path.of(data, "tinyshakespeare", "input.txt");
        List<String> docs;
        if (shakespeare != null && Files.exists(shakespeare)) {
            docs = List.of(Files.readString(shakespeare));
        } else { // without the shared data: the JDK's own sources
            docs = ZipDocuments.read(Path.of(System.getProperty("java.home"), "lib", "src.zip"), n -> n.startsWith("java.base/java/util/") && n.endsWith(".java"), 1_000_000)
                    .stream().map(d -> new String(d.bytes(), StandardCharsets.UTF_8)).toList();
        }
        BpeTokenizer[] trained = new BpeTokenizer[2];
        for (int r = 0; r < 2; r++) {
            BpeTrainer t = new BpeTrainer(BpeTokenizer.GPT2_PATTERN);
            docs.forEach(t::add);
            trained[r] = t.train(1024, List.of("<|endoftext|>"));
            TokenizerJson.write(trained[r], dir.resolve("tok" + r + ".json"));
        }
        assertArrayEquals(Files.readAllBytes(dir.resolve("tok0.json")), Files.readAllBytes(dir.resolve("tok1.json")), "same data, same tokenizer");
        BpeTokenizer tok = TokenizerJson.read(dir.resolve("tok0.json"));
        assertEquals(1024, tok.vocabSize());
        long bytes = 0, tokens = 0;
        for (String d : docs) {
            int[] ids = tok.encode(d, false);
            assertEquals(d, tok.decode(ids));
            assertArrayEquals(trained[0].encode(d, false), ids, "the written tokenizer.json encodes as the trained one");
            bytes += d.getBytes(StandardCharsets.UTF_8).length;
            tokens += ids.length;
        }
        assertTrue(tokens < 0.45 * bytes, "1024-token BPE compresses its training text: " + tokens + " tokens for " + bytes + " bytes");
    }
}
