package dev.crucible.data.pipeline;

import dev.crucible.data.PythonText;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The per-document statistics that filters threshold and {@code data analyze} summarises. Counts
 * are in Unicode code points (as Python's len, which Data-Juicer's thresholds assume). Words are
 * Data-Juicer's ({@link #words(String)}), since the filters that count them are its operators.
 */
public final class TextStats {
    private TextStats() {}

    static boolean isPunctOrSymbol(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION,
                 Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION,
                 Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL, Character.OTHER_SYMBOL -> true;
            default -> false;
        };
    }

    /** Whitespace-separated tokens, as they are (punctuation kept). */
    public static List<String> tokens(String text) {
        List<String> out = new ArrayList<>();
        int n = text.length(), i = 0;
        while (i < n) {
            while (i < n && Character.isWhitespace(text.charAt(i))) i++;
            int s = i;
            while (i < n && !Character.isWhitespace(text.charAt(i))) i++;
            if (i > s) out.add(text.substring(s, i));
        }
        return out;
    }

    /**
     * Data-Juicer's words, as words_num_filter, stopwords_filter, flagged_words_filter and
     * word_repetition_filter take them (ops/common/helper_func.py): the text split on ' ', '\n'
     * and '\t' only, each piece stripped at both ends of {@link #isDataJuicerSpecial
     * SPECIAL_CHARACTERS} (digits among them: "2024" is no word, "abc123" is "abc"), empty ones
     * dropped.
     */
    public static List<String> words(String text) {
        return words(text, false);
    }

    /** As {@link #words(String)}; lowerCase lower-cases each piece before stripping, as words_refinement(lower_case=True) does. */
    public static List<String> words(String text, boolean lowerCase) {
        List<String> out = new ArrayList<>();
        int n = text.length(), s = 0;
        for (int i = 0; i <= n; i++) {
            if (i < n && text.charAt(i) != ' ' && text.charAt(i) != '\n' && text.charAt(i) != '\t') continue;
            if (i > s) {
                String piece = text.substring(s, i);
                // lower-casing first, as Data-Juicer does, matters: 'Г' is special and 'г' is not, 'Π' is not and 'π' is
                String w = PythonText.strip(lowerCase ? piece.toLowerCase(java.util.Locale.ROOT) : piece, TextStats::isDataJuicerSpecial);
                if (!w.isEmpty()) out.add(w);
            }
            s = i + 1;
        }
        return out;
    }

    /** OTHER_SPECIAL_CHARACTERS of Data-Juicer's ops/common/special_characters.py, as it lists them (C1 controls, CJK 一 上 士, π, Г included). */
    private static final String DJ_OTHER_SPECIAL =
            "\u0092\u2009\u0093\u0097\u200A\u009D\u0099\u202F\u0096\u2005\u0095\u0091\u009C\u3000\u2002\u0020\u2008\u0098\u0081\u2003" +
            "\u0082\uFFFC\u0083\u0084\u2019\u201C\u201D\u2013\u30FC\u4E00\u25AC\u2026\u2726\uFFFD\u00AD\u00A3\u200B\u2022\u20AC\u00AB" +
            "\u00BB\u00B0\u00B7\u2550\u00D7\u58EB\uFF3E\u02D8\u21D3\u2193\u2191\u2190\u2192\uFF08\uFF09\u00A7\u2033\u2032\u00B4\u00BF" +
            "\u2212\u00B1\u2208\uFEFF\u00A2\u00F8\u201A\u201E\u00BD\u00BC\u00BE\u00B9\u00B2\u00B3\u2015\u2043\uFF0C\u02CC\u00B8\u2039" +
            "\u203A\u02BA\u02C8\u02BB\u00A6\u2010\u2800\u2030\u0085\u0085\u2011\u2264\u2265\u2016\u25C6\u25CF\u25A0\u25BA\u25BC\u25B2" +
            "\u25B4\u2206\u25BB\u00A1\u2605\u2606\u2731\u02D0\u00BA\u3002\u00AF\u02DC\u00A5\u026A\u2248\u2020\u4E0A\u30F3\uFF1A\u223C" +
            "\u2044\u30FB\u2661\u2713\u2295\u2024\uFF0E\u22C5\u00F7\uFF11\u201F\uFF1B\u060C\u3001\u00A8\u093E\u09BE\u0940\u094D\u0947" +
            "\u25E6\u02DA\u309C\u02BC\u2256\u02BC\u00A4\u30C3\u30C4\u30B7\u2103\u221A\uFF01\u3010\u3011\u203F\u221E\u27A4\uFF5E\u03C0" +
            "\u0647\u06E9\u261B\u20A8\u27A9\u263B\u0E51\u066A\u2665\u0131\u097D\u300A\u2018\u00A9\uFD3F\u066C\uFF1F\u25B7\u0413\u266B" +
            "\u221F\u2122\u00AA\u20AA\u00AE\u300C\u2014\u2756\u300D\uFD3E\u300B";
    private static final java.util.BitSet DJ_SPECIAL_BMP = new java.util.BitSet(1 << 16);

    static {
        // string.punctuation + string.digits + string.whitespace (ASCII only, as Python defines them)
        for (char c : "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~0123456789 \t\n\r\u000B\f".toCharArray()) DJ_SPECIAL_BMP.set(c);
        for (char c : DJ_OTHER_SPECIAL.toCharArray()) DJ_SPECIAL_BMP.set(c);
    }

    /** Emoji that Unicode 16 added (the JDK's Character.isEmoji knows them; emoji 2.2.0 does not). */
    private static final Set<Integer> EMOJI_AFTER_15 = Set.of(0x1FA89, 0x1FA8F, 0x1FABE, 0x1FAC6, 0x1FADC, 0x1FADF, 0x1FAE9);

    /**
     * Data-Juicer's SPECIAL_CHARACTERS: ASCII punctuation, digits and whitespace, its list of other
     * characters, and the single-code-point emoji of the emoji package it pins (2.2.0, Emoji 15.0):
     * exactly the JDK's emoji less # * 0-9 (listed only as keycaps), the regional indicators (only
     * as flags) and Unicode 16's seven new ones (TextStatsTest counts all 1,386).
     */
    static boolean isDataJuicerSpecial(int cp) {
        if (cp < (1 << 16) && DJ_SPECIAL_BMP.get(cp)) return true;
        return cp >= 0x80 && Character.isEmoji(cp) && !(cp >= 0x1F1E6 && cp <= 0x1F1FF) && !EMOJI_AFTER_15.contains(cp);
    }

    /**
     * Tokens with leading and trailing Unicode punctuation and symbols stripped, empty ones dropped:
     * the words of Crucible's own language identifier, which wants "Господин" whole.
     */
    public static List<String> strippedTokens(String text) {
        List<String> out = new ArrayList<>();
        for (String t : tokens(text)) {
            String w = PythonText.strip(t, TextStats::isPunctOrSymbol);
            if (!w.isEmpty()) out.add(w);
        }
        return out;
    }

    /** Share of code points that are letters or digits (0 for an empty text). */
    public static double alnumRatio(String text) {
        int n = 0, a = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            n++;
            if (Character.isLetterOrDigit(cp)) a++;
        }
        return n == 0 ? 0 : (double) a / n;
    }

    /** Share of code points in Data-Juicer's SPECIAL_CHARACTERS ({@link #isDataJuicerSpecial}), as its special_characters_filter counts them. */
    public static double specialCharRatio(String text) {
        int n = 0, s = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            n++;
            if (isDataJuicerSpecial(cp)) s++;
        }
        return n == 0 ? 0 : (double) s / n;
    }

    /**
     * Data-Juicer's character repetition ratio: over all character n-grams, the frequencies of the
     * most frequent sqrt(#distinct) n-grams that occur more than once, divided by the number of
     * n-grams. 0 when the text is shorter than n.
     */
    public static double charRepetitionRatio(String text, int n) {
        int[] cps = text.codePoints().toArray();
        if (cps.length < n) return 0;
        Map<String, Integer> freq = new HashMap<>();
        for (int i = 0; i + n <= cps.length; i++) freq.merge(new String(cps, i, n), 1, Integer::sum);
        int[] counts = freq.values().stream().mapToInt(Integer::intValue).toArray();
        Arrays.sort(counts);
        int distinct = counts.length, once = 0;
        long total = 0;
        for (int c : counts) {
            total += c;
            if (c == 1) once++;
        }
        int take = Math.min((int) Math.sqrt(distinct), distinct - once);
        long rep = 0;
        for (int i = 0; i < take; i++) rep += counts[distinct - 1 - i];
        return (double) rep / total;
    }

    /**
     * Data-Juicer's word repetition ratio: the share of word n-gram occurrences whose n-gram occurs
     * more than once. 0 when there are fewer than n words.
     */
    public static double wordRepetitionRatio(List<String> words, int n) {
        if (words.size() < n) return 0;
        Map<List<String>, Integer> freq = new HashMap<>();
        for (int i = 0; i + n <= words.size(); i++) freq.merge(words.subList(i, i + n), 1, Integer::sum);
        long total = 0, rep = 0;
        for (int c : freq.values()) {
            total += c;
            if (c > 1) rep += c;
        }
        return (double) rep / total;
    }

    /** Share of words (lower-cased) that are in the set; 0 for no words. */
    public static double wordShare(List<String> words, Set<String> set) {
        if (words.isEmpty()) return 0;
        int hit = 0;
        for (String w : words) if (set.contains(w.toLowerCase(java.util.Locale.ROOT))) hit++;
        return (double) hit / words.size();
    }

    /**
     * Data-Juicer's average_line_length_filter: the text's length, its line breaks included, over
     * the number of lines; 0 for a text without lines.
     */
    public static double averageLineLength(String text) {
        int lines = PythonText.splitLines(text).size();
        return lines == 0 ? 0 : (double) PythonText.length(text) / lines;
    }

    /** Data-Juicer's maximum_line_length_filter: the longest line's length; 0 for a text without lines. */
    public static int maxLineLength(String text) {
        int max = 0;
        for (String l : PythonText.splitLines(text)) max = Math.max(max, PythonText.length(l));
        return max;
    }

    /** UTF-8 length without encoding (a lone surrogate counts 1, as Java's encoder writes '?'). */
    public static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n++;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else if (Character.isSurrogate(c)) n += 1;
            else n += 3;
        }
        return n;
    }
}
