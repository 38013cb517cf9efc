package dev.crucible.data.refine;

import dev.crucible.data.pipeline.TextStats;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a refining program for a document by rules, in ProX's language, so that rule-made and
 * model-made programs go through the same executor and audit trail. Lines removed: boilerplate
 * (lines of at most {@code boilerplateWords} words with a cookie or consent notice, "click here", "all rights reserved", share and subscribe prompts,
 * login prompts), navigation (a run of at least {@code navRun} short lines without sentence
 * punctuation), lines made mostly of symbols and digits, and repeats of an earlier line (lines with a letter). Strings
 * normalised: URLs and e-mail addresses removed, runs of repeated punctuation shortened.
 */
public record RulePrograms(int navRun, int shortWords, double symbolRatio, int boilerplateWords, boolean urls, boolean emails, boolean punctuationRuns) {
    public static final RulePrograms DEFAULT = new RulePrograms(3, 3, 0.5, 20, true, true, true);

    public RulePrograms {
        if (navRun < 1 || shortWords < 0 || !(symbolRatio > 0 && symbolRatio <= 1) || boilerplateWords < 1) {
            throw new IllegalArgumentException("nav_run must be at least 1, short_line_words at least 0, symbol_ratio in (0, 1], boilerplate_words at least 1");
        }
    }

    private static final Pattern BOILERPLATE = Pattern.compile(String.join("|",
            "\\bcookies?\\b.*\\b(use|accept|policy|consent|settings)\\b", "\\bclick here\\b", "\\ball rights reserved\\b",
            "^\\s*(©|\\(c\\)|copyright)\\s", "\\bprivacy policy\\b", "\\bterms (of|and) (use|service|conditions)\\b",
            "\\b(share|tweet|pin) (this|on)\\b", "\\bsubscribe (to|now|for)\\b", "\\bsign (up|in) (to|for|now|with)\\b",
            "\\b(log|sign) ?in to (comment|reply|continue)\\b", "\\bread more\\b\\s*(»|›|>|\\.\\.\\.|…)?\\s*$", "\\bskip to (main )?content\\b",
            "\\bjavascript (is )?(disabled|required|must be enabled)\\b", "\\ball (comments|posts) are moderated\\b",
            "\\b(posted|published) (by|on) .{0,40}\\b(comments?|reply)\\b", "\\bleave a (comment|reply)\\b"), Pattern.CASE_INSENSITIVE);
    private static final Pattern URL = Pattern.compile("(?:https?://|www\\.)[^\\s<>\"'()\\[\\]]+[^\\s<>\"'()\\[\\].,;:!?]");
    private static final Pattern EMAIL = Pattern.compile("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}");
    private static final Pattern PUNCT_RUN = Pattern.compile("([!?.,;:*=#~_-])\\1{3,}");

    /** The program for one document (keep_doc() when no rule fires). */
    public RefiningProgram write(String text) {
        String[] lines = text.split("\n", -1);
        boolean[] remove = new boolean[lines.length];
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].strip();
            if (l.isEmpty()) continue;
            // a boilerplate phrase condemns a short line only: prose says "we subscribe to this view" too
            boolean boilerplate = TextStats.tokens(l).size() <= boilerplateWords && BOILERPLATE.matcher(l).find();
            // a repeat counts only for lines with a letter: "}" and " *" repeat in every source file
            boolean repeat = l.codePoints().anyMatch(Character::isLetter) && !seen.add(l);
            if (boilerplate || symbolHeavy(l) || repeat) remove[i] = true;
        }
        // navigation: runs of short lines without sentence punctuation (blank lines do not break a run)
        for (int i = 0; i < lines.length; ) {
            if (!isShort(lines[i])) {
                i++;
                continue;
            }
            int j = i, count = 0;
            while (j < lines.length && (isShort(lines[j]) || lines[j].isBlank())) {
                if (!lines[j].isBlank()) count++;
                j++;
            }
            if (count >= navRun) for (int k = i; k < j; k++) if (!lines[k].isBlank()) remove[k] = true;
            i = j;
        }
        List<RefiningProgram.Op> ops = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            if (!remove[i]) continue;
            int j = i;
            while (j + 1 < lines.length && (remove[j + 1] || lines[j + 1].isBlank() && j + 2 < lines.length && remove[j + 2])) j++;
            ops.add(new RefiningProgram.RemoveLines(i, j));
            i = j;
        }
        Set<String> strings = new LinkedHashSet<>();
        for (int i = 0; i < lines.length; i++) {
            if (remove[i]) continue;
            if (urls) collect(URL, lines[i], strings);
            if (emails) collect(EMAIL, lines[i], strings);
        }
        for (String s : strings) ops.add(new RefiningProgram.Normalize(s, ""));
        if (punctuationRuns) {
            Set<String> runs = new LinkedHashSet<>();
            for (int i = 0; i < lines.length; i++) if (!remove[i]) collect(PUNCT_RUN, lines[i], runs);
            for (String r : runs) ops.add(new RefiningProgram.Normalize(r, r.charAt(0) == '.' ? "..." : r.substring(0, 1)));
        }
        return RefiningProgram.of(ops);
    }

    private static void collect(Pattern p, String line, Set<String> out) {
        Matcher m = p.matcher(line);
        while (m.find()) out.add(m.group());
    }

    private boolean isShort(String line) {
        String l = line.strip();
        if (l.isEmpty()) return false;
        char last = l.charAt(l.length() - 1);
        return TextStats.tokens(l).size() <= shortWords && ".!?:;\"'”’)".indexOf(last) < 0;
    }

    private boolean symbolHeavy(String line) {
        int n = 0, other = 0;
        for (int i = 0; i < line.length(); ) {
            int cp = line.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isWhitespace(cp)) continue;
            n++;
            if (!Character.isLetter(cp)) other++;
        }
        return n >= 3 && (double) other / n > symbolRatio;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "rules(nav_run=%d, short_line_words=%d, symbol_ratio=%.2f)", navRun, shortWords, symbolRatio);
    }
}
