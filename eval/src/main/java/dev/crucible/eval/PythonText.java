package dev.crucible.eval;

/**
 * Python's string semantics where lm-evaluation-harness's numbers depend on them: what str.isspace
 * calls whitespace (rstrip, re's \s), len() in code points, and len(re.split(r"\s+", s)) as its word
 * count. Java's own notions differ at the edges (String.strip keeps U+00A0 and U+0085, String.length
 * counts UTF-16 units), and those edges change a normalised score or a word perplexity.
 */
final class PythonText {
    private PythonText() {}

    /** str.isspace for one code point: general category Zs, or bidirectional class WS, B or S. */
    static boolean isSpace(int cp) {
        if (Character.getType(cp) == Character.SPACE_SEPARATOR) return true;
        byte d = Character.getDirectionality(cp);
        return d == Character.DIRECTIONALITY_WHITESPACE || d == Character.DIRECTIONALITY_PARAGRAPH_SEPARATOR
                || d == Character.DIRECTIONALITY_SEGMENT_SEPARATOR;
    }

    /** The UTF-16 length of s.rstrip(). */
    static int rstripLength(String s) {
        int end = s.length();
        while (end > 0) {
            int cp = s.codePointBefore(end);
            if (!isSpace(cp)) break;
            end -= Character.charCount(cp);
        }
        return end;
    }

    /** len(s): code points. */
    static int length(String s) {
        return s.codePointCount(0, s.length());
    }

    /**
     * len(re.split(r"\s+", s)): one more than the runs of whitespace, so leading or trailing whitespace
     * counts an empty word, as the harness counts it (its wikitext pages end in a newline).
     */
    static int words(String s) {
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
