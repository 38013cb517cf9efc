package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import dev.crucible.eval.analysis.BlimpMeans;
import dev.crucible.eval.analysis.MetricDirection;
import dev.crucible.eval.analysis.Series;

/**
 * The quantisation gap: each metric of the checkpoints with 4-bit weights (`eval --quantize w4`)
 * beside the same metric in full precision, at the first and the last checkpoint both were evaluated
 * at (outlier features, which make rounding costly, tend to grow over training). BLiMP appears as
 * the mean over its paradigms, as everywhere else; metrics of unknown direction are left out.
 */
final class QuantisationSection implements Section.PerRun {

    @Override
    public void write(StringBuilder h, Run r) {
        if (r.quantised().isEmpty()) return;
        java.util.List<Series[]> pairs = new java.util.ArrayList<>();
        Series blimpFull = r.blimp(), blimpQ = BlimpMeans.overall(r.name(), r.quantised());
        if (blimpFull != null && blimpQ != null) pairs.add(new Series[] {blimpFull, blimpQ});
        for (Series q : r.quantised()) {
            if (BlimpMeans.isParadigm(q) || MetricDirection.of(q.metric()) == MetricDirection.UNKNOWN) continue;
            Series full = r.find(q.task(), q.metric());
            if (full != null) pairs.add(new Series[] {full, q});
        }
        StringBuilder rows = new StringBuilder();
        for (Series[] pair : pairs) {
            Series full = pair[0], q = pair[1];
            Series.Point firstQ = null, firstF = null, lastQ = null, lastF = null;
            for (Series.Point p : q.points()) {
                Series.Point f = full.at(p.step());
                if (f == null) continue;
                if (firstQ == null) {
                    firstQ = p;
                    firstF = f;
                }
                lastQ = p;
                lastF = f;
            }
            if (lastQ == null) continue;
            boolean lower = MetricDirection.lowerIsBetter(q.metric());
            double gapFirst = worse(firstF.value(), firstQ.value(), lower), gapLast = worse(lastF.value(), lastQ.value(), lower);
            rows.append("<tr><td class=l>").append(esc(full.task())).append("</td><td class=l>").append(esc(q.metric())).append("</td><td>")
                    .append(firstQ.step()).append("</td><td>").append(Html.fmt(gapFirst)).append("</td><td>").append(lastQ.step()).append("</td><td>")
                    .append(Html.fmt(lastF.value())).append("</td><td>").append(Html.fmt(lastQ.value())).append("</td><td>").append(Html.fmt(gapLast))
                    .append("</td></tr>\n");
        }
        if (rows.isEmpty()) return;
        h.append("<h3>4-bit weights</h3><p>The same checkpoints with their hidden matrices rounded to 4 bits (per output channel, clip search; "
                + "embeddings and LM head in full precision). Gap: how much worse the 4-bit model scores (positive is worse).</p>\n")
                .append("<table><tr><th class=l>task</th><th class=l>metric</th><th>first step</th><th>gap</th><th>last step</th>")
                .append("<th>full precision</th><th>4-bit</th><th>gap</th></tr>\n").append(rows).append("</table>\n");
    }

    /** How much worse the quantised value is, in the metric's own direction. */
    static double worse(double full, double quantised, boolean lowerIsBetter) {
        return lowerIsBetter ? quantised - full : full - quantised;
    }
}
