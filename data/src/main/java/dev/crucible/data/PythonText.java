package dev.crucible.data;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Python's string semantics, where the tools Crucible's operators and metrics are defined by
 * (datatrove, Data-Juicer, lm-evaluation-harness) depend on them: what str.isspace calls whitespace
 * (strip, split, re's \s), str.splitlines, len() in code points, and len(re.split(r"\s+", s)) as a
 * word count. Java's own notions differ at the edges (String.strip keeps U+00A0 and U+0085,
 * String.lines breaks at neither \f nor U+2028, String.length counts UTF-16 units), and those edges
 * change a filter's verdict, a normalised score or a word perplexity.
 */
public final class PythonText {
    private PythonText() {}

    /**
     * str.isspace for one code point: category Zs or bidirectional class WS, B or S, which is the JDK's
     * whitespace with the no-break spaces, plus U+0085 ({@code PythonTextTest} checks every code point).
     */
    public static boolean isSpace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }

    /** s.strip(). */
    public static String strip(String s) {
        return strip(s, PythonText::isSpace);
    }

    /** s.strip(chars), the characters given as a test of code points. */
    public static String strip(String s, IntPredicate chars) {
        int a = lstripStart(s, chars);
        return s.substring(a, Math.max(a, rstripLength(s, chars)));
    }

    /** s.lstrip(). */
    public static String stripLeading(String s) {
        return stripLeading(s, PythonText::isSpace);
    }

    /** s.lstrip(chars). */
    public static String stripLeading(String s, IntPredicate chars) {
        return s.substring(lstripStart(s, chars));
    }

    /** s.rstrip(). */
    public static String stripTrailing(String s) {
        return s.substring(0, rstripLength(s));
    }

    private static int lstripStart(String s, IntPredicate chars) {
        int a = 0;
        while (a < s.length()) {
            int cp = s.codePointAt(a);
            if (!chars.test(cp)) break;
            a += Character.charCount(cp);
        }
        return a;
    }

    /** The UTF-16 length of s.rstrip(). */
    public static int rstripLength(String s) {
        return rstripLength(s, PythonText::isSpace);
    }

    private static int rstripLength(String s, IntPredicate chars) {
        int end = s.length();
        while (end > 0) {
            int cp = s.codePointBefore(end);
            if (!chars.test(cp)) break;
            end -= Character.charCount(cp);
        }
        return end;
    }

    /** s.split(): the runs of whitespace separate, none kept, no empty pieces. */
    public static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i <= s.length(); i++) {
            boolean space = i == s.length() || isSpace(s.charAt(i));
            if (space && start >= 0) {
                out.add(s.substring(start, i));
                start = -1;
            } else if (!space && start < 0) {
                start = i;
            }
        }
        return out;
    }

    /**
     * s.splitlines(): lines end at \n, \r, \r\n, \v, \f, \x1c, \x1d, \x1e, \x85, U+2028 and U+2029; a
     * break at the very end starts no further line, and the empty text has none.
     */
    public static List<String> splitLines(String s) {
        List<String> out = new ArrayList<>();
        int start = 0, n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (!isLineBreak(c)) continue;
            out.add(s.substring(start, i));
            if (c == '\r' && i + 1 < n && s.charAt(i + 1) == '\n') i++;
            start = i + 1;
        }
        if (start < n) out.add(s.substring(start));
        return out;
    }

    static boolean isLineBreak(char c) {
        return switch (c) {
            case '\n', '\r', '\u000B', '\f', '\u001C', '\u001D', '\u001E', '\u0085', '\u2028', '\u2029' -> true;
            default -> false;
        };
    }

    /** len(s): code points. */
    public static int length(String s) {
        return s.codePointCount(0, s.length());
    }

    /**
     * len(re.split(r"\s+", s)): one more than the runs of whitespace, so leading or trailing whitespace
     * counts an empty word, as lm-evaluation-harness counts it (its wikitext pages end in a newline).
     */
    public static int words(String s) {
        int runs = 0;
        boolean inRun = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            boolean space = isSpace(cp);
            if (space && !inRun) runs++;
            inRun = space;
            i += Character.charCount(cp);
        }
        return runs + 1;
    }
}
