package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import dev.crucible.eval.analysis.Analysis;
import dev.crucible.eval.analysis.Stability;
import dev.crucible.io.AtomicWrite;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * The capability report of one or more runs: a self-contained HTML file (charts embedded as PNG
 * data, no scripts, no external resources; every text from data escaped) plus the charts as PNG
 * files. It shows the training curves, each capability's trajectory over tokens with ±1 standard
 * error, when each emerges and whether it declines, how each moves with validation loss, a health
 * verdict per checkpoint, and sampled generations. The page is assembled from {@link Section}s over
 * {@link Run}s.
 */
public final class Report {
    private Report() {}

    public static final String HTML = "report.html";

    /** Before the runs' own sections. */
    private static final List<Section.Whole> OPENING = List.of(new SummarySection(), new CurvesSection(), new VariantsSection(), new LayersComparisonSection());
    /** Under each run's heading, in order. */
    private static final List<Section.PerRun> PER_RUN = List.of(new CapabilityTable(), new MetricGroupsSection(), new CheckpointTable(),
            new HealthSection(), new LayersSection(), new QuantisationSection(), new SamplesSection(), new FlipsSection());
    /** After them. */
    private static final List<Section.Whole> CLOSING = List.of(new EarlyIndicatorsSection());

    public static Path write(List<Run> runs, Path outDir, String title) throws IOException {
        return write(runs, outDir, title, null);
    }

    /** A sweep's comparison with its baseline: the table over seeds and a sentence per variant, first in the report. */
    public record SweepSummary(String table, List<String> sentences) {}

    private static void liveStatus(StringBuilder h, Run r, Live live) {
        long[] cks = r.checkpointSteps();
        List<String> verdicts = cks.length == 0 ? List.of() : HealthSection.verdicts(r);
        String verdict = verdicts.isEmpty() ? "no checkpoint yet" : verdicts.getLast();
        h.append("<p id=\"live\" style=\"background:#eef5ff;padding:.6em;border-left:4px solid #3367d6\"><b>")
                .append(live.finished() ? "Finished" : "Live").append(":</b> step ").append(live.step()).append(" of ").append(live.totalSteps())
                .append(String.format(java.util.Locale.ROOT, " (%.0f%%)", 100.0 * live.step() / Math.max(1, live.totalSteps())));
        if (!live.finished() && live.etaSeconds() != null) {
            long s = Math.round(live.etaSeconds());
            h.append(String.format(java.util.Locale.ROOT, ", ETA %d:%02d:%02d", s / 3600, s / 60 % 60, s % 60));
        }
        h.append("; latest checkpoint: ").append(cks.length == 0 ? "none yet" : "step " + cks[cks.length - 1])
                .append("; health: <span").append(HealthSection.flagged(verdict) ? " class=bad" : " class=good").append(">").append(esc(verdict)).append("</span>");
        if (!live.finished()) h.append("<br><span style=\"color:#555;font-size:13px\">This page reloads itself every ").append(live.refreshSeconds())
                .append(" s while the run trains.</span>");
        h.append("</p>\n");
    }

    /**
     * A run in progress as the page shows it: its step of the total, the trainer's ETA (null before it
     * has a speed), whether it is over, and how often the page reloads itself while it is not.
     */
    public record Live(long step, long totalSteps, Double etaSeconds, boolean finished, int refreshSeconds) {}

    /** As above, with a sweep's comparison (or null) before the curves. */
    public static Path write(List<Run> runs, Path outDir, String title, SweepSummary sweep) throws IOException {
        return write(runs, outDir, title, sweep, null);
    }

    /** As above; live (one run in progress, or null): a status line first, and a page that reloads itself until the run is over. */
    public static Path write(List<Run> runs, Path outDir, String title, SweepSummary sweep, Live live) throws IOException {
        Files.createDirectories(outDir);
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        if (live != null && !live.finished()) h.append("<meta http-equiv=\"refresh\" content=\"").append(live.refreshSeconds()).append("\">");
        h.append("<title>").append(esc(title)).append("</title>\n<style>")
                .append("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}")
                .append("table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}")
                .append("th{background:#f3f3f3}td.l,th.l{text-align:left}figure{margin:1.5em 0}figcaption{color:#555;font-size:13px}")
                .append("pre{white-space:pre-wrap;background:#f7f7f7;padding:.5em;font-size:12px;border-left:3px solid #ccc}")
                .append(".bad{color:#b00020;font-weight:bold}.good{color:#1b5e20}</style></head><body>\n");
        h.append("<h1>").append(esc(title)).append("</h1>\n<p>Written ").append(esc(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)))
                .append(" by Crucible from ").append(runs.size()).append(runs.size() == 1 ? " run" : " runs").append(".</p>\n<ul>");
        for (Run r : runs) {
            h.append("<li><b>").append(esc(r.name())).append("</b> (").append(esc(r.dir().toString())).append("): ").append(esc(r.description()))
                    .append("; ").append(r.checkpointSteps().length).append(" checkpoints</li>");
        }
        h.append("</ul>\n");
        if (live != null) liveStatus(h, runs.getFirst(), live);
        if (sweep != null) {
            h.append("<h2>Variants against the baseline, over seeds</h2>\n");
            for (String s : sweep.sentences()) h.append("<p>").append(esc(s)).append("</p>\n");
            h.append("<pre>").append(esc(sweep.table())).append("</pre>\n");
        }
        for (Section.Whole s : OPENING) s.write(h, runs, outDir);
        for (Run r : runs) {
            h.append("<h2>Capabilities").append(runs.size() > 1 ? ": " + esc(r.name()) : "").append("</h2>\n");
            for (Section.PerRun s : PER_RUN) s.write(h, r);
        }
        for (Section.Whole s : CLOSING) s.write(h, runs, outDir);
        h.append("<p style=\"color:#777;font-size:12px\">Emergence: the first checkpoint whose score exceeds its starting level (or chance, if higher) by ")
                .append(Analysis.Z).append(" standard errors, and still does at the next checkpoint. ρ: Spearman rank correlation with validation loss over ")
                .append("checkpoints (−1: improves exactly as loss falls). Spikes: robust z-score above ").append(Stability.SPIKE_Z)
                .append(" against the preceding ").append(Stability.WINDOW).append(" logged steps.</p>\n</body></html>\n");
        Path file = outDir.resolve(HTML);
        AtomicWrite.writeString(file, h.toString());
        return file;
    }
}
