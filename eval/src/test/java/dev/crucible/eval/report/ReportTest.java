package dev.crucible.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    @TempDir
    Path tmp;

    @Test
    void escapesEverythingFromData() {
        assertEquals("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;&#xFFFD;", Html.esc("<script>alert(\"x\")</script> & '\u0001"));
    }

    @Test
    void chartDrawsAPngOfTheAskedSize() throws IOException {
        Chart c = new Chart("t", "tokens", "acc", true).line("a", new double[] {1e3, 1e4, 1e5}, new double[] {0.5, 0.6, Double.NaN}, new double[] {0.01, 0.02, 0.03})
                .reference(0.5, "chance");
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(c.png(640, 300)));
        assertEquals(640, img.getWidth());
        assertEquals(300, img.getHeight());
        // something other than white was drawn inside the plot area
        boolean ink = false;
        for (int x = 100; x < 500 && !ink; x++) for (int y = 60; y < 240; y++) if ((img.getRGB(x, y) & 0xFFFFFF) != 0xFFFFFF) ink = true;
        assertTrue(ink);
        assertEquals(List.of(0.0, 0.2, 0.4, 0.6, 0.8, 1.0), Chart.ticks(0, 1, 5));
        assertEquals("1.5k", Chart.si(1500));
        assertEquals("2M", Chart.si(2e6));
    }

    /** A run directory as the trainer and `eval --run` leave it, written by hand. */
    static Path fakeRun(Path dir, String hostileTask) throws IOException {
        Files.createDirectories(dir.resolve("eval"));
        StringBuilder m = new StringBuilder("{\"step\":0,\"tokens\":0,\"val_loss\":8.3}\n");
        for (int s = 1; s <= 64; s++) {
            m.append(String.format(java.util.Locale.ROOT, "{\"step\":%d,\"tokens\":%d,\"train_loss\":%.3f,\"grad_norm\":1.0%s}%n", s, s * 2048L, 8 - Math.log(s),
                    s % 16 == 0 ? String.format(java.util.Locale.ROOT, ",\"val_loss\":%.3f", 8.1 - Math.log(s)) : ""));
        }
        Files.writeString(dir.resolve("metrics.jsonl"), m);
        StringBuilder r = new StringBuilder();
        int i = 0;
        for (long step : new long[] {1, 2, 4, 8, 16, 32, 64}) {
            Files.createDirectories(dir.resolve("checkpoints").resolve(String.format("step-%07d", step)));
            double acc = 0.02 + 0.05 * i++;
            r.append(String.format(java.util.Locale.ROOT, "{\"run\":\"x\",\"step\":%d,\"tokens\":%d,\"flops\":%.3e,\"task\":\"cloze\",\"metric\":\"acc\",\"value\":%.3f,\"stderr\":0.01}%n",
                    step, step * 2048, step * 2048 * 1e7, acc));
            r.append(String.format(java.util.Locale.ROOT, "{\"run\":\"x\",\"step\":%d,\"tokens\":%d,\"task\":\"cloze\",\"metric\":\"target_logprob\",\"value\":%.3f,\"stderr\":0.1}%n",
                    step, step * 2048, -9.0 + i));
            r.append(String.format(java.util.Locale.ROOT, "{\"run\":\"x\",\"step\":%d,\"tokens\":%d,\"task\":\"bpb_en\",\"metric\":\"bits_per_byte\",\"value\":%.3f,\"stderr\":0.02}%n",
                    step, step * 2048, 6 - i * 0.3));
            r.append(String.format(java.util.Locale.ROOT, "{\"run\":\"x\",\"step\":%d,\"tokens\":%d,\"task\":\"%s\",\"metric\":\"acc\",\"value\":0.5,\"stderr\":0.05}%n",
                    step, step * 2048, hostileTask.replace("\"", "\\\"")));
            // BLiMP: two determiner-noun paradigms learnt from step 8, an island paradigm that stays at chance
            for (String paradigm : List.of("determiner_noun_agreement_1", "determiner_noun_agreement_2", "adjunct_island")) {
                double v = paradigm.startsWith("determiner") && step >= 8 ? 0.5 + 0.06 * (i - 3) : 0.5;
                r.append(String.format(java.util.Locale.ROOT, "{\"run\":\"x\",\"step\":%d,\"tokens\":%d,\"task\":\"blimp_%s\",\"metric\":\"acc\",\"value\":%.3f,\"stderr\":0.015}%n",
                        step, step * 2048, paradigm, v));
            }
        }
        Files.writeString(dir.resolve("eval").resolve("results.jsonl"), r);
        // per-layer diagnostics at two checkpoints: the deepest layer contributes little, the middle one has outliers
        StringBuilder diag = new StringBuilder();
        for (long step : new long[] {16, 64}) {
            double[] ang = {0.30, 0.20, 0.02}, kurt = {1.5, 14.0, 2.0};
            for (int l = 0; l < 3; l++) {
                diag.append(String.format(java.util.Locale.ROOT, "{\"step\":%d,\"tokens\":%d,\"layer\":%d,\"grad_norm\":0.5,\"update_ratio\":0.001,"
                        + "\"angular_distance\":%.3f,\"kurtosis\":%.2f}%n", step, step * 2048, l, ang[l], kurt[l]));
            }
        }
        Files.writeString(dir.resolve("diagnostics.jsonl"), diag);
        return dir;
    }

    @Test
    void reportIsSelfContainedEscapedAndListsEveryCheckpoint() throws IOException {
        Path run = fakeRun(tmp.resolve("runA"), "<img src=x onerror=alert(1)>");
        Run data = Run.read(run, Map.of(64L, List.of(new Run.Generation("The ", "<b>bold</b> & more"))));
        Path html = Report.write(List.of(data), tmp.resolve("out"), "Report <of> runA");
        String s = Files.readString(html);
        assertFalse(s.contains("<img src=x"), "unescaped task name");
        assertTrue(s.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assertTrue(s.contains("&lt;b&gt;bold&lt;/b&gt; &amp; more"));
        assertTrue(s.contains("<title>Report &lt;of&gt; runA</title>"));
        assertFalse(s.contains("<script"), "the report runs no script");
        assertFalse(s.contains("http://") || s.contains("https://"), "the report loads nothing from outside");
        for (long step : new long[] {1, 2, 4, 8, 16, 32, 64}) assertTrue(s.contains("<tr><td>" + step + "</td>"), "checkpoint " + step + " missing");
        assertTrue(s.contains("cloze acc rises above its starting level from step"), "verdict missing");
        assertTrue(Files.size(tmp.resolve("out/charts/loss.png")) > 1000);
        assertTrue(Files.exists(tmp.resolve("out/charts/bpb.png")));
        assertTrue(Files.exists(tmp.resolve("out/charts/cloze.png")));
        assertTrue(Files.exists(tmp.resolve("out/charts/blimp-phenomena.png")), "BLiMP by phenomenon");
        assertTrue(s.contains("<td class=l>blimp:determiner_noun_agreement</td>") && s.contains("<td class=l>blimp:island_effects</td>"), "a row per phenomenon");
        assertTrue(s.contains("BLiMP phenomena significantly above chance at the last checkpoint: determiner noun agreement (0.74 ± 0.01, rising from step 8)."),
                "phenomena in the summary");
        assertTrue(s.contains("BLiMP phenomena not significantly above chance at the last checkpoint: island effects."));
        assertTrue(s.contains("<h3>Layers</h3>"), "the layers section");
        assertTrue(s.contains("At step 64, layer 0 changes the residual stream most (angular distance 0.300) and layer 2 least (0.020)."), "layers sentence");
        assertTrue(s.contains("The output of layer 1 is the most heavy-tailed (excess kurtosis 14.00), a sign of outlier features"), "kurtosis sentence");
        // two runs compare in one report
        Path runB = fakeRun(tmp.resolve("runB"), "piqa");
        String both = Files.readString(Report.write(List.of(data, Run.read(runB, null)), tmp.resolve("cmp"), "cmp"));
        assertTrue(both.contains("Capabilities: runA") && both.contains("Capabilities: runB"));
        assertFalse(s.contains("Layers, run by run"), "one run has nothing to compare its layers with");
        assertTrue(both.contains("<h2>Layers, run by run</h2>"), "two runs' layers side by side");
        assertTrue(both.contains("<tr><td class=l>runA</td><td>64</td><td>0.300</td><td>0.200</td><td>0.020</td></tr>"), "a row per run at its last step");
        assertTrue(both.contains("<tr><td class=l>runB</td><td>64</td><td>1.50</td><td>14.00</td><td>2.00</td></tr>"), "kurtosis per layer");
    }

    /**
     * A sweep's runs (VARIANT/seed-N): curves as the mean over seeds with a band instead of a line per
     * run, and the variants side by side: emergence per seed, checkpoints flagged, layers and the 4-bit gap.
     */
    @Test
    void aSweepsVariantsAreShownOverTheirSeeds() throws IOException {
        List<Run> runs = new java.util.ArrayList<>();
        for (String v : List.of("base", "fast")) {
            for (int seed = 1; seed <= 2; seed++) {
                Path dir = fakeRun(tmp.resolve("sweep").resolve(v).resolve("seed-" + seed), "induction");
                // a 4-bit evaluation of the last checkpoint: cloze accuracy 0.02 (base) or 0.05 (fast) lower than in full precision
                Files.writeString(dir.resolve("eval/results.jsonl"), Files.readString(dir.resolve("eval/results.jsonl")) + String.format(java.util.Locale.ROOT,
                        "{\"run\":\"x\",\"step\":64,\"tokens\":131072,\"variant\":\"w4\",\"task\":\"cloze\",\"metric\":\"acc\",\"value\":%.3f}%n",
                        0.32 - (v.equals("base") ? 0.02 : 0.05)));
                Run r = Run.read(dir, null);
                runs.add(new Run(v + "/seed-" + seed, r.dir(), r.metrics(), r.series(), r.checkpointSteps(), r.flopsAtStep(), r.generations(),
                        r.description(), r.layers(), r.quantised()));
            }
        }
        String html = Files.readString(Report.write(runs, tmp.resolve("sweep-out"), "sweep"));
        assertTrue(Files.size(tmp.resolve("sweep-out/charts/loss-over-seeds.png")) > 1000, "validation loss with bands");
        assertTrue(Files.exists(tmp.resolve("sweep-out/charts/cloze-acc-over-seeds.png")), "the cloze's headline metric with bands");
        assertTrue(Files.exists(tmp.resolve("sweep-out/charts/blimp-acc-over-seeds.png")), "BLiMP's mean with bands");
        assertFalse(Files.exists(tmp.resolve("sweep-out/charts/loss.png")), "no line per run");
        assertTrue(html.contains("<h2>Variants side by side, over seeds</h2>"), "the section");
        String section = html.substring(html.indexOf("Variants side by side"));
        assertTrue(section.contains("<th>cloze emerges at step</th>") && section.contains("<th>4-bit gap, cloze acc</th>"), section);
        // BLiMP's mean rises from step 8, cloze accuracy (0.02, 0.07, ... with stderr 0.01) 2 SE above its start from step 2, induction
        // (0.5 throughout) never; the validation loss is flat from step 2 to 8 but never worse: no checkpoint flagged of the 2 x 7;
        // the deeper half (layers 1-2) contributes 0.11, layer 1's kurtosis is 14, and the 4-bit gap is what each variant's w4 row says
        assertTrue(section.contains("<tr><td class=l>base</td><td>2</td><td>8, 8</td><td>2, 2</td><td>–, –</td><td>0 of 14</td><td>0.110 ± 0.000</td>"
                + "<td>14.00 ± 0.00</td><td>0.0200 ± 0.0000</td></tr>"), section);
        assertTrue(section.contains("<td>0.0500 ± 0.0000</td></tr>"), "fast's 4-bit gap: " + section);
        assertFalse(html.contains("<li class=bad>"), "a checkpoint without spikes is not flagged");
    }

    /** A data mixture's per-source validation (val_bpb/NAME preferred to val_loss/NAME) gets a chart: old and new domain side by side. */
    @Test
    void dataSourcesAreChartedSideBySide() throws IOException {
        Path run = Files.createDirectories(tmp.resolve("cpt"));
        StringBuilder m = new StringBuilder();
        for (int s = 0; s <= 40; s += 10) {
            m.append(String.format(java.util.Locale.ROOT, "{\"step\":%d,\"tokens\":%d,\"val_loss\":%.3f,\"val_loss/prose\":%.3f,\"val_bpb/prose\":%.3f,"
                    + "\"val_loss/java\":%.3f,\"val_bpb/java\":%.3f,\"epochs/java\":0.1}%n", s, s * 4096L, 5.0, 6.0 - s / 20.0, 2.5 - s / 50.0, 2.0 + s / 100.0, 0.8 + s / 200.0));
        }
        Files.writeString(run.resolve("metrics.jsonl"), m);
        Run data = Run.read(run, null);
        assertEquals(java.util.Set.of("val_loss/prose", "val_bpb/prose", "val_loss/java", "val_bpb/java"), data.metrics().getLast().bySource().keySet());
        String html = Files.readString(Report.write(List.of(data), tmp.resolve("cpt-out"), "cpt"));
        assertTrue(Files.size(tmp.resolve("cpt-out/charts/sources.png")) > 1000);
        assertTrue(html.contains("Validation on each source of the data mixture"), "the sources chart's caption");
    }

    /** Rows of a w4 variant become task@w4 series, and the report shows the gap to full precision in the metric's direction. */
    @Test
    void quantisationGapOverCheckpoints() throws IOException {
        Path run = tmp.resolve("quant");
        Files.createDirectories(run.resolve("eval"));
        StringBuilder r = new StringBuilder();
        double[] full = {4.0, 3.0, 2.5}, w4 = {4.05, 3.2, 2.9};
        for (int i = 0; i < 3; i++) {
            r.append(String.format(java.util.Locale.ROOT, "{\"run\":\"quant\",\"step\":%d,\"tokens\":%d,\"task\":\"bpb_en\",\"metric\":\"bits_per_byte\",\"value\":%.2f}%n",
                    10 * (i + 1), 1000 * (i + 1), full[i]));
            r.append(String.format(java.util.Locale.ROOT, "{\"run\":\"quant\",\"step\":%d,\"tokens\":%d,\"variant\":\"w4\",\"task\":\"bpb_en\",\"metric\":\"bits_per_byte\",\"value\":%.2f}%n",
                    10 * (i + 1), 1000 * (i + 1), w4[i]));
        }
        Files.writeString(run.resolve("eval/results.jsonl"), r);
        Run data = Run.read(run, null);
        assertEquals(1, data.series().size(), "the 4-bit series stand apart");
        assertEquals("bpb_en", data.quantised().getFirst().task());
        String html = Files.readString(Report.write(List.of(data), tmp.resolve("quant-report"), "quant"));
        assertTrue(html.contains("<h3>4-bit weights</h3>"), "the section");
        // first step 10: 4.05 - 4.00; last step 30: 2.9 vs 2.5
        assertTrue(html.contains("<tr><td class=l>bpb_en</td><td class=l>bits_per_byte</td><td>10</td><td>0.0500</td><td>30</td><td>2.5000</td><td>2.9000</td><td>0.4000</td></tr>"),
                html.substring(html.indexOf("4-bit weights")));
    }

    /** The layers sentences compare the deeper half with the shallower half, leaving out layer 0. */
    @Test
    void layersSentencesNameTheCurseOfDepthOnlyWhenTheDeepHalfFadesAway() {
        double[] fading = {0.5, 0.2, 0.18, 0.05, 0.04, 0.03}, healthy = {0.5, 0.2, 0.18, 0.15, 0.16, 0.2};
        for (double[] ang : new double[][] {fading, healthy}) {
            List<Run.LayerRow> rows = new java.util.ArrayList<>();
            for (int l = 0; l < ang.length; l++) rows.add(new Run.LayerRow(100, 1000, l, 1, 0.01, ang[l], 0.5));
            Run r = new Run("r", tmp, List.of(), List.of(), new long[] {100}, Map.of(), Map.of(), "", rows, List.of());
            String s = LayersSection.sentences(r, 100, ang.length).getFirst();
            assertTrue(s.contains(String.format(java.util.Locale.ROOT, "The deeper half averages %.3f against %.3f for the shallower half without layer 0",
                    (ang[3] + ang[4] + ang[5]) / 3, (ang[1] + ang[2]) / 2)), s);
            assertEquals(ang == fading, s.contains("the curse of depth"), s);
        }
        // side by side: the run whose deep half still works, and the one with the outliers, by name
        List<Run> runs = new java.util.ArrayList<>();
        for (double[] ang : new double[][] {fading, healthy}) {
            List<Run.LayerRow> rows = new java.util.ArrayList<>();
            for (int l = 0; l < ang.length; l++) rows.add(new Run.LayerRow(100, 1000, l, 1, 0.01, ang[l], ang == fading ? 12.5 : 0.5));
            runs.add(new Run(ang == fading ? "fading" : "healthy", tmp, List.of(), List.of(), new long[] {100}, Map.of(), Map.of(), "", rows, List.of()));
        }
        assertEquals("healthy keeps its deeper half contributing most (mean angular distance 0.170). fading has the most heavy-tailed layer output "
                + "(excess kurtosis 12.50).", LayersComparisonSection.sentence(runs));
        // a diverged run (NaN) drops out instead of breaking the sentence; light tails name no run
        List<Run.LayerRow> nan = new java.util.ArrayList<>();
        for (int l = 0; l < 6; l++) nan.add(new Run.LayerRow(100, 1000, l, 1, 0.01, Double.NaN, Double.NaN));
        Run diverged = new Run("diverged", tmp, List.of(), List.of(), new long[] {100}, Map.of(), Map.of(), "", nan, List.of());
        assertEquals("No run has finite layer contributions. No run has a layer output with excess kurtosis above 1.",
                LayersComparisonSection.sentence(List.of(diverged, diverged)));
        assertTrue(LayersComparisonSection.sentence(List.of(diverged, runs.get(1))).startsWith("healthy keeps its deeper half"));
    }

    /** A task declared in YAML has no name the report could know: its chance level comes with its rows in results.jsonl. */
    @Test
    void chanceLevelComesFromTheResultsTable() throws IOException {
        Path run = tmp.resolve("quiz");
        Files.createDirectories(run.resolve("eval"));
        StringBuilder r = new StringBuilder();
        double[] acc = {0.25, 0.40, 0.70};
        for (int i = 0; i < 3; i++) {
            r.append(String.format(java.util.Locale.ROOT, "{\"run\":\"quiz\",\"step\":%d,\"tokens\":%d,\"task\":\"my_quiz\",\"metric\":\"acc\",\"chance\":0.25,\"value\":%.2f,\"stderr\":0.01}%n",
                    i + 1, (i + 1) * 1000, acc[i]));
        }
        Files.writeString(run.resolve("eval/results.jsonl"), r);
        String html = Files.readString(Report.write(List.of(Run.read(run, null)), tmp.resolve("quiz-report"), "quiz"));
        // chance 0.25, final 0.70: normalised (0.70 - 0.25) / (1 - 0.25) = 0.600
        assertTrue(html.contains("<tr><td class=l>my_quiz</td><td class=l>acc</td><td>0.2500</td>"), "chance column");
        assertTrue(html.contains("<td>0.600</td>"), "normalised final score");
    }

    /** Pythia's 70M and 160M published evaluations, compared on training compute. */
    @Test
    void importedRunsOfDifferentSizesAlignOnCompute() throws IOException {
        String data = System.getProperty("crucible.data", "");
        Path root = data.isEmpty() ? null : Path.of(data, "pythia_eval_trajectories");
        org.junit.jupiter.api.Assumptions.assumeTrue(root != null && Files.isDirectory(root), "needs ../shared/data");
        Run small = Run.fromLmEval(root.resolve("pythia-70m"), "pythia-70m", 2_097_152, 70_426_624);
        Run large = Run.fromLmEval(root.resolve("pythia-160m"), "pythia-160m", 2_097_152, 162_322_944);
        assertEquals("training FLOPs", Figures.axis(List.of(small, large)).label());
        assertEquals(6.0 * 70_426_624 * 2_097_152, small.flopsPerToken() * 2_097_152, 1e6);
        assertEquals("tokens", Figures.axis(List.of(small, Run.fromLmEval(root.resolve("pythia-160m"), "x", 2_097_152, 0))).label());
        String html = Files.readString(Report.write(List.of(small, large), tmp.resolve("pythia"), "Pythia 70M vs 160M"));
        assertTrue(html.contains("Capabilities: pythia-160m"));
        assertTrue(Files.exists(tmp.resolve("pythia/charts/lambada_openai.png")));
    }

    /** Debian's chromium, when installed (.ci/run installs it). */
    static String chromium() {
        for (String c : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) if (Files.isExecutable(Path.of(c))) return c;
        return null;
    }

    @Test
    void rendersInHeadlessChromiumWithoutErrors() throws Exception {
        String chromium = chromium();
        org.junit.jupiter.api.Assumptions.assumeTrue(chromium != null, "chromium not installed");
        Path run = fakeRun(tmp.resolve("runC"), "<script>alert('x')</script>");
        Path html = Report.write(List.of(Run.read(run, Map.of(4L, List.of(new Run.Generation("x", "\u0000<img src=y onerror=alert(2)>"))))),
                tmp.resolve("outC"), "render test");
        Path shot = tmp.resolve("shot.png");
        List<String> common = List.of(chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=" + tmp.resolve("profile"),
                "--enable-logging=stderr", "--v=0");
        List<String> dump = new java.util.ArrayList<>(common);
        dump.addAll(List.of("--dump-dom", html.toUri().toString()));
        Process p = new ProcessBuilder(dump).redirectError(tmp.resolve("dom.err").toFile()).start();
        String dom = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0, Files.readString(tmp.resolve("dom.err")));
        String err = Files.readString(tmp.resolve("dom.err"));
        assertFalse(err.contains("Uncaught") || err.contains(":CONSOLE"), "script errors:\n" + err);
        assertTrue(dom.contains("Capabilities") && dom.contains("<table"), "the DOM holds the report");
        assertFalse(dom.contains("<script"), "no script element, even from data");
        assertEquals(Files.readString(html).split("<img", -1).length, dom.split("<img", -1).length, "every chart is in the DOM");
        List<String> screenshot = new java.util.ArrayList<>(common);
        screenshot.addAll(List.of("--window-size=1000,1400", "--screenshot=" + shot, html.toUri().toString()));
        Process s = new ProcessBuilder(screenshot).redirectErrorStream(true).redirectOutput(tmp.resolve("shot.log").toFile()).start();
        assertTrue(s.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) && s.exitValue() == 0, Files.readString(tmp.resolve("shot.log")));
        BufferedImage img = ImageIO.read(shot.toFile());
        long coloured = 0;
        for (int y = 0; y < img.getHeight(); y += 4) {
            for (int x = 0; x < img.getWidth(); x += 4) {
                int rgb = img.getRGB(x, y) & 0xFFFFFF;
                int r = rgb >> 16, g = (rgb >> 8) & 0xFF, b = rgb & 0xFF;
                if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) coloured++; // chart lines, not text
            }
        }
        assertTrue(coloured > 100, "the charts were painted (" + coloured + " coloured samples)");
    }
}
