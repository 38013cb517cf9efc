package dev.crucible.data.pipeline;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One document flowing through a recipe: a stable id (its source and place), its text, and string
 * metadata that operators add (e.g. "lang", "domain"). Immutable, so operators stay plain functions.
 * Metadata iterate in key order: Map.copyOf's order changes from one JVM to the next, and it decides
 * the order of the fields in the output, which must be the same on every run.
 */
public record Doc(String id, String text, Map<String, String> meta) {
    public Doc {
        meta = meta.isEmpty() ? Map.of() : Collections.unmodifiableSortedMap(new TreeMap<>(meta));
    }

    public Doc(String id, String text) {
        this(id, text, Map.of());
    }

    public Doc withText(String newText) {
        return new Doc(id, newText, meta);
    }

    public Doc withMeta(String key, String value) {
        Map<String, String> m = new HashMap<>(meta);
        m.put(key, value);
        return new Doc(id, text, m);
    }

    public String meta(String key) {
        return meta.get(key);
    }
}
