package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The examples whose score flipped between the first and the last checkpoint with per-example
 * records (eval --log-samples), hardest first: for two-way log-likelihood tasks (BLiMP's pairs) the
 * largest change of the margin between the two requests' log-likelihoods; else in example order.
 * Each row links the two records' files. Nothing when fewer than two checkpoints have records.
 */
final class FlipsSection implements Section.PerRun {
    static final int ROWS = 12;

    /** One task's records at one checkpoint: doc_id to its record. */
    private static Map<Integer, JsonNode> read(Path file) throws IOException {
        Map<Integer, JsonNode> m = new TreeMap<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(file)) if (!line.isBlank()) {
            JsonNode r = dev.crucible.data.JsonLine.parse(json, line);
            m.put(r.path("doc_id").asInt(), r);
        }
        return m;
    }

    /** Per checkpoint directory name, per task, the newest samples file. */
    static Map<String, Map<String, Path>> files(Path run) throws IOException {
        Map<String, Map<String, Path>> out = new TreeMap<>();
        Path root = run.resolve("eval").resolve("samples");
        if (!Files.isDirectory(root)) return out;
        try (Stream<Path> cks = Files.list(root)) {
            for (Path ck : cks.filter(Files::isDirectory).sorted().toList()) {
                if (!ck.getFileName().toString().matches("step-\\d{7}")) continue; // a quantised variant's records are not the checkpoint's
                Map<String, Path> byTask = new TreeMap<>();
                try (Stream<Path> fs = Files.list(ck)) {
                    for (Path f : fs.sorted().toList()) { // names end with the date: the last one of a task is its newest
                        String n = f.getFileName().toString();
                        if (!n.startsWith("samples_") || !n.endsWith(".jsonl")) continue;
                        String task = n.substring("samples_".length()).replaceFirst("_\\d{4}-\\d\\d-\\d\\dT.*\\.jsonl$", "");
                        byTask.put(task, f);
                    }
                }
                if (!byTask.isEmpty()) out.put(ck.getFileName().toString(), byTask);
            }
        }
        return out;
    }

    private record Flip(String task, int doc, String text, double before, double after, double marginBefore, double marginAfter) {}

    @Override
    public void write(StringBuilder h, Run run) {
        Map<String, Map<String, Path>> files;
        try {
            files = files(run.dir());
        } catch (IOException e) {
            return;
        }
        if (files.size() < 2) return;
        String first = files.keySet().iterator().next(), last = ((TreeMap<String, Map<String, Path>>) files).lastKey();
        List<Flip> flips = new ArrayList<>();
        int compared = 0;
        for (Map.Entry<String, Path> e : files.get(first).entrySet()) {
            Path later = files.get(last).get(e.getKey());
            if (later == null) continue;
            Map<Integer, JsonNode> a, b;
            try {
                a = read(e.getValue());
                b = read(later);
            } catch (IOException ex) {
                continue;
            }
            for (Map.Entry<Integer, JsonNode> ra : a.entrySet()) {
                JsonNode rb = b.get(ra.getKey());
                if (rb == null || !ra.getValue().path("metrics").isArray() || ra.getValue().path("metrics").isEmpty()) continue;
                String metric = ra.getValue().get("metrics").get(0).asText();
                double va = ra.getValue().path(metric).asDouble(Double.NaN), vb = rb.path(metric).asDouble(Double.NaN);
                compared++;
                if (Double.isNaN(va) || Double.isNaN(vb) || va == vb) continue;
                flips.add(new Flip(e.getKey(), ra.getKey(), describe(ra.getValue().path("doc")), va, vb, margin(ra.getValue()), margin(rb)));
            }
        }
        flips.sort(Comparator.comparingDouble((Flip f) -> -(Double.isNaN(f.marginBefore) ? 0 : Math.abs(f.marginAfter - f.marginBefore)))
                .thenComparing(Flip::task).thenComparingInt(Flip::doc));
        h.append("<h3>Examples that flipped</h3>\n<p>Between ").append(esc(first)).append(" and ").append(esc(last)).append(", ")
                .append(flips.size()).append(" of ").append(compared).append(" examples with per-example records (eval --log-samples) changed their score");
        if (flips.isEmpty()) {
            h.append(".</p>\n");
            return;
        }
        h.append("; the ").append(Math.min(ROWS, flips.size())).append(" with the largest change of the log-likelihood margin between their two "
                + "requests first (the sentence the model should prefer minus the other).</p>\n<table><tr><th class=l>task</th><th>doc</th>"
                + "<th class=l>example</th><th>score</th><th>margin</th><th class=l>records</th></tr>\n");
        for (Flip f : flips.subList(0, Math.min(ROWS, flips.size()))) {
            h.append("<tr><td class=l>").append(esc(f.task)).append("</td><td>").append(f.doc).append("</td><td class=l>")
                    .append(esc(f.text)).append("</td><td>").append(num(f.before)).append(" → ").append(num(f.after)).append("</td><td>")
                    .append(Double.isNaN(f.marginBefore) ? "" : num(f.marginBefore) + " → " + num(f.marginAfter)).append("</td><td class=l>")
                    .append(link(files.get(first).get(f.task), first)).append(" ").append(link(files.get(last).get(f.task), last))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    /** The log-likelihood of the first request minus the second's, for records of two log-likelihood requests; NaN otherwise. */
    static double margin(JsonNode record) {
        JsonNode r = record.path("filtered_resps");
        if (r.size() != 2 || !r.get(0).isArray() || !r.get(1).isArray() || !r.get(0).get(0).isNumber() || !r.get(1).get(0).isNumber()) return Double.NaN;
        return r.get(0).get(0).asDouble() - r.get(1).get(0).asDouble();
    }

    /** A document's string fields, shortened. */
    private static String describe(JsonNode doc) {
        List<String> parts = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = doc.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String v = e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString();
            parts.add(e.getKey() + ": " + (v.length() > 120 ? v.substring(0, 117) + "..." : v));
        }
        return String.join(" | ", parts);
    }

    private static String num(double v) {
        return String.format(java.util.Locale.ROOT, "%.2f", v);
    }

    private static String link(Path file, String label) {
        return "<a href=\"" + esc(file.toAbsolutePath().toUri().toString()) + "\">" + esc(label) + "</a>";
    }
}
