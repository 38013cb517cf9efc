package dev.crucible.data.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Map;
import org.junit.jupiter.api.Test;

class MinHashDedupTest {
    static Dedup minhash() {
        return ((Operators.Dedupe) Operators.create("minhash_dedup", Map.of())).dedup();
    }

    @Test
    void aDocumentWithFewerWordsThanAShingleIsNeverADuplicate() {
        Dedup m = minhash();
        // datatrove's get_shingles yields no 5-gram from four words, so no signature is written
        assertEquals(0, m.keys(new Doc("a", "Thank you very much.")).length);
        assertEquals(0, m.keys(new Doc("b", "")).length);
        long[] five = m.keys(new Doc("c", "Thank you very much indeed."));
        assertEquals(14, five.length);
        assertArrayEquals(five, m.keys(new Doc("d", "THANK you, very much -- indeed!")), "simplified the same");
    }

    @Test
    void numbersAreOneWordAsSimplifyTextMakesThem() {
        Dedup m = minhash();
        // simplify_text turns every number into 0: these differ only in their numbers
        assertArrayEquals(m.keys(new Doc("a", "The vote was 312 for and 45 against the motion.")),
                m.keys(new Doc("b", "The vote was 298 for and 61.5 against the motion.")));
        assertFalse(java.util.Arrays.equals(m.keys(new Doc("a", "The vote was 312 for and 45 against the motion.")),
                m.keys(new Doc("c", "The vote was cast for and against the motion today."))));
    }
}
