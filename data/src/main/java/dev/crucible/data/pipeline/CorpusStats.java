package dev.crucible.data.pipeline;

import dev.crucible.data.PythonText;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * The statistics that recipe filters threshold, per document, and their distribution over a corpus
 * (quantiles), for choosing thresholds: every statistic is computed exactly as the filter of the
 * same name computes it.
 */
public final class CorpusStats {
    private CorpusStats() {}

    /** Name, the filter that thresholds it, and how to compute it. */
    public record Stat(String name, String filter, ToDoubleFunction<Sample> fn) {}

    /** A document with what several statistics share computed once: Data-Juicer's words as they are and lower-cased. */
    public record Sample(String text, List<String> words, List<String> lowerWords, LanguageId.Guess lang) {
        static Sample of(String text, LanguageId id) {
            return new Sample(text, TextStats.words(text), TextStats.words(text, true), id.identify(text));
        }
    }

    public static final List<Stat> STATS = List.of(
            new Stat("length", "text_length_filter", s -> PythonText.length(s.text())),
            new Stat("words", "words_num_filter", s -> s.words().size()),
            new Stat("alnum_ratio", "alphanumeric_filter", s -> TextStats.alnumRatio(s.text())),
            new Stat("special_char_ratio", "special_characters_filter", s -> TextStats.specialCharRatio(s.text())),
            new Stat("char_rep_ratio", "character_repetition_filter (rep_len 10)", s -> TextStats.charRepetitionRatio(s.text(), 10)),
            new Stat("word_rep_ratio", "word_repetition_filter (rep_len 10)", s -> TextStats.wordRepetitionRatio(s.lowerWords(), 10)),
            new Stat("stopword_ratio", "stopwords_filter (the document's language)", s -> {
                Set<String> sw = WordLists.stopwords().get(s.lang().lang());
                return sw == null ? 0 : TextStats.wordShare(s.lowerWords(), sw);
            }),
            new Stat("flagged_word_ratio", "flagged_words_filter", s -> TextStats.wordShare(s.lowerWords(), WordLists.flaggedWords())),
            new Stat("avg_line_length", "average_line_length_filter", s -> TextStats.averageLineLength(s.text())),
            new Stat("max_line_length", "maximum_line_length_filter", s -> TextStats.maxLineLength(s.text())),
            new Stat("lang_score", "language_id_score_filter", s -> s.lang().score()));

    public static final double[] QUANTILES = {0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1};

    /** values[stat][doc] and the language of each document, computed in parallel. */
    public record Table(double[][] values, String[] langs) {
        public int size() {
            return langs.length;
        }
    }

    public static Table compute(List<String> docs) {
        LanguageId id = new LanguageId();
        double[][] v = new double[STATS.size()][docs.size()];
        String[] langs = new String[docs.size()];
        java.util.stream.IntStream.range(0, docs.size()).parallel().forEach(i -> {
            Sample s = Sample.of(docs.get(i), id);
            langs[i] = s.lang().lang();
            for (int k = 0; k < STATS.size(); k++) v[k][i] = STATS.get(k).fn().applyAsDouble(s);
        });
        return new Table(v, langs);
    }

    /** The q-quantile by linear interpolation between order statistics (numpy's default). */
    public static double quantile(double[] sorted, double q) {
        if (sorted.length == 0) return Double.NaN;
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos), hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /** A table a person reads: one row per statistic, the QUANTILES and the mean. */
    public static String quantileTable(Table t) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-20s", "statistic"));
        for (double q : QUANTILES) sb.append(String.format(Locale.ROOT, " %9s", q == 0 ? "min" : q == 1 ? "max" : "p" + fmtQ(q)));
        sb.append(String.format(Locale.ROOT, " %9s%n", "mean"));
        for (int k = 0; k < STATS.size(); k++) {
            double[] s = t.values()[k].clone();
            Arrays.sort(s);
            sb.append(String.format(Locale.ROOT, "%-20s", STATS.get(k).name()));
            for (double q : QUANTILES) sb.append(String.format(Locale.ROOT, " %9.4g", quantile(s, q)));
            sb.append(String.format(Locale.ROOT, " %9.4g%n", Arrays.stream(s).average().orElse(Double.NaN)));
        }
        return sb.toString();
    }

    static String fmtQ(double q) {
        return Integer.toString((int) Math.round(q * 100));
    }

    /** Per statistic: the quantiles and the mean, for summary JSON. */
    public static Map<String, Object> json(Table t) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("documents", t.size());
        Map<String, Long> langs = new java.util.TreeMap<>();
        for (String l : t.langs()) langs.merge(l, 1L, Long::sum);
        out.put("languages", langs);
        for (int k = 0; k < STATS.size(); k++) {
            double[] s = t.values()[k].clone();
            Arrays.sort(s);
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("filter", STATS.get(k).filter());
            for (double x : QUANTILES) q.put(x == 0 ? "min" : x == 1 ? "max" : "p" + fmtQ(x), quantile(s, x));
            q.put("mean", Arrays.stream(s).average().orElse(Double.NaN));
            out.put(STATS.get(k).name(), q);
        }
        return out;
    }
}
