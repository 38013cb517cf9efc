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

    /**
     * Step by step over the batch (a {@link BatchOperator} sees all the documents still there at once;
     * others one at a time, in order). Throws IllegalStateException naming the step and the document
     * when an operator fails. What several steps derive from one text is computed once ({@link TextFeatures}).
     */
    public Result apply(List<Doc> docs) {
        return TextFeatures.inBatch(() -> applySteps(docs));
    }

    private Result applySteps(List<Doc> docs) {
        StepStats[] local = new StepStats[steps.size()];
        for (int i = 0; i < local.length; i++) local[i] = new StepStats(steps.get(i).label());
        int n = docs.size();
        Doc[] cur = docs.toArray(new Doc[0]);
        long[] bytes = new long[n]; // measured again only when a step changes the text
        for (int k = 0; k < n; k++) bytes[k] = TextStats.utf8Length(cur[k].text());
        List<TraceEntry> tr = new ArrayList<>();
        int[] alive = new int[n];
        for (int i = from; i < to; i++) {
            Operator op = ((Operators.PerDoc) steps.get(i)).op();
            StepStats s = local[i];
            int m = 0;
            for (int k = 0; k < n; k++) if (cur[k] != null) alive[m++] = k;
            if (m == 0) break;
            long t0 = System.nanoTime();
            Operator.Outcome[] outs = new Operator.Outcome[m];
            if (op instanceof BatchOperator b) {
                List<Doc> in = new ArrayList<>(m);
                for (int a = 0; a < m; a++) in.add(cur[alive[a]]);
                List<Operator.Outcome> got;
                try {
                    got = b.applyAll(in);
                } catch (RuntimeException e) {
                    throw new IllegalStateException("step " + s.label + " failed on the " + m + " documents from " + in.getFirst().id() + ": " + e, e);
                }
                if (got.size() != m) throw new IllegalStateException("step " + s.label + " returned " + got.size() + " outcomes for " + m + " documents");
                got.toArray(outs);
            } else {
                for (int a = 0; a < m; a++) {
                    try {
                        outs[a] = op.apply(cur[alive[a]]);
                    } catch (RuntimeException e) {
                        throw new IllegalStateException("step " + s.label + " failed on document " + cur[alive[a]].id() + ": " + e, e);
                    }
                }
            }
            s.nanos += System.nanoTime() - t0;
            for (int a = 0; a < m; a++) {
                int k = alive[a];
                Doc before = cur[k];
                Operator.Outcome o = outs[a];
                s.docsIn++;
                s.bytesIn += bytes[k];
                if (o.removed()) {
                    s.removed++;
                    s.rules.merge(o.rule(), 1L, Long::sum);
                    if (s.removed + s.changed <= traceSamples) tr.add(TraceEntry.removed(s.label, before, o.rule(), o.detail()));
                    cur[k] = null;
                    continue;
                }
                boolean textChanged = o.doc() != before && !o.doc().text().equals(before.text());
                if (textChanged) {
                    s.changed++;
                    s.rules.merge(o.rule(), 1L, Long::sum);
                    if (s.removed + s.changed <= traceSamples) tr.add(TraceEntry.changed(s.label, before, o.doc(), o.rule(), o.detail()));
                    bytes[k] = TextStats.utf8Length(o.doc().text());
                } else if (o.rule() != null) {
                    s.rules.merge(o.rule(), 1L, Long::sum); // kept as it was, for a reason worth counting (e.g. a program ignored)
                }
                cur[k] = o.doc();
                s.docsOut++;
                s.bytesOut += bytes[k];
            }
        }
        List<Doc> outDocs = new ArrayList<>(n);
        int[] source = new int[n];
        List<long[]> keys = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            if (cur[k] == null) continue;
            source[outDocs.size()] = k;
            outDocs.add(cur[k]);
            if (dedupAt >= 0) {
                Operators.Dedupe d = (Operators.Dedupe) steps.get(dedupAt);
                long t0 = System.nanoTime();
                keys.add(Operators.matches(cur[k], d.where()) ? d.dedup().keys(cur[k]) : null);
                local[dedupAt].nanos += System.nanoTime() - t0;
            } else {
                keys.add(null);
            }
        }
        return new Result(outDocs, java.util.Arrays.copyOf(source, outDocs.size()), keys, local, tr);
    }
}
