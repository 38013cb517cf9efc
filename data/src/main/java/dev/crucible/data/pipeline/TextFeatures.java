package dev.crucible.data.pipeline;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * What several operators derive from the same text, computed once per text within a batch: datatrove's words
 * ({@link DatatroveText#words}), which Gopher's repetition and quality filters and FineWeb's filter each need. A
 * {@link SegmentRun} runs one operator over the whole batch before the next, so the words of a document are
 * kept for the batch, keyed by the text's identity: an operator that changes a text makes a new string, whose words
 * are computed anew. Outside a batch (an operator called alone) nothing is kept.
 */
final class TextFeatures {
    /**
     * Text kept per batch, in chars (about ten bytes of words each): the local pipeline closes a batch once it reaches 1M
     * chars or 256 documents, Spark's at 256 documents; past the bound a batch's words are computed as often as asked.
     */
    static final int KEPT_CHARS = 1 << 21;

    private static final ScopedValue<Batch> BATCH = ScopedValue.newInstance();

    private static final class Batch {
        final Map<String, List<String>> words = new IdentityHashMap<>();
        long chars;
    }

    private TextFeatures() {}

    /** op with its words kept for the texts it sees (those of one batch): the first {@link #KEPT_CHARS} chars' worth. */
    static <T> T inBatch(ScopedValue.CallableOp<T, RuntimeException> op) {
        return ScopedValue.where(BATCH, new Batch()).call(op);
    }

    /** datatrove's split_into_words of text, unmodifiable; computed once per text within a batch. */
    static List<String> words(String text) {
        if (!BATCH.isBound()) return Collections.unmodifiableList(DatatroveText.words(text));
        Batch b = BATCH.get();
        List<String> w = b.words.get(text);
        if (w != null) return w;
        w = Collections.unmodifiableList(DatatroveText.words(text));
        if (b.chars + text.length() <= KEPT_CHARS) { // past it, the first texts stay: the next operator reads them first
            b.words.put(text, w);
            b.chars += text.length();
        }
        return w;
    }
}
