package dev.crucible.data.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One document flowing through a recipe: a stable id (the input record's own "id", or its source
 * and place), its text, string metadata that operators add (e.g. "lang", "domain"), and the input
 * record's other fields (url, nested metadata, ...; null when the input has none), which every
 * operator passes through untouched to the output and the trace. Immutable, so operators stay plain
 * functions: nothing may change the fields object. Metadata iterate in key order: Map.copyOf's order
 * changes from one JVM to the next, and it decides the order of the fields in the output, which must
 * be the same on every run.
 */
public record Doc(String id, String text, Map<String, String> meta, ObjectNode fields) {
    public Doc {
        meta = meta.isEmpty() ? Map.of() : Collections.unmodifiableSortedMap(new TreeMap<>(meta));
        if (fields != null && fields.isEmpty()) fields = null;
    }

    public Doc(String id, String text) {
        this(id, text, Map.of(), null);
    }

    public Doc(String id, String text, Map<String, String> meta) {
        this(id, text, meta, null);
    }

    public Doc withText(String newText) {
        return new Doc(id, newText, meta, fields);
    }

    public Doc withMeta(String key, String value) {
        Map<String, String> m = new HashMap<>(meta);
        m.put(key, value);
        return new Doc(id, text, m, fields);
    }

    public String meta(String key) {
        return meta.get(key);
    }
}
