package dev.crucible.eval.report;

import dev.crucible.eval.analysis.Series;
import dev.crucible.eval.analysis.Stability;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The report's charts: loss, bits per byte, each probe and BLiMP over tokens (or, across runs of different sizes, training FLOPs). */
final class Figures {
    private Figures() {}

    /** The x axis: tokens for one run; for several, training FLOPs when every run knows them, so runs of different sizes align on compute. */
    record Axis(String label, java.util.function.ToDoubleBiFunction<Run, Long> x) {
        /** x of each point; the untrained model (0 tokens) has no place on a log axis: NaN, skipped by the chart. */
        double[] of(Run r, Series s) {
            return s.points().stream().mapToDouble(p -> p.tokens() <= 0 ? Double.NaN : x.applyAsDouble(r, p.tokens())).toArray();
        }
    }

    static Axis axis(List<Run> runs) {
        boolean compute = runs.size() > 1 && runs.stream().allMatch(r -> !Double.isNaN(r.flopsPerToken()));
        return compute ? new Axis("training FLOPs", (r, tokens) -> tokens * r.flopsPerToken()) : new Axis("tokens", (r, tokens) -> tokens);
    }

    static double[] xs(Series s) {
        return s.points().stream().mapToDouble(p -> p.tokens() <= 0 ? Double.NaN : p.tokens()).toArray();
    }

    static double[] errs(Series s) {
        return s.points().stream().mapToDouble(Series.Point::stderr).toArray();
    }

    record Figure(String file, String caption, Chart chart) {}

    /**
     * One line per variant of a sweep: the mean over its seeds of what `values` gives each run (step ->
     * {tokens, value}) with the band of its 95% interval (Student's t), at the steps every seed has.
     */
    static Chart seedBands(Variants variants, Axis ax, String title, String yLabel,
                           java.util.function.Function<Run, java.util.Map<Long, double[]>> values) {
        Chart c = new Chart(title, ax.label(), yLabel, true);
        for (java.util.Map.Entry<String, List<Run>> v : variants.byVariant().entrySet()) {
            java.util.Map<Long, List<Double>> byStep = new java.util.TreeMap<>();
            java.util.Map<Long, Long> tokens = new java.util.HashMap<>();
            for (Run r : v.getValue()) {
                values.apply(r).forEach((step, tv) -> {
                    if (tv[0] <= 0 || Double.isNaN(tv[1])) return;
                    byStep.computeIfAbsent(step, k -> new ArrayList<>()).add(tv[1]);
                    tokens.put(step, (long) tv[0]);
                });
            }
            Run first = v.getValue().getFirst();
            List<double[]> pts = new ArrayList<>();
            byStep.forEach((step, vals) -> {
                if (vals.size() < v.getValue().size()) return;
                dev.crucible.eval.analysis.SeedStatistics.Estimate e = dev.crucible.eval.analysis.SeedStatistics.estimate(vals, 0.95);
                pts.add(new double[] {ax.x().applyAsDouble(first, tokens.get(step)), e.mean(), Double.isNaN(e.halfWidth()) ? 0 : e.halfWidth()});
            });
            if (!pts.isEmpty()) {
                c.line(v.getKey() + " (" + v.getValue().size() + " seeds)", pts.stream().mapToDouble(p -> p[0]).toArray(), pts.stream().mapToDouble(p -> p[1]).toArray(),
                        pts.stream().mapToDouble(p -> p[2]).toArray());
            }
        }
        return c.isEmpty() ? null : c;
    }

    /** A run's validation loss by step, as {tokens, loss}. */
    private static java.util.Map<Long, double[]> valLoss(Run r) {
        java.util.Map<Long, double[]> m = new java.util.TreeMap<>();
        for (Stability.Row x : r.metrics()) if (!Double.isNaN(x.valLoss())) m.put(x.step(), new double[] {x.tokens(), x.valLoss()});
        return m;
    }

    /**
     * A sweep's charts: validation loss and each task's headline capability per variant, the mean over
     * seeds with its 95% band (twenty runs' lines, one per seed, would hide what the seeds agree on).
     */
    private static List<Figure> sweepFigures(Variants variants, Axis ax) {
        List<Figure> out = new ArrayList<>();
        Chart loss = seedBands(variants, ax, "Validation loss over seeds (mean ± 95% interval)", "loss (nats/token)", Figures::valLoss);
        if (loss != null) {
            out.add(new Figure("loss-over-seeds.png", "Validation loss of each variant of a sweep: the mean over its seeds (runs named VARIANT/seed-N) "
                    + "with the band of its 95% interval (Student's t), at the steps every seed logged.", loss));
        }
        for (List<String> tm : variants.headlines()) {
            String task = tm.get(0), metric = tm.get(1);
            Chart c = seedBands(variants, ax, task + ": " + metric + " over seeds (mean ± 95% interval)", metric, r -> {
                java.util.Map<Long, double[]> m = new java.util.TreeMap<>();
                Series s = Variants.find(r, task, metric);
                if (s != null) for (Series.Point p : s.points()) m.put(p.step(), new double[] {p.tokens(), p.value()});
                return m;
            });
            if (c == null) continue;
            double chance = dev.crucible.eval.analysis.Analysis.chance(task, metric);
            if (!Double.isNaN(chance)) c.reference(chance, "chance");
            out.add(new Figure(task.replaceAll("[^A-Za-z0-9_.-]", "_") + "-" + metric + "-over-seeds.png", task + " (" + metric
                    + ") of each variant, the mean over its seeds with the band of its 95% interval, at the checkpoints every seed was evaluated at.", c));
        }
        return out;
    }

    static List<Figure> figures(List<Run> runs) {
        Axis ax = axis(runs);
        Variants variants = Variants.of(runs);
        if (!variants.isEmpty()) return sweepFigures(variants, ax);
        List<Figure> out = new ArrayList<>();
        boolean multi = runs.size() > 1;
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
        // a data mixture's sources (continual pre-training: the old and the new domain), validated at every evaluation
        Chart sources = null;
        // one unit for every run: bits per byte when each run with sources has them, else nats per token
        boolean sourcesInBits = runs.stream().map(r -> r.metrics().stream().flatMap(x -> x.bySource().keySet().stream()).toList()).filter(k -> !k.isEmpty())
                .allMatch(k -> k.stream().anyMatch(x -> x.startsWith("val_bpb/")));
        String kind = sourcesInBits ? "val_bpb/" : "val_loss/";
        for (Run r : runs) {
            java.util.Set<String> keys = new java.util.TreeSet<>();
            r.metrics().forEach(x -> keys.addAll(x.bySource().keySet()));
            for (String key : keys) {
                if (!key.startsWith(kind)) continue;
                if (sources == null) {
                    sources = new Chart("Validation by data source", ax.label(), kind.equals("val_bpb/") ? "bits per byte" : "loss (nats/token)", true);
                }
                List<Stability.Row> pts = r.metrics().stream().filter(x -> x.bySource().containsKey(key) && x.tokens() > 0).toList();
                String source = key.substring(kind.length());
                sources.line(multi ? r.name() + " " + source : source, pts.stream().mapToDouble(x -> ax.x().applyAsDouble(r, x.tokens())).toArray(),
                        pts.stream().mapToDouble(x -> x.bySource().get(key)).toArray(), null);
            }
        }
        if (sources != null && !sources.isEmpty()) {
            out.add(new Figure("sources.png", "Validation on each source of the data mixture (data.sources), e.g. the old and the new domain of a "
                    + "continued pre-training: forgetting, the stability gap and the new domain's learning, side by side.", sources));
        }
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
                Series s = r.find(p[0], p[1]);
                if (s != null) c.line(multi ? r.name() : p[1], ax.of(r, s), s.values(), errs(s));
            }
            if (!p[4].isEmpty()) c.reference(Double.parseDouble(p[4]), p[0].equals("induction") ? "no gain" : "chance");
            if (!c.isEmpty()) out.add(new Figure(p[0] + ".png", p[2] + ", with ±1 standard error.", c));
        }
        Chart blimp = new Chart("BLiMP: grammatical minimal pairs (mean of paradigms)", ax.label(), "accuracy", true).reference(0.5, "chance");
        boolean anyBlimp = false;
        for (Run r : runs) {
            Series s = r.blimp();
            if (s == null) continue;
            anyBlimp = true;
            blimp.line(multi ? r.name() : "acc", ax.of(r, s), s.values(), errs(s));
        }
        if (anyBlimp) out.add(new Figure("blimp.png", "BLiMP accuracy: the model prefers the grammatical sentence of a pair; chance is 0.5.", blimp));
        if (!multi) {
            Chart byPhenomenon = new Chart("BLiMP by phenomenon (mean of its paradigms)", ax.label(), "accuracy", true).reference(0.5, "chance");
            for (Series s : runs.getFirst().blimpPhenomena()) byPhenomenon.line(s.task().substring(6), ax.of(runs.getFirst(), s), s.values(), null);
            if (!byPhenomenon.isEmpty()) {
                out.add(new Figure("blimp-phenomena.png", "BLiMP's twelve phenomena: which grammar the model gets right, and from when. "
                        + "Each line is the mean over the phenomenon's paradigms (2 to 9); the table below gives their standard errors.", byPhenomenon));
            }
        }
        return out;
    }
}
