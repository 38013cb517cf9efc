package dev.crucible.eval.analysis;

import dev.crucible.train.sweep.Sweep;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A sweep's variants compared with its baseline over seeds, at each run's end: final validation loss
 * and each evaluated capability's score at the last checkpoint (the 4-bit variant's rows aside; BLiMP
 * also as its overall and per-phenomenon means), as a mean over seeds with its 95% interval, and the
 * difference from the baseline with its interval and a paired t-test over the seeds both ran
 * ({@link SeedStatistics}). The table and the sentences lead with validation loss and each task's
 * {@link Headline} metric; the JSON has every row. A variant's difference counts as significant when
 * its p-value stays below {@link #ALPHA} after Holm's adjustment ({@link Holm}) over that variant's
 * family of tests: its headline metrics, or, for the other rows, the rest of its metrics (BLiMP's 67
 * paradigms would otherwise flag three by chance). A run not finished yet counts with what it has so
 * far and is marked.
 */
public final class SweepComparison {
    public static final double CONFIDENCE = 0.95, ALPHA = 0.05;

    /** One metric of one variant; pHolm: the difference's p adjusted over the variant's family (NaN: no test). */
    public record Row(String metric, String variant, SeedStatistics.Estimate value, SeedStatistics.Difference difference, boolean lowerIsBetter,
                      boolean headline, double pHolm) {
        public boolean significant() {
            return pHolm < ALPHA;
        }
    }

    private final Sweep.Manifest manifest;
    private final List<Row> rows = new ArrayList<>();
    private final List<String> unfinished = new ArrayList<>();

    private SweepComparison(Sweep.Manifest manifest) {
        this.manifest = manifest;
    }

    public static SweepComparison of(Sweep.Manifest m) throws IOException {
        SweepComparison c = new SweepComparison(m);
        // metric -> variant -> seed -> value
        Map<String, Map<String, Map<Long, Double>>> values = new TreeMap<>(java.util.Comparator.comparing((String k) -> !k.equals("val_loss"))
                .thenComparing(java.util.Comparator.naturalOrder())); // val_loss first, then the capabilities by name
        java.util.Set<String> headlines = new java.util.HashSet<>(List.of("val_loss"));
        for (Sweep.Manifest.ManifestRun r : m.runs()) {
            Path metrics = r.dir().resolve("metrics.jsonl");
            if (!dev.crucible.train.Trainer.finished(r.dir())) c.unfinished.add(r.variant() + "/seed-" + r.seed());
            if (!Files.exists(metrics)) continue;
            List<Stability.Row> rows = Stability.read(metrics);
            Stability.Row lastVal = null;
            for (Stability.Row row : rows) if (!Double.isNaN(row.valLoss())) lastVal = row;
            if (lastVal != null) {
                values.computeIfAbsent("val_loss", k -> new LinkedHashMap<>()).computeIfAbsent(r.variant(), k -> new TreeMap<>()).put(r.seed(), lastVal.valLoss());
                // each data source's own (a mixture's val_loss weighs them as that variant's mixture does, so variants compare source by source)
                for (Map.Entry<String, Double> e : lastVal.bySource().entrySet()) {
                    values.computeIfAbsent(e.getKey(), k -> new LinkedHashMap<>()).computeIfAbsent(r.variant(), k -> new TreeMap<>()).put(r.seed(), e.getValue());
                    headlines.add(e.getKey());
                }
            }
            Path results = r.dir().resolve("eval").resolve("results.jsonl");
            if (Files.exists(results)) {
                List<Series> all = new ArrayList<>();
                for (Series s : Trajectories.fromResultsJsonl(results)) if (!s.task().endsWith("@w4")) all.add(s);
                List<Series> withMeans = new ArrayList<>(BlimpMeans.summarised(r.variant(), all));
                for (Series s : Headline.of(withMeans)) headlines.add(s.task() + ":" + s.metric());
                for (Series s : all) if (BlimpMeans.isParadigm(s)) withMeans.add(s);
                for (Series s : withMeans) {
                    if (s.points().isEmpty()) continue;
                    values.computeIfAbsent(s.task() + ":" + s.metric(), k -> new LinkedHashMap<>()).computeIfAbsent(r.variant(), k -> new TreeMap<>())
                            .put(r.seed(), s.points().getLast().value());
                }
            }
        }
        for (Map.Entry<String, Map<String, Map<Long, Double>>> metric : values.entrySet()) {
            Map<Long, Double> base = metric.getValue().getOrDefault(m.baseline(), Map.of());
            String name = metric.getKey();
            boolean lower = MetricDirection.lowerIsBetter(metricName(name));
            for (String v : m.variants()) {
                Map<Long, Double> vals = metric.getValue().get(v);
                if (vals == null) continue;
                SeedStatistics.Estimate e = SeedStatistics.estimate(new ArrayList<>(vals.values()), CONFIDENCE);
                SeedStatistics.Difference d = v.equals(m.baseline()) ? null : SeedStatistics.paired(vals, base, CONFIDENCE);
                c.rows.add(new Row(name, v, e, d, lower, headlines.contains(name), Double.NaN));
            }
        }
        for (String v : m.variants()) {
            for (boolean headline : new boolean[] {true, false}) {
                List<Integer> family = new ArrayList<>();
                for (int i = 0; i < c.rows.size(); i++) {
                    Row r = c.rows.get(i);
                    if (r.variant().equals(v) && r.headline() == headline && r.difference() != null) family.add(i);
                }
                double[] adjusted = Holm.adjust(family.stream().mapToDouble(i -> c.rows.get(i).difference().p()).toArray());
                for (int k = 0; k < family.size(); k++) {
                    Row r = c.rows.get(family.get(k));
                    c.rows.set(family.get(k), new Row(r.metric(), r.variant(), r.value(), r.difference(), r.lowerIsBetter(), r.headline(), adjusted[k]));
                }
            }
        }
        return c;
    }

    /**
     * The scaling law of the sweep's variants when they span model sizes and token budgets (the
     * Fine Line's cross-size view): each variant's mean final validation loss against its
     * non-embedding parameters (all but the token and position embeddings) and the tokens trained,
     * fitted to L(N, D) = E + A/N^α + B/D^β ({@link ScalingFit}); null when the sweep has fewer than
     * 5 variants, or one size or one budget.
     */
    public String scaling() throws IOException {
        List<ScalingFit.Point> pts = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String v : manifest.variants()) {
            double loss = rows.stream().filter(r -> r.metric().equals("val_loss") && r.variant().equals(v)).mapToDouble(r -> r.value().mean()).findFirst()
                    .orElse(Double.NaN);
            Sweep.Manifest.ManifestRun run = manifest.runs().stream().filter(r -> r.variant().equals(v) && Files.exists(r.dir().resolve("config.yaml")))
                    .findFirst().orElse(null);
            if (run == null || Double.isNaN(loss)) continue;
            dev.crucible.model.ModelConfig mc = dev.crucible.train.RunConfigs.readSaved(run.dir().resolve("config.yaml")).model().resolve();
            long n = new dev.crucible.model.ParamLayout(mc).size() - (long) mc.vocabSize() * mc.dModel()
                    - (mc.style() == dev.crucible.model.ModelConfig.Style.GPT2 ? (long) mc.contextLength() * mc.dModel() : 0);
            long tokens = -1;
            for (Stability.Row row : Stability.read(run.dir().resolve("metrics.jsonl"))) if (!Double.isNaN(row.valLoss())) tokens = row.tokens();
            if (tokens <= 0) continue;
            pts.add(new ScalingFit.Point(n, tokens, loss));
            names.add(v);
        }
        ScalingFit.Law law;
        try {
            law = ScalingFit.fit(pts);
        } catch (IllegalArgumentException e) {
            return null;
        }
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "Scaling fit over %d variants (mean final validation loss; N non-embedding "
                + "parameters, D training tokens): L(N, D) = %.4g + %.4g/N^%.3f + %.4g/D^%.3f, rms residual %.4f%n%n", pts.size(), law.e(), law.a(),
                law.alpha(), law.b(), law.beta(), law.rmse()));
        if (law.e() < 0 || law.a() < 0 || law.b() < 0 || law.alpha() < 0.01 || law.beta() < 0.01) {
            sb.append("The law does not describe these runs: a negative term or an exponent near 0 (at this budget loss does not fall with N and D as "
                    + "the law needs; more tokens per parameter, or more runs, are what it takes).\n\n");
        }
        long sizes = pts.stream().mapToDouble(ScalingFit.Point::n).distinct().count(), budgets = pts.stream().mapToDouble(ScalingFit.Point::d).distinct().count();
        if (sizes < 3 || budgets < 3) { // X/V^γ passes through any two values of V for every γ: E trades off against that exponent
            boolean both = sizes < 3 && budgets < 3;
            String undetermined = both ? "the exponents of N and D" : sizes < 3 ? "the exponent of N" : "the exponent of D";
            String meaningful = both ? "" : sizes < 3 ? "β and " : "α and ";
            String needed = both ? "size and a third budget" : sizes < 3 ? "size" : "budget";
            sb.append(String.format(Locale.ROOT, "With %d model size%s and %d token budget%s, E and %s are not determined: other values fit as well (only %s"
                    + "the residuals mean something); a third %s is what the law needs.%n%n", sizes, sizes == 1 ? "" : "s", budgets, budgets == 1 ? "" : "s",
                    undetermined, meaningful, needed));
        }
        sb.append("| variant | N | D | loss | fitted | residual |\n|---|---|---|---|---|---|\n");
        for (int i = 0; i < pts.size(); i++) {
            ScalingFit.Point p = pts.get(i);
            sb.append(String.format(Locale.ROOT, "| %s | %,.0f | %,.0f | %.4f | %.4f | %+.4f |%n", names.get(i), p.n(), p.d(), p.loss(), law.predict(p.n(), p.d()),
                    law.residuals()[i]));
        }
        return sb.toString();
    }

    public List<Row> rows() {
        return rows;
    }

    public List<String> unfinished() {
        return unfinished;
    }

    /** The comparison as a Markdown table: a row per variant for validation loss and each task's headline metric (comparison.json has all). */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Sweep %s: baseline %s; mean over seeds ± the half-width of its %.0f%% interval; the difference from the "
                + "baseline paired over seeds (paired t-test, two-sided; Holm's adjustment over each variant's metrics in this table, * where it "
                + "stays below %.2f)%n%n", manifest.dir(), manifest.baseline(), 100 * CONFIDENCE, ALPHA));
        sb.append("| metric | variant | seeds | mean | difference from baseline | p | p, Holm |\n|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            if (!r.headline()) continue;
            sb.append("| ").append(r.metric()).append(" | ").append(r.variant()).append(" | ").append(r.value().n()).append(" | ")
                    .append(pm(r.value().mean(), r.value().halfWidth())).append(" | ");
            if (r.difference() == null) sb.append("(baseline) | | |\n");
            else {
                sb.append(signed(r.difference().mean(), r.difference().halfWidth())).append(" | ")
                        .append(Double.isNaN(r.difference().p()) ? "n/a | n/a" : String.format(Locale.ROOT, "%.3g | %.3g%s", r.difference().p(), r.pHolm(),
                                r.significant() ? " *" : "")).append(" |\n");
            }
        }
        long others = rows.stream().filter(r -> !r.headline()).map(Row::metric).distinct().count();
        if (others > 0) sb.append(String.format(Locale.ROOT, "%nEach task's headline metric; %d more metrics (other metrics of the tasks, BLiMP's "
                + "phenomena and paradigms) are in comparison.json.%n", others));
        if (!unfinished.isEmpty()) sb.append("\nNot finished yet (counted with what they have): ").append(String.join(", ", unfinished)).append('\n');
        return sb.toString();
    }

    /** A sentence per variant in plain words: what it did to validation loss and to each capability, against the baseline. */
    public List<String> summaries() {
        List<String> out = new ArrayList<>();
        for (String v : manifest.variants()) {
            if (v.equals(manifest.baseline())) continue;
            List<String> parts = new ArrayList<>(), unchanged = new ArrayList<>();
            for (Row r : rows) {
                if (!r.variant().equals(v) || r.difference() == null || !r.headline()) continue;
                SeedStatistics.Difference d = r.difference();
                if (d.n() == 0) continue; // no seed both ran yet
                if (Double.isNaN(d.p())) {
                    parts.add(String.format(Locale.ROOT, "%s %s by %.3g (%d seed%s: no test)", r.metric(), d.mean() < 0 ? "lower" : "higher",
                            Math.abs(d.mean()), d.n(), d.n() == 1 ? "" : "s"));
                } else if (r.significant()) {
                    boolean better = r.lowerIsBetter() ? d.mean() < 0 : d.mean() > 0;
                    parts.add(String.format(Locale.ROOT, "%s %s by %.3g ± %.2g over %d seeds (p = %.2g, %.2g after Holm's adjustment, %s)", r.metric(),
                            d.mean() < 0 ? "lowered" : "raised", Math.abs(d.mean()), d.halfWidth(), d.n(), d.p(), r.pHolm(),
                            MetricDirection.known(metricName(r.metric())) ? (better ? "better" : "worse") : "direction unknown"));
                } else {
                    unchanged.add(r.metric());
                }
            }
            String diffs = String.join(", ", manifest.differences().getOrDefault(v, List.of()));
            String s = v + " (" + (diffs.isEmpty() ? "same config as the baseline" : diffs) + "): " + (parts.isEmpty() ? "no significant difference" : String.join("; ", parts))
                    + (unchanged.isEmpty() ? "" : (parts.isEmpty() ? " in " : "; unchanged within noise: ") + String.join(", ", unchanged)) + ".";
            out.add(s);
        }
        return out;
    }

    /** The metric of a row's name: a task's after its colon, a data source's validation (val_loss/NAME) as val_loss's. */
    private static String metricName(String metric) {
        if (metric.contains("/") && !metric.contains(":")) return metric.substring(0, metric.indexOf('/'));
        return metric.contains(":") ? metric.substring(metric.indexOf(':') + 1) : metric;
    }

    private static String pm(double mean, double half) {
        return Double.isNaN(half) ? String.format(Locale.ROOT, "%.4f", mean) : String.format(Locale.ROOT, "%.4f ± %.4f", mean, half);
    }

    private static String signed(double mean, double half) {
        return Double.isNaN(half) ? String.format(Locale.ROOT, "%+.4f", mean) : String.format(Locale.ROOT, "%+.4f ± %.4f", mean, half);
    }

    /** The rows as JSON-ready maps (comparison.json). */
    public List<Map<String, Object>> json() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("metric", r.metric());
            m.put("variant", r.variant());
            m.put("headline", r.headline());
            m.put("seeds", r.value().n());
            m.put("mean", r.value().mean());
            if (!Double.isNaN(r.value().halfWidth())) m.put("ci95_half_width", r.value().halfWidth());
            if (r.difference() != null) {
                m.put("difference", r.difference().mean());
                if (!Double.isNaN(r.difference().halfWidth())) m.put("difference_ci95_half_width", r.difference().halfWidth());
                if (!Double.isNaN(r.difference().p())) {
                    m.put("paired_t", r.difference().t());
                    m.put("p", r.difference().p());
                    m.put("p_holm", r.pHolm());
                    m.put("significant", r.significant());
                }
            }
            out.add(m);
        }
        return out;
    }
}
