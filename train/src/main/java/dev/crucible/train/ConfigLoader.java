package dev.crucible.train;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.crucible.io.AtomicWrite;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Reads and writes YAML configs as records. Every problem becomes one {@link ConfigException} whose
 * message names the file, the line and the dotted key: unknown keys (with the keys allowed there),
 * values of the wrong type, and values the records refuse.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    // a key given twice is refused: YAML parsers keep the last, so a second `training:` section would
    // silently put the first one's keys back to their defaults
    // (on the mapper: YAMLFactory.builder() would also drop the factory's default of reading an empty value as null)
    public static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** A config file that cannot be used, with a message that says where and why. */
    public static final class ConfigException extends IllegalArgumentException {
        public ConfigException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A config section with every key at its default (its record's constructor sets them from nulls). */
    public static <T> T defaults(Class<T> type) {
        return defaults(type, java.util.Map.of());
    }

    /** A config section with the given keys (snake_case) and every other key at its default. */
    public static <T> T defaults(Class<T> type, java.util.Map<String, ?> given) {
        return YAML.convertValue(given, type);
    }

    /**
     * Keys of run configs that were renamed: a config a user wrote that still uses one is refused
     * with the new name, instead of "unknown key" (a run directory's own config.yaml is migrated
     * instead: {@link RunConfigs#readSaved}).
     */
    static final java.util.Map<String, String> RENAMED = java.util.Map.of(
            "model.hidden_size", "model.intermediate_size (Hugging Face's name for the MLP width; HF's hidden_size is d_model)",
            "optimizer.decay_embeddings", "optimizer.groups.embedding.weight_decay (e.g. groups: {embedding: {weight_decay: 0.1}})");

    public static <T> T load(Path file, Class<T> type) {
        return load(file, type, null);
    }

    /**
     * As {@link #load(Path, Class)}, with the parsed document first handed to migrate (which may
     * rewrite it: keys an older version wrote under another name).
     */
    public static <T> T load(Path file, Class<T> type, java.util.function.Consumer<com.fasterxml.jackson.databind.node.ObjectNode> migrate) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file", e);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        try {
            T value;
            if (migrate == null) {
                value = YAML.readValue(text, type);
            } else {
                com.fasterxml.jackson.databind.JsonNode tree = YAML.readTree(text);
                if (tree instanceof com.fasterxml.jackson.databind.node.ObjectNode o) migrate.accept(o);
                value = tree == null || tree.isMissingNode() ? null : YAML.treeToValue(tree, type);
            }
            if (value == null) throw new ConfigException(file + ": empty config", null);
            return value;
        } catch (JsonProcessingException e) {
            throw translate(file, text, e);
        }
    }

    static ConfigException translate(Path file, String text, JsonProcessingException e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof com.fasterxml.jackson.core.exc.StreamReadException syntax) {
                JsonLocation l = syntax.getLocation();
                return new ConfigException(file + (l != null && l.getLineNr() > 0 ? ":" + l.getLineNr() + ":" + l.getColumnNr() : "")
                        + ": not valid YAML: " + syntax.getOriginalMessage().replace('\n', ' '), e);
            }
        }
        JsonLocation loc = e.getLocation();
        String where = file + (loc != null && loc.getLineNr() > 0 ? ":" + loc.getLineNr() + ":" + loc.getColumnNr() : "");
        if (e instanceof JsonMappingException m) {
            // Jackson buffers a record's keys before building it, so its location is the end of the
            // section; point at the offending key instead when it can be found.
            String key = path(m.getPath());
            if (e instanceof ValueInstantiationException && e.getCause() != null && e.getCause().getMessage() != null) {
                String msg = e.getCause().getMessage();
                int colon = msg.indexOf(':');
                if (colon > 0 && msg.substring(0, colon).matches("[a-z0-9_.]+")) key = key.isEmpty() ? msg.substring(0, colon) : key + "." + msg.substring(0, colon);
            }
            int[] at = locate(text, key);
            if (at != null) where = file + ":" + at[0] + ":" + at[1];
        }
        if (e instanceof UnrecognizedPropertyException u) {
            String path = path(u.getPath());
            if (RENAMED.containsKey(path)) {
                return new ConfigException(where + ": '" + path + "' was renamed: write " + RENAMED.get(path), e);
            }
            List<String> known = u.getKnownPropertyIds() == null ? List.of()
                    : u.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.toList());
            return new ConfigException(where + ": unknown key '" + path + "'" + (known.isEmpty() ? "" : " (allowed here: " + String.join(", ", known) + ")"), e);
        }
        if (e instanceof ValueInstantiationException v) {
            Throwable cause = v.getCause() != null ? v.getCause() : v;
            String prefix = path(v.getPath());
            String msg = cause.getMessage();
            return new ConfigException(where + ": " + (prefix.isEmpty() ? "" : prefix + ".") + msg, e);
        }
        if (e instanceof InvalidFormatException f) {
            return new ConfigException(where + ": " + path(f.getPath()) + ": cannot read '" + f.getValue() + "' as "
                    + describe(f.getTargetType()), e);
        }
        if (e instanceof MismatchedInputException m) {
            String p = path(m.getPath());
            return new ConfigException(where + ": " + (p.isEmpty() ? "" : p + ": ") + "expected " + describe(m.getTargetType()), e);
        }
        if (e instanceof JsonMappingException m) {
            String p = path(m.getPath());
            return new ConfigException(where + ": " + (p.isEmpty() ? "" : p + ": ") + m.getOriginalMessage(), e);
        }
        return new ConfigException(where + ": " + e.getOriginalMessage(), e);
    }

    /** 1-based line and column of a dotted key path in YAML text (each segment searched after the previous), or null. */
    static int[] locate(String text, String dotted) {
        if (dotted == null || dotted.isEmpty()) return null;
        int[] at = {0, 0};
        for (String seg : dotted.split("\\.")) {
            if (seg.startsWith("[")) continue;
            at = findKey(text, seg, at[1]);
            if (at == null) return null;
        }
        return lineColumn(text, at[0]);
    }

    /**
     * Where `key:` first appears at or after offset from, the key written as it is (a dotted sweep key
     * is one YAML key): its start and the end of the match; or null.
     */
    public static int[] findKey(String text, String key, int from) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)(^|[\\s{,])(" + java.util.regex.Pattern.quote(key) + ")\\s*:").matcher(text);
        return m.find(from) ? new int[] {m.start(2), m.end()} : null;
    }

    /** 1-based line and column of an offset in text. */
    public static int[] lineColumn(String text, int offset) {
        int line = 1, col = 1;
        for (int i = 0; i < offset; i++) {
            if (text.charAt(i) == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return new int[] {line, col};
    }

    private static String path(List<JsonMappingException.Reference> refs) {
        return refs.stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
    }

    private static String describe(Class<?> type) {
        if (type == null) return "a value of another type";
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) return "an integer";
        if (type == Double.class || type == double.class) return "a number";
        if (type == Boolean.class || type == boolean.class) return "true or false";
        if (type == String.class) return "a string";
        if (type.isRecord()) return "a section of keys";
        return type.getSimpleName();
    }

    public static void write(Path file, Object value) throws IOException {
        AtomicWrite.write(file, tmp -> YAML.writeValue(tmp.toFile(), value));
    }
}
