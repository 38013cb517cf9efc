package dev.crucible.data.pipeline;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Offline language identification by function words, for the 21 languages of the shipped stop-word
 * lists (the languages of the European Parliament). Only distinctive words count: a word in the
 * lists of several languages ("de", "la", "en") says nothing. The language with the most
 * distinctive function words wins, and its score is its share of them: 1.0 when every one points
 * to it, about 0.5 for an even mix of two languages. A text with fewer than {@link #MIN_EVIDENCE}
 * distinctive words is "unknown" with score 0 (tables, very short texts, code without comments).
 * Scores are comparable within this identifier, not with fastText's probabilities.
 */
public final class LanguageId {
    public static final int MIN_EVIDENCE = 3;
    public static final String UNKNOWN = "unknown";

    public record Guess(String lang, double score) {}

    private final Map<String, String> langOfWord = new HashMap<>();

    public LanguageId() {
        Map<String, java.util.List<String>> tmp = new HashMap<>();
        for (Map.Entry<String, Set<String>> e : WordLists.stopwords().entrySet()) {
            for (String w : e.getValue()) tmp.computeIfAbsent(w, k -> new java.util.ArrayList<>()).add(e.getKey());
        }
        tmp.forEach((w, l) -> {
            if (l.size() == 1) langOfWord.put(w, l.getFirst());
        });
    }

    public Guess identify(String text) {
        return identify(TextStats.strippedTokens(text));
    }

    public Guess identify(List<String> words) {
        Map<String, Integer> evidence = new HashMap<>();
        int total = 0;
        for (String w : words) {
            String lang = langOfWord.get(w.toLowerCase(Locale.ROOT));
            if (lang == null) continue;
            evidence.merge(lang, 1, Integer::sum);
            total++;
        }
        if (total < MIN_EVIDENCE) return new Guess(UNKNOWN, 0);
        String best = null;
        int bestScore = -1;
        for (Map.Entry<String, Integer> e : evidence.entrySet()) {
            // ties break by language code so the result does not depend on hash order
            if (e.getValue() > bestScore || (e.getValue() == bestScore && e.getKey().compareTo(best) < 0)) {
                best = e.getKey();
                bestScore = e.getValue();
            }
        }
        return new Guess(best, (double) bestScore / total);
    }
}
