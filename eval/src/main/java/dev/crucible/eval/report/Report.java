package dev.crucible.eval.report;

import static dev.crucible.eval.report.Html.esc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.eval.analysis.Analysis;
import dev.crucible.eval.analysis.Series;
import dev.crucible.eval.analysis.Stability;
import dev.crucible.eval.analysis.Trajectories;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The capability report of one or more runs: a self-contained HTML file (charts embedded as PNG
 * data, no scripts, no external resources; every text from data escaped) plus the charts as PNG
 * files. It shows the training curves, each capability's trajectory over tokens with ±1 standard
 * error, when each emerges and whether it declines, how each moves with validation loss, a health
 * verdict per checkpoint, and sampled generations.
 */
public final class Report {
    private Report() {}

    /** One run's data: training metrics, evaluation series, checkpoints, and optional sampled generations. */
    public record Run(String name, Path dir, List<Stability.Row> metrics, List<Series> series, long[] checkpointSteps,
                      Map<Long, Double> flopsAtStep, Map<Long, List<Generation>> generations, String description) {}

    public record Generation(String prompt, String text) {}

    public static final String HTML = "report.html";

    /** Reads a run directory: metrics.jsonl, eval/results.jsonl, checkpoints/, config.yaml. */
    public static Run read(Path dir, Map<Long, List<Generation>> generations) throws IOException {
        Path metrics = dir.resolve("metrics.jsonl"), results = dir.resolve("eval").resolve("results.jsonl");
        if (!Files.exists(metrics) && !Files.exists(results)) throw new IOException(dir + ": neither metrics.jsonl nor eval/results.jsonl: not a run directory");
        List<Stability.Row> rows = Files.exists(metrics) ? Stability.read(metrics) : List.of();
        List<Series> series = Files.exists(results) ? Trajectories.fromResultsJsonl(results) : List.of();
        Map<Long, Double> flops = new TreeMap<>();
        if (Files.exists(results)) {
            ObjectMapper json = new ObjectMapper();
            for (String line : Files.readAllLines(results, StandardCharsets.UTF_8)) {
                if (line.isBlank()) continue;
                JsonNode r = json.readTree(line);
                if (r.path("flops").isNumber()) flops.put(r.get("step").asLong(), r.get("flops").asDouble());
            }
        }
        long[] steps;
        Path cks = dir.resolve("checkpoints");
        if (Files.isDirectory(cks)) {
            try (Stream<Path> s = Files.list(cks)) {
                steps = s.map(p -> p.getFileName().toString()).filter(n -> n.matches("step-\\d+")).mapToLong(n -> Long.parseLong(n.substring(5))).sorted().toArray();
            }
        } else {
            steps = series.stream().flatMap(x -> x.points().stream()).mapToLong(Series.Point::step).distinct().sorted().toArray();
        }
        String description = "";
        Path cfg = dir.resolve("config.yaml");
        if (Files.exists(cfg)) {
            JsonNode c = new ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(cfg.toFile());
            JsonNode m = c.path("model");
            description = String.format(Locale.ROOT, "%s-style, %d layers, d_model %d, %d heads, vocabulary %d, context %d; %d steps of %d sequences x %d tokens, lr %s (%s)",
                    m.path("style").asText(m.path("preset").asText("?")), m.path("n_layer").asInt(), m.path("d_model").asInt(), m.path("n_head").asInt(),
                    m.path("vocab_size").asInt(), m.path("context_length").asInt(), c.path("training").path("steps").asInt(),
                    c.path("training").path("micro_batch").asInt(), c.path("training").path("seq_len").asInt(), c.path("optimizer").path("lr").asText(),
                    c.path("schedule").path("kind").asText());
        }
        String name = dir.toAbsolutePath().normalize().getFileName().toString();
        if (name.equals("run") && dir.toAbsolutePath().normalize().getParent() != null) name = dir.toAbsolutePath().normalize().getParent().getFileName().toString();
        return new Run(name, dir, rows, series, steps, flops, generations == null ? Map.of() : generations, description);
    }

    /**
     * A run known only from lm-evaluation-harness result files (e.g. Pythia's): its series, and, with a
     * parameter count, training FLOPs as 6 x parameters x tokens, so runs of different sizes align on compute.
     */
    public static Run fromLmEval(Path dir, String name, long tokensPerStep, long params) throws IOException {
        List<Series> series = Trajectories.fromLmEval(dir, name, tokensPerStep);
        long[] steps = series.stream().flatMap(x -> x.points().stream()).mapToLong(Series.Point::step).distinct().sorted().toArray();
        Map<Long, Double> flops = new TreeMap<>();
        if (params > 0) for (long st : steps) flops.put(st, 6.0 * params * st * tokensPerStep);
        return new Run(name, dir, List.of(), series, steps, flops, Map.of(),
                "lm-evaluation-harness results" + (params > 0 ? String.format(Locale.ROOT, ", %,d parameters", params) : ""));
    }

    // ---- series helpers ----

    static Series find(Run r, String task, String metric) {
        for (Series s : r.series()) if (s.task().equals(task) && s.metric().equals(metric)) return s;
        return null;
    }

    static double[] xs(Series s) {
        return s.points().stream().mapToDouble(p -> p.tokens() <= 0 ? Double.NaN : p.tokens()).toArray();
    }

    /** Training FLOPs per token of a run (from its results table), or NaN when unknown. */
    static double flopsPerToken(Run r) {
        for (Series s : r.series()) {
            for (Series.Point p : s.points()) {
                Double f = r.flopsAtStep().get(p.step());
                if (f != null && p.tokens() > 0) return f / p.tokens();
            }
        }
        return Double.NaN;
    }

    /** The x axis: tokens for one run; for several, training FLOPs when every run knows them, so runs of different sizes align on compute. */
    record Axis(String label, java.util.function.ToDoubleBiFunction<Run, Long> x) {
        /** x of each point; the untrained model (0 tokens) has no place on a log axis: NaN, skipped by the chart. */
        double[] of(Run r, Series s) {
            return s.points().stream().mapToDouble(p -> p.tokens() <= 0 ? Double.NaN : x.applyAsDouble(r, p.tokens())).toArray();
        }
    }

    static Axis axis(List<Run> runs) {
        boolean compute = runs.size() > 1 && runs.stream().allMatch(r -> !Double.isNaN(flopsPerToken(r)));
        return compute ? new Axis("training FLOPs", (r, tokens) -> tokens * flopsPerToken(r)) : new Axis("tokens", (r, tokens) -> tokens);
    }

    static double[] errs(Series s) {
        return s.points().stream().mapToDouble(Series.Point::stderr).toArray();
    }

    /** Mean over the BLiMP paradigms per step, with the standard error of the mean. */
    static Series blimpMean(Run r) {
        return blimpMean(r, null);
    }

    /**
     * The mean accuracy of a run's BLiMP paradigms per checkpoint, of all of them (phenomenon null,
     * task "blimp") or of one phenomenon's (task "blimp:PHENOMENON"), with the standard error of the mean
     * of independent paradigm scores. Paradigms BLiMP does not have count only towards the overall mean.
     */
    static Series blimpMean(Run r, String phenomenon) {
        Map<Long, double[]> acc = new TreeMap<>(); // step -> {sum, sumSe2, n, tokens}
        for (Series s : r.series()) {
            if (!s.task().startsWith("blimp_") || !s.metric().equals("acc")) continue;
            if (phenomenon != null && !phenomenon.equals(dev.crucible.eval.Blimp.phenomenon(s.task()))) continue;
            for (Series.Point p : s.points()) {
                double[] a = acc.computeIfAbsent(p.step(), k -> new double[4]);
                a[0] += p.value();
                a[1] += Double.isNaN(p.stderr()) ? 0 : p.stderr() * p.stderr();
                a[2]++;
                a[3] = p.tokens();
            }
        }
        if (acc.isEmpty()) return null;
        List<Series.Point> pts = new ArrayList<>();
        acc.forEach((step, a) -> pts.add(new Series.Point(step, (long) a[3], a[0] / a[2], Math.sqrt(a[1]) / a[2])));
        return new Series(r.name(), phenomenon == null ? "blimp" : "blimp:" + phenomenon, "acc", pts);
    }

    /** BLiMP by phenomenon: one mean series per phenomenon the run was evaluated on, in alphabetical order. */
    static List<Series> blimpPhenomena(Run r) {
        List<Series> out = new ArrayList<>();
        for (String ph : new java.util.TreeSet<>(dev.crucible.eval.Blimp.PHENOMENON_OF_PARADIGM.values())) {
            Series s = blimpMean(r, ph);
            if (s != null) out.add(s);
        }
        return out;
    }

    /** Validation loss at the last logged step at or before each point of s. */
    static double[] valLossAt(Run r, Series s) {
        double[] out = new double[s.points().size()];
        for (int i = 0; i < out.length; i++) {
            long step = s.points().get(i).step();
            double v = Double.NaN;
            for (Stability.Row row : r.metrics()) if (row.step() <= step && !Double.isNaN(row.valLoss())) v = row.valLoss();
            out[i] = v;
        }
        return out;
    }

    // ---- charts ----

    record Figure(String file, String caption, Chart chart) {}

    static List<Figure> figures(List<Run> runs) {
        List<Figure> out = new ArrayList<>();
        boolean multi = runs.size() > 1;
        Axis ax = axis(runs);
        Chart loss = new Chart("Training and validation loss", ax.label(), "loss (nats/token)", true);
        for (Run r : runs) {
            List<Stability.Row> train = r.metrics().stream().filter(x -> !Double.isNaN(x.trainLoss()) && x.tokens() > 0).toList();
            List<Stability.Row> val = r.metrics().stream().filter(x -> !Double.isNaN(x.valLoss()) && x.tokens() > 0).toList();
            if (!multi) {
                // the untrained model (step 0) has no place on a log axis of tokens: a reference line instead
                r.metrics().stream().filter(x -> x.step() == 0 && !Double.isNaN(x.valLoss())).findFirst()
                        .ifPresent(x -> loss.reference(x.valLoss(), String.format(Locale.ROOT, "untrained: %.2f", x.valLoss())));
            }
            if (!train.isEmpty() && !multi) loss.line("train", train.stream().mapToDouble(Stability.Row::tokens).toArray(), train.stream().mapToDouble(Stability.Row::trainLoss).toArray(), null);
            if (!val.isEmpty()) loss.line(multi ? r.name() + " val" : "validation", val.stream().mapToDouble(x -> ax.x().applyAsDouble(r, Math.max(1, x.tokens()))).toArray(),
                    val.stream().mapToDouble(Stability.Row::valLoss).toArray(), null);
        }
        if (!loss.isEmpty()) out.add(new Figure("loss.png", "Loss over training tokens; the dashed line is the untrained model's validation loss.", loss));
        // bits per byte per domain: one run -> one line per domain; several -> the mean over domains per run
        Chart bpb = new Chart(multi ? "Held-out bits per byte (mean over domains)" : "Held-out bits per byte by domain", ax.label(), "bits per byte", true);
        for (Run r : runs) {
            List<Series> doms = r.series().stream().filter(s -> s.task().startsWith("bpb_") && s.metric().equals("bits_per_byte")).toList();
            if (doms.isEmpty()) continue;
            if (multi) {
                Series first = doms.getFirst();
                double[] mean = new double[first.points().size()];
                for (Series s : doms) for (int i = 0; i < mean.length && i < s.points().size(); i++) mean[i] += s.points().get(i).value() / doms.size();
                bpb.line(r.name(), ax.of(r, first), mean, null);
            } else {
                for (Series s : doms) bpb.line(s.task().substring(4), xs(s), s.values(), errs(s));
            }
        }
        if (!bpb.isEmpty()) out.add(new Figure("bpb.png", "Bits per byte on held-out documents of each domain (language or code); lower is better. "
                + "Bytes, not tokens, so domains and tokenizers compare.", bpb));
        String[][] probes = {{"cloze", "target_logprob", "Cloze: last word of held-out passages", "log-likelihood of the word (nats)", ""},
                {"icl_score", "loss_late_minus_early", "In-context learning score", "loss late minus loss at token 50", ""},
                {"induction", "induction_gain", "Induction: gain on a repeated random sequence", "nats/token gained", "0"},
                {"lambada_openai", "acc", "LAMBADA (OpenAI)", "accuracy", "0"},
                {"piqa", "acc_norm", "PIQA", "accuracy (length-normalised)", "0.5"},
                {"wikitext", "bits_per_byte", "WikiText", "bits per byte", ""}};
        for (String[] p : probes) {
            Chart c = new Chart(p[2], ax.label(), p[3], true);
            for (Run r : runs) {
                Series s = find(r, p[0], p[1]);
                if (s != null) c.line(multi ? r.name() : p[1], ax.of(r, s), s.values(), errs(s));
            }
            if (!p[4].isEmpty()) c.reference(Double.parseDouble(p[4]), p[0].equals("induction") ? "no gain" : "chance");
            if (!c.isEmpty()) out.add(new Figure(p[0] + ".png", p[2] + ", with ±1 standard error.", c));
        }
        Chart blimp = new Chart("BLiMP: grammatical minimal pairs (mean of paradigms)", ax.label(), "accuracy", true).reference(0.5, "chance");
        boolean anyBlimp = false;
        for (Run r : runs) {
            Series s = blimpMean(r);
            if (s == null) continue;
            anyBlimp = true;
            blimp.line(multi ? r.name() : "acc", ax.of(r, s), s.values(), errs(s));
        }
        if (anyBlimp) out.add(new Figure("blimp.png", "BLiMP accuracy: the model prefers the grammatical sentence of a pair; chance is 0.5.", blimp));
        if (!multi) {
            Chart byPhenomenon = new Chart("BLiMP by phenomenon (mean of its paradigms)", ax.label(), "accuracy", true).reference(0.5, "chance");
            for (Series s : blimpPhenomena(runs.getFirst())) byPhenomenon.line(s.task().substring(6), ax.of(runs.getFirst(), s), s.values(), null);
            if (!byPhenomenon.isEmpty()) {
                out.add(new Figure("blimp-phenomena.png", "BLiMP's twelve phenomena: which grammar the model gets right, and from when. "
                        + "Each line is the mean over the phenomenon's paradigms (2 to 9); the table below gives their standard errors.", byPhenomenon));
            }
        }
        return out;
    }

    // ---- the document ----

    public static Path write(List<Run> runs, Path outDir, String title) throws IOException {
        Files.createDirectories(outDir.resolve("charts"));
        List<Figure> figs = figures(runs);
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(title)).append("</title>\n<style>")
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
        h.append("</ul>\n<h2>In short</h2>\n<ul>");
        for (Run r : runs) for (String s : summary(r)) h.append("<li>").append(runs.size() > 1 ? "<b>" + esc(r.name()) + "</b>: " : "").append(esc(s)).append("</li>");
        h.append("</ul>\n<h2>Curves</h2>\n");
        for (Figure f : figs) {
            byte[] png = f.chart().png(900, 420);
            Files.write(outDir.resolve("charts").resolve(f.file()), png);
            h.append("<figure><img alt=\"").append(esc(f.chart().title())).append("\" width=\"900\" height=\"420\" src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(png)).append("\"><figcaption>").append(esc(f.caption())).append("</figcaption></figure>\n");
        }
        for (Run r : runs) {
            h.append("<h2>Capabilities").append(runs.size() > 1 ? ": " + esc(r.name()) : "").append("</h2>\n");
            capabilityTable(h, r);
            groupsTable(h, r);
            checkpointTable(h, r);
            healthTable(h, r);
            generations(h, r);
        }
        if (runs.size() >= 3) earlyIndicators(h, runs);
        h.append("<p style=\"color:#777;font-size:12px\">Emergence: the first checkpoint whose score exceeds its starting level (or chance, if higher) by ")
                .append(Analysis.Z).append(" standard errors, and still does at the next checkpoint. ρ: Spearman rank correlation with validation loss over ")
                .append("checkpoints (−1: improves exactly as loss falls). Spikes: robust z-score above ").append(Stability.SPIKE_Z)
                .append(" against the preceding ").append(Stability.WINDOW).append(" logged steps.</p>\n</body></html>\n");
        Path file = outDir.resolve(HTML);
        Path tmp = outDir.resolve(HTML + ".tmp");
        Files.writeString(tmp, h.toString(), StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    /** Plain sentences: loss, each probe's verdict, health. */
    static List<String> summary(Run r) {
        List<String> out = new ArrayList<>();
        List<Stability.Row> val = r.metrics().stream().filter(x -> !Double.isNaN(x.valLoss())).toList();
        if (val.size() >= 2) {
            out.add(String.format(Locale.ROOT, "Validation loss fell from %.3f (untrained) to %.3f after %s tokens (step %d).", val.getFirst().valLoss(),
                    val.getLast().valLoss(), Chart.si(val.getLast().tokens()), val.getLast().step()));
        }
        for (Series s : r.series()) {
            if (s.task().startsWith("blimp_") || s.points().size() < 2) continue;
            if (!List.of("acc", "acc_norm", "induction_gain", "target_logprob").contains(s.metric())) continue;
            double chance = chanceOf(s);
            out.add(s.task() + " " + s.metric() + " " + Analysis.verdict(s, Double.isNaN(chance) ? s.first().value() : chance) + ".");
        }
        Series blimp = blimpMean(r);
        if (blimp != null && blimp.points().size() >= 2) {
            out.add("BLiMP (mean of paradigms) " + Analysis.verdict(blimp, 0.5) + ".");
            List<String> above = new ArrayList<>(), not = new ArrayList<>();
            for (Series ph : blimpPhenomena(r)) {
                Series.Point last = ph.last();
                String name = ph.task().substring(6).replace('_', ' ');
                if (last.value() - 0.5 > Analysis.Z * last.stderr()) {
                    long at = Analysis.emergence(ph, 0.5);
                    above.add(name + String.format(Locale.ROOT, " (%.2f ± %.2f%s)", last.value(), last.stderr(), at >= 0 ? ", rising from step " + at : ""));
                } else {
                    not.add(name);
                }
            }
            if (!above.isEmpty()) out.add("BLiMP phenomena significantly above chance at the last checkpoint: " + String.join("; ", above) + ".");
            if (!not.isEmpty()) out.add("BLiMP phenomena not significantly above chance at the last checkpoint: " + String.join(", ", not) + ".");
        }
        List<Series> bpb = r.series().stream().filter(s -> s.task().startsWith("bpb_") && s.metric().equals("bits_per_byte") && s.points().size() >= 2).toList();
        if (!bpb.isEmpty()) {
            Series best = bpb.stream().min((a, b) -> Double.compare(a.last().value(), b.last().value())).get();
            Series worst = bpb.stream().max((a, b) -> Double.compare(a.last().value(), b.last().value())).get();
            out.add(String.format(Locale.ROOT, "Held-out bits per byte ends lowest on %s (%.2f) and highest on %s (%.2f), over %d domains.", best.task().substring(4),
                    best.last().value(), worst.task().substring(4), worst.last().value(), bpb.size()));
        }
        if (!r.metrics().isEmpty() && r.checkpointSteps().length > 0) {
            List<Stability.Spike> spikes = Stability.spikes(r.metrics());
            out.add(spikes.isEmpty() ? "No loss or gradient-norm spikes." : spikes.size() + " loss or gradient-norm spike(s); see the health table.");
        }
        return out;
    }

    static double chanceOf(Series s) {
        if (s.task().equals("cloze") && s.metric().equals("acc")) return 0;
        if (s.task().equals("induction")) return 0;
        return Analysis.chance(s.task(), s.metric());
    }

    static void capabilityTable(StringBuilder h, Run r) {
        List<Series> rows = new ArrayList<>();
        Series blimp = blimpMean(r);
        if (blimp != null) rows.add(blimp);
        rows.addAll(blimpPhenomena(r));
        for (Series s : r.series()) if (!s.task().startsWith("blimp_") && !s.metric().equals("byte_perplexity") && !s.metric().equals("word_perplexity")) rows.add(s);
        if (rows.isEmpty()) return;
        h.append("<table><tr><th class=l>task</th><th class=l>metric</th><th>chance</th><th>first</th><th>best</th><th>at step</th><th>final</th>")
                .append("<th>final, normalised</th><th>emerges at step</th><th>ρ with val loss</th><th class=l>verdict</th></tr>\n");
        for (Series s : rows) {
            var direction = dev.crucible.eval.analysis.MetricDirection.of(s.metric());
            boolean lower = direction != dev.crucible.eval.analysis.MetricDirection.HIGHER_IS_BETTER;
            double chance = chanceOf(s);
            Series.Point best = s.first();
            for (Series.Point p : s.points()) if (lower ? p.value() < best.value() : p.value() > best.value()) best = p;
            double rho = Analysis.spearman(s.values(), valLossAt(r, s));
            String verdict;
            long emerges = -1;
            if (direction == dev.crucible.eval.analysis.MetricDirection.UNKNOWN) {
                verdict = String.format(Locale.ROOT, "direction unknown (not a metric Crucible or lm-evaluation-harness is known to report): from %.4g to %.4g",
                        s.first().value(), s.last().value());
            } else if (lower) {
                verdict = String.format(Locale.ROOT, "%s from %.4g to %.4g", s.last().value() < s.first().value() ? "improves" : "does not improve", s.first().value(), s.last().value());
            } else {
                double base = Double.isNaN(chance) ? s.first().value() : chance;
                emerges = Analysis.emergence(s, base);
                verdict = Analysis.verdict(s, base);
            }
            boolean decline = !lower && Analysis.peak(s).significantDecline();
            h.append("<tr><td class=l>").append(esc(s.task())).append("</td><td class=l>").append(esc(s.metric())).append("</td><td>")
                    .append(Double.isNaN(chance) ? "" : fmt(chance)).append("</td><td>").append(fmt(s.first().value())).append("</td><td>").append(fmt(best.value()))
                    .append("</td><td>").append(direction == dev.crucible.eval.analysis.MetricDirection.UNKNOWN ? "" : Long.toString(best.step())).append("</td><td>").append(fmt(s.last().value())).append("</td><td>")
                    // (score − chance) / (max − chance): 0 at chance, 1 perfect; for accuracies, whose maximum is 1
                    .append(!Double.isNaN(chance) && s.metric().startsWith("acc") ? String.format(Locale.ROOT, "%.3f", Analysis.normalised(s.last().value(), chance, 1)) : "")
                    .append("</td><td>").append(lower ? "" : emerges < 0 ? "–" : Long.toString(emerges)).append("</td><td>").append(Double.isNaN(rho) ? "" : String.format(Locale.ROOT, "%.2f", rho))
                    .append("</td><td class=l").append(decline ? " style=\"color:#b00020\"" : "").append(">").append(esc(verdict)).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    /** Metrics that move together over the checkpoints (ρ >= 0.8, complete linkage), and the held-out forecast. */
    static void groupsTable(StringBuilder h, Run r) {
        List<Series> candidates = new ArrayList<>();
        Series blimp = blimpMean(r);
        if (blimp != null) candidates.add(blimp);
        candidates.addAll(blimpPhenomena(r));
        for (Series s : r.series()) {
            if (s.task().startsWith("blimp_") || s.metric().equals("byte_perplexity") || s.metric().equals("word_perplexity") || s.metric().equals("perplexity")) continue;
            candidates.add(s);
        }
        if (candidates.size() < 3 || r.checkpointSteps().length < 4) return;
        List<dev.crucible.eval.analysis.Groups.Group> groups = dev.crucible.eval.analysis.Groups.find(candidates, 0.8);
        h.append("<h3>Metrics that move together</h3>");
        List<String> unoriented = dev.crucible.eval.analysis.Groups.unoriented(candidates);
        if (!unoriented.isEmpty()) h.append("<p>Left out, as their direction (is higher better?) is unknown: ").append(esc(String.join(", ", unoriented))).append(".</p>\n");
        if (groups.isEmpty()) {
            h.append("<p>No two metrics correlate at ρ ≥ 0.8 over the checkpoints.</p>\n");
            return;
        }
        h.append("<table><tr><th class=l>group (every pair ρ ≥ 0.8)</th><th>weakest ρ</th><th class=l>held-out forecast: members the others predict better than their last value</th></tr>\n");
        for (dev.crucible.eval.analysis.Groups.Group g : groups) {
            String forecast = g.forecasts().isEmpty() ? "(needs three members)" : g.forecasts().stream().filter(dev.crucible.eval.analysis.Groups.Forecast::beatsNaive)
                    .count() + " of " + g.forecasts().size();
            h.append("<tr><td class=l>").append(esc(String.join(", ", g.members()))).append("</td><td>").append(String.format(Locale.ROOT, "%.2f", g.minRho()))
                    .append("</td><td class=l>").append(esc(forecast)).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    /** Across three or more runs: which metric, early, ranks the runs as their final score does. */
    static void earlyIndicators(StringBuilder h, List<Run> runs) {
        String target = null;
        for (String t : List.of("lambada_openai/acc", "cloze/target_logprob", "induction/induction_gain")) {
            String tt = t;
            if (runs.stream().allMatch(r -> r.series().stream().anyMatch(s -> (s.task() + "/" + s.metric()).equals(tt)))) {
                target = t;
                break;
            }
        }
        if (target == null) return;
        Map<String, List<Series>> byRun = new java.util.LinkedHashMap<>();
        for (Run r : runs) byRun.put(r.name(), r.series());
        List<dev.crucible.eval.analysis.EarlyIndicators.Indicator> ind = dev.crucible.eval.analysis.EarlyIndicators.rank(byRun, target, 0.1);
        if (ind.isEmpty()) return;
        h.append("<h2>Early indicators</h2><p>Which metric, read at 10% of each run's tokens, ranks the runs as their final ")
                .append(esc(target)).append(" does (Spearman ρ across ").append(runs.size()).append(" runs):</p><table><tr><th class=l>metric</th><th>ρ</th></tr>\n");
        for (var i : ind.subList(0, Math.min(10, ind.size()))) {
            h.append("<tr><td class=l>").append(esc(i.metric())).append("</td><td>").append(String.format(Locale.ROOT, "%.2f", i.rho())).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    static void checkpointTable(StringBuilder h, Run r) {
        if (r.checkpointSteps().length == 0) return;
        List<Series> main = new ArrayList<>();
        Series blimp = blimpMean(r);
        if (blimp != null) main.add(blimp);
        for (String[] k : new String[][] {{"cloze", "target_logprob"}, {"icl_score", "loss_late_minus_early"}, {"induction", "induction_gain"}, {"lambada_openai", "acc"}}) {
            Series s = find(r, k[0], k[1]);
            if (s != null) main.add(s);
        }
        h.append("<h3>Checkpoints</h3><table><tr><th>step</th><th>tokens</th><th>FLOPs</th><th>val loss</th>");
        for (Series s : main) h.append("<th>").append(esc(s.task())).append("</th>");
        h.append("</tr>\n");
        for (long step : r.checkpointSteps()) {
            long tokens = -1;
            double val = Double.NaN;
            for (Stability.Row row : r.metrics()) {
                if (row.step() == step) tokens = row.tokens();
                if (row.step() <= step && !Double.isNaN(row.valLoss())) val = row.valLoss();
            }
            for (Series s : main) for (Series.Point p : s.points()) if (p.step() == step && tokens < 0) tokens = p.tokens();
            Double flops = r.flopsAtStep().get(step);
            h.append("<tr><td>").append(step).append("</td><td>").append(tokens < 0 ? "" : Chart.si(tokens)).append("</td><td>")
                    .append(flops == null ? "" : String.format(Locale.ROOT, "%.2e", flops)).append("</td><td>").append(Double.isNaN(val) ? "" : fmt(val)).append("</td>");
            for (Series s : main) {
                Series.Point p = s.points().stream().filter(x -> x.step() == step).findFirst().orElse(null);
                h.append("<td>").append(p == null ? "" : fmt(p.value()) + (Double.isNaN(p.stderr()) ? "" : " ± " + fmt(p.stderr()))).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    static final List<String> HIGHER_IS_BETTER = List.of("acc", "acc_norm", "target_logprob", "induction_gain");

    /**
     * Per checkpoint: downstream metrics that fell significantly (by more than Analysis.Z standard
     * errors of the difference) since the previous checkpoint while validation loss moved by less
     * than half a percent - a capability lost that the loss curve does not show.
     */
    static Map<Long, List<String>> fallingWhileLossFlat(Run r) {
        Map<Long, Double> val = new TreeMap<>();
        for (Stability.Row row : r.metrics()) if (!Double.isNaN(row.valLoss())) val.put(row.step(), row.valLoss());
        List<Series> watched = new ArrayList<>();
        Series blimp = blimpMean(r);
        if (blimp != null) watched.add(blimp);
        for (Series s : r.series()) if (!s.task().startsWith("blimp_") && HIGHER_IS_BETTER.contains(s.metric())) watched.add(s);
        Map<Long, List<String>> out = new TreeMap<>();
        long[] cks = r.checkpointSteps();
        for (int i = 1; i < cks.length; i++) {
            Double a = val.get(cks[i - 1]), b = val.get(cks[i]);
            if (a == null || b == null || Math.abs(b - a) / a >= 0.005) continue;
            for (Series s : watched) {
                Series.Point p = at(s, cks[i - 1]), c = at(s, cks[i]);
                if (p == null || c == null) continue;
                double se = Math.sqrt(sq(p.stderr()) + sq(c.stderr()));
                if (se > 0 && p.value() - c.value() > Analysis.Z * se) {
                    out.computeIfAbsent(cks[i], k -> new ArrayList<>()).add(String.format(Locale.ROOT,
                            "%s %s fell from %.4g to %.4g (%.1f standard errors) while validation loss was flat (%.4f -> %.4f)",
                            s.task(), s.metric(), p.value(), c.value(), (p.value() - c.value()) / se, a, b));
                }
            }
        }
        return out;
    }

    static Series.Point at(Series s, long step) {
        for (Series.Point p : s.points()) if (p.step() == step) return p;
        return null;
    }

    static double sq(double x) {
        return Double.isNaN(x) ? 0 : x * x;
    }

    static void healthTable(StringBuilder h, Run r) {
        if (r.metrics().isEmpty() || r.checkpointSteps().length == 0) return;
        Map<Long, List<String>> falling = fallingWhileLossFlat(r);
        h.append("<h3>Training health per checkpoint</h3><ul>");
        List<String> verdicts = Stability.verdicts(r.metrics(), r.checkpointSteps());
        for (int i = 0; i < verdicts.size(); i++) {
            String v = verdicts.get(i);
            for (String f : falling.getOrDefault(r.checkpointSteps()[i], List.of())) v += "; " + f;
            boolean bad = v.contains("WORSE") || v.contains("spike") || v.contains("while validation loss was flat");
            h.append("<li").append(bad ? " class=bad" : "").append(">").append(esc(v)).append("</li>");
        }
        h.append("</ul>\n");
    }

    static void generations(StringBuilder h, Run r) {
        if (r.generations().isEmpty()) return;
        h.append("<h3>Samples</h3>\n");
        for (Map.Entry<Long, List<Generation>> e : new TreeMap<>(r.generations()).entrySet()) {
            h.append("<h4>step ").append(e.getKey()).append("</h4>\n");
            for (Generation g : e.getValue()) {
                h.append("<pre><b>").append(esc(g.prompt())).append("</b>").append(esc(g.text())).append("</pre>\n");
            }
        }
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) return "";
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a != 0 && (a < 1e-3 || a >= 1e5) ? "%.3e" : "%.4f", v);
    }
}
