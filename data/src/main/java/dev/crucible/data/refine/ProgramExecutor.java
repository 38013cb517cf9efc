package dev.crucible.data.refine;

import dev.crucible.data.pipeline.TextStats;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Runs refining programs on a document exactly as ProX's executor does
 * ({@code utils/chunk_utils.py: execute_meta_operations}), so a program means the same here as in
 * the paper's pipeline:
 * <ol>
 * <li>every normalize, in program order, as a global replace on the whole document (an empty or
 * single-space source is ignored); line numbers are not corrected when a replacement changes the
 * line count;</li>
 * <li>the text split at '\n' and the removed lines (numbered across the whole document, 0-based)
 * dropped; a range that starts beyond the last line is an error, one that ends beyond it is an error
 * and is cut at the last line;</li>
 * <li>the safety rules, by whitespace-separated words: if the kept words are at most
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
        String[] original = text.split("\n", -1);
        BitSet remove = new BitSet();
        List<RefiningProgram.RemoveLines> ranges = new ArrayList<>();
        String out = text;
        boolean all = false;
        for (RefiningProgram.Op op : program.ops()) {
            switch (op) {
                case RefiningProgram.Normalize n -> {
                    if (!n.source().isEmpty() && !n.source().equals(" ")) out = out.replace(n.source(), n.target());
                }
                case RefiningProgram.RemoveLines r -> ranges.add(r);
                case RefiningProgram.RemoveAll a -> all = true;
                case RefiningProgram.KeepDoc k -> {}
                case RefiningProgram.DropDoc d -> {}
            }
        }
        String[] lines = out.split("\n", -1);
        if (all) remove.set(0, original.length); // ProX marks the lines of the text before normalisation
        for (RefiningProgram.RemoveLines r : ranges) remove.set(r.start(), r.end() + 1);
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
        int before = TextStats.tokens(text).size(), after = TextStats.tokens(refined).size();
        double share = before == 0 ? 0 : (double) after / before;
        if (share <= 1 - threshold2 && errors < errorOp) return new Result(null, Verdict.DROPPED_LITTLE_LEFT, errors, removed, before, after);
        if (after <= 10) return new Result(null, Verdict.DROPPED_TOO_SHORT, errors, removed, before, after);
        if (share >= threshold1 && errors < errorOp) return new Result(refined, Verdict.REFINED, errors, removed, before, after);
        return new Result(text, Verdict.IGNORED, errors, removed, before, after);
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
