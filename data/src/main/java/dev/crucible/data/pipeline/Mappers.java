package dev.crucible.data.pipeline;

import java.text.Normalizer;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Operators that rewrite text: normalisation and removal of emails, links and copyright headers. */
public final class Mappers {
    private Mappers() {}

    /** A mapper from a text function; the outcome says "changed" only when the text differs. */
    record TextMapper(String name, UnaryOperator<String> fn) implements Operator {
        @Override
        public Outcome apply(Doc doc) {
            String out = fn.apply(doc.text());
            if (out.equals(doc.text())) return Outcome.keep(doc);
            return Outcome.changed(doc.withText(out), "changed", (doc.text().length() - out.length()) + " chars fewer");
        }
    }

    static Operator unicodeNormalization(Params p) {
        Normalizer.Form form;
        String f = p.string("form", "NFC");
        try {
            form = Normalizer.Form.valueOf(f);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("parameter 'form' must be NFC, NFD, NFKC or NFKD, got '" + f + "'");
        }
        return new TextMapper("unicode_normalization_mapper", t -> Normalizer.isNormalized(t, form) ? t : Normalizer.normalize(t, form));
    }

    /**
     * Every Unicode space separator, tab-like control and zero-width character becomes one ASCII
     * space (line breaks are kept), spaces at line ends go, and the text is trimmed.
     */
    static Operator whitespaceNormalization(Params p) {
        return new TextMapper("whitespace_normalization_mapper", Mappers::normalizeWhitespace);
    }

    static String normalizeWhitespace(String t) {
        StringBuilder sb = new StringBuilder(t.length());
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == '\r') {
                if (i + 1 < t.length() && t.charAt(i + 1) == '\n') continue;
                c = '\n';
            }
            if (c == '\n') {
                int e = sb.length();
                while (e > 0 && sb.charAt(e - 1) == ' ') e--;
                sb.setLength(e);
                sb.append('\n');
            } else if (c == '\t' || c == '\u000B' || c == '\f' || Character.getType(c) == Character.SPACE_SEPARATOR) {
                sb.append(' ');
            } else if (c == '\u200B' || c == '\u200C' || c == '\u200D' || c == '\u2060' || c == '\uFEFF' || c == '\u00AD') {
                // zero-width and soft hyphen: invisible, dropped
            } else {
                sb.append(c);
            }
        }
        return sb.toString().strip();
    }

    private static final Map<Character, String> PUNCTUATION = Map.ofEntries(
            Map.entry('，', ","), Map.entry('。', "."), Map.entry('、', ","), Map.entry('„', "\""), Map.entry('”', "\""),
            Map.entry('“', "\""), Map.entry('«', "\""), Map.entry('»', "\""), Map.entry('「', "\""), Map.entry('」', "\""),
            Map.entry('《', "\""), Map.entry('》', "\""), Map.entry('´', "'"), Map.entry('‘', "'"), Map.entry('’', "'"),
            Map.entry('‚', "'"), Map.entry('∶', ":"), Map.entry('：', ":"), Map.entry('？', "?"), Map.entry('！', "!"),
            Map.entry('（', "("), Map.entry('）', ")"), Map.entry('；', ";"), Map.entry('–', "-"), Map.entry('—', " - "),
            Map.entry('．', ". "), Map.entry('～', "~"), Map.entry('…', "..."), Map.entry('━', "-"), Map.entry('〈', "<"),
            Map.entry('〉', ">"), Map.entry('【', "["), Map.entry('】', "]"), Map.entry('％', "%"), Map.entry('►', "-"));

    /** Unicode quotes, dashes, ellipses and full-width punctuation become their ASCII forms. */
    static Operator punctuationNormalization(Params p) {
        return new TextMapper("punctuation_normalization_mapper", t -> {
            StringBuilder sb = null;
            for (int i = 0; i < t.length(); i++) {
                String r = PUNCTUATION.get(t.charAt(i));
                if (r != null && sb == null) sb = new StringBuilder(t.length()).append(t, 0, i);
                if (sb != null) {
                    if (r != null) sb.append(r);
                    else sb.append(t.charAt(i));
                }
            }
            return sb == null ? t : sb.toString();
        });
    }

    static final Pattern EMAIL = Pattern.compile("[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.[A-Za-z]{2,}");
    static final Pattern LINK = Pattern.compile("(?i)\\b(?:https?://|ftp://|www\\.)[^\\s<>\"'()\\[\\]{}]+[^\\s<>\"'()\\[\\]{}.,;:!?]");

    static Operator removeEmail(Params p) {
        String repl = p.string("repl", "");
        return new TextMapper("remove_email_mapper", t -> removeEmails(t, repl));
    }

    private static final String LOCAL_CHARS = ".!#$%&'*+/=?^_`{|}~-";

    /**
     * Scans out from each '@' to the widest candidate and checks it with {@link #EMAIL}: running
     * the pattern over the whole text backtracks at every position, which is slow on code full of
     * annotations.
     */
    static String removeEmails(String t, String repl) {
        int at = t.indexOf('@');
        if (at < 0) return t;
        StringBuilder sb = null;
        int copied = 0;
        for (; at >= 0; at = t.indexOf('@', at + 1)) {
            int s = at;
            while (s > copied && s > 0 && isAscii(t.charAt(s - 1)) && (Character.isLetterOrDigit(t.charAt(s - 1)) || LOCAL_CHARS.indexOf(t.charAt(s - 1)) >= 0)) s--;
            int e = at + 1;
            while (e < t.length() && isAscii(t.charAt(e)) && (Character.isLetterOrDigit(t.charAt(e)) || t.charAt(e) == '.' || t.charAt(e) == '-')) e++;
            while (e > at + 1 && (t.charAt(e - 1) == '.' || t.charAt(e - 1) == '-')) e--;
            while (s < at && t.charAt(s) == '.') s++;
            if (s == at || e == at + 1 || !EMAIL.matcher(t).region(s, e).matches()) continue;
            if (sb == null) sb = new StringBuilder(t.length());
            sb.append(t, copied, s).append(repl);
            copied = e;
            at = e - 1;
        }
        if (sb == null) return t;
        return sb.append(t, copied, t.length()).toString();
    }

    private static boolean isAscii(char c) {
        return c < 0x80;
    }

    static Operator removeLinks(Params p) {
        String repl = p.string("repl", "");
        return new TextMapper("remove_links_mapper", t -> LINK.matcher(t).replaceAll(Matcher.quoteReplacement(repl)));
    }

    private static final Pattern LEADING_BLOCK = Pattern.compile("\\A\\s*/\\*.*?\\*/[ \\t]*\\n?", Pattern.DOTALL);
    private static final Pattern LEADING_LINES = Pattern.compile("\\A(?:\\s*(?://|#)[^\\n]*\\n)+");

    /**
     * A code file's leading comment (one block comment, or a run of // or # line comments) is
     * removed when it mentions a copyright or licence; other leading comments stay.
     */
    static Operator cleanCopyright(Params p) {
        return new TextMapper("clean_copyright_mapper", Mappers::cleanCopyright);
    }

    static String cleanCopyright(String t) {
        for (Pattern pat : new Pattern[] {LEADING_BLOCK, LEADING_LINES}) {
            Matcher m = pat.matcher(t);
            if (m.find()) {
                String c = m.group().toLowerCase(java.util.Locale.ROOT);
                if (c.contains("copyright") || c.contains("license") || c.contains("licence")) return t.substring(m.end()).stripLeading();
            }
        }
        return t;
    }
}
