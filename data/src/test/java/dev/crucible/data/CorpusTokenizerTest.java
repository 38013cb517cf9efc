package dev.crucible.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.data.tokenizer.BpeTokenizer;
import dev.crucible.data.tokenizer.BpeTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusTokenizerTest {
    @TempDir
    Path tmp;

    BpeTokenizer tokenizer() {
        BpeTrainer t = new BpeTrainer(BpeTokenizer.GPT2_PATTERN);
        t.add("the cat sat on the mat; int x = 1;");
        return t.train(300, List.of("<|endoftext|>"));
    }

    Path docs(String name, int n, String text) throws IOException {
        Path d = Files.createDirectories(tmp.resolve("in").resolve(name));
        for (int i = 0; i < n; i++) Files.writeString(d.resolve(name + i + ".txt"), text + " " + i);
        return d;
    }

    static long tokens(Path dir, String glob) throws IOException {
        long n = 0;
        try (var s = Files.newDirectoryStream(dir, glob)) {
            for (Path p : s) n += TokenShard.open(p).size();
        }
        return n;
    }

    /** The validation split is a function of the documents' names within their input, not of where the corpus lies. */
    @Test
    void splitDoesNotDependOnWhereTheCorpusLies() throws IOException {
        BpeTokenizer tok = tokenizer();
        Path here = docs("prose", 200, "the cat sat on the mat");
        Path there = Files.createDirectories(tmp.resolve("elsewhere/deeper/prose"));
        try (var s = Files.list(here)) {
            for (Path f : s.toList()) Files.copy(f, there.resolve(f.getFileName()));
        }
        CorpusTokenizer.run(tok, List.of(new CorpusTokenizer.Domain("prose", List.of(here))), Map.of(), 10, 1_000_000, tmp.resolve("a"), null);
        CorpusTokenizer.run(tok, List.of(new CorpusTokenizer.Domain("prose", List.of(there))), Map.of(), 10, 1_000_000, tmp.resolve("b"), null);
        assertTrue(Files.size(tmp.resolve("a/val_prose_000000.bin")) > 0);
        assertEquals(-1, Files.mismatch(tmp.resolve("a/val_prose_000000.bin"), tmp.resolve("b/val_prose_000000.bin")));
        assertEquals(-1, Files.mismatch(tmp.resolve("a/train_000000.bin"), tmp.resolve("b/train_000000.bin")));
        // inputs that are single files are split by their names too, not all one way
        List<Path> files;
        try (var s = Files.list(here)) {
            files = s.sorted().toList();
        }
        List<CorpusTokenizer.DomainCounts> c = CorpusTokenizer.run(tok, List.of(new CorpusTokenizer.Domain("prose", files)), Map.of(), 10, 1_000_000, tmp.resolve("c"), null);
        assertTrue(c.getFirst().valDocs() > 5 && c.getFirst().valDocs() < 50, "about 10% of 200 single-file inputs: " + c.getFirst().valDocs());
    }

    @Test
    void mixtureRepeatsTheSmallDomainAndKeepsValidationPerDomain() throws IOException {
        BpeTokenizer tok = tokenizer();
        List<CorpusTokenizer.Domain> domains = List.of(new CorpusTokenizer.Domain("prose", List.of(docs("prose", 300, "the cat sat on the mat"))),
                new CorpusTokenizer.Domain("code", List.of(docs("code", 100, "int x = 1;"))));
        Path out = tmp.resolve("out");
        List<CorpusTokenizer.DomainCounts> c = CorpusTokenizer.run(tok, domains, Map.of("prose", 1.0, "code", 1.0), 10, 1_000_000, out, null);
        CorpusTokenizer.DomainCounts prose = c.get(0), code = c.get(1);
        long natural = prose.trainTokens() + code.trainTokens();
        // equal shares of the natural total: within one document of the target
        assertEquals(natural / 2.0, prose.mixedTokens(), 20);
        assertEquals(natural / 2.0, code.mixedTokens(), 20);
        assertTrue(code.epochs() > 1.5 && prose.epochs() < 1, code.epochs() + " " + prose.epochs());
        assertEquals(prose.mixedTokens() + code.mixedTokens(), tokens(out, "train_*.bin"));
        assertEquals(prose.valTokens(), tokens(out, "val_prose_*.bin"));
        assertEquals(code.valTokens(), tokens(out, "val_code_*.bin"));
        assertTrue(prose.valDocs() > 10 && prose.valDocs() < 60, "about 10% of documents: " + prose.valDocs());
        assertEquals(prose.valDocs(), Files.readAllLines(out.resolve("heldout/prose.jsonl")).size());
        assertTrue(Files.readString(out.resolve(CorpusTokenizer.DOMAINS)).contains("\"epochs\""));
        assertThrows(IllegalArgumentException.class, () -> CorpusTokenizer.run(tok, domains, Map.of("poetry", 1.0), 10, 1000, out, null));
    }
}
