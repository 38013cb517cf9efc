package dev.crucible.data.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Each statistic against values worked out by hand. */
class TextStatsTest {
    @Test
    void wordsStripPunctuationButKeepInnerMarks() {
        assertEquals(List.of("Hello", "world", "it's", "e-mail"), TextStats.words("  Hello, world! -- it's (e-mail) ... "));
        assertEquals(4, TextStats.length("a😀bc"));
    }

    @Test
    void ratios() {
        assertEquals(3.0 / 5, TextStats.alnumRatio("ab1 !"), 1e-12);
        assertEquals(2.0 / 5, TextStats.specialCharRatio("ab1 !") - 1.0 / 5, 1e-12); // '1', ' ', '!' are special
        assertEquals(0, TextStats.alnumRatio(""));
        assertEquals(0.5, TextStats.wordShare(List.of("The", "cat", "of", "x"), Set.of("the", "of")), 1e-12);
    }

    @Test
    void characterRepetitionAsDataJuicerDefinesIt() {
        // "aa" x3: one distinct n-gram seen 3 times -> take min(sqrt(1), 1) = 1 -> 3/3
        assertEquals(1.0, TextStats.charRepetitionRatio("aaaa", 2), 1e-12);
        // abc, bca, cab, abc: {abc:2, bca:1, cab:1}; take min(floor(sqrt 3) = 1, 3 - 2 = 1) -> 2/4
        assertEquals(0.5, TextStats.charRepetitionRatio("abcabc", 3), 1e-12);
        assertEquals(0, TextStats.charRepetitionRatio("ab", 3));
    }

    @Test
    void wordRepetitionCountsOccurrencesOfRepeatedNgrams() {
        assertEquals(1.0, TextStats.wordRepetitionRatio(List.of("a", "b", "a", "b", "a"), 2), 1e-12);
        assertEquals(0.5, TextStats.wordRepetitionRatio(List.of("a", "b", "c", "a", "b"), 2), 1e-12);
        assertEquals(0, TextStats.wordRepetitionRatio(List.of("a"), 2));
    }

    @Test
    void lineLengths() {
        assertEquals(List.of("ab", "", "abcd"), TextStats.lines("ab\n\nabcd\n"));
        assertEquals(2.0, TextStats.averageLineLength("ab\n\nabcd\n"), 1e-12);
        assertEquals(4, TextStats.maxLineLength("ab\n\nabcd\n"));
    }

    @Test
    void utf8LengthMatchesEncoding() {
        String s = "aé€😀\uD800x";
        assertEquals(s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, TextStats.utf8Length(s));
    }
}
