package dev.crucible.eval;

import dev.crucible.data.PythonText;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.data.tokenizer.TextEncoding;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where lm-evaluation-harness's numbers depend on how a request is built, against the harness's own definitions and test values. */
class HarnessSemanticsTest {
    @TempDir
    Path dir;

    /** The harness's test_get_rolling_token_windows_v1 (34 tokens, window 10, context 1), after make_disjoint_window. */
    @Test
    void rollingWindowsAreTheHarnesss() {
        int[] t = IntStream.range(0, 34).toArray();
        List<LogLikelihood.Request> w = RollingPerplexity.windows(t, -100, 10);
        int[][][] gold = {
            {{-100}, range(0, 10)},
            {{9}, range(10, 20)},
            {{19}, range(20, 30)},
            {range(23, 30), range(30, 34)}, // the last, shorter window: a full window of input
        };
        assertEquals(gold.length, w.size());
        for (int i = 0; i < gold.length; i++) {
            assertArrayEquals(gold[i][0], w.get(i).context(), "context of window " + i);
            assertArrayEquals(gold[i][1], w.get(i).continuation(), "tokens of window " + i);
        }
        List<LogLikelihood.Request> one = RollingPerplexity.windows(range(0, 10), -100, 10);
        assertEquals(1, one.size());
        assertArrayEquals(new int[] {-100}, one.getFirst().context());
        List<LogLikelihood.Request> eleven = RollingPerplexity.windows(range(0, 11), -100, 10);
        assertArrayEquals(range(0, 10), eleven.get(1).context(), "one token left: the ten before it");
    }

    private static int[] range(int from, int to) {
        return IntStream.range(from, to).toArray();
    }

    /** _encode_pair: the context's trailing whitespace moves to the continuation; an empty context is the document start. */
    @Test
    void pairsAreEncodedAsTheHarnessEncodesThem() throws IOException {
        TextEncoding bytes = TextEncoding.forModel(dir, 256);
        LogLikelihood.Request r = LogLikelihood.Request.of(bytes, "Answer: ", "x");
        assertArrayEquals(bytes.encode("Answer:"), r.context());
        assertArrayEquals(bytes.encode(" x"), r.continuation(), "the space is scored with the answer");
        LogLikelihood.Request nbsp = LogLikelihood.Request.of(bytes, "a\u00A0\t", "b");
        assertArrayEquals(bytes.encode("a"), nbsp.context(), "Python's rstrip takes U+00A0, which Java's strip keeps");
        assertArrayEquals(bytes.encode("\u00A0\tb"), nbsp.continuation());
        LogLikelihood.Request empty = LogLikelihood.Request.of(bytes, "", "The cat.");
        assertArrayEquals(new int[] {bytes.documentStart()}, empty.context());
        assertArrayEquals(bytes.encode("The cat."), empty.continuation());
        LogLikelihood.Request blank = LogLikelihood.Request.of(bytes, "  ", "x");
        assertArrayEquals(new int[] {bytes.documentStart()}, blank.context());
        assertArrayEquals(bytes.encode("  x"), blank.continuation());
        LogLikelihood.Request plain = LogLikelihood.Request.of(bytes, "Question: q\nAnswer:", " yes");
        assertArrayEquals(bytes.encode("Question: q\nAnswer:"), plain.context());
        assertArrayEquals(bytes.encode(" yes"), plain.continuation());
    }

    /**
     * With byte-level BPE, where a pair's boundary can fall inside a word: the harness encodes context +
     * continuation whole and takes what follows the context's own token count, so " cat" is one token
     * and the continuation of "The ca" + "t sat" is " sat" alone (encoded apart it would be "t", " sat");
     * a continuation merged wholly into the context is refused.
     */
    @Test
    void aBoundaryInsideAWordSplitsAsTheHarnessSplitsIt() throws IOException {
        dev.crucible.data.tokenizer.BpeTrainer trainer = new dev.crucible.data.tokenizer.BpeTrainer(dev.crucible.data.tokenizer.BpeTokenizer.GPT2_PATTERN);
        for (int i = 0; i < 50; i++) trainer.add("The cat sat on the mat. The cat sat. A cat and a mat.");
        Path model = Files.createDirectories(dir.resolve("bpe"));
        dev.crucible.data.tokenizer.TokenizerJson.write(trainer.train(300, List.of("<|endoftext|>")), model.resolve("tokenizer.json"));
        TextEncoding bpe = TextEncoding.forModel(model, 300);
        assertEquals(1, bpe.encode(" cat").length, "' cat' is one token");
        int[] ctx = bpe.encode("The ca"), whole = bpe.encode("The cat sat on the mat");
        assertTrue(whole.length > ctx.length, "the whole has tokens past the context's count");
        LogLikelihood.Request r = LogLikelihood.Request.of(bpe, "The ca", "t sat on the mat");
        assertArrayEquals(ctx, r.context());
        assertArrayEquals(java.util.Arrays.copyOfRange(whole, ctx.length, whole.length), r.continuation(), "what follows the context's own token count");
        assertFalse(java.util.Arrays.equals(bpe.encode("t sat on the mat"), r.continuation()), "encoded apart, 't' would be scored as a token of its own");
        IllegalArgumentException merged = assertThrows(IllegalArgumentException.class, () -> LogLikelihood.Request.of(bpe, "The ca", "t"));
        assertTrue(merged.getMessage().contains("adds no token to its context"), merged.getMessage());
    }

    /** The harness divides by the choice's own length (code points; bytes for acc_bytes), not by " " + choice. */
    @Test
    void normalisedAccuracyDividesByTheChoiceAlone() {
        double[] ll = {-3, -7};
        // per character: −3 / 1 against −7 / 3 = −2.33, so the longer choice; with the space, −1.5 against −1.75
        assertEquals(1, MultipleChoice.argmaxPer(ll, List.of("A", "ABC"), PythonText::length));
        assertEquals(0, MultipleChoice.argmaxPer(ll, List.of("A", "ABC"), c -> 1));
        // "𝔸" is one code point, two UTF-16 units and four bytes
        assertEquals(0, MultipleChoice.argmaxPer(new double[] {-2, -3}, List.of("ab", "\uD835\uDD38bc"), PythonText::length),
                "-1 per character either way, so the first (by UTF-16 units the second would score -0.75)");
        assertEquals(1, MultipleChoice.argmaxPer(new double[] {-3, -5}, List.of("ab", "\uD835\uDD38b"), c -> c.getBytes(StandardCharsets.UTF_8).length));
    }

    @Test
    void aTaskFilesStopStringMayBeOneString() throws IOException {
        Files.writeString(dir.resolve("qa.jsonl"), "{\"q\": \"2+2\", \"a\": \"4\"}\n");
        Path yaml = dir.resolve("t.yaml");
        Files.writeString(yaml, "tasks:\n  - {name: qa, kind: generation, data: qa.jsonl, prompt: \"{q}=\", target: \"{a}\", until: \".\"}\n");
        ExactMatch task = (ExactMatch) TaskFile.load(yaml).getFirst();
        assertEquals("ab", task.cut("ab.c"), "until: \".\" is the stop string, not ignored");
        assertEquals(null, task.cut("ab\nc"), "not the default newline");
        Files.writeString(yaml, "tasks:\n  - {name: qa, kind: generation, data: qa.jsonl, prompt: \"{q}=\", target: \"{a}\", until: 5}\n");
        IOException bad = assertThrows(IOException.class, () -> TaskFile.load(yaml));
        assertTrue(bad.getMessage().contains("t.yaml: task 1 (qa): until must be a string or a list of strings"), bad.getMessage());
        Files.writeString(yaml, "tasks:\n  - name: qa\n    kind: generation\n    data: qa.jsonl\n    prompt: \"{q}=\"\n    target: \"{a}\"\n    prompt: \"x\"\n");
        IOException twice = assertThrows(IOException.class, () -> TaskFile.load(yaml));
        assertTrue(twice.getMessage().contains("t.yaml: not valid YAML (Duplicate field 'prompt'"), twice.getMessage());
        Files.writeString(yaml, "tasks:\n  - {name: qa, kind: generation, data: qa.jsonl, prompt: \"{q}=\", target: \"{a}\", max_tokens: 2.5}\n");
        IOException frac = assertThrows(IOException.class, () -> TaskFile.load(yaml));
        Files.writeString(dir.resolve("qa.jsonl"), "{\"q\": \"2+2\", \"a\": \"4\"}{\"q\": \"3+3\", \"a\": \"6\"}\n");
        Files.writeString(yaml, "tasks:\n  - {name: qa, kind: generation, data: qa.jsonl, prompt: \"{q}=\", target: \"{a}\"}\n");
        IOException two = assertThrows(IOException.class, () -> TaskFile.load(yaml), "two records on a line are not the first of them");
        assertTrue(two.getMessage().contains("qa.jsonl:1: not a JSON object (more after the first JSON value"), two.getMessage());
        assertTrue(frac.getMessage().contains("max_tokens must be a whole number of at least 1, got 2.5"), frac.getMessage());
    }
}
