package dev.crucible.data.pipeline;

import java.util.ArrayList;
import java.util.List;

/**
 * One batch of documents through a run of per-document steps [from, to) of a recipe, then the keys
 * of the de-duplication step that follows (dedupAt, or -1): the unit of work of every engine (the
 * local pipeline's worker threads, a Spark partition). Statistics and the first traceSamples
 * removals and changes per step are the batch's own; engines add them up in input order, so the
 * totals do not depend on how the input was cut into batches.
 */
public record SegmentRun(List<Operators.Step> steps, int from, int to, int dedupAt, int traceSamples) {

    /**
     * The documents that survived, each with its place in the batch (source) and its dedup keys (null:
     * none, or no dedup step next); this batch's counts and trace.
     */
    public record Result(List<Doc> docs, int[] source, List<long[]> keys, StepStats[] stats, List<TraceEntry> trace) {}

    /** Throws IllegalStateException naming the step and the document when an operator fails. */
    public Result apply(List<Doc> docs) {
        StepStats[] local = new StepStats[steps.size()];
        for (int i = 0; i < local.length; i++) local[i] = new StepStats(steps.get(i).label());
        List<Doc> outDocs = new ArrayList<>(docs.size());
        int[] source = new int[docs.size()];
        List<long[]> keys = new ArrayList<>(docs.size());
        List<TraceEntry> tr = new ArrayList<>();
        int[] traced = new int[local.length];
        for (int at = 0; at < docs.size(); at++) {
            Doc cur = docs.get(at);
            long bytes = TextStats.utf8Length(cur.text()); // measured again only when a step changes the text
            for (int i = from; i < to && cur != null; i++) {
                Operator op = ((Operators.PerDoc) steps.get(i)).op();
                StepStats s = local[i];
                s.docsIn++;
                s.bytesIn += bytes;
                long t0 = System.nanoTime();
                Operator.Outcome o;
                try {
                    o = op.apply(cur);
                } catch (RuntimeException e) {
                    throw new IllegalStateException("step " + s.label + " failed on document " + cur.id() + ": " + e, e);
                }
                s.nanos += System.nanoTime() - t0;
                if (o.removed()) {
                    s.removed++;
                    s.rules.merge(o.rule(), 1L, Long::sum);
                    if (traced[i]++ < traceSamples) tr.add(TraceEntry.removed(s.label, cur, o.rule(), o.detail()));
                    cur = null;
                } else {
                    boolean textChanged = o.doc() != cur && !o.doc().text().equals(cur.text());
                    if (textChanged) {
                        s.changed++;
                        s.rules.merge(o.rule(), 1L, Long::sum);
                        if (traced[i]++ < traceSamples) tr.add(TraceEntry.changed(s.label, cur, o.doc(), o.rule(), o.detail()));
                    } else if (o.rule() != null) {
                        s.rules.merge(o.rule(), 1L, Long::sum); // kept as it was, for a reason worth counting (e.g. a program ignored)
                    }
                    cur = o.doc();
                    if (textChanged) bytes = TextStats.utf8Length(cur.text());
                    s.docsOut++;
                    s.bytesOut += bytes;
                }
            }
            if (cur == null) continue;
            source[outDocs.size()] = at;
            outDocs.add(cur);
            if (dedupAt >= 0) {
                Operators.Dedupe d = (Operators.Dedupe) steps.get(dedupAt);
                long t0 = System.nanoTime();
                keys.add(Operators.matches(cur, d.where()) ? d.dedup().keys(cur) : null);
                local[dedupAt].nanos += System.nanoTime() - t0;
            } else {
                keys.add(null);
            }
        }
        return new Result(outDocs, java.util.Arrays.copyOf(source, outDocs.size()), keys, local, tr);
    }
}
