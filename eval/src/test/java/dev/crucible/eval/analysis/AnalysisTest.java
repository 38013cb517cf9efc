package dev.crucible.eval.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AnalysisTest {

    static Series series(double[] values, double se) {
        List<Series.Point> pts = new ArrayList<>();
        for (int i = 0; i < values.length; i++) pts.add(new Series.Point(i * 100L, i * 100L * 1000, values[i], se));
        return new Series("r", "t", "acc", Double.NaN, pts);
    }

    @Test
    void spearmanByHand() {
        assertEquals(1.0, Analysis.spearman(new double[] {1, 2, 3}, new double[] {10, 20, 30}), 1e-12);
        assertEquals(-1.0, Analysis.spearman(new double[] {1, 2, 3}, new double[] {3, 2, 1}), 1e-12);
        // ranks a = [1, 2.5, 2.5, 4], b = [1, 2, 3, 4]: co-deviations 2.25 + 0 + 0 + 2.25 = 4.5, over sqrt(4.5 · 5)
        assertEquals(4.5 / Math.sqrt(4.5 * 5), Analysis.spearman(new double[] {1, 5, 5, 9}, new double[] {1, 2, 3, 4}), 1e-12);
        assertTrue(Double.isNaN(Analysis.spearman(new double[] {1, 1}, new double[] {1, 2})));
        assertThrows(IllegalArgumentException.class, () -> Analysis.spearman(new double[] {1}, new double[] {1, 2}));
    }

    @Test
    void emergenceNeedsTwoSignificantCheckpointsAboveTheStart() {
        // stderr 0.01: a real rise needs > 0.02 above the baseline, twice in a row.
        assertEquals(200, Analysis.emergence(series(new double[] {0.25, 0.26, 0.30, 0.31, 0.33}, 0.01), 0.25));
        assertEquals(400, Analysis.emergence(series(new double[] {0.25, 0.26, 0.30, 0.25, 0.33, 0.34}, 0.01), 0.25), "a lone spike is not emergence");
        assertEquals(-1, Analysis.emergence(series(new double[] {0.52, 0.53, 0.52, 0.53}, 0.01), 0.5), "above nominal chance from the start is not progress");
        assertEquals(Analysis.normalised(0.625, 0.25, 1.0), 0.5, 1e-12);
    }

    @Test
    void peakAndSignificantDecline() {
        Analysis.Peak p = Analysis.peak(series(new double[] {0.0, 0.2, 0.25, 0.22, 0.18}, 0.01));
        assertEquals(200, p.step());
        assertEquals((0.25 - 0.18) / Math.sqrt(2e-4), p.declineZ(), 1e-9);
        assertTrue(p.significantDecline());
        assertFalse(Analysis.peak(series(new double[] {0.0, 0.2, 0.25, 0.24}, 0.01)).significantDecline());
        // the peak is the best of the checkpoints before the last: the threshold grows with them (Bonferroni; Python's NormalDist.inv_cdf)
        assertEquals(2.0, Analysis.threshold(1), 1e-12);
        assertEquals(2.530960494008706, Analysis.threshold(4), 1e-8);
        assertEquals(2.8372759804564556, Analysis.threshold(10), 1e-8);
        assertEquals(3.246904955874457, Analysis.threshold(39), 1e-8);
        assertEquals(2.530960494008706, p.threshold(), 1e-8, "five checkpoints: four could be the peak");
        double[] flat = new double[40];
        java.util.Arrays.fill(flat, 0.5);
        flat[20] = 0.5 + 2.5 * Math.sqrt(2e-4); // 2.5 standard errors of the difference above the last: the best of 39 noisy values reaches that often
        Analysis.Peak lucky = Analysis.peak(series(flat, 0.01));
        assertEquals(2.5, lucky.declineZ(), 1e-9);
        assertFalse(lucky.significantDecline(), "not a decline among 40 checkpoints (threshold " + lucky.threshold() + ")");
    }

    @Test
    void normalQuantilesAsPythonsNormalDist() {
        double[][] cases = {{1e-10, -6.361340902404056}, {0.001, -3.090232306167813}, {0.02, -2.0537489106318225}, {0.3, -0.5244005127080407},
            {0.5, 0.0}, {0.9, 1.2815515655446008}, {0.999, 3.090232306167813}};
        for (double[] c : cases) assertEquals(c[1], Normal.quantile(c[0]), 2e-9 * Math.max(1, Math.abs(c[1])), "p = " + c[0]);
    }

    @Test
    void holmAsStatsmodels() {
        // multipletests([0.01, 0.04, 0.03, 0.005], method="holm")[1]
        assertArrayEquals(new double[] {0.03, 0.06, 0.06, 0.02}, Holm.adjust(new double[] {0.01, 0.04, 0.03, 0.005}), 1e-12);
        double[] withNaN = Holm.adjust(new double[] {0.01, Double.NaN, 0.04});
        assertTrue(Double.isNaN(withNaN[1]), "no test, no adjusted p");
        assertEquals(0.02, withNaN[0], 1e-12, "a family of two");
        assertEquals(0.04, withNaN[2], 1e-12);
        assertEquals(1.0, Holm.adjust(new double[] {0.6, 0.7})[0], 0, "capped at 1");
    }

    @Test
    void earlyIndicatorsCarryTheirChanceOfARandomPairing() {
        double[] x = {1, 2, 3}, y = {10, 20, 30};
        assertEquals(1.0 / 6, EarlyIndicators.pValue(x, y, 1.0), 1e-12, "one pairing of 3! ranks the runs perfectly");
        assertEquals(1.0 / 24, EarlyIndicators.pValue(new double[] {1, 2, 3, 4}, new double[] {5, 6, 7, 8}, 1.0), 1e-12);
        assertEquals(1.0, EarlyIndicators.pValue(x, new double[] {30, 20, 10}, -1.0), 1e-12, "every pairing reaches the lowest ρ");
        // ties: y's two equal values make two pairings reach ρ = 0.866 (x ranks 1 2 3 against y ranks 1.5 1.5 3)
        double rho = Analysis.spearman(x, new double[] {1, 1, 2});
        assertEquals(2.0 / 6, EarlyIndicators.pValue(x, new double[] {1, 1, 2}, rho), 1e-12);
        // three runs, two metrics: an early value that ranks the runs as their final one, and one that ranks them backwards
        Map<String, List<Series>> byRun = new java.util.LinkedHashMap<>();
        for (int r = 0; r < 3; r++) {
            byRun.put("run" + r, List.of(series("lambada_openai", "acc", 0.1 * r, 0.2 * r, 0.3 + 0.1 * r),
                    series("wikitext", "bits_per_byte", 3 - 0.1 * r, 2.5 + 0.1 * r, 2 + 0.1 * r)));
        }
        List<EarlyIndicators.Indicator> ind = EarlyIndicators.rank(byRun, "lambada_openai/acc", 0.5);
        assertEquals(2, ind.size(), ind.toString());
        assertEquals("lambada_openai/acc", ind.getFirst().metric());
        assertEquals(1.0, ind.getFirst().rho(), 1e-12);
        assertEquals(1.0 / 6, ind.getFirst().p(), 1e-12);
        assertEquals(2.0 / 6, ind.getFirst().pHolm(), 1e-12, "the smaller of two p-values, doubled");
        assertEquals(-1.0, ind.get(1).rho(), 1e-12, "bits per byte read at half the tokens: higher in the better runs, so ranked backwards once negated");
    }

    @Test
    void aSeriesScoredAtFewCheckpointsIsLeftOutOfGroupsNotEveryone() {
        List<Series> all = List.of(series("a", "acc", 0.1, 0.2, 0.3, 0.4, 0.5), series("b", "acc", 0.2, 0.3, 0.5, 0.6, 0.7),
                series("c", "target_logprob", -5, -4, -3, -2, -1),
                new Series("run", "d@w4", "acc", Double.NaN, List.of(new Series.Point(16, 16000, 0.4, 0.01))));
        assertEquals(List.of("d@w4/acc"), Groups.sparse(all));
        List<Groups.Group> g = Groups.find(all, 0.8);
        assertEquals(1, g.size(), g.toString());
        assertEquals(List.of("a/acc", "b/acc", "c/target_logprob"), g.getFirst().members());
        // a step listed twice counts once
        Series twice = new Series("run", "e", "acc", Double.NaN, List.of(new Series.Point(1, 1000, 0.1, 0.01), new Series.Point(1, 1000, 0.1, 0.01),
                new Series.Point(2, 2000, 0.2, 0.01), new Series.Point(4, 4000, 0.3, 0.01), new Series.Point(8, 8000, 0.35, 0.01), new Series.Point(16, 16000, 0.4, 0.01)));
        assertEquals(1, Groups.find(List.of(all.get(0), all.get(1), twice), 0.8).size());
    }

    @Test
    void spearmanPropagatesNaNAsScipyDoes() {
        assertTrue(Double.isNaN(Analysis.spearman(new double[] {1, 2, 3, 4}, new double[] {Double.NaN, Double.NaN, 2, 1})));
        assertEquals(-0.8, Analysis.spearman(new double[] {1, 2, 3, 4}, new double[] {4, 2, 3, 1}), 1e-12);
    }

    @Test
    void badResultFilesAreNamed(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("model_step10.json"), "{\"config\": {}}");
        String msg = assertThrows(IOException.class, () -> Trajectories.fromLmEval(dir, "r", 1)).getMessage();
        assertTrue(msg.contains("model_step10.json: no \"results\" object"), msg);
        Files.writeString(dir.resolve("model_step10.json"), "{\"results\": {}}");
        Files.writeString(dir.resolve("nostep.json"), "{\"results\": {}}");
        assertTrue(assertThrows(IOException.class, () -> Trajectories.fromLmEval(dir, "r", 1)).getMessage().contains("nostep.json: cannot tell the checkpoint's step"));
    }

    /** Pythia's published record: the analysis must find what is visible there. */
    @Test
    void pythiaTrajectories() throws IOException {
        String data = System.getProperty("crucible.data", "");
        Path dir = data.isEmpty() ? null : Path.of(data, "pythia_eval_trajectories", "pythia-70m");
        assumeTrue(dir != null && Files.isDirectory(dir), "needs ../shared/data (-Dcrucible.data=...)");
        List<Series> all = Trajectories.fromLmEval(dir, "pythia-70m", 2_097_152);
        Series lambada = find(all, "lambada_openai", "acc");
        assertEquals(27, lambada.points().size());
        assertEquals(0, lambada.first().step());
        assertEquals(143_000L * 2_097_152, lambada.last().tokens());
        // LAMBADA accuracy rises, peaks mid-training and then falls, significantly.
        Analysis.Peak p = Analysis.peak(lambada);
        assertTrue(p.step() > 13_000 && p.step() < 143_000, "peak at step " + p.step());
        assertTrue(p.significantDecline(), "decline of " + p.declineZ() + " standard errors");
        assertEquals(1000, Analysis.emergence(lambada, 0.0));
        String verdict = Analysis.verdict(lambada, 0.0);
        assertTrue(verdict.contains("peaks at step " + p.step()) && verdict.contains("then falls"), verdict);
        // Multiple-choice tasks stay near chance for the first thousand steps.
        for (String task : new String[] {"piqa", "arc_easy", "winogrande", "sciq", "arc_challenge", "logiqa"}) {
            Series s = find(all, task, "acc");
            double chance = Analysis.chance(task, "acc");
            for (Series.Point pt : s.points()) {
                if (pt.step() < 1000) assertTrue(Analysis.normalised(pt.value(), chance, 1) < 0.1, task + " at step " + pt.step() + ": " + pt.value());
            }
            assertTrue(Analysis.emergence(s, chance) < 0 || Analysis.emergence(s, chance) >= 512, task + " emerges at " + Analysis.emergence(s, chance));
        }
        assertTrue(Analysis.spearman(lambada.values(), find(all, "sciq", "acc").values()) > 0.7, "LAMBADA and SciQ move together");
        assertTrue(find(all, "lambada_openai", "ppl").first().value() > 1e6, "perplexity imported too");
    }

    /** Which of Pythia-70M's metrics move together, and whether a group forecasts its members. */
    @Test
    void pythiaGroupsAndEarlyIndicators() throws IOException {
        String data = System.getProperty("crucible.data", "");
        Path root = data.isEmpty() ? null : Path.of(data, "pythia_eval_trajectories");
        assumeTrue(root != null && Files.isDirectory(root), "needs ../shared/data (-Dcrucible.data=...)");
        List<Series> all = Trajectories.fromLmEval(root.resolve("pythia-70m"), "pythia-70m", 2_097_152).stream()
                .filter(s -> s.metric().equals("acc") || s.metric().equals("ppl")).toList();
        List<Groups.Group> groups = Groups.find(all, 0.8);
        Groups.Group withLambada = groups.stream().filter(g -> g.members().contains("lambada_openai/acc")).findFirst().orElseThrow();
        assertTrue(withLambada.members().contains("lambada_openai/ppl"), "LAMBADA accuracy and (negated) perplexity move together: " + groups);
        assertTrue(withLambada.minRho() >= 0.8);
        for (Groups.Group g : groups) assertEquals(g.members().size() >= 3 ? g.members().size() : 0, g.forecasts().size());
        // hand check of the forecast on a made-up group: b tracks a exactly, so a's mean predicts it with no error
        Map<String, double[]> v = new java.util.LinkedHashMap<>();
        v.put("a", new double[] {1, 2, 3, 4, 5, 6});
        v.put("b", new double[] {2, 4, 6, 8, 10, 12});
        v.put("c", new double[] {1, 2, 3, 4, 5, 6});
        Groups.Forecast f = Groups.forecast("b", List.of("a", "b", "c"), v);
        assertEquals(0, f.error(), 1e-9);
        assertEquals((2 + 4 + 6) / 3.0, f.naiveError(), 1e-9); // last known value 6 against 8, 10, 12

        // across runs of different size and data: an early reading of LAMBADA accuracy ranks the runs' final LAMBADA accuracy
        Map<String, List<Series>> byRun = new java.util.LinkedHashMap<>();
        for (String run : List.of("pythia-70m", "pythia-70m-deduped", "pythia-160m")) {
            byRun.put(run, Trajectories.fromLmEval(root.resolve(run), run, 2_097_152));
        }
        List<EarlyIndicators.Indicator> ind = EarlyIndicators.rank(byRun, "lambada_openai/acc", 0.1);
        assertTrue(ind.size() > 5, ind.toString());
        for (EarlyIndicators.Indicator i : ind) assertEquals(3, i.runs());
        assertTrue(ind.getFirst().rho() >= ind.getLast().rho());
    }

    @Test
    void metricDirectionsAndMetricsOfUnknownDirectionLeftOut() {
        for (String m : List.of("acc", "acc,none", "acc_norm", "exact_match", "target_logprob", "induction_gain", "pass@1")) {
            assertEquals(MetricDirection.HIGHER_IS_BETTER, MetricDirection.of(m), m);
        }
        for (String m : List.of("brier", "bits_per_byte", "word_perplexity", "ppl", "perplexity,none", "loss_late_minus_early")) {
            assertEquals(MetricDirection.LOWER_IS_BETTER, MetricDirection.of(m), m);
        }
        for (String m : List.of("score", "my_metric")) assertEquals(MetricDirection.UNKNOWN, MetricDirection.of(m), m);
        // a Brier score that falls while accuracy rises moves with it; a metric of unknown direction is not guessed at
        List<Series> series = List.of(series("t1", "acc", 0.3, 0.4, 0.5, 0.6, 0.7), series("t1", "brier", 0.9, 0.8, 0.7, 0.6, 0.5),
                series("t2", "acc", 0.31, 0.42, 0.49, 0.62, 0.71), series("t3", "score", 0.3, 0.4, 0.5, 0.6, 0.7));
        List<Groups.Group> groups = Groups.find(series, 0.8);
        assertEquals(1, groups.size(), groups.toString());
        assertEquals(List.of("t1/acc", "t1/brier", "t2/acc"), groups.getFirst().members().stream().sorted().toList());
        assertEquals(List.of("t3/score"), Groups.unoriented(series));
    }

    static Series series(String task, String metric, double... values) {
        List<Series.Point> points = new java.util.ArrayList<>();
        for (int i = 0; i < values.length; i++) points.add(new Series.Point(1L << i, 1000L << i, values[i], 0.01));
        return new Series("run", task, metric, Double.NaN, points);
    }

    static Series find(List<Series> all, String task, String metric) {
        return all.stream().filter(s -> s.task().equals(task) && s.metric().equals(metric)).findFirst().orElseThrow(() -> new AssertionError(task + "/" + metric));
    }
}
