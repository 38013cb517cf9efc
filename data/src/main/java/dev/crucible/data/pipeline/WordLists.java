package dev.crucible.data.pipeline;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/** The word lists shipped as resources: stop words per language, and flagged words. */
public final class WordLists {
    private WordLists() {}

    private static final Map<String, Set<String>> STOPWORDS = loadStopwords();
    private static final Set<String> FLAGGED = loadWords("flagged_words.txt");

    /** Stop words by ISO 639-1 code, in the order the resource lists the languages. */
    public static Map<String, Set<String>> stopwords() {
        return STOPWORDS;
    }

    public static Set<String> stopwords(String lang) {
        Set<String> s = STOPWORDS.get(lang);
        if (s == null) throw new IllegalArgumentException("no stop words for language '" + lang + "' (have: " + String.join(", ", STOPWORDS.keySet()) + ")");
        return s;
    }

    public static Set<String> flaggedWords() {
        return FLAGGED;
    }

    private static BufferedReader open(String name) {
        InputStream in = WordLists.class.getResourceAsStream(name);
        if (in == null) throw new IllegalStateException("resource " + name + " missing from the data module");
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    }

    private static Map<String, Set<String>> loadStopwords() {
        Map<String, Set<String>> out = new LinkedHashMap<>();
        try (BufferedReader r = open("stopwords.txt")) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) continue;
                int colon = line.indexOf(':');
                out.put(line.substring(0, colon).trim(), Set.copyOf(new LinkedHashSet<>(TextStats.tokens(line.substring(colon + 1)))));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return java.util.Collections.unmodifiableMap(out);
    }

    private static Set<String> loadWords(String name) {
        Set<String> out = new LinkedHashSet<>();
        try (BufferedReader r = open(name)) {
            String line;
            while ((line = r.readLine()) != null) if (!line.startsWith("#")) out.addAll(TextStats.tokens(line));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Set.copyOf(out);
    }
}
