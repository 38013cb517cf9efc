package dev.crucible.data.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CorpusStatsTest {
    @Test
    void quantilesInterpolateAsNumpyDoes() {
        double[] s = {1, 2, 3, 4};
        assertEquals(1, CorpusStats.quantile(s, 0));
        assertEquals(2.5, CorpusStats.quantile(s, 0.5), 1e-12);
        assertEquals(3.25, CorpusStats.quantile(s, 0.75), 1e-12);
        assertEquals(4, CorpusStats.quantile(s, 1));
    }

    @Test
    void statisticsAreTheFiltersOwn() {
        String en = "The committee has voted on the report, and it was not what we expected of them.";
        CorpusStats.Table t = CorpusStats.compute(List.of("ab1 !", en));
        int alnum = 2, words = 1, length = 0, stop = 6;
        assertEquals(0.6, t.values()[alnum][0], 1e-12);
        assertEquals(1, t.values()[words][0]); // "!" alone is not a word
        assertEquals(5, t.values()[length][0]);
        assertEquals("en", t.langs()[1]);
        assertEquals(TextStats.wordShare(TextStats.words(en), WordLists.stopwords("en")), t.values()[stop][1], 1e-12);
        // the same value the filter thresholds: keep at exactly that ratio, remove just above it
        double ratio = t.values()[stop][1];
        assertTrue(!OperatorsTest.op("stopwords_filter", "min_ratio", ratio).apply(new Doc("d", en)).removed());
        assertTrue(OperatorsTest.op("stopwords_filter", "min_ratio", ratio + 1e-9).apply(new Doc("d", en)).removed());
        Map<String, Object> json = CorpusStats.json(t);
        assertEquals(2, json.get("documents"));
        assertTrue(CorpusStats.quantileTable(t).contains("alnum_ratio"));
    }
}
