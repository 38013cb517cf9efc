package dev.crucible.data.pipeline;

import dev.crucible.data.PythonText;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * datatrove's text utilities (src/datatrove/utils/text.py and word_tokenizers.py), which its
 * Gopher, FineWeb and MinHash steps share: the PUNCTUATION and TERMINAL_PUNCTUATION tables,
 * simplify_text, and split_into_words, which for English is NLTK's word_tokenize (Punkt sentences,
 * then the improved Treebank tokenizer).
 */
final class DatatroveText {
    private DatatroveText() {}

    /** datatrove's PUNCTUATION, its printable part; the rest are control characters (the static block). */
    static final String PUNCTUATION_PRINTABLE = "!/\u2014\u201D:\uFF05\uFF11\u3008&(\u3001\u2501\\\u3010#%\u300C\u300D\uFF0C\u3011\uFF1B+^]~\u201C\u300A\u201E';\u2019{|\u2236\u00B4[=-`*\uFF0E\uFF08\u2013\uFF1F\uFF01\uFF1A$\uFF5E\u00AB\u3009,><\u300B)?\uFF09\u3002\u2026@_.\"}\u25BA\u00BB";

    /** datatrove's TERMINAL_PUNCTUATION: 159 sentence enders across scripts. "…" is not one of them. */
    static final int[] TERMINAL_PUNCTUATION = {
            0x21, 0x2E, 0x3F, 0x589, 0x61D, 0x61E, 0x61F, 0x6D4, 0x700, 0x701,
            0x702, 0x7F9, 0x837, 0x839, 0x83D, 0x83E, 0x964, 0x965, 0x104A, 0x104B,
            0x1362, 0x1367, 0x1368, 0x166E, 0x1735, 0x1736, 0x17D4, 0x17D5, 0x17D6, 0x17D9,
            0x17DA, 0x1803, 0x1809, 0x1944, 0x1945, 0x1AA8, 0x1AA9, 0x1AAA, 0x1AAB, 0x1B5A,
            0x1B5B, 0x1B5E, 0x1B5F, 0x1B7D, 0x1B7E, 0x1C3B, 0x1C3C, 0x1C7E, 0x1C7F, 0x203C,
            0x203D, 0x2047, 0x2048, 0x2049, 0x2E2E, 0x2E3C, 0x2E53, 0x2E54, 0x3002, 0xA4FF,
            0xA60E, 0xA60F, 0xA6F3, 0xA6F7, 0xA876, 0xA877, 0xA8CE, 0xA8CF, 0xA92F, 0xA9C8,
            0xA9C9, 0xAA5D, 0xAA5E, 0xAA5F, 0xAAF0, 0xAAF1, 0xABEB, 0xFE52, 0xFE56, 0xFE57,
            0xFF01, 0xFF0E, 0xFF1F, 0xFF61, 0x10A56, 0x10A57, 0x10F55, 0x10F56, 0x10F57, 0x10F58,
            0x10F59, 0x10F86, 0x10F87, 0x10F88, 0x10F89, 0x11047, 0x11048, 0x110BE, 0x110BF, 0x110C0,
            0x110C1, 0x11141, 0x11142, 0x11143, 0x111C5, 0x111C6, 0x111CD, 0x111DE, 0x111DF, 0x11238,
            0x11239, 0x1123B, 0x1123C, 0x112A9, 0x1144B, 0x1144C, 0x115C2, 0x115C3, 0x115C9, 0x115CA,
            0x115CB, 0x115CC, 0x115CD, 0x115CE, 0x115CF, 0x115D0, 0x115D1, 0x115D2, 0x115D3, 0x115D4,
            0x115D5, 0x115D6, 0x115D7, 0x11641, 0x11642, 0x1173C, 0x1173D, 0x1173E, 0x11944, 0x11946,
            0x11A42, 0x11A43, 0x11A9B, 0x11A9C, 0x11C41, 0x11C42, 0x11EF7, 0x11EF8, 0x11F43, 0x11F44,
            0x16A6E, 0x16A6F, 0x16AF5, 0x16B37, 0x16B38, 0x16B44, 0x16E98, 0x1BC9F, 0x1DA88};

    private static final BitSet PUNCTUATION = new BitSet(1 << 16);
    private static final Set<Integer> TERMINAL;

    static {
        for (char c : PUNCTUATION_PRINTABLE.toCharArray()) PUNCTUATION.set(c);
        // "".join(map(chr, (x for a, b in ((0, 9), (11, 13), (13, 32), (127, 160)) for x in range(a, b))))
        PUNCTUATION.set(0, 9);
        PUNCTUATION.set(11, 13);
        PUNCTUATION.set(13, 32);
        PUNCTUATION.set(127, 160);
        java.util.HashSet<Integer> t = new java.util.HashSet<>();
        for (int cp : TERMINAL_PUNCTUATION) t.add(cp);
        TERMINAL = Set.copyOf(t);
    }

    /** In PUNCTUATION (what simplify_text turns into spaces). */
    static boolean isPunctuation(int cp) {
        return cp < (1 << 16) && PUNCTUATION.get(cp);
    }

    /** In PUNCTUATION_SET, PUNCTUATION and TERMINAL_PUNCTUATION together (what Gopher's "symbol" words consist of). */
    static boolean isPunctuationOrTerminal(int cp) {
        return isPunctuation(cp) || TERMINAL.contains(cp);
    }

    static boolean isTerminal(int cp) {
        return TERMINAL.contains(cp);
    }

    private static final int U = Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE | Pattern.UNIX_LINES;
    private static final Pattern NUMBERS = Pattern.compile("\\p{Nd}+([.,\u060C\u066B\u2396\u2397\u2398]\\p{Nd}+)?");
    private static final Pattern WHITESPACE = Pattern.compile("[\\s\\x1c-\\x1f]+", U);

    /**
     * simplify_text with datatrove's default TextNormConfig: lower case, numbers to "0", PUNCTUATION
     * to spaces, whitespace runs to one space, accents (category Mn after NFD) removed, stripped.
     */
    static String simplify(String text) {
        String t = text.toLowerCase(Locale.ROOT);
        // one pass for the numbers, the punctuation and the whitespace (the regex passes below are its reference)
        StringBuilder sb = new StringBuilder(t.length());
        int n = t.length();
        boolean ascii = true;
        for (int i = 0; i < n; ) {
            int cp = t.codePointAt(i);
            if (Character.getType(cp) == Character.DECIMAL_DIGIT_NUMBER) {
                int j = digitsEnd(t, i);
                if (j < n && NUMBER_SEPARATORS.indexOf(t.charAt(j)) >= 0 && j + 1 < n && Character.getType(t.codePointAt(j + 1)) == Character.DECIMAL_DIGIT_NUMBER) {
                    j = digitsEnd(t, j + 1);
                }
                sb.append('0');
                i = j;
                continue;
            }
            int w = Character.charCount(cp);
            if (cp < (1 << 16) && (isPunctuation(cp) || PythonText.isSpace(cp))) {
                if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ' ') sb.append(' '); // a run of them is one space, none at the start
            } else {
                sb.appendCodePoint(cp);
                if (cp >= 0xC0) ascii = false; // below U+00C0 nothing decomposes
            }
            i += w;
        }
        if (sb.length() > 0 && sb.charAt(sb.length() - 1) == ' ') sb.setLength(sb.length() - 1);
        if (ascii) return sb.toString();
        String d = Normalizer.normalize(sb, Normalizer.Form.NFD);
        StringBuilder out = new StringBuilder(d.length());
        for (int i = 0; i < d.length(); ) {
            int cp = d.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.getType(cp) != Character.NON_SPACING_MARK) out.appendCodePoint(cp);
        }
        return PythonText.strip(out.toString());
    }

    private static final String NUMBER_SEPARATORS = ".,\u060C\u066B\u2396\u2397\u2398";

    private static int digitsEnd(String t, int i) {
        while (i < t.length()) {
            int cp = t.codePointAt(i);
            if (Character.getType(cp) != Character.DECIMAL_DIGIT_NUMBER) break;
            i += Character.charCount(cp);
        }
        return i;
    }

    /** simplify_text by its regex passes, as datatrove writes it: the reference {@link #simplify} is held equal to. */
    static String simplifyReference(String text) {
        String t = text.toLowerCase(Locale.ROOT);
        t = NUMBERS.matcher(t).replaceAll("0");
        StringBuilder sb = new StringBuilder(t.length());
        for (int i = 0; i < t.length(); i++) sb.append(isPunctuation(t.charAt(i)) ? ' ' : t.charAt(i));
        t = WHITESPACE.matcher(PythonText.strip(sb.toString())).replaceAll(" ");
        t = Normalizer.normalize(t, Normalizer.Form.NFD);
        sb.setLength(0);
        for (int i = 0; i < t.length(); ) {
            int cp = t.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.getType(cp) != Character.NON_SPACING_MARK) sb.appendCodePoint(cp);
        }
        return PythonText.strip(sb.toString());
    }

    // NLTK's NLTKWordTokenizer (nltk/tokenize/destructive.py), rule for rule. Each rule also names what a
    // text must hold for it to match (any of its characters, or for the contractions a word, in lower case):
    // a rule whose trigger is absent is skipped, since a regex pass that matches nothing still costs a
    // scan, and most texts trigger few of the 31 rules (MinHash's simplified text, with its punctuation
    // gone, none but the contractions: the passes had made minhash_dedup 7x slower).
    private record Rule(Pattern p, String replacement, long anyOf, String word) {
        /** The rule applied, or s itself (the same object) when it cannot match: mask, the trigger characters s holds. */
        String apply(String s, long mask, String lower) {
            if (word != null ? !lower.contains(word) : (mask & anyOf) == 0) return s;
            return p.matcher(s).replaceAll(replacement);
        }
    }

    /** Every rule's trigger characters, each a bit of a mask. */
    private static final String TRIGGERS = "\u00AB\u201C\u2018\u201E`\"'.:,;@#$%&?!*][(){}<>-\u00BB\u201D\u2019";

    private static long mask(String chars) {
        long m = 0;
        for (int i = 0; i < chars.length(); i++) {
            int b = TRIGGERS.indexOf(chars.charAt(i));
            if (b < 0) throw new IllegalStateException("not a trigger: " + chars.charAt(i));
            m |= 1L << b;
        }
        return m;
    }

    /** Each char below U+2020 (every trigger is) to its bit + 1 in the mask, 0 for none. */
    private static final byte[] TRIGGER_BIT = new byte[0x2020];

    static {
        for (int i = 0; i < TRIGGERS.length(); i++) TRIGGER_BIT[TRIGGERS.charAt(i)] = (byte) (i + 1);
    }

    /** The trigger characters s holds, in one pass. */
    private static long present(String s) {
        long m = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < TRIGGER_BIT.length && TRIGGER_BIT[c] != 0) m |= 1L << (TRIGGER_BIT[c] - 1);
        }
        return m;
    }

    private static Rule rule(String regex, String replacement, String anyOf) {
        return new Rule(Pattern.compile(regex, U), replacement, mask(anyOf), null);
    }

    private static Rule contraction(String regex, String replacement, String word) {
        return new Rule(Pattern.compile(regex, U), replacement, 0, word);
    }

    /** Any of the contractions' words, so that a text with none (nearly every one) pays one scan for the ten rules. */
    private static final Pattern ANY_CONTRACTION = Pattern.compile("cannot|d'ye|gimme|gonna|gotta|lemme|more'n|wanna|'tis|'twas"); // on caseFolded text

    private static final List<Rule> STARTING_QUOTES = List.of(
            rule("([\u00AB\u201C\u2018\u201E]|[`]+)", " $1 ", "\u00AB\u201C\u2018\u201E`"),
            rule("^\"", "``", "\""),
            rule("(``)", " $1 ", "`"),
            rule("([ (\\[{<])(\"|'{2})", "$1 `` ", "\"'"),
            rule("(?i)(')(?!re|ve|ll|m|t|s|d|n)(\\w)\\b", "$1 $2", "'"));
    private static final List<Rule> PUNCT = List.of(
            rule("([^.])(\\.)([\\])}>\"'\u00BB\u201D\u2019 ]*)\\s*$", "$1 $2 $3 ", "."),
            rule("([:,])([^\\d])", " $1 $2", ":,"),
            rule("([:,])$", " $1 ", ":,"),
            rule("\\.{2,}", " $0 ", "."),
            rule("[;@#$%&]", " $0 ", ";@#$%&"),
            rule("([^.])(\\.)([\\])}>\"']*)\\s*$", "$1 $2$3 ", "."),
            rule("[?!]", " $0 ", "?!"),
            rule("([^'])' ", "$1 ' ", "'"),
            rule("[*]", " $0 ", "*"),
            rule("[\\]\\[(){}<>]", " $0 ", "][(){}<>"),
            rule("--", " -- ", "-"));
    private static final List<Rule> ENDING_QUOTES = List.of(
            rule("([\u00BB\u201D\u2019])", " $1 ", "\u00BB\u201D\u2019"),
            rule("''", " '' ", "'"),
            rule("\"", " '' ", "\""),
            rule("([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 ", "'"),
            rule("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "$1 $2 ", "'"),
            contraction("(?i)\\b(can)(not)\\b", " $1 $2 ", "cannot"),
            contraction("(?i)\\b(d)('ye)\\b", " $1 $2 ", "d'ye"),
            contraction("(?i)\\b(gim)(me)\\b", " $1 $2 ", "gimme"),
            contraction("(?i)\\b(gon)(na)\\b", " $1 $2 ", "gonna"),
            contraction("(?i)\\b(got)(ta)\\b", " $1 $2 ", "gotta"),
            contraction("(?i)\\b(lem)(me)\\b", " $1 $2 ", "lemme"),
            contraction("(?i)\\b(more)('n)\\b", " $1 $2 ", "more'n"),
            contraction("(?i)\\b(wan)(na)(?=\\s)", " $1 $2 ", "wanna"),
            contraction("(?i) ('t)(is)\\b", " $1 $2 ", "'tis"),
            contraction("(?i) ('t)(was)\\b", " $1 $2 ", "'twas"));

    /** NLTKWordTokenizer().tokenize(sentence): the Treebank rules on one sentence, whose final period it splits off. */
    static List<String> treebank(String sentence) {
        return treebank(sentence, true);
    }

    /** Each char as (?iu) compares it, lower(upper(c)): 'ſ' matches 's' there, and must here. */
    private static String caseFolded(String s) {
        char[] c = s.toCharArray();
        for (int i = 0; i < c.length; i++) c[i] = Character.toLowerCase(Character.toUpperCase(c[i]));
        return new String(c);
    }

    /** skipAbsent false: every rule's regex run, the reference the skipping is held equal to (DatatroveTextTest). */
    static List<String> treebank(String sentence, boolean skipAbsent) {
        if (!skipAbsent) {
            String t = sentence;
            for (Rule r : STARTING_QUOTES) t = r.p().matcher(t).replaceAll(r.replacement());
            for (Rule r : PUNCT) t = r.p().matcher(t).replaceAll(r.replacement());
            t = " " + t + " ";
            for (Rule r : ENDING_QUOTES) t = r.p().matcher(t).replaceAll(r.replacement());
            return PythonText.split(t);
        }
        // the rules only insert spaces and quotes, so a contraction's word absent now stays absent; the
        // mask is taken again after a rule that changed the text, which may have brought a quote
        // folded as the rules' (?iu) compare, once: a case-insensitive scan folds every char for every word it tries
        String t = sentence, lower = caseFolded(sentence);
        boolean contractions = ANY_CONTRACTION.matcher(lower).find();
        long mask = present(t);
        for (List<Rule> rules : List.of(STARTING_QUOTES, PUNCT, ENDING_QUOTES)) {
            if (rules == ENDING_QUOTES) t = " " + t + " ";
            for (Rule r : rules) {
                if (r.word() != null && !contractions) continue;
                String next = r.apply(t, mask, lower);
                if (next != t) mask = present(next);
                t = next;
            }
        }
        return PythonText.split(t);
    }

    /** Abbreviations whose period Punkt's English model does not take for a sentence end (the common ones). */
    private static final Set<String> ABBREVIATIONS = Set.of("mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "inc", "ltd",
            "co", "corp", "no", "fig", "gen", "gov", "sen", "rep", "rev", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
            "oct", "nov", "dec", "mt", "ft", "lt", "col", "capt", "sgt", "approx", "dept", "est", "vol", "ca", "cf", "al");
    private static final Pattern SENTENCE_END = Pattern.compile("(\\S*)\\.[\\])}>\"'\u00BB\u201D\u2019]*(?=\\s|$)", U);

    /**
     * split_into_words for English: NLTK's word_tokenize, which splits sentences with Punkt and runs
     * the Treebank rules on each. Punkt's trained model is approximated: a period before whitespace
     * ends a sentence unless its word is an initial, has a period inside (U.S., e.g.) or is a common
     * abbreviation. The approximation can only move a period between "word." and "word", ".".
     */
    static List<String> words(String text) {
        if (text.indexOf('.') < 0) return treebank(text); // one sentence (MinHash's simplified text has no periods left)
        List<String> out = new ArrayList<>();
        int start = 0, n = text.length();
        // SENTENCE_END by hand: a match is a whole run of non-white-space ending in '.' and closers, its group the run before that
        // '.' (the regex tried every start inside every run, quadratic in a run's length)
        for (int i = 0; i < n; ) {
            if (isWhiteSpace(text.charAt(i))) {
                i++;
                continue;
            }
            int a = i;
            i = runEnd(text, a);
            int k = beforeClosers(text, a, i);
            if (k == a || text.charAt(k - 1) != '.') continue;
            if (!endsSentence(text.substring(a, k - 1))) continue;
            out.addAll(treebank(text.substring(start, i)));
            start = i;
        }
        out.addAll(treebank(text.substring(start)));
        return out;
    }

    /**
     * split_into_sentences: the text cut after each sentence end (Punkt approximated as {@link #words} approximates it,
     * and a run ending in '?' or '!' ends one too, as in Punkt), each part running to the next part's start, so
     * that the parts cover the text; a sentence end needs more text after it. The empty text is one empty part.
     */
    static List<String> sentences(String text) {
        List<String> out = new ArrayList<>();
        int start = 0, n = text.length(), pending = -1; // pending: a sentence end waiting for text after it
        for (int i = 0; i < n; ) {
            if (isWhiteSpace(text.charAt(i))) {
                i++;
                continue;
            }
            int a = i;
            i = runEnd(text, a);
            int k = beforeClosers(text, a, i);
            if (k == a) { // closers alone stay with the sentence before (Punkt's realign_boundaries)
                if (pending >= 0) pending = i;
                continue;
            }
            if (pending >= 0) {
                out.add(text.substring(start, pending));
                start = pending;
                pending = -1;
            }
            char last = text.charAt(k - 1);
            if (last == '?' || last == '!' || last == '.' && endsSentence(text.substring(a, k - 1))) pending = i;
        }
        out.add(text.substring(start));
        return out;
    }

    /** The end of the run of non-white-space that starts at a. */
    private static int runEnd(String text, int a) {
        int i = a;
        while (i < text.length() && !isWhiteSpace(text.charAt(i))) i++;
        return i;
    }

    /** Where the closing quotes and brackets that end the run [a, end) begin. */
    private static int beforeClosers(String text, int a, int end) {
        int k = end;
        while (k > a && CLOSERS.indexOf(text.charAt(k - 1)) >= 0) k--;
        return k;
    }

    private static final String CLOSERS = "])}>\"'\u00BB\u201D\u2019";

    /** \\s with UNICODE_CHARACTER_CLASS: the White_Space property (all of it in the BMP). */
    private static boolean isWhiteSpace(char c) {
        return c >= 9 && c <= 13 || c == ' ' || c == 0x85 || c == 0xA0 || c == 0x1680 || c >= 0x2000 && c <= 0x200A || c == 0x2028 || c == 0x2029
                || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    /** Whether the word before a final period ends a sentence (Punkt approximated), its leading punctuation and symbols stripped. */
    private static boolean endsSentence(String group) {
        String word = PythonText.stripLeading(group, TextStats::isPunctOrSymbol);
        return !(word.isEmpty() || word.contains(".") || (word.length() == 1 && Character.isLetter(word.charAt(0)))
                || ABBREVIATIONS.contains(word.toLowerCase(Locale.ROOT)));
    }

    /** {@link #words} by the SENTENCE_END regex, as first written: the reference the scan is held equal to. */
    static List<String> wordsReference(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = SENTENCE_END.matcher(text);
        int start = 0;
        while (m.find()) {
            String word = m.group(1).replaceAll("^[\\p{P}\\p{S}]+", "");
            if (word.isEmpty() || word.endsWith(".") || word.contains(".") || (word.length() == 1 && Character.isLetter(word.charAt(0)))
                    || ABBREVIATIONS.contains(word.toLowerCase(Locale.ROOT))) continue;
            out.addAll(treebank(text.substring(start, m.end())));
            start = m.end();
        }
        out.addAll(treebank(text.substring(start)));
        return out;
    }
}
