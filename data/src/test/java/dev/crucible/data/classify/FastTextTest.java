package dev.crucible.data.classify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FastTextTest {
    @TempDir
    Path tmp;

    /** The values below come from an independent computation (Python over the UTF-8 bytes, signed as fastText's char). */
    @Test
    void hashesAndFeatureIdsAreFastTextsOnEveryJvm() {
        assertEquals(-677604519, FastTextDictionary.hash("</s>".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertEquals(-1274105316, FastTextDictionary.hash("the".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertEquals(1970454601, FastTextDictionary.hash("café".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertEquals(-130579887, FastTextDictionary.hash("日本".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        var entries = List.of(new FastTextDictionary.Entry("the", 5, (byte) 0), new FastTextDictionary.Entry("cat", 3, (byte) 0),
                new FastTextDictionary.Entry("</s>", 2, (byte) 0), new FastTextDictionary.Entry("__label__x", 2, (byte) 1));
        var dict = new FastTextDictionary(entries, 12, null, 1000, 0, 0, 3);
        List<Integer> labels = new ArrayList<>();
        // known words, the unknown "sat" only through its n-grams, </s> at the end; labels apart
        assertArrayEquals(new int[] {0, 1, 2, 414, 899, 31, 144, 617}, dict.features("the  cat\tsat __label__x", labels));
        assertEquals(List.of(0), labels);
    }

    @Test
    void aSeparableSetIsLearnedCompletelyAndTheSameEveryTime() throws IOException {
        List<FastTextTrainer.Example> examples = toySet(400, 7);
        var options = new FastTextTrainer.Options(16, 0.5, 5, 1, 2, 10_000, 0, 0, false, 3);
        FastTextModel m = FastTextTrainer.train(examples, options);
        int correct = 0;
        for (var e : examples) {
            double[] p = m.predict(e.line());
            int best = p[0] >= p[1] ? 0 : 1;
            if (m.labels().get(best).equals(e.labels().getFirst())) correct++;
        }
        assertEquals(examples.size(), correct, "training accuracy");
        // the same data and options: the same file, byte for byte
        Path a = tmp.resolve("a.bin"), b = tmp.resolve("b.bin");
        m.save(a);
        FastTextTrainer.train(examples, options).save(b);
        assertEquals(-1, Files.mismatch(a, b));
        // and it reads back to the same predictions
        FastTextModel back = FastTextModel.load(a);
        for (var e : examples.subList(0, 20)) assertArrayEquals(m.predict(e.line()), back.predict(e.line()), 0);
        // a label-like token in a document's text is not a label
        List<FastTextTrainer.Example> noisy = new ArrayList<>(examples);
        noisy.add(new FastTextTrainer.Example(List.of("__label__pos"), "sun day __label__spam"));
        assertEquals(List.of("__label__pos", "__label__neg"), FastTextTrainer.train(noisy, options).labels().stream().sorted(java.util.Comparator.reverseOrder()).toList());
        // one-vs-all learns it too
        FastTextModel ova = FastTextTrainer.train(examples, new FastTextTrainer.Options(16, 0.5, 5, 1, 2, 10_000, 0, 0, true, 3));
        for (var e : examples.subList(0, 50)) {
            double[] p = ova.predict(e.line());
            assertEquals(e.labels().getFirst(), ova.labels().get(p[0] >= p[1] ? 0 : 1));
        }
    }

    @Test
    void brokenFilesAreNamedWithTheirPlace() throws IOException {
        Path f = tmp.resolve("m.bin");
        FastTextTrainer.train(toySet(50, 1), new FastTextTrainer.Options(8, 0.1, 1, 1, 1, 0, 0, 0, false, 1)).save(f);
        byte[] bytes = Files.readAllBytes(f);
        Files.write(tmp.resolve("short.bin"), java.util.Arrays.copyOf(bytes, bytes.length - 10));
        var e = assertThrows(IOException.class, () -> FastTextModel.load(tmp.resolve("short.bin")));
        assertTrue(e.getMessage().startsWith(tmp.resolve("short.bin") + " at byte "), e.getMessage());
        Files.writeString(tmp.resolve("text.bin"), "hello, not a model");
        assertTrue(assertThrows(IOException.class, () -> FastTextModel.load(tmp.resolve("text.bin"))).getMessage().contains("wrong magic number"));
        assertTrue(assertThrows(IOException.class, () -> FastTextModel.load(tmp.resolve("none.bin"))).getMessage().endsWith("none.bin: no such file"));
    }

    @Test
    void aucAndPrecisionAreTheTextbookOnes() {
        var m = BinaryMetrics.of(new double[] {0.9, 0.8, 0.4}, new double[] {0.7, 0.4, 0.1}, 0.5);
        // pairs: (0.9 beats 3), (0.8 beats 3), (0.4 beats 0.1, ties 0.4): (3 + 3 + 1.5) / 9
        assertEquals(7.5 / 9, m.auc(), 1e-12);
        assertEquals(2 / 3.0, m.precision(), 1e-12);
        assertEquals(2 / 3.0, m.recall(), 1e-12);
    }

    /** Label pos: two of the words "sun", "bright", "warm" in order; neg: "rain", "cold", "grey"; plus shared noise words. */
    static List<FastTextTrainer.Example> toySet(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        String[] noise = "a the of day went and it was we".split(" ");
        Map<Boolean, String[]> cues = Map.of(true, "sun bright warm".split(" "), false, "rain cold grey".split(" "));
        List<FastTextTrainer.Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean pos = i % 2 == 0;
            List<String> words = new ArrayList<>();
            for (int k = 0; k < 6; k++) words.add(noise[r.nextInt(noise.length)]);
            words.add(r.nextInt(words.size() + 1), cues.get(pos)[r.nextInt(3)]);
            out.add(new FastTextTrainer.Example(List.of(pos ? "__label__pos" : "__label__neg"), String.join(" ", words)));
        }
        return out;
    }
}
