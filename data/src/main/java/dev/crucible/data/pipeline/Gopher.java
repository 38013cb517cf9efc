package dev.crucible.data.pipeline;

import dev.crucible.data.PythonText;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The two heuristic filters of DeepMind's Gopher (MassiveText) recipe, with datatrove's defaults.
 * The quality filter is datatrove's GopherQualityFilter rule for rule, on its words (NLTK's tokens,
 * punctuation marks among them: {@link DatatroveText#words}), and so is the repetition filter,
 * GopherRepetitionFilter's. Ratios above a "max" threshold and below a "min" one remove the
 * document; equality keeps it.
 */
public final class Gopher {
    private Gopher() {}

    static final List<String> DEFAULT_STOP_WORDS = List.of("the", "be", "to", "of", "and", "that", "have", "with");

    /**
     * Gopher quality: document length, mean word length, symbols, bullets, ellipses, alphabetic
     * words, stop words. The stop-word rule counts distinct stop words present
     * (len(stop_words & set(words)) in datatrove; the paper's "at least two of the following
     * words"), and matches case as datatrove does: "The" is not "the".
     */
    static Operator quality(Params p) {
        double minWords = off(p, "min_doc_words", 50), maxWords = off(p, "max_doc_words", 100_000);
        double minAvg = off(p, "min_avg_word_length", 3), maxAvg = off(p, "max_avg_word_length", 10);
        double maxSymbol = off(p, "max_symbol_word_ratio", 0.1), maxBullet = off(p, "max_bullet_lines_ratio", 0.9);
        double maxEllipsis = off(p, "max_ellipsis_lines_ratio", 0.3), minAlpha = off(p, "max_non_alpha_words_ratio", 0.8);
        double minStop = off(p, "min_stop_words", 2);
        Set<String> stop = Set.copyOf(p.strings("stop_words", DEFAULT_STOP_WORDS));
        return new Operator() {
            @Override
            public String name() {
                return "gopher_quality_filter";
            }

            @Override
            public Outcome apply(Doc doc) {
                String text = doc.text();
                List<String> words = TextFeatures.words(text);
                int nonSymbol = 0;
                long nonSymbolChars = 0;
                int alpha = 0;
                Set<String> stopSeen = new HashSet<>();
                for (String w : words) {
                    boolean hasNonPunct = false, hasAlpha = false;
                    for (int i = 0; i < w.length(); ) {
                        int cp = w.codePointAt(i);
                        i += Character.charCount(cp);
                        if (!DatatroveText.isPunctuationOrTerminal(cp)) hasNonPunct = true;
                        if (Character.isLetter(cp)) hasAlpha = true; // str.isalpha: the L* categories
                    }
                    if (hasNonPunct) {
                        nonSymbol++;
                        nonSymbolChars += PythonText.length(w);
                    }
                    if (hasAlpha) alpha++;
                    if (stop.contains(w)) stopSeen.add(w);
                }
                if (nonSymbol < minWords) return Outcome.remove("short_doc", fmt("%d words < min_doc_words %.6g", nonSymbol, minWords));
                if (nonSymbol > maxWords) return Outcome.remove("long_doc", fmt("%d words > max_doc_words %.6g", nonSymbol, maxWords));
                double avg = (double) nonSymbolChars / nonSymbol;
                if (avg < minAvg) return Outcome.remove("below_avg_word_length", fmt("mean word length %.3g < %.3g", avg, minAvg));
                if (avg > maxAvg) return Outcome.remove("above_avg_word_length", fmt("mean word length %.3g > %.3g", avg, maxAvg));
                double hashes = (double) count(text, "#") / words.size();
                if (hashes > maxSymbol) return Outcome.remove("too_many_hashes", fmt("'#' per word %.3g > %.3g", hashes, maxSymbol));
                double ellipses = (double) (count(text, "...") + count(text, "\u2026")) / words.size();
                if (ellipses > maxSymbol) return Outcome.remove("too_many_ellipsis", fmt("ellipses per word %.3g > %.3g", ellipses, maxSymbol));
                List<String> lines = PythonText.splitLines(text);
                int bullets = 0, endEllipsis = 0;
                for (String l : lines) {
                    String s = PythonText.stripLeading(l);
                    if (s.startsWith("\u2022") || s.startsWith("-")) bullets++;
                    String e = PythonText.stripTrailing(l);
                    if (e.endsWith("...") || e.endsWith("\u2026")) endEllipsis++;
                }
                double bulletRatio = (double) bullets / lines.size();
                if (bulletRatio > maxBullet) return Outcome.remove("too_many_bullets", fmt("bullet lines %.3g > %.3g", bulletRatio, maxBullet));
                double ellipsisRatio = (double) endEllipsis / lines.size();
                if (ellipsisRatio > maxEllipsis) return Outcome.remove("too_many_end_ellipsis", fmt("lines ending in an ellipsis %.3g > %.3g", ellipsisRatio, maxEllipsis));
                double alphaRatio = (double) alpha / words.size();
                if (alphaRatio < minAlpha) return Outcome.remove("below_alpha_threshold", fmt("words with a letter %.3g < %.3g", alphaRatio, minAlpha));
                if (stopSeen.size() < minStop) {
                    return Outcome.remove("not_enough_stop_words", fmt("%d distinct stop words < min_stop_words %.6g", stopSeen.size(), minStop));
                }
                return Outcome.keep(doc);
            }
        };
    }

    /**
     * A threshold datatrove declares "float | None" and tests with "if self.x and ...": null (None)
     * or 0 turns its rule off. NaN does that here, since every comparison with it is false.
     */
    static double off(Params p, String key, double dflt) {
        Double v = p.optionalNumber(key, dflt);
        return v == null || v == 0 ? Double.NaN : v;
    }

    private static final Pattern PARAGRAPHS = Pattern.compile("\\n{2,}");
    private static final Pattern LINES = Pattern.compile("\\n+");

    /**
     * Gopher repetition as datatrove's GopherRepetitionFilter computes it: paragraphs are re.split(r"\n{2,}") of the
     * text Python-stripped, lines re.split("\n+") of the text (Python's split keeps an empty string at either end: a
     * text ending in a newline has an empty last line), words its split_into_words ({@link DatatroveText#words}); every
     * fraction is of len(text) in code points.
     */
    static Operator repetition(Params p) {
        double dupLine = off(p, "dup_line_frac", 0.3), dupPara = off(p, "dup_para_frac", 0.3);
        double dupLineChar = off(p, "dup_line_char_frac", 0.2), dupParaChar = off(p, "dup_para_char_frac", 0.2);
        double[] top = {p.number("top_2_gram_frac", 0.2), p.number("top_3_gram_frac", 0.18), p.number("top_4_gram_frac", 0.16)};
        double[] dup = {p.number("dup_5_gram_frac", 0.15), p.number("dup_6_gram_frac", 0.14), p.number("dup_7_gram_frac", 0.13),
                p.number("dup_8_gram_frac", 0.12), p.number("dup_9_gram_frac", 0.11), p.number("dup_10_gram_frac", 0.10)};
        return new Operator() {
            @Override
            public String name() {
                return "gopher_repetition_filter";
            }

            @Override
            public Outcome apply(Doc doc) {
                String text = doc.text();
                int len = Math.max(1, PythonText.length(text)); // Python's len, as every count here (datatrove divides by zero for an empty text)
                String[] paras = PARAGRAPHS.split(PythonText.strip(text), -1);
                long[] d = duplicates(paras);
                if ((double) d[0] / paras.length > dupPara) return Outcome.remove("dup_para_frac", fmt("duplicated paragraphs %.3g > %.3g", (double) d[0] / paras.length, dupPara));
                if ((double) d[1] / len > dupParaChar) return Outcome.remove("dup_para_char_frac", fmt("chars in duplicated paragraphs %.3g > %.3g", (double) d[1] / len, dupParaChar));
                String[] lines = LINES.split(text, -1);
                d = duplicates(lines);
                if ((double) d[0] / lines.length > dupLine) return Outcome.remove("dup_line_frac", fmt("duplicated lines %.3g > %.3g", (double) d[0] / lines.length, dupLine));
                if ((double) d[1] / len > dupLineChar) return Outcome.remove("dup_line_char_frac", fmt("chars in duplicated lines %.3g > %.3g", (double) d[1] / len, dupLineChar));
                WordNgrams grams = new WordNgrams(TextFeatures.words(text));
                for (int n = 2; n <= 4; n++) {
                    double f = (double) grams.topChars(n) / len;
                    if (f > top[n - 2]) return Outcome.remove("top_" + n + "_gram", fmt("top " + n + "-gram chars %.3g > %.3g", f, top[n - 2]));
                }
                for (int n = 5; n <= 10; n++) {
                    double f = (double) grams.duplicatedChars(n) / len;
                    if (f > dup[n - 5]) return Outcome.remove("duplicated_" + n + "_n_grams", fmt("chars in duplicated " + n + "-grams %.3g > %.3g", f, dup[n - 5]));
                }
                return Outcome.keep(doc);
            }
        };
    }

    /** {number of elements seen before, their total length}. */
    static long[] duplicates(String[] elements) {
        Set<String> seen = new HashSet<>();
        long n = 0, chars = 0;
        for (String e : elements) {
            if (!seen.add(e)) {
                n++;
                chars += PythonText.length(e); // Python's len
            }
        }
        return new long[] {n, chars};
    }

    static int count(String text, String needle) {
        int c = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length())) c++;
        return c;
    }

    static String fmt(String f, Object... args) {
        return String.format(Locale.ROOT, f, args);
    }
}
