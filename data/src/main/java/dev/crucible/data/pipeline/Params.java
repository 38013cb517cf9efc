package dev.crucible.data.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * An operator's parameters from a recipe, read with types and defaults. Every key must be read by
 * the operator's factory: {@link #checkAllRead()} turns a misspelt key into an error that lists
 * the keys the operator knows. A key given as null (YAML "key: null", "key: ~" or "key:") is
 * refused unless the operator reads it with {@link #optionalNumber}: in datatrove a None turns a
 * check off, so reading null as "the default" would quietly mean the opposite of the reference.
 */
public final class Params {
    private final Map<String, Object> values;
    private final Set<String> read = new TreeSet<>();

    public Params(Map<String, ?> values) {
        this.values = new LinkedHashMap<>(values == null ? Map.of() : values);
    }

    public static Params of(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return new Params(m);
    }

    public Map<String, Object> asMap() {
        return java.util.Collections.unmodifiableMap(values);
    }

    /** A parameter that cannot be used; key names it, so a recipe can point at its line. */
    public static final class ParamException extends IllegalArgumentException {
        private final String key;

        public ParamException(String key, String message) {
            super(message);
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    private Object raw(String key) {
        read.add(key);
        Object v = values.get(key);
        if (v == null && values.containsKey(key)) {
            throw new ParamException(key, "parameter '" + key + "' is null; leave it out for its default, or give a value");
        }
        return v;
    }

    /**
     * A number that may be switched off: null when the recipe gives null (datatrove's None), dflt
     * when the key is absent.
     */
    public Double optionalNumber(String key, double dflt) {
        read.add(key);
        if (values.containsKey(key) && values.get(key) == null) return null;
        return number(key, dflt);
    }

    public double number(String key, double dflt) {
        Object v = raw(key);
        if (v == null) return dflt;
        if (v instanceof Number n) return n.doubleValue();
        if (v instanceof String s && (s.equals("inf") || s.equals(".inf"))) return Double.POSITIVE_INFINITY;
        throw new ParamException(key, "parameter '" + key + "' must be a number, got '" + v + "'");
    }

    public int integer(String key, int dflt) {
        Object v = raw(key);
        if (v == null) return dflt;
        if (v instanceof Integer || v instanceof Long) return ((Number) v).intValue();
        throw new ParamException(key, "parameter '" + key + "' must be an integer, got '" + v + "'");
    }

    public boolean bool(String key, boolean dflt) {
        Object v = raw(key);
        if (v == null) return dflt;
        if (v instanceof Boolean b) return b;
        throw new ParamException(key, "parameter '" + key + "' must be true or false, got '" + v + "'");
    }

    public String string(String key, String dflt) {
        Object v = raw(key);
        if (v == null) return dflt;
        if (v instanceof String s) return s;
        throw new ParamException(key, "parameter '" + key + "' must be a string, got '" + v + "'");
    }

    /** A list of strings; a single string counts as a list of one. */
    public List<String> strings(String key, List<String> dflt) {
        Object v = raw(key);
        if (v == null) return dflt;
        if (v instanceof String s) return List.of(s);
        if (v instanceof List<?> l) {
            List<String> out = new ArrayList<>();
            for (Object o : l) {
                if (!(o instanceof String s)) throw new ParamException(key, "parameter '" + key + "' must be a list of strings");
                out.add(s);
            }
            return out;
        }
        throw new ParamException(key, "parameter '" + key + "' must be a string or a list of strings, got '" + v + "'");
    }

    /** A map of string to string (e.g. "where: {domain: code}"). */
    public Map<String, String> stringMap(String key) {
        Object v = raw(key);
        if (v == null) return Map.of();
        if (!(v instanceof Map<?, ?> m)) throw new ParamException(key, "parameter '" + key + "' must be a mapping");
        Map<String, String> out = new LinkedHashMap<>();
        m.forEach((k, x) -> out.put(String.valueOf(k), String.valueOf(x)));
        return out;
    }

    public void checkAllRead() {
        for (String k : values.keySet()) {
            if (!read.contains(k)) throw new ParamException(k, "unknown parameter '" + k + "' (allowed: " + String.join(", ", read) + ")");
        }
    }

    /** A [min, max] range check, inclusive at both ends; min must not exceed max. */
    static void checkRange(double min, double max, String minKey, String maxKey) {
        if (Double.isNaN(min) || Double.isNaN(max) || min > max) {
            throw new IllegalArgumentException("'" + minKey + "' (" + min + ") must not exceed '" + maxKey + "' (" + max + ")");
        }
    }
}
