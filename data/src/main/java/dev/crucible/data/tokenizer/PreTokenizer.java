package dev.crucible.data.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tokenizer.json's pre-tokenizer as Hugging Face tokenizers runs it: Split steps, then ByteLevel (byte-level
 * BPE), Metaspace or nothing more (BPE on characters, SentencePiece-style). Each step cuts every piece the
 * previous step left (PreTokenizedString.split in tokenizers), and empty pieces are dropped. A Split finds its
 * pattern's matches in a piece, marks them (or, inverted, the text between them) as delimiters, and keeps,
 * drops or joins them to their neighbours by its behaviour (SplitDelimiterBehavior in normalizer.rs).
 * ByteLevel puts a space before every piece that does not start with one when add_prefix_space, then cuts
 * with GPT-2's regex when use_regex. Metaspace turns spaces into its replacement character ("▁"), puts one
 * before a piece that does not start with it (always; first: only before the piece where the text starts),
 * and cuts before each of them when split. Regexes run on Java's engine with Unicode classes, as the rest
 * of Crucible does. One known difference: "first" asks whether a piece starts where the text does, which tokenizers
 * answers from the original offsets; after a normalizer that deletes the text's first characters (none that
 * SentencePiece-style tokenizers ship) tokenizers puts no "▁" there and Crucible does.
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

    sealed interface Step permits Split, ByteLevelStep, Metaspace {}

    /** A Split: pattern is a regex, or a literal string when literal. */
    record Split(String pattern, boolean literal, Behavior behavior, boolean invert) implements Step {}

    record ByteLevelStep(boolean addPrefixSpace, boolean useRegex) implements Step {}

    /** Metaspace's prepend_scheme. */
    enum PrependScheme {
        ALWAYS, FIRST, NEVER
    }

    /** Metaspace: replacement is a code point ("▁", U+2581, in every tokenizer known). */
    record Metaspace(int replacement, PrependScheme prepend, boolean split) implements Step {}

    /** Receives each piece as [start, end) of s (s may be the text, or a piece with a space put before it). */
    interface Sink {
        void piece(String s, int start, int end);
    }

    private final List<Step> steps;
    private final Pattern[] compiled;
    private final boolean[] gpt2; // a Split step that cuts exactly as GPT-2's regex: done by Gpt2Splitter

    PreTokenizer(List<Step> steps) {
        for (int i = 0; i + 1 < steps.size(); i++) {
            if (!(steps.get(i) instanceof Split)) throw new IllegalArgumentException("only Split steps may come before " + steps.getLast());
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

    /** The ByteLevel step that ends a byte-level BPE's pre-tokenizer, or null for one on characters. */
    ByteLevelStep byteLevel() {
        return !steps.isEmpty() && steps.getLast() instanceof ByteLevelStep b ? b : null;
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

    /**
     * Cuts text[from, to) into pieces; prefixSpace false skips ByteLevel's prefix space and Metaspace's (for bytes that
     * must come back exactly); atStart: text[from] is where the text to encode starts (Metaspace's scheme first).
     */
    void split(String text, int from, int to, boolean prefixSpace, boolean atStart, boolean viaRegex, Sink sink) {
        run(0, text, from, to, prefixSpace, atStart ? from : -1, viaRegex, sink);
    }

    /** origin: the index in s where the text to encode starts, or -1 (Splits pass s on unchanged, so it holds for their pieces). */
    private void run(int k, String s, int from, int to, boolean prefixSpace, int origin, boolean viaRegex, Sink sink) {
        if (from >= to) return;
        if (k == steps.size()) {
            sink.piece(s, from, to);
            return;
        }
        Step step = steps.get(k);
        if (step instanceof Metaspace m) {
            metaspace(m, s.substring(from, to), prefixSpace && (m.prepend() == PrependScheme.ALWAYS || m.prepend() == PrependScheme.FIRST && from == origin), sink);
            return;
        }
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
        Sink down = (t, a, b) -> run(next, t, a, b, prefixSpace, origin, viaRegex, sink);
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
        int prev = from;
        for (int[] match : matches(m)) {
            if (match[0] != prev) ranges.add(new int[] {prev, match[0], sp.invert() ? 1 : 0});
            ranges.add(new int[] {match[0], match[1], sp.invert() ? 0 : 1});
            prev = match[1];
        }
        if (prev != to) ranges.add(new int[] {prev, to, sp.invert() ? 1 : 0});
        for (int[] r : behave(ranges, sp.behavior())) down.piece(s, r[0], r[1]);
    }

    private static void metaspace(Metaspace m, String piece, boolean prepend, Sink sink) {
        String space = Character.toString(m.replacement());
        String t = piece.replace(" ", space);
        if (prepend && !t.startsWith(space)) t = space + t;
        if (!m.split()) {
            sink.piece(t, 0, t.length());
            return;
        }
        // cut before each replacement character: it joins the text after it (MergedWithNext)
        List<int[]> ranges = new ArrayList<>();
        int prev = 0;
        for (int i = t.indexOf(space); i >= 0; i = t.indexOf(space, i + space.length())) {
            if (i > prev) ranges.add(new int[] {prev, i, 0});
            ranges.add(new int[] {i, i + space.length(), 1});
            prev = i + space.length();
        }
        if (prev < t.length()) ranges.add(new int[] {prev, t.length(), 0});
        for (int[] r : behave(ranges, Behavior.MERGED_WITH_NEXT)) sink.piece(t, r[0], r[1]);
    }

    /**
     * A regex's matches ({start, end}) as tokenizers finds them (Oniguruma's find_iter, as Rust's regex): never an empty
     * match where the last match ended, which Java's find reports.
     */
    static List<int[]> matches(Matcher m) {
        List<int[]> out = new ArrayList<>();
        int lastEnd = -1;
        while (m.find()) {
            if (m.start() == m.end() && m.start() == lastEnd) continue;
            lastEnd = m.end();
            out.add(new int[] {m.start(), m.end()});
        }
        return out;
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
