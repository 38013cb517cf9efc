package dev.crucible.data.pipeline;

import dev.crucible.data.PythonText;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * A filter that keeps a document when one statistic lies in [min, max], both ends inclusive (as
 * Data-Juicer's filters do). The statistic's name and value go into the removal reason.
 */
public final class RangeFilter implements Operator {
    private final String name, stat, minKey, maxKey;
    private final ToDoubleFunction<Doc> fn;
    private final double min, max;

    RangeFilter(String name, String stat, ToDoubleFunction<Doc> fn, String minKey, double min, String maxKey, double max) {
        Params.checkRange(min, max, minKey, maxKey);
        this.name = name;
        this.stat = stat;
        this.fn = fn;
        this.minKey = minKey;
        this.min = min;
        this.maxKey = maxKey;
        this.max = max;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Outcome apply(Doc doc) {
        double v = fn.applyAsDouble(doc);
        if (v < min) return Outcome.remove(minKey, String.format(Locale.ROOT, "%s %.4g < %s %.4g", stat, v, minKey, min));
        if (v > max) return Outcome.remove(maxKey, String.format(Locale.ROOT, "%s %.4g > %s %.4g", stat, v, maxKey, max));
        return Outcome.keep(doc);
    }

    static final double INF = Double.POSITIVE_INFINITY;

    static RangeFilter textLength(Params p) {
        return new RangeFilter("text_length_filter", "length", d -> PythonText.length(d.text()),
                "min_len", p.number("min_len", 10), "max_len", p.number("max_len", INF));
    }

    static RangeFilter wordsNum(Params p) {
        return new RangeFilter("words_num_filter", "words", d -> TextStats.words(d.text()).size(),
                "min_num", p.number("min_num", 10), "max_num", p.number("max_num", INF));
    }

    static RangeFilter alphanumeric(Params p) {
        return new RangeFilter("alphanumeric_filter", "alnum_ratio", d -> TextStats.alnumRatio(d.text()),
                "min_ratio", p.number("min_ratio", 0.25), "max_ratio", p.number("max_ratio", INF));
    }

    static RangeFilter specialCharacters(Params p) {
        return new RangeFilter("special_characters_filter", "special_char_ratio", d -> TextStats.specialCharRatio(d.text()),
                "min_ratio", p.number("min_ratio", 0), "max_ratio", p.number("max_ratio", 0.25));
    }

    static RangeFilter characterRepetition(Params p) {
        int n = p.integer("rep_len", 10);
        if (n < 1) throw new IllegalArgumentException("parameter 'rep_len' must be at least 1");
        return new RangeFilter("character_repetition_filter", "char_rep_ratio", d -> TextStats.charRepetitionRatio(d.text(), n),
                "min_ratio", p.number("min_ratio", 0), "max_ratio", p.number("max_ratio", 0.5));
    }

    static RangeFilter wordRepetition(Params p) {
        int n = p.integer("rep_len", 10);
        if (n < 1) throw new IllegalArgumentException("parameter 'rep_len' must be at least 1");
        return new RangeFilter("word_repetition_filter", "word_rep_ratio",
                d -> TextStats.wordRepetitionRatio(TextStats.words(d.text(), true), n),
                "min_ratio", p.number("min_ratio", 0), "max_ratio", p.number("max_ratio", 0.5));
    }

    static RangeFilter stopwords(Params p) {
        Set<String> words = WordLists.stopwords(p.string("lang", "en"));
        return new RangeFilter("stopwords_filter", "stopword_ratio", d -> TextStats.wordShare(TextStats.words(d.text(), true), words),
                "min_ratio", p.number("min_ratio", 0.3), "max_ratio", p.number("max_ratio", INF));
    }

    static RangeFilter flaggedWords(Params p) {
        List<String> custom = p.strings("words", null);
        Set<String> words = custom == null ? WordLists.flaggedWords() : Set.copyOf(lower(custom));
        return new RangeFilter("flagged_words_filter", "flagged_word_ratio", d -> TextStats.wordShare(TextStats.words(d.text(), true), words),
                "min_ratio", p.number("min_ratio", 0), "max_ratio", p.number("max_ratio", 0.045));
    }

    static RangeFilter averageLineLength(Params p) {
        return new RangeFilter("average_line_length_filter", "avg_line_length", d -> TextStats.averageLineLength(d.text()),
                "min_len", p.number("min_len", 10), "max_len", p.number("max_len", INF));
    }

    static RangeFilter maximumLineLength(Params p) {
        return new RangeFilter("maximum_line_length_filter", "max_line_length", d -> TextStats.maxLineLength(d.text()),
                "min_len", p.number("min_len", 10), "max_len", p.number("max_len", INF));
    }

    static List<String> lower(List<String> words) {
        return words.stream().map(w -> w.toLowerCase(Locale.ROOT)).toList();
    }
}
