package dev.crucible.data.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One document flowing through a recipe: a stable id (the input record's own "id", or its source
 * and place), its text, string metadata that operators add (e.g. "lang", "domain"), and the input
 * record's other fields (url, nested metadata, ...: name to the value's JSON text, in the record's
 * order), which every operator passes through untouched to the output and the trace. Immutable, so
 * operators stay plain functions. Metadata iterate in key order: Map.copyOf's order changes from one
 * JVM to the next, and it decides the order of the fields in the output, which must be the same on
 * every run.
 */
public record Doc(String id, String text, Map<String, String> meta, Map<String, String> fields) implements java.io.Serializable {
    public Doc {
        meta = meta.isEmpty() ? Map.of() : Collections.unmodifiableSortedMap(new TreeMap<>(meta));
        fields = fields == null || fields.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    public Doc(String id, String text) {
        this(id, text, Map.of(), Map.of());
    }

    public Doc(String id, String text, Map<String, String> meta) {
        this(id, text, meta, Map.of());
    }

    /** A JSON record's fields (the text already taken out) as name to the value's JSON text. */
    public static Map<String, String> fieldsOf(ObjectNode record) {
        Map<String, String> m = new LinkedHashMap<>();
        for (var it = record.fields(); it.hasNext(); ) {
            var e = it.next();
            m.put(e.getKey(), e.getValue().toString());
        }
        return m;
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
