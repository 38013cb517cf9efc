package dev.crucible.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.eval.LogLikelihood;
import dev.crucible.eval.Samples;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The examples whose score changed between the first and the last checkpoint with records, hardest first. */
class FlipsSectionTest {
    @TempDir
    Path dir;

    /** BLiMP-shaped records: margins[i] = log-likelihood of the good sentence minus the bad one's. */
    void records(Path run, String ck, double[] margins) throws Exception {
        List<Map<String, Object>> recs = new ArrayList<>();
        for (int i = 0; i < margins.length; i++) {
            double good = -10 + margins[i] / 2, bad = -10 - margins[i] / 2;
            recs.add(Samples.loglikelihood(i, Map.of("sentence_good", "good " + i, "sentence_bad", "bad " + i), 0,
                    List.of(new Samples.Args("", "good " + i), new Samples.Args("", "bad " + i)),
                    List.of(new LogLikelihood.Score(good, false, 2), new LogLikelihood.Score(bad, false, 2)), Map.of("acc", margins[i] > 0 ? 1.0 : 0.0)));
        }
        Samples.write(run.resolve("eval/samples/" + ck + "/samples_blimp_x_2026-11-30T10-00-00.jsonl"), recs);
    }

    @Test
    void listsTheFlipsLargestMarginChangeFirst() throws Exception {
        Path run = dir.resolve("run");
        records(run, "step-0000010", new double[] {-1.0, 0.5, -0.2, 2.0, -3.0});
        records(run, "step-0000050", new double[] {0.4, 0.6, 1.8, -0.1, 3.5}); // docs 0, 2, 3, 4 flipped; 4 by 6.5, 2 by 2.0, 3 by 2.1, 0 by 1.4
        records(run, "step-0000050.w4", new double[] {9, 9, 9, 9, 9}); // a quantised variant's records: not a checkpoint of its own
        StringBuilder h = new StringBuilder();
        new FlipsSection().write(h, new Run("run", run, List.of(), List.of(), new long[] {10, 50}, Map.of(), Map.of(), "", List.of(), List.of()));
        String html = h.toString();
        assertTrue(html.contains("Between step-0000010 and step-0000050, 4 of 5 examples"), html);
        List<Integer> order = new ArrayList<>();
        for (String row : html.split("<tr><td class=l>blimp_x</td><td>")) if (Character.isDigit(row.charAt(0))) order.add(row.charAt(0) - '0');
        assertEquals(List.of(4, 3, 2, 0), order, html);
        assertTrue(html.contains("sentence_bad: bad 4") && html.contains("-3.00 → 3.50") && html.contains("0.00 → 1.00"), html);
        StringBuilder none = new StringBuilder();
        new FlipsSection().write(none, new Run("other", dir.resolve("none"), List.of(), List.of(), new long[0], Map.of(), Map.of(), "", List.of(), List.of()));
        assertEquals("", none.toString(), "nothing without records at two checkpoints");
    }
}
