package dev.crucible.data.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pre-tokenizer of a byte-level BPE as Hugging Face tokenizers runs it: Split steps, then one
 * ByteLevel step. Each step cuts every piece the previous step left (PreTokenizedString.split in
 * tokenizers), and empty pieces are dropped. A Split finds its pattern's matches in a piece, marks
 * them (or, inverted, the text between them) as delimiters, and keeps, drops or joins them to their
 * neighbours by its behaviour (SplitDelimiterBehavior in normalizer.rs). ByteLevel puts a space
 * before every piece that does not start with one when add_prefix_space, then cuts with GPT-2's
 * regex when use_regex. Regexes run on Java's engine with Unicode classes, as the rest of Crucible does.
 */
final class PreTokenizer {
    /** tokenizers' SplitDelimiterBehavior, by its name in tokenizer.json. */
    enum Behavior {
        REMOVED("Removed"), ISOLATED("Isolated"), MERGED_WITH_PREVIOUS("MergedWithPrevious"), MERGED_WITH_NEXT("MergedWithNext"), CONTIGUOUS("Contiguous");

        final String json;

        Behavior(String json) {
            this.json = json;
        }

        static Behavior parse(String s) {
            for (Behavior b : values()) if (b.json.equals(s)) return b;
            return null;
        }
    }

    sealed interface Step permits Split, ByteLevelStep {}

    /** A Split: pattern is a regex, or a literal string when literal. */
    record Split(String pattern, boolean literal, Behavior behavior, boolean invert) implements Step {}

    record ByteLevelStep(boolean addPrefixSpace, boolean useRegex) implements Step {}

    /** Receives each piece as [start, end) of s (s may be the text, or a piece with a space put before it). */
    interface Sink {
        void piece(String s, int start, int end);
    }

    private final List<Step> steps;
    private final Pattern[] compiled;
    private final boolean[] gpt2; // a Split step that cuts exactly as GPT-2's regex: done by Gpt2Splitter

    PreTokenizer(List<Step> steps) {
        if (steps.isEmpty() || !(steps.getLast() instanceof ByteLevelStep)) throw new IllegalArgumentException("the pre-tokenizer must end with ByteLevel");
        for (int i = 0; i + 1 < steps.size(); i++) {
            if (!(steps.get(i) instanceof Split)) throw new IllegalArgumentException("only Split steps may come before ByteLevel");
        }
        this.steps = List.copyOf(steps);
        compiled = new Pattern[steps.size()];
        gpt2 = new boolean[steps.size()];
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i) instanceof Split s) {
                compiled[i] = Pattern.compile(s.literal() ? Pattern.quote(s.pattern()) : s.pattern(), Pattern.UNICODE_CHARACTER_CLASS);
                // GPT-2's regex matches every character, so the inverted and isolated cuts are the same
                gpt2[i] = !s.literal() && s.pattern().equals(BpeTokenizer.GPT2_PATTERN) && s.behavior() == Behavior.ISOLATED;
            }
        }
    }

    /** What Crucible writes for a split regex: GPT-2's is ByteLevel's own (use_regex), any other a Split before it. */
    static PreTokenizer of(String pattern, boolean addPrefixSpace) {
        if (pattern.equals(BpeTokenizer.GPT2_PATTERN)) return new PreTokenizer(List.of(new ByteLevelStep(addPrefixSpace, true)));
        return new PreTokenizer(List.of(new Split(pattern, false, Behavior.ISOLATED, false), new ByteLevelStep(addPrefixSpace, false)));
    }

    List<Step> steps() {
        return steps;
    }

    ByteLevelStep byteLevel() {
        return (ByteLevelStep) steps.getLast();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PreTokenizer p && steps.equals(p.steps);
    }

    @Override
    public int hashCode() {
        return steps.hashCode();
    }

    @Override
    public String toString() {
        return steps.toString();
    }

    /** Cuts text[from, to) into pieces; prefixSpace false skips ByteLevel's prefix space (for bytes that must come back exactly). */
    void split(String text, int from, int to, boolean prefixSpace, boolean viaRegex, Sink sink) {
        run(0, text, from, to, prefixSpace, viaRegex, sink);
    }

    private void run(int k, String s, int from, int to, boolean prefixSpace, boolean viaRegex, Sink sink) {
        if (from >= to) return;
        Step step = steps.get(k);
        if (step instanceof ByteLevelStep b) {
            if (prefixSpace && b.addPrefixSpace() && s.charAt(from) != ' ') {
                s = " " + s.substring(from, to);
                from = 0;
                to = s.length();
            }
            if (!b.useRegex()) sink.piece(s, from, to);
            else if (viaRegex) isolate(Gpt2Regex.PATTERN.matcher(s).region(from, to), s, from, to, sink);
            else gpt2(s, from, to, sink);
            return;
        }
        Split sp = (Split) step;
        final int next = k + 1;
        Sink down = (t, a, b) -> run(next, t, a, b, prefixSpace, viaRegex, sink);
        if (gpt2[k] && !viaRegex) {
            gpt2(s, from, to, down);
            return;
        }
        // a region with default (opaque, anchoring) bounds matches as the piece alone would
        Matcher m = compiled[k].matcher(s).region(from, to);
        if (sp.behavior() == Behavior.ISOLATED) { // matches and the text between them are pieces alike, inverted or not
            isolate(m, s, from, to, down);
            return;
        }
        // tokenizers' Pattern::find_matches: the piece as consecutive ranges, each a match or not
        List<int[]> ranges = new ArrayList<>(); // {start, end, isDelimiter}
        int prev = from, lastEnd = -1;
        while (m.find()) {
            // Oniguruma's find_iter (as Rust's regex) never reports an empty match where the last match ended; Java's does
            if (m.start() == m.end() && m.start() == lastEnd) continue;
            lastEnd = m.end();
            if (m.start() != prev) ranges.add(new int[] {prev, m.start(), sp.invert() ? 1 : 0});
            ranges.add(new int[] {m.start(), m.end(), sp.invert() ? 0 : 1});
            prev = m.end();
        }
        if (prev != to) ranges.add(new int[] {prev, to, sp.invert() ? 1 : 0});
        for (int[] r : behave(ranges, sp.behavior())) down.piece(s, r[0], r[1]);
    }

    private static void isolate(Matcher m, String s, int from, int to, Sink sink) {
        int prev = from;
        while (m.find()) {
            if (m.start() > prev) sink.piece(s, prev, m.start());
            if (m.end() > m.start()) sink.piece(s, m.start(), m.end());
            prev = m.end();
        }
        if (prev < to) sink.piece(s, prev, to);
    }

    private static void gpt2(String s, int from, int to, Sink sink) {
        if (from == 0 && to == s.length()) {
            Gpt2Splitter.split(s, (a, b) -> sink.piece(s, a, b));
        } else {
            String piece = s.substring(from, to);
            Gpt2Splitter.split(piece, (a, b) -> sink.piece(piece, a, b));
        }
    }

    /** NormalizedString::split's folds, range for range: the ranges kept, in order. */
    static List<int[]> behave(List<int[]> ranges, Behavior behavior) {
        List<int[]> out = new ArrayList<>();
        switch (behavior) {
            case ISOLATED -> ranges.forEach(r -> out.add(new int[] {r[0], r[1]}));
            case REMOVED -> {
                for (int[] r : ranges) if (r[2] == 0) out.add(new int[] {r[0], r[1]});
            }
            case CONTIGUOUS -> {
                boolean previous = false;
                for (int[] r : ranges) {
                    boolean match = r[2] == 1;
                    if (match == previous && !out.isEmpty()) out.getLast()[1] = r[1];
                    else out.add(new int[] {r[0], r[1]});
                    previous = match;
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                boolean previous = false;
                for (int[] r : ranges) {
                    boolean match = r[2] == 1;
                    if (match && !previous && !out.isEmpty()) out.getLast()[1] = r[1];
                    else out.add(new int[] {r[0], r[1]});
                    previous = match;
                }
            }
            case MERGED_WITH_NEXT -> {
                boolean previous = false;
                for (int i = ranges.size() - 1; i >= 0; i--) {
                    int[] r = ranges.get(i);
                    boolean match = r[2] == 1;
                    if (match && !previous && !out.isEmpty()) out.getLast()[0] = r[0];
                    else out.add(new int[] {r[0], r[1]});
                    previous = match;
                }
                java.util.Collections.reverse(out);
            }
        }
        return out;
    }

    /** GPT-2's regex, for the tests that hold Gpt2Splitter to it. */
    private static final class Gpt2Regex {
        static final Pattern PATTERN = Pattern.compile(BpeTokenizer.GPT2_PATTERN, Pattern.UNICODE_CHARACTER_CLASS);
    }
}
