package dev.crucible.eval.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.train.sweep.Sweep;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A sweep's comparison on synthetic runs with known answers: the paired test's numbers in the table and in words. */
class SweepComparisonTest {
    @TempDir
    Path dir;

    private void run(String variant, long seed, double finalVal, double acc) throws IOException {
        Path r = dir.resolve(variant).resolve("seed-" + seed);
        Files.createDirectories(r.resolve("eval"));
        Files.writeString(r.resolve("metrics.jsonl"), String.format(Locale.ROOT, "{\"step\":0,\"tokens\":0,\"val_loss\":8.0}%n"
                + "{\"step\":10,\"tokens\":100,\"train_loss\":5.0,\"val_loss\":%.4f}%n", finalVal));
        Files.writeString(r.resolve("eval/results.jsonl"), String.format(Locale.ROOT,
                "{\"run\":\"x\",\"step\":10,\"tokens\":100,\"task\":\"piqa\",\"metric\":\"acc\",\"value\":%.4f,\"stderr\":0.01}%n", acc));
    }

    @Test
    void theTableAndTheSentencesCarryThePairedTest() throws IOException {
        double[] base = {5.00, 5.10, 4.90, 5.20}, variant = {4.97, 5.08, 4.86, 5.17}, accBase = {0.60, 0.62, 0.58, 0.61}, accVar = {0.61, 0.60, 0.59, 0.62};
        StringBuilder runs = new StringBuilder();
        for (int s = 1; s <= 4; s++) {
            run("base", s, base[s - 1], accBase[s - 1]);
            run("mix", s, variant[s - 1], accVar[s - 1]);
            runs.append(String.format(Locale.ROOT, "%s{\"variant\":\"base\",\"seed\":%d,\"dir\":\"base/seed-%d\"},{\"variant\":\"mix\",\"seed\":%d,\"dir\":\"mix/seed-%d\"}",
                    s == 1 ? "" : ",", s, s, s, s));
        }
        Files.writeString(dir.resolve(Sweep.MANIFEST), "{\"baseline\":\"base\",\"seeds\":[1,2,3,4],\"variants\":[{\"name\":\"base\",\"differences\":[]},"
                + "{\"name\":\"mix\",\"differences\":[\"model.norm_placement: pre -> mix\"]}],\"runs\":[" + runs + "]}");
        SweepComparison c = SweepComparison.of(Sweep.Manifest.read(dir));
        List<SweepComparison.Row> rows = c.rows();
        assertEquals(List.of("val_loss base", "val_loss mix", "piqa:acc base", "piqa:acc mix"), rows.stream().map(r -> r.metric() + " " + r.variant()).toList());
        SweepComparison.Row mix = rows.get(1);
        assertEquals(-0.03, mix.difference().mean(), 1e-9);
        assertEquals(0.00522, mix.difference().p(), 5e-5);
        // two headline metrics in mix's family: Holm doubles the smaller p
        assertEquals(2 * mix.difference().p(), mix.pHolm(), 1e-12);
        assertTrue(c.table().contains("| val_loss | mix | 4 | 5.0200 ± 0.2139 | -0.0300 ± 0.0130 | 0.00521 | 0.0104 * |"), c.table());
        assertEquals(List.of("mix (model.norm_placement: pre -> mix): val_loss lowered by 0.0300 ± 0.013 over 4 seeds (p = 0.0052, 0.010 after Holm's adjustment, better); "
                + "unchanged within noise: piqa:acc."), c.summaries());
        assertTrue(c.unfinished().size() == 8, "no config.yaml: not known to be finished, and said so");
        assertEquals(null, c.scaling(), "one size, one budget: no scaling fit");
    }

    /** The table leads with each task's headline metric (PIQA's acc_norm, BLiMP's mean over paradigms); the JSON keeps every metric. */
    @Test
    void theTableShowsEachTasksHeadlineMetricAndTheJsonEveryMetric() throws IOException {
        StringBuilder runs = new StringBuilder();
        for (String v : List.of("base", "other")) {
            for (int s = 1; s <= 2; s++) {
                Path r = dir.resolve(v).resolve("seed-" + s);
                Files.createDirectories(r.resolve("eval"));
                Files.writeString(r.resolve("metrics.jsonl"), "{\"step\":10,\"tokens\":100,\"val_loss\":5.0}\n");
                StringBuilder res = new StringBuilder();
                for (String[] m : new String[][] {{"piqa", "acc", "0.6"}, {"piqa", "acc_norm", "0.62"}, {"blimp_anaphor_gender_agreement", "acc", "0.7"},
                        {"blimp_adjunct_island", "acc", "0.5"}, {"induction", "induction_gain", "0.1"}}) {
                    res.append(String.format(Locale.ROOT, "{\"run\":\"x\",\"step\":10,\"tokens\":100,\"task\":\"%s\",\"metric\":\"%s\",\"value\":%s,\"stderr\":0.01}%n",
                            m[0], m[1], m[2]));
                }
                Files.writeString(r.resolve("eval/results.jsonl"), res);
                runs.append(runs.isEmpty() ? "" : ",").append(String.format(Locale.ROOT, "{\"variant\":\"%s\",\"seed\":%d,\"dir\":\"%s/seed-%d\"}", v, s, v, s));
            }
        }
        Files.writeString(dir.resolve(Sweep.MANIFEST), "{\"baseline\":\"base\",\"seeds\":[1,2],\"variants\":[{\"name\":\"base\",\"differences\":[]},"
                + "{\"name\":\"other\",\"differences\":[]}],\"runs\":[" + runs + "]}");
        SweepComparison c = SweepComparison.of(Sweep.Manifest.read(dir));
        List<String> table = c.table().lines().filter(l -> l.startsWith("| ") && !l.startsWith("| metric")).map(l -> l.split(" \\| ")[0].substring(2)).distinct().toList();
        assertEquals(List.of("val_loss", "blimp:acc", "induction:induction_gain", "piqa:acc_norm"), table, c.table());
        assertEquals(0.6, c.rows().stream().filter(r -> r.metric().equals("blimp:acc")).findFirst().orElseThrow().value().mean(), 1e-9, "BLiMP's mean over paradigms");
        java.util.Set<String> json = new java.util.TreeSet<>();
        for (var m : c.json()) json.add((String) m.get("metric"));
        assertTrue(json.containsAll(List.of("piqa:acc", "blimp:island_effects:acc", "blimp_adjunct_island:acc", "blimp:anaphor_agreement:acc")), json.toString());
        assertTrue(c.table().contains("more metrics"), c.table());
    }

    /** A mixture's sources compare one by one (its val_loss weighs them as each variant's mixture does): lower is better, as for val_loss. */
    @Test
    void eachDataSourcesValidationLossIsCompared() throws IOException {
        StringBuilder runs = new StringBuilder();
        double[][] old = {{3.3, 3.2, 3.4}, {2.2, 2.1, 2.3}};
        for (int v = 0; v < 2; v++) {
            for (int s = 1; s <= 3; s++) {
                String name = v == 0 ? "no_replay" : "replay";
                Path r = Files.createDirectories(dir.resolve(name).resolve("seed-" + s));
                Files.writeString(r.resolve("metrics.jsonl"), String.format(Locale.ROOT,
                        "{\"step\":150,\"tokens\":614400,\"val_loss\":1.5,\"val_loss/prose\":%.3f,\"val_loss/java\":%.3f}%n", 1.46 + 0.02 * v, old[v][s - 1]));
                runs.append(runs.isEmpty() ? "" : ",").append(String.format(Locale.ROOT, "{\"variant\":\"%s\",\"seed\":%d,\"dir\":\"%s/seed-%d\"}", name, s, name, s));
            }
        }
        Files.writeString(dir.resolve(Sweep.MANIFEST), "{\"baseline\":\"no_replay\",\"seeds\":[1,2,3],\"variants\":[{\"name\":\"no_replay\",\"differences\":[]},"
                + "{\"name\":\"replay\",\"differences\":[]}],\"runs\":[" + runs + "]}");
        SweepComparison c = SweepComparison.of(Sweep.Manifest.read(dir));
        SweepComparison.Row java = c.rows().stream().filter(r -> r.metric().equals("val_loss/java") && r.variant().equals("replay")).findFirst().orElseThrow();
        assertTrue(java.lowerIsBetter() && java.headline(), java.toString());
        assertEquals(-1.1, java.difference().mean(), 1e-9);
        assertTrue(c.table().contains("| val_loss/prose | replay | 3 |"), c.table());
        assertTrue(c.summaries().getFirst().contains("val_loss/java lowered by 1.10") && c.summaries().getFirst().contains("better"), c.summaries().toString());
    }

    /** Variants of 3 sizes x 3 budgets whose losses follow a known law: the comparison recovers it. */
    @Test
    void variantsAcrossSizesAndBudgetsGetAScalingFit() throws IOException {
        String fit = scalingOf(new long[] {10_000, 40_000, 160_000});
        assertTrue(fit != null && fit.startsWith("Scaling fit over 9 variants"), String.valueOf(fit));
        assertTrue(fit.contains("L(N, D) = 1.500 + 40.00/N^0.300 + 60.00/D^0.250, rms residual 0.0000"), fit);
        assertTrue(fit.contains("| L4_D160000 |") && !fit.contains("not determined"), fit);
    }

    /** Two budgets: E + B/D^β passes through both for any β, so the comparison says E and β are not determined (α still is). */
    @Test
    void twoBudgetsLeaveEAndBetaUndetermined() throws IOException {
        String fit = scalingOf(new long[] {10_000, 160_000});
        assertTrue(fit.contains("With 3 model sizes and 2 token budgets, E and the exponent of D are not determined") && fit.contains("only α"), fit);
    }

    private String scalingOf(long[] budgets) throws IOException {
        StringBuilder runs = new StringBuilder(), variants = new StringBuilder();
        for (int layers : new int[] {1, 2, 4}) {
            for (long tokens : budgets) {
                String v = "L" + layers + "_D" + tokens;
                Path r = Files.createDirectories(dir.resolve(v).resolve("seed-1"));
                Files.writeString(r.resolve("config.yaml"), "model: {style: llama, vocab_size: 256, context_length: 32, n_layer: " + layers
                        + ", n_head: 2, d_model: 16}\ndata: {train: x.bin}\ntraining: {seq_len: 32}\n");
                long n = new dev.crucible.model.ParamLayout(dev.crucible.model.ModelConfig.llama(256, 32, layers, 2, 2, 16)).size() - 256L * 16;
                double loss = 1.5 + 40 / Math.pow(n, 0.3) + 60 / Math.pow(tokens, 0.25);
                Files.writeString(r.resolve("metrics.jsonl"), String.format(Locale.ROOT, "{\"step\":10,\"tokens\":%d,\"val_loss\":%.6f}%n", tokens, loss));
                runs.append(runs.isEmpty() ? "" : ",").append("{\"variant\":\"").append(v).append("\",\"seed\":1,\"dir\":\"").append(v).append("/seed-1\"}");
                variants.append(variants.isEmpty() ? "" : ",").append("{\"name\":\"").append(v).append("\",\"differences\":[]}");
            }
        }
        Files.writeString(dir.resolve(Sweep.MANIFEST), "{\"baseline\":\"L1_D10000\",\"seeds\":[1],\"variants\":[" + variants + "],\"runs\":[" + runs + "]}");
        return SweepComparison.of(Sweep.Manifest.read(dir)).scaling();
    }
}
