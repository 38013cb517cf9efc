package dev.crucible.data.pipeline;

import dev.crucible.data.PythonText;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The line-level web-text heuristics of C4 (Raffel et al., as datatrove implements them) and of
 * FineWeb (Penedo et al.), with the defaults those recipes publish.
 */
public final class WebQuality {
    private WebQuality() {}


    private static final Pattern CITATION = Pattern.compile("\\[\\d*]|\\[edit]|\\[citation needed]", Pattern.UNICODE_CHARACTER_CLASS); // Python's \d matches any decimal digit (Nd)
    static final List<String> POLICY = List.of("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies");

    /**
     * C4 as datatrove's C4QualityFilter: the text's lines (str.splitlines; with split_paragraph false its sentences,
     * {@link DatatroveText#sentences}), each Python-stripped, are kept only if no word (str.split) is longer than
     * max_word_length, they end in terminal punctuation (. ? ! " ') but not an ellipsis once citation marks are
     * removed, have at least min_words_per_line words, and mention neither javascript nor a cookie/privacy policy.
     * A document with "lorem ipsum" or a curly bracket in a line that got that far, or with fewer than
     * min_num_sentences sentences in its kept lines (each line's {@link DatatroveText#sentences}; a kept sentence is
     * one), is removed; otherwise the kept lines, joined by newlines (spaces for sentences) and stripped, become the
     * text. -1 turns min_num_sentences, min_words_per_line and max_word_length off.
     */
    static Operator c4(Params p) {
        boolean paragraphs = p.bool("split_paragraph", true);
        int minSentences = p.integer("min_num_sentences", 5), minWords = p.integer("min_words_per_line", 3);
        int maxWordLength = p.integer("max_word_length", 1000);
        boolean citations = p.bool("remove_citations", true), terminal = p.bool("filter_no_terminal_punct", true);
        boolean lorem = p.bool("filter_lorem_ipsum", true), js = p.bool("filter_javascript", true);
        boolean curly = p.bool("filter_curly_bracket", true), policy = p.bool("filter_policy", true);
        return new Operator() {
            @Override
            public String name() {
                return "c4_quality_filter";
            }

            @Override
            public Outcome apply(Doc doc) {
                List<String> lines = paragraphs ? PythonText.splitLines(doc.text()) : DatatroveText.sentences(doc.text());
                List<String> kept = new ArrayList<>();
                int sentences = 0;
                for (String raw : lines) {
                    String line = PythonText.strip(raw);
                    List<String> words = PythonText.split(line);
                    if (maxWordLength != -1 && words.stream().anyMatch(w -> PythonText.length(w) > maxWordLength)) continue;
                    if (citations) line = CITATION.matcher(line).replaceAll("");
                    if (terminal && (!(line.endsWith(".") || line.endsWith("?") || line.endsWith("!") || line.endsWith("\"") || line.endsWith("'"))
                            || line.endsWith("..."))) continue;
                    if (words.size() < minWords) continue;
                    String lower = line.toLowerCase(Locale.ROOT);
                    if (lorem && lower.contains("lorem ipsum")) return Outcome.remove("lorem_ipsum", "a line contains 'lorem ipsum'");
                    if (js && lower.contains("javascript")) continue;
                    if (curly && line.indexOf('{') >= 0) return Outcome.remove("curly_bracket", "a kept line contains '{'");
                    if (policy && POLICY.stream().anyMatch(lower::contains)) continue;
                    if (minSentences != -1) sentences += paragraphs ? DatatroveText.sentences(line).size() : 1;
                    kept.add(line);
                }
                if (sentences < minSentences) return Outcome.remove("too_few_sentences", sentences + " sentences in kept lines < min_num_sentences " + minSentences);
                String text = PythonText.strip(String.join(paragraphs ? "\n" : " ", kept));
                if (text.equals(doc.text())) return Outcome.keep(doc);
                return Outcome.changed(doc.withText(text), "lines_removed", (lines.size() - kept.size()) + " of " + lines.size() + (paragraphs ? " lines" : " sentences") + " removed");
            }
        };
    }

    /**
     * FineWeb's own filters, as datatrove's FineWebQualityFilter computes them: too few lines
     * ending in one of stop_chars (default: datatrove's TERMINAL_PUNCTUATION, which has no "…"),
     * too many short lines, too many characters in duplicated lines, too many newlines per word,
     * words being datatrove's split_into_words (NLTK's tokens, punctuation among them). Lengths
     * are code points, as Python's len.
     */
    static Operator fineweb(Params p) {
        double punctThr = p.number("line_punct_thr", 0.12), shortThr = p.number("short_line_thr", 0.67);
        boolean excludeZero = p.bool("line_punct_exclude_zero", false);
        int shortLen = p.integer("short_line_length", 30);
        double dupThr = p.number("char_duplicates_ratio", 0.01), newlineThr = p.number("new_line_ratio", 0.3);
        List<String> stopChars = p.strings("stop_chars", null);
        return new Operator() {
            @Override
            public String name() {
                return "fineweb_quality_filter";
            }

            boolean endsWithStopChar(String line) {
                if (stopChars != null) return stopChars.stream().anyMatch(line::endsWith);
                return !line.isEmpty() && DatatroveText.isTerminal(line.codePointBefore(line.length()));
            }

            @Override
            public Outcome apply(Doc doc) {
                String text = doc.text();
                List<String> lines = new ArrayList<>();
                for (String l : text.split("\n", -1)) if (!PythonText.strip(l).isEmpty()) lines.add(l);
                if (lines.isEmpty()) return Outcome.remove("empty", "no non-blank line");
                int punct = 0, shortLines = 0;
                for (String l : lines) {
                    if (endsWithStopChar(l)) punct++;
                    if (PythonText.length(l) <= shortLen) shortLines++;
                }
                double r = (double) punct / lines.size();
                if (r < punctThr && !(r == 0 && excludeZero)) return Outcome.remove("line_punct_ratio", Gopher.fmt("lines ending in punctuation %.3g < %.3g", r, punctThr));
                r = (double) shortLines / lines.size();
                if (r > shortThr) return Outcome.remove("short_line_ratio", Gopher.fmt("short lines %.3g > %.3g", r, shortThr));
                long dupChars = Gopher.duplicates(lines.toArray(String[]::new))[1];
                int newlines = Gopher.count(text, "\n");
                r = (double) dupChars / (PythonText.length(text) - newlines);
                if (r > dupThr) return Outcome.remove("char_dup_ratio", Gopher.fmt("chars in duplicated lines %.3g > %.3g", r, dupThr));
                int words = TextFeatures.words(text).size();
                r = (double) newlines / Math.max(1, words);
                if (r > newlineThr) return Outcome.remove("list_ratio", Gopher.fmt("newlines per word %.3g > %.3g", r, newlineThr));
                return Outcome.keep(doc);
            }
        };
    }
}
