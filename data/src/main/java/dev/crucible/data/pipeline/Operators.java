package dev.crucible.data.pipeline;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The operators a recipe can name, with their factories. Every operator also takes
 * {@code where: {key: value, ...}}: it then applies only to documents whose metadata match, and
 * passes the others through untouched.
 */
public final class Operators {
    private Operators() {}

    /** One recipe step: a per-document operator or a de-duplication stage. */
    public sealed interface Step permits PerDoc, Dedupe {
        String label();
    }

    public record PerDoc(Operator op, String label) implements Step {}

    public record Dedupe(Dedup dedup, Map<String, String> where, String label) implements Step {}

    private static final Map<String, Function<Params, Operator>> OPS = new LinkedHashMap<>();
    private static final Map<String, Function<Params, Dedup>> DEDUPS = new LinkedHashMap<>();

    static {
        OPS.put("unicode_normalization_mapper", Mappers::unicodeNormalization);
        OPS.put("whitespace_normalization_mapper", Mappers::whitespaceNormalization);
        OPS.put("punctuation_normalization_mapper", Mappers::punctuationNormalization);
        OPS.put("remove_email_mapper", Mappers::removeEmail);
        OPS.put("remove_links_mapper", Mappers::removeLinks);
        OPS.put("clean_copyright_mapper", Mappers::cleanCopyright);
        OPS.put("text_length_filter", RangeFilter::textLength);
        OPS.put("words_num_filter", RangeFilter::wordsNum);
        OPS.put("alphanumeric_filter", RangeFilter::alphanumeric);
        OPS.put("special_characters_filter", RangeFilter::specialCharacters);
        OPS.put("character_repetition_filter", RangeFilter::characterRepetition);
        OPS.put("word_repetition_filter", RangeFilter::wordRepetition);
        OPS.put("stopwords_filter", RangeFilter::stopwords);
        OPS.put("flagged_words_filter", RangeFilter::flaggedWords);
        OPS.put("average_line_length_filter", RangeFilter::averageLineLength);
        OPS.put("maximum_line_length_filter", RangeFilter::maximumLineLength);
        OPS.put("gopher_quality_filter", Gopher::quality);
        OPS.put("gopher_repetition_filter", Gopher::repetition);
        OPS.put("c4_quality_filter", WebQuality::c4);
        OPS.put("fineweb_quality_filter", WebQuality::fineweb);
        OPS.put("language_id_score_filter", LanguageFilter::of);
        OPS.put("java_syntax_filter", JavaSyntaxFilter::of);
        OPS.put("sample_filter", SampleFilter::of);
        for (OperatorProvider provider : java.util.ServiceLoader.load(OperatorProvider.class, Operators.class.getClassLoader())) {
            provider.operators().forEach((name, factory) -> {
                if (OPS.putIfAbsent(name, factory) != null) throw new IllegalStateException("two operators named " + name + " (" + provider.getClass().getName() + ")");
            });
        }
        DEDUPS.put("exact_dedup", ExactDedup::of);
        DEDUPS.put("minhash_dedup", MinHashDedup::of);
    }

    public static java.util.Set<String> names() {
        java.util.Set<String> all = new java.util.LinkedHashSet<>(OPS.keySet());
        all.addAll(DEDUPS.keySet());
        return all;
    }

    /** Builds a step; the message of an IllegalArgumentException says what is wrong with it. */
    public static Step create(String name, Map<String, ?> params) {
        Params p = new Params(params);
        Map<String, String> where = p.stringMap("where");
        String label = where.isEmpty() ? name : name + where.toString().replace('{', '[').replace('}', ']').replace(", ", ",");
        Function<Params, Operator> op = OPS.get(name);
        Step step;
        if (op != null) {
            Operator o = op.apply(p);
            step = new PerDoc(where.isEmpty() ? o : o instanceof BatchOperator b ? new WhereBatch(b, where) : new Where(o, where), label);
        } else if (DEDUPS.containsKey(name)) {
            step = new Dedupe(DEDUPS.get(name).apply(p), where, label);
        } else {
            throw new IllegalArgumentException("unknown operator '" + name + "' (known: " + String.join(", ", names()) + ")");
        }
        p.checkAllRead();
        return step;
    }

    static boolean matches(Doc doc, Map<String, String> where) {
        for (Map.Entry<String, String> e : where.entrySet()) if (!e.getValue().equals(doc.meta(e.getKey()))) return false;
        return true;
    }

    /** A batch operator's where: the matching documents go to it together, the others pass. */
    record WhereBatch(BatchOperator inner, Map<String, String> where) implements BatchOperator {
        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public Map<String, Object> pinned() {
            return inner.pinned();
        }

        @Override
        public java.util.List<Outcome> applyAll(java.util.List<Doc> docs) {
            java.util.List<Doc> match = new java.util.ArrayList<>();
            for (Doc d : docs) if (matches(d, where)) match.add(d);
            java.util.Iterator<Outcome> got = (match.isEmpty() ? java.util.List.<Outcome>of() : inner.applyAll(match)).iterator();
            java.util.List<Outcome> out = new java.util.ArrayList<>(docs.size());
            for (Doc d : docs) out.add(matches(d, where) ? got.next() : Outcome.keep(d));
            return out;
        }
    }

    record Where(Operator inner, Map<String, String> where) implements Operator {
        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public Map<String, Object> pinned() {
            return inner.pinned();
        }

        @Override
        public Outcome apply(Doc doc) {
            return matches(doc, where) ? inner.apply(doc) : Outcome.keep(doc);
        }
    }
}
