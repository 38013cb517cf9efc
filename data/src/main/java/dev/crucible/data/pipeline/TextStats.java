package dev.crucible.data.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The per-document statistics that filters threshold and {@code data analyze} summarises. Counts
 * are in Unicode code points (as Python's len, which Data-Juicer's thresholds assume). A word is a
 * whitespace-separated token with leading and trailing punctuation and symbols stripped; tokens
 * that are only punctuation are not words.
 */
public final class TextStats {
    private TextStats() {}

    public static int length(String text) {
        return text.codePointCount(0, text.length());
    }

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

    /** Words: tokens with leading/trailing punctuation and symbols stripped, empty ones dropped. */
    public static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        for (String t : tokens(text)) {
            String w = strip(t);
            if (!w.isEmpty()) out.add(w);
        }
        return out;
    }

    static String strip(String token) {
        int s = 0, e = token.length();
        while (s < e) {
            int cp = token.codePointAt(s);
            if (!isPunctOrSymbol(cp)) break;
            s += Character.charCount(cp);
        }
        while (e > s) {
            int cp = token.codePointBefore(e);
            if (!isPunctOrSymbol(cp)) break;
            e -= Character.charCount(cp);
        }
        return token.substring(s, e);
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

    /** Share of code points that are punctuation, symbols (incl. emoji), digits or whitespace. */
    public static double specialCharRatio(String text) {
        int n = 0, s = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            n++;
            if (isPunctOrSymbol(cp) || Character.isDigit(cp) || Character.isWhitespace(cp)) s++;
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
     * Python's str.splitlines(), which Data-Juicer's line filters use: lines end at \n, \r, \r\n,
     * \v, \f, \x1c, \x1d, \x1e, \x85, \u2028 and \u2029; a break at the very end starts no
     * further line, and the empty text has none.
     */
    public static List<String> splitLines(String text) {
        List<String> out = new ArrayList<>();
        int start = 0, n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (!isLineBreak(c)) continue;
            out.add(text.substring(start, i));
            if (c == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') i++;
            start = i + 1;
        }
        if (start < n) out.add(text.substring(start));
        return out;
    }

    static boolean isLineBreak(char c) {
        return switch (c) {
            case '\n', '\r', '\u000B', '\f', '\u001C', '\u001D', '\u001E', '\u0085', '\u2028', '\u2029' -> true;
            default -> false;
        };
    }

    /**
     * Data-Juicer's average_line_length_filter: the text's length, its line breaks included, over
     * the number of lines; 0 for a text without lines.
     */
    public static double averageLineLength(String text) {
        int lines = splitLines(text).size();
        return lines == 0 ? 0 : (double) length(text) / lines;
    }

    /** Data-Juicer's maximum_line_length_filter: the longest line's length; 0 for a text without lines. */
    public static int maxLineLength(String text) {
        int max = 0;
        for (String l : splitLines(text)) max = Math.max(max, length(l));
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
