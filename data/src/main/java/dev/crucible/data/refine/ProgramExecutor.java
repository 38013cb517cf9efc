package dev.crucible.data.refine;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Runs refining programs on a document exactly as ProX's executor does
 * ({@code utils/chunk_utils.py: execute_meta_operations}), so a program means the same here as in
 * the paper's pipeline:
 * <ol>
 * <li>every normalize, in program order, as a global replace on the whole document (the
 * two-argument form ignores an empty or single-space source; the one-argument form deletes even a
 * space, as ProX's code does); line numbers are not corrected when a replacement changes the line
 * count;</li>
 * <li>the text split at '\n' and the removed lines (numbered across the whole document, 0-based)
 * dropped; a range that starts beyond the last line is an error, one that ends beyond it is an error
 * and is cut at the last line;</li>
 * <li>the safety rules, by words as Python's str.split() counts them: if the kept words are at most
 * (1 - threshold2) of the original's and there are fewer than errorOp errors, the document is dropped;
 * else if at most 10 words are kept, it is dropped; else if the kept share is at least threshold1 and
 * there are fewer than errorOp errors, the refined text is the output; else the original text is.</li>
 * </ol>
 * The document-level program (drop_doc/keep_doc) drops the document when its text contains "drop".
 */
public record ProgramExecutor(double threshold1, double threshold2, int errorOp) {
    /** ProX's defaults. */
    public static final ProgramExecutor PROX = new ProgramExecutor(0.0, 0.95, 2);

    public ProgramExecutor {
        if (!(threshold1 >= 0 && threshold1 <= 1) || !(threshold2 >= 0 && threshold2 <= 1)) {
            throw new IllegalArgumentException("threshold_1 and threshold_2 must be in [0, 1]");
        }
        if (errorOp < 1) throw new IllegalArgumentException("error_op must be at least 1");
    }

    public enum Verdict {
        /** The refined text is the output (it may equal the input when the program changes nothing). */
        REFINED,
        /** Dropped: at most (1 - threshold2) of the words are left. */
        DROPPED_LITTLE_LEFT,
        /** Dropped: at most 10 words are left. */
        DROPPED_TOO_SHORT,
        /** Too many errors in the program: the original text is the output. */
        IGNORED
    }

    /** The outcome: the text to keep (null when dropped), the verdict, and what the program did. */
    public record Result(String text, Verdict verdict, int errors, int linesRemoved, int wordsBefore, int wordsAfter) {
        public boolean dropped() {
            return text == null;
        }
    }

    /** Runs a chunk-level program (the programs of all chunks joined) on a document. */
    public Result execute(String text, RefiningProgram program) {
        int errors = program.errors().size();
        int originalLines = text.split("\n", -1).length;
        List<RefiningProgram.RemoveLines> ranges = new ArrayList<>();
        String out = text;
        for (RefiningProgram.Op op : program.ops()) {
            if (op instanceof RefiningProgram.Normalize n) {
                // ProX skips an empty or one-space source in the two-argument form only; the one-argument form deletes it anyway
                if (n.oneArgument() || !n.source().isEmpty() && !n.source().equals(" ")) out = out.replace(n.source(), n.target());
            }
        }
        String[] lines = out.split("\n", -1);
        // lines beyond both texts cannot be removed: ranges are cut there (a model may write line_end=2147483647)
        int limit = Math.max(lines.length, originalLines);
        BitSet remove = new BitSet();
        for (RefiningProgram.Op op : program.ops()) {
            switch (op) {
                case RefiningProgram.RemoveLines r -> {
                    ranges.add(r);
                    if (r.start() < limit) remove.set(r.start(), Math.min(r.end(), limit - 1) + 1);
                }
                case RefiningProgram.RemoveAll a -> { // ProX replaces the set with the lines of the text before normalisation
                    remove.clear();
                    remove.set(0, originalLines);
                }
                default -> {}
            }
        }
        errors += outOfRange(ranges, lines.length);
        StringBuilder kept = new StringBuilder(out.length());
        int removed = 0;
        boolean first = true;
        for (int i = 0; i < lines.length; i++) {
            if (remove.get(i)) {
                removed++;
                continue;
            }
            if (!first) kept.append('\n');
            kept.append(lines[i]);
            first = false;
        }
        String refined = kept.toString();
        int before = words(text), after = words(refined);
        double share = before == 0 ? 0 : (double) after / before;
        if (share <= 1 - threshold2 && errors < errorOp) return new Result(null, Verdict.DROPPED_LITTLE_LEFT, errors, removed, before, after);
        if (after <= 10) return new Result(null, Verdict.DROPPED_TOO_SHORT, errors, removed, before, after);
        if (share >= threshold1 && errors < errorOp) return new Result(refined, Verdict.REFINED, errors, removed, before, after);
        return new Result(text, Verdict.IGNORED, errors, removed, before, after);
    }

    /** Words as Python's str.split() counts them: runs between whitespace, Unicode spaces (no-break ones too) included. */
    static int words(String s) {
        int n = 0;
        boolean in = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean space = Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
            if (!space && !in) n++;
            in = !space;
        }
        return n;
    }

    /** Ranges that reach beyond the last line, counted after merging overlapping and adjacent ones (as ProX does). */
    private static int outOfRange(List<RefiningProgram.RemoveLines> ranges, int lines) {
        List<RefiningProgram.RemoveLines> sorted = new ArrayList<>(ranges);
        sorted.sort(java.util.Comparator.comparingInt(RefiningProgram.RemoveLines::start));
        int errors = 0;
        for (int i = 0; i < sorted.size(); ) {
            int start = sorted.get(i).start(), end = sorted.get(i).end();
            for (i++; i < sorted.size() && sorted.get(i).start() <= end + 1; i++) end = Math.max(end, sorted.get(i).end());
            if (start >= lines || end >= lines) errors++;
        }
        return errors;
    }

    /** ProX's document-level rule: the document goes when the program says "drop" anywhere. */
    public static boolean dropsDocument(String docProgram) {
        return docProgram.contains("drop");
    }
}
