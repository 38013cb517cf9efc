package dev.crucible.data.pipeline;

import java.util.List;
import java.util.Locale;

/**
 * language_id_score_filter: identifies the language ({@link LanguageId}), records it as metadata
 * "lang" and "lang_score", and keeps the document when the language is one of those asked for (any,
 * if none are given) and the score is at least min_score.
 */
record LanguageFilter(List<String> langs, double minScore, LanguageId id) implements Operator {
    static LanguageFilter of(Params p) {
        List<String> langs = p.strings("lang", List.of());
        for (String l : langs) WordLists.stopwords(l);
        double min = p.number("min_score", 0.6);
        if (min < 0 || min > 1) throw new IllegalArgumentException("parameter 'min_score' must be in [0, 1]");
        return new LanguageFilter(langs, min, new LanguageId());
    }

    @Override
    public String name() {
        return "language_id_score_filter";
    }

    @Override
    public Outcome apply(Doc doc) {
        LanguageId.Guess g = id.identify(doc.text());
        if (!langs.isEmpty() && !langs.contains(g.lang())) return Outcome.remove("other_language", "language " + g.lang() + " not in " + langs);
        if (g.score() < minScore) return Outcome.remove("low_score", String.format(Locale.ROOT, "%s score %.3f < min_score %.3f", g.lang(), g.score(), minScore));
        return Outcome.keep(doc.withMeta("lang", g.lang()).withMeta("lang_score", String.format(Locale.ROOT, "%.3f", g.score())));
    }
}
