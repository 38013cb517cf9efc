package dev.crucible.data.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class TextFeaturesTest {
    @Test
    void wordsAreComputedOncePerTextWithinABatch() {
        String text = "The cat sat on the mat. It was happy.";
        List<String> expected = DatatroveText.words(text);
        TextFeatures.inBatch(() -> {
            List<String> first = TextFeatures.words(text);
            assertEquals(expected, first);
            assertSame(first, TextFeatures.words(text));
            // an equal text made anew (as an operator that changes a text makes it) is another text: its words are its own
            String copy = new String(text.toCharArray());
            assertEquals(expected, TextFeatures.words(copy));
            assertNotSame(first, TextFeatures.words(copy));
            assertThrows(UnsupportedOperationException.class, () -> first.add("x"));
            return null;
        });
        // outside a batch nothing is kept
        assertNotSame(TextFeatures.words(text), TextFeatures.words(text));
        // each batch its own
        List<String> a = TextFeatures.inBatch(() -> TextFeatures.words(text)), b = TextFeatures.inBatch(() -> TextFeatures.words(text));
        assertNotSame(a, b);
    }

    @Test
    void aBatchKeepsTheWordsOfItsFirstTextsUpToItsBound() {
        String small = "one two", big = "w".repeat(TextFeatures.KEPT_CHARS - small.length()), last = "three four";
        TextFeatures.inBatch(() -> {
            List<String> w = TextFeatures.words(big);
            assertSame(w, TextFeatures.words(big));
            assertSame(TextFeatures.words(small), TextFeatures.words(small)); // exactly the chars left: it fits
            assertNotSame(TextFeatures.words(last), TextFeatures.words(last)); // past the bound: computed, not kept
            assertEquals(List.of("three", "four"), TextFeatures.words(last));
            return null;
        });
    }
}
