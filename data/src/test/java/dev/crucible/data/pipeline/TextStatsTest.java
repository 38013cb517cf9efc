package dev.crucible.data.pipeline;

import dev.crucible.data.PythonText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Each statistic against values worked out by hand. */
class TextStatsTest {
    @Test
    void wordsStripPunctuationButKeepInnerMarks() {
        assertEquals(List.of("Hello", "world", "it's", "e-mail"), TextStats.words("  Hello, world! -- it's (e-mail) ... "));
        assertEquals(4, PythonText.length("a😀bc"));
    }

    @Test
    void wordsAsDataJuicerRefinesThem() {
        // each expected list is what Data-Juicer's get_words_from_document + words_refinement(strip_chars=SPECIAL_CHARACTERS)
        // gives in Python with emoji 2.2.0 (the version it pins)
        assertEquals(List.of("In", "we", "had", "rd", "place", "abc", "and"), TextStats.words("In 2024 we had 3rd place, abc123 and 50%"));
        assertEquals(List.of("a\u00A0b", "c\rd"), TextStats.words("a\u00A0b c\rd"), "split on ' ', \\n and \\t only");
        assertEquals(List.of("hi", "\uD83C\uDDE9\uD83C\uDDEA", "x", "y"), TextStats.words("\uD83D\uDE00hi\uD83D\uDE00 \uD83C\uDDE9\uD83C\uDDEA \u2728 \u00A9x \u263Ay"));
        assertEquals(List.of("\u4E2A", "\u6D77"), TextStats.words("\u4E00\u4E2A \u4E0A\u6D77"), "\u4E00 and \u4E0A are on its list");
        assertEquals(List.of("\u043E\u0441\u043F\u043E\u0434\u0438\u043D", "\u03A0\u03AC\u03C1\u03B1"), TextStats.words("\u0413\u043E\u0441\u043F\u043E\u0434\u0438\u043D \u03A0\u03AC\u03C1\u03B1"));
        assertEquals(List.of("\u0433\u043E\u0441\u043F\u043E\u0434\u0438\u043D", "\u03AC\u03C1\u03B1"), TextStats.words("\u0413\u043E\u0441\u043F\u043E\u0434\u0438\u043D \u03A0\u03AC\u03C1\u03B1", true),
                "lower-cased before stripping");
    }

    @Test
    void dataJuicerEmojiAreTheSingleCodePointKeysOfEmoji220() {
        int n = 0;
        for (int cp = 0x80; cp <= Character.MAX_CODE_POINT; cp++) if (Character.isEmoji(cp) && TextStats.isDataJuicerSpecial(cp)) n++;
        // len([k for k in emoji.EMOJI_DATA if len(k) == 1]) with emoji 2.2.0; a JDK with a newer Unicode must not add to it
        assertEquals(1386, n);
        assertTrue(TextStats.isDataJuicerSpecial('7') && TextStats.isDataJuicerSpecial('\u2014') && !TextStats.isDataJuicerSpecial('\u00E9'));
    }

    @Test
    void ratios() {
        assertEquals(3.0 / 5, TextStats.alnumRatio("ab1 !"), 1e-12);
        assertEquals(2.0 / 5, TextStats.specialCharRatio("ab1 !") - 1.0 / 5, 1e-12); // '1', ' ', '!' are special
        // Data-Juicer's SPECIAL_CHARACTERS, not Unicode's punctuation: '¶' is not in it, '¡' and the emoji are
        assertEquals(0, TextStats.specialCharRatio("a\u00B6"), 1e-12);
        assertEquals(2.0 / 3, TextStats.specialCharRatio("a\u00A1\uD83D\uDE00"), 1e-12);
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
    void lineLengthsAsDataJuicerComputesThem() {
        // Python: "ab\n\nabcd\n".splitlines() == ["ab", "", "abcd"]; len(text) / 3 == 9 / 3
        assertEquals(List.of("ab", "", "abcd"), PythonText.splitLines("ab\n\nabcd\n"));
        assertEquals(3.0, TextStats.averageLineLength("ab\n\nabcd\n"), 1e-12);
        assertEquals(4, TextStats.maxLineLength("ab\n\nabcd\n"));
        // every break splitlines knows; \r\n is one break
        String all = "a\rb\r\nc\u000Bd\fe\u001Cf\u001Dg\u001Eh\u0085i\u2028j\u2029k";
        assertEquals(List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"), PythonText.splitLines(all));
        assertEquals(22.0 / 11, TextStats.averageLineLength(all), 1e-12);
        assertEquals(List.of("x\u001Fy", ""), PythonText.splitLines("x\u001Fy\n\n"), "\\x1f is not a line break; a trailing break adds no line");
        assertEquals(List.of(), PythonText.splitLines(""));
        assertEquals(0, TextStats.averageLineLength(""));
        assertEquals(0, TextStats.maxLineLength(""));
        assertEquals(List.of("", ""), PythonText.splitLines("\n\n"));
        assertEquals(1.0, TextStats.averageLineLength("\n\n"), 1e-12);
        assertEquals(3, TextStats.maxLineLength("a😀b\r\nc"), "code points, as Python's len");
    }

    @Test
    void utf8LengthMatchesEncoding() {
        String s = "aé€😀\uD800x";
        assertEquals(s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, TextStats.utf8Length(s));
    }
}
