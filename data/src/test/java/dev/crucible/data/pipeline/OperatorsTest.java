package dev.crucible.data.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every operator on small documents whose outcome is worked out by hand, thresholds at their edges. */
class OperatorsTest {
    static Operator op(String name, Object... kv) {
        return ((Operators.PerDoc) Operators.create(name, Params.of(kv).asMap())).op();
    }

    static boolean keeps(Operator op, String text) {
        return !op.apply(new Doc("t", text)).removed();
    }

    static String text(Operator op, String text) {
        Doc d = op.apply(new Doc("t", text)).doc();
        return d == null ? null : d.text();
    }

    @Test
    void rangeFiltersAreInclusiveAtBothEnds() {
        Operator len = op("text_length_filter", "min_len", 5, "max_len", 6);
        assertFalse(keeps(len, "abcd"));
        assertTrue(keeps(len, "abcde"));
        assertTrue(keeps(len, "abcdef"));
        assertFalse(keeps(len, "abcdefg"));
        Operator.Outcome o = len.apply(new Doc("t", "abcd"));
        assertEquals("min_len", o.rule());
        assertEquals("length 4.000 < min_len 5.000", o.detail());
        Operator words = op("words_num_filter", "min_num", 3);
        assertFalse(keeps(words, "one, two !!"));
        assertTrue(keeps(words, "one, two three"));
        assertTrue(keeps(op("alphanumeric_filter", "min_ratio", 0.6), "ab1 !"));
        assertFalse(keeps(op("alphanumeric_filter", "min_ratio", 0.61), "ab1 !"));
        assertFalse(keeps(op("special_characters_filter", "max_ratio", 0.5), "ab1 !"));
        assertTrue(keeps(op("special_characters_filter", "max_ratio", 0.6), "ab1 !"));
        assertFalse(keeps(op("character_repetition_filter", "rep_len", 3, "max_ratio", 0.49), "abcabc"));
        assertTrue(keeps(op("character_repetition_filter", "rep_len", 3, "max_ratio", 0.5), "abcabc"));
        assertFalse(keeps(op("word_repetition_filter", "rep_len", 2, "max_ratio", 0.4), "A b c a b"));
        assertTrue(keeps(op("word_repetition_filter", "rep_len", 2, "max_ratio", 0.5), "A b c a b"));
        assertTrue(keeps(op("stopwords_filter", "min_ratio", 0.5), "The cat of Rome"));
        assertFalse(keeps(op("stopwords_filter", "min_ratio", 0.51), "The cat of Rome"));
        assertTrue(keeps(op("flagged_words_filter", "max_ratio", 0.2), "what the fuck is this"));
        assertFalse(keeps(op("flagged_words_filter", "max_ratio", 0.19), "what the fuck is this"));
        assertTrue(keeps(op("flagged_words_filter", "max_ratio", 0.2, "words", java.util.List.of("spam")), "what the fuck is this"));
        // Data-Juicer: len(text) / len(text.splitlines()) = 8 / 3, the two line breaks counted
        assertTrue(keeps(op("average_line_length_filter", "min_len", 8.0 / 3), "ab\n\nabcd"));
        assertFalse(keeps(op("average_line_length_filter", "min_len", 2.67), "ab\n\nabcd"));
        assertTrue(keeps(op("average_line_length_filter", "min_len", 0, "max_len", 3.0), "ab\r\rabcd"), "\\r ends a line, as in splitlines: 8 / 3");
        assertFalse(keeps(op("maximum_line_length_filter", "min_len", 1, "max_len", 3), "ab\n\nabcd"));
    }

    @Test
    void mappers() {
        assertEquals("mail  or () now; @Override me@x.c a@b", text(op("remove_email_mapper"), "mail j.doe+x@mail.example.org or (x.y@z.de) now; @Override me@x.c a@b"));
        assertEquals("mail <EMAIL>.", text(op("remove_email_mapper", "repl", "<EMAIL>"), "mail j.doe@mail.example.org."));
        assertEquals("see . and ", text(op("remove_links_mapper"), "see https://x.org/a?b=1. and www.example.com"));
        assertEquals("a b\nc", text(op("whitespace_normalization_mapper"), " a\u00A0b \t\r\nc\u200B "));
        assertEquals("\"quoted\" - it's...", text(op("punctuation_normalization_mapper"), "“quoted” — it’s…").replace("  ", " "));
        assertEquals("\u00E9", text(op("unicode_normalization_mapper"), "e\u0301"));
        String code = "/*\n * Copyright (c) 2024 Someone\n */\npackage a;\nclass A {}\n";
        assertEquals("package a;\nclass A {}\n", text(op("clean_copyright_mapper"), code));
        String doc = "/** A class. */\nclass A {}\n";
        assertEquals(doc, text(op("clean_copyright_mapper"), doc));
        assertEquals("x = 1\n", text(op("clean_copyright_mapper"), "# Copyright 2020 X\n# License: MIT\nx = 1\n"));
    }

    static String words(int n, String word) {
        return (word + " ").repeat(n).strip();
    }

    @Test
    void gopherQuality() {
        Operator g = op("gopher_quality_filter");
        String good = "The report of the committee and the vote that we have with us today is a good thing for the people of Europe. ".repeat(3);
        assertTrue(keeps(g, good), () -> g.apply(new Doc("t", good)).detail());
        assertEquals("short_doc", g.apply(new Doc("t", "The cat and the dog.")).rule());
        assertEquals("not_enough_stop_words", g.apply(new Doc("t", words(60, "house"))).rule());
        assertEquals("below_avg_word_length", g.apply(new Doc("t", words(60, "to of"))).rule());
        // datatrove's words split '#' off: 10 '#' / (72 + 20) words = 0.109 > 0.1
        assertEquals("too_many_hashes", g.apply(new Doc("t", good + " #a".repeat(10))).rule());
        assertTrue(keeps(g, good + " #a".repeat(9)), "9 / 90 = 0.1 is not beyond the threshold");
        // datatrove tests each threshold's truth: 0 turns the rule off rather than removing every '#'
        assertTrue(keeps(op("gopher_quality_filter", "max_symbol_word_ratio", 0), good + " #a".repeat(10)));
        // stop words are counted distinct (len(stop_words & set(words))): "the" thirty times is one
        assertEquals("not_enough_stop_words", g.apply(new Doc("t", "the house ".repeat(30))).rule());
        assertTrue(keeps(g, "the house of ".repeat(20)));
        // and case counts, as in datatrove: "The" and "With" are not "the" and "with"
        assertEquals("not_enough_stop_words", g.apply(new Doc("t", "The house With garden ".repeat(15))).rule());
        assertEquals("too_many_bullets", g.apply(new Doc("t", ("- the house of and with\n").repeat(20))).rule());
        assertEquals("below_alpha_threshold", g.apply(new Doc("t", good + " 1234".repeat(20))).rule());
    }

    @Test
    void gopherRepetition() {
        Operator g = op("gopher_repetition_filter");
        assertTrue(keeps(g, "One line here, and it is long enough that no short n-gram is a fifth of it.\nAnother line there, with other words."));
        // as datatrove: an n-gram seen once is the most frequent one of a short text: "One line here" is 13 of 62 characters
        assertEquals("top_3_gram", g.apply(new Doc("t", "One line here.\nAnother line there.\nA third, different one.")).rule());
        // 2 of 4 lines repeat an earlier one: 0.5 > 0.3
        assertEquals("dup_line_frac", g.apply(new Doc("t", "alpha beta\ngamma delta\nalpha beta\ngamma delta")).rule());
        // re.split("\n+") keeps the empty string after a final newline: 1 duplicate of 6 lines, not of 5
        String trailing = "alpha one\nbeta two\nalpha one\ngamma three\ndelta four\n";
        assertTrue(keeps(op("gopher_repetition_filter", "dup_line_frac", 0.18, "dup_line_char_frac", 0.5, "top_2_gram_frac", 1,
                "top_3_gram_frac", 1, "top_4_gram_frac", 1, "dup_5_gram_frac", 1), trailing));
        assertEquals("dup_line_frac", op("gopher_repetition_filter", "dup_line_frac", 0.16).apply(new Doc("t", trailing)).rule());
        assertEquals(2, Gopher.duplicates(new String[] {"a", "b", "a", "a"})[0]);
        assertEquals(2, Gopher.duplicates(new String[] {"a", "b", "a", "a"})[1]);
    }

    @Test
    void c4KeepsSentencesAndDropsBoilerplate() {
        Operator c4 = op("c4_quality_filter", "min_num_sentences", 2);
        String text = "This is a proper sentence. And another one here!\nMenu Home About\nPlease enable javascript in your browser.\nRead our privacy policy now.\nThe last line is fine too.";
        assertEquals("This is a proper sentence. And another one here!\nThe last line is fine too.", text(c4, text));
        assertNull(text(c4, "Lorem ipsum dolor sit amet. More text here now."));
        assertEquals("curly_bracket", c4.apply(new Doc("t", "function f() { return 1; } is fine.")).rule());
        assertEquals("too_few_sentences", op("c4_quality_filter").apply(new Doc("t", "Only one sentence here.")).rule());
    }

    /** Where datatrove's Python reads a text otherwise than Java's defaults would. */
    @Test
    void c4ReadsLinesWordsAndSentencesAsDatatrove() {
        Operator two = op("c4_quality_filter", "min_num_sentences", 2);
        // str.splitlines breaks at U+2028 too; String.lines does not, and the text would be one line with a short middle
        assertEquals("First proper line here.\nSecond proper line here.",
                text(two, "First proper line here.\u2028Menu Home About\u2028Second proper line here."));
        // str.strip takes the no-break space off (String.strip does not), so the line ends in its period
        assertEquals("A line with a no-break space.\nAnd a second line here.", text(two, "\u00A0A line with a no-break space.\u00A0\nAnd a second line here."));
        // Python's \d in the citation marks is any decimal digit, the Arabic-Indic one too
        assertEquals("First line with a cite.\nSecond proper line here.", text(two, "First line with a cite[\u0661].\nSecond proper line here."));
        // NLTK's sentences: titles and initials end none ("Mr." "J."), a question and an exclamation do
        assertEquals("too_few_sentences", two.apply(new Doc("t", "Dr. Smith met Mr. J. Jones at noon.")).rule());
        assertEquals("Did Dr. Smith come? Yes he did!", text(two, "Did Dr. Smith come? Yes he did!"));
        // sentences instead of lines: the third has no terminal punctuation; the kept ones joined by a space
        Operator sentences = op("c4_quality_filter", "split_paragraph", false, "min_num_sentences", 2);
        assertEquals("One two three. Four five six!", text(sentences, "One two three.\n Four five six! seven eight nine"));
        // -1 turns a limit off
        String longWord = "x".repeat(1_500);
        assertNull(text(two, "A " + longWord + " word. Another proper sentence here."));
        assertEquals("A " + longWord + " word. Another proper sentence here.",
                text(op("c4_quality_filter", "min_num_sentences", 2, "max_word_length", -1), "A " + longWord + " word. Another proper sentence here."));
        assertEquals("Short.", text(op("c4_quality_filter", "min_num_sentences", -1, "min_words_per_line", -1), "Short."));
    }

    @Test
    void finewebQuality() {
        Operator f = op("fineweb_quality_filter");
        String prose = "This is a long enough line that ends with a full stop.\nAnd here is another line that is long enough, too.";
        assertTrue(keeps(f, prose));
        assertEquals("line_punct_ratio", f.apply(new Doc("t", "no punctuation at all on this long line of words\nnor on this one which is also long")).rule());
        assertEquals("short_line_ratio", f.apply(new Doc("t", "Short.\nTiny.\nSmall.\nA longer line that is not short at all, really.")).rule());
        assertEquals("char_dup_ratio", f.apply(new Doc("t", prose + "\n" + prose.lines().findFirst().get())).rule());
        assertEquals("list_ratio", op("fineweb_quality_filter", "short_line_thr", 1.0).apply(new Doc("t", "One.\nTwo.\nThree.\nFour four.")).rule());
        // datatrove's TERMINAL_PUNCTUATION has no ellipsis: 1 of 9 lines ends in one of its characters, 0.11 < 0.12
        String trailing = "A line that trails off into nothing at all\u2026\n".repeat(8) + "But this line ends the way a sentence does.";
        assertEquals("line_punct_ratio", f.apply(new Doc("t", trailing)).rule());
        assertTrue(keeps(op("fineweb_quality_filter", "stop_chars", java.util.List.of("\u2026", "."), "char_duplicates_ratio", 1.0), trailing));
        assertTrue(keeps(f, "Le\u00E7ons de la vie quotidienne, racont\u00E9es simplement\u0964\nUne autre ligne qui finit bien ainsi\u3002"), "danda, ideographic full stop");
        // split_into_words counts punctuation: 3 newlines / (7 words + 4 periods) = 0.27 keeps; words alone gave 3 / 7 = 0.43
        assertTrue(keeps(op("fineweb_quality_filter", "short_line_thr", 1.0), "One two.\nThree four.\nFive six.\nEnd."));
    }

    @Test
    void languageIdentification() {
        LanguageId id = new LanguageId();
        assertEquals("en", id.identify("The committee has voted on the report, and it was not what we expected of them.").lang());
        assertEquals("de", id.identify("Der Ausschuss hat über den Bericht abgestimmt, und es war nicht das, was wir erwartet haben.").lang());
        assertEquals("fr", id.identify("Le comité a voté sur le rapport, et ce n'était pas ce que nous attendions de lui.").lang());
        assertEquals(LanguageId.UNKNOWN, id.identify("int x = y + 1;").lang());
        // an even mix of two languages scores about one half
        double mixed = id.identify("The house is big and the garden was small. Der Garten ist nicht groß und das Haus auch nicht.").score();
        assertTrue(mixed > 0.3 && mixed < 0.7, "mixed " + mixed);
        Operator f = op("language_id_score_filter", "lang", "en", "min_score", 0.5);
        Doc kept = f.apply(new Doc("t", "The committee has voted on the report, and it was not what we expected.")).doc();
        assertEquals("en", kept.meta("lang"));
        assertEquals("other_language", f.apply(new Doc("t", "Der Ausschuss hat über den Bericht abgestimmt, und es war nicht das.")).rule());
    }

    @Test
    void javaSyntax() {
        Operator j = op("java_syntax_filter");
        assertTrue(keeps(j, "package a; import b.C; class A { int f() { return C.g(); } }"));
        Operator.Outcome o = j.apply(new Doc("t", "class A {\n  int f() { return 1 }\n}"));
        assertTrue(o.removed());
        assertTrue(o.detail().startsWith("line 2:"), o.detail());
    }

    @Test
    void whereRestrictsAnOperatorToMatchingDocuments() {
        Operator f = ((Operators.PerDoc) Operators.create("text_length_filter", Map.of("min_len", 100, "where", Map.of("domain", "code")))).op();
        assertTrue(f.apply(new Doc("a", "short", Map.of("domain", "prose"))).doc() != null);
        assertTrue(f.apply(new Doc("b", "short", Map.of("domain", "code"))).removed());
    }

    @Test
    void badParametersAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Operators.create("text_length_filter", Map.of("min_lenn", 3)));
        assertEquals("unknown parameter 'min_lenn' (allowed: max_len, min_len, where)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Operators.create("text_length_filter", Map.of("min_len", "ten")));
        assertEquals("parameter 'min_len' must be a number, got 'ten'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Operators.create("text_length_filter", Map.of("min_len", 10, "max_len", 5)));
        assertTrue(e.getMessage().contains("must not exceed"));
        e = assertThrows(IllegalArgumentException.class, () -> Operators.create("no_such_filter", Map.of()));
        assertTrue(e.getMessage().startsWith("unknown operator 'no_such_filter' (known: unicode_normalization_mapper"));
    }
}
