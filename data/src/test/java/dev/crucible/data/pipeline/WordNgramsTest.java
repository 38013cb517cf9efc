package dev.crucible.data.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.crucible.data.PythonText;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link WordNgrams} against datatrove's functions written out directly: every n-gram joined into a string. */
class WordNgramsTest {
    /** find_top_duplicate: Counter(" ".join(gram) ...).most_common(1), length times count. */
    static long topReference(List<String> words, int n) {
        Map<String, Integer> freq = new LinkedHashMap<>();
        for (int i = 0; i + n <= words.size(); i++) freq.merge(String.join(" ", words.subList(i, i + n)), 1, Integer::sum);
        long best = 0;
        String gram = null;
        for (Map.Entry<String, Integer> e : freq.entrySet()) {
            if (e.getValue() > best) {
                best = e.getValue();
                gram = e.getKey();
            }
        }
        return gram == null ? 0 : PythonText.length(gram) * best;
    }

    /** find_all_duplicate: "".join(gram), counted by length and skipped past when seen before. */
    static long duplicatedReference(List<String> words, int n) {
        Set<String> seen = new HashSet<>();
        long chars = 0;
        int i = 0;
        while (i + n <= words.size()) {
            String g = String.join("", words.subList(i, i + n));
            if (seen.contains(g)) {
                chars += PythonText.length(g);
                i += n;
            } else {
                seen.add(g);
                i++;
            }
        }
        return chars;
    }

    @Test
    void smallCases() {
        // "a b" 3 times: (3 chars) x 3
        assertEquals(9, new WordNgrams(List.of("a", "b", "a", "b", "a", "b")).topChars(2));
        // all seen once: the first seen ("aaa b", 5 chars), as Counter.most_common(1) takes it, not the longest
        assertEquals(5, new WordNgrams(List.of("aaa", "b", "c", "dddd")).topChars(2));
        assertEquals(0, new WordNgrams(List.of("a")).topChars(2));
        assertEquals(0, new WordNgrams(List.of()).duplicatedChars(5));
        // 1 2 3 | 1 2 3 -> the second "123" repeats: 3 chars, then skip past it
        assertEquals(3, new WordNgrams(List.of("1", "2", "3", "1", "2", "3")).duplicatedChars(3));
        // joined without a separator, as datatrove joins them: "ab"+"c" and "a"+"bc" are the same 2-gram
        assertEquals(3, new WordNgrams(List.of("ab", "c", "a", "bc")).duplicatedChars(2));
        // lengths in code points: the clef is one character of two chars, so "\uD834\uDD1E x" is 3, three times
        assertEquals(9, new WordNgrams(List.of("\uD834\uDD1E", "x", "\uD834\uDD1E", "x", "\uD834\uDD1E", "x")).topChars(2));
    }

    /**
     * Random documents over small vocabularies, so that n-grams repeat often and words that join to the same
     * string ("a"+"ba" and "ab"+"a") are common; ties among the most frequent decide the top n-gram often too.
     */
    @Test
    void equalsTheJoinedStringsOnRandomDocuments() {
        String[][] vocabularies = {
                {"a", "b", "ab", "ba", "aa", "aba"},
                {"the", "cat", "sat", "on", "mat", ".", ","},
                {"é", "e\u0301", "\uD834\uDD1E", "x", "x\uD834\uDD1E", ""},
                {"w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9", "w10", "w11", "w12", "w13", "w14", "w15"},
        };
        Random r = new Random(7);
        int checked = 0;
        for (int doc = 0; doc < 2_000; doc++) {
            String[] v = vocabularies[doc % vocabularies.length];
            int size = r.nextInt(doc < 1_000 ? 16 : 300);
            List<String> words = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                // runs copied from earlier in the document, as boilerplate repeats
                if (i > 10 && r.nextInt(8) == 0) {
                    int from = r.nextInt(i - 5), len = 1 + r.nextInt(Math.min(12, size - i));
                    for (int k = 0; k < len && i < size; k++, i++) words.add(words.get(from + k));
                    i--;
                } else {
                    words.add(v[r.nextInt(v.length)]);
                }
            }
            WordNgrams grams = new WordNgrams(words);
            for (int n = 2; n <= 4; n++) assertEquals(topReference(words, n), grams.topChars(n), () -> "top " + words);
            for (int n = 5; n <= 10; n++) assertEquals(duplicatedReference(words, n), grams.duplicatedChars(n), () -> "duplicated " + words);
            checked++;
        }
        assertEquals(2_000, checked);
    }
}
