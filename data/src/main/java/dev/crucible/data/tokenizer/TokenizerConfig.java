package dev.crucible.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What a model directory's tokenizer_config.json says beside tokenizer.json: its special tokens' texts
 * (bos_token, eos_token, ...; a string or an AddedToken {content, ...}), the tokenizer class, and
 * whether a Llama-family tokenizer adds its begin- and end-of-sequence tokens. {@link #EMPTY} where there
 * is no such file.
 */
public final class TokenizerConfig {
    /** The keys transformers fills a chat template's special-token variables from. */
    private static final String[] SPECIAL_KEYS = {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"};
    /**
     * The classes whose constructor rebuilds the post_processor from add_bos_token (default true) and
     * add_eos_token (default false) in transformers (update_post_processor), whatever tokenizer.json holds.
     */
    private static final Set<String> REBUILT = Set.of("LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast",
            "GemmaTokenizer", "GemmaTokenizerFast");

    public static final TokenizerConfig EMPTY = new TokenizerConfig(null, null);

    private final Path file;
    private final JsonNode root;

    private TokenizerConfig(Path file, JsonNode root) {
        this.file = file;
        this.root = root;
    }

    /** dir's tokenizer_config.json, or {@link #EMPTY} where it has none. */
    public static TokenizerConfig read(Path dir) throws IOException {
        Path f = dir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(f)) return EMPTY;
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(f.toFile());
        } catch (IOException e) {
            throw new IOException(f + ": not JSON (" + e.getMessage() + ")", e);
        }
        if (root == null || !root.isObject()) throw new IOException(f + ": not a JSON object");
        return new TokenizerConfig(f, root);
    }

    /** Its value for key, or null where it is absent, null, or there is no file. */
    public JsonNode field(String key) {
        JsonNode v = root == null ? null : root.get(key);
        return v == null || v.isNull() ? null : v;
    }

    /** The file (null for {@link #EMPTY}). */
    public Path file() {
        return file;
    }

    /** The text of special token key (e.g. "bos_token"), or null where it is absent or null. */
    public String token(String key) {
        JsonNode v = field(key);
        if (v == null) return null;
        return v.isTextual() ? v.asText() : v.path("content").asText(null); // a string, or an AddedToken {content, ...}
    }

    /** bos_token, eos_token, ... by key, those present: a chat template's variables. */
    public Map<String, String> specialTokens() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String key : SPECIAL_KEYS) {
            String t = token(key);
            if (t != null) out.put(key, t);
        }
        return out;
    }

    /**
     * The post-processor transformers encodes with: for a Llama or Gemma tokenizer class, the begin-of-sequence
     * token if add_bos_token (default true) and the end-of-sequence token after the text if add_eos_token
     * (default false), as its constructor rebuilds it; for any other class, tokenizer.json's own.
     */
    public PostProcessor postProcessor(BpeTokenizer t) throws IOException {
        String cls = root == null ? null : root.path("tokenizer_class").asText(null);
        if (cls == null || !REBUILT.contains(cls)) return t.postProcessor();
        int[] bos = flag("add_bos_token", true) ? new int[] {id(t, "bos_token", "add_bos_token")} : new int[0];
        int[] eos = flag("add_eos_token", false) ? new int[] {id(t, "eos_token", "add_eos_token")} : new int[0];
        return new PostProcessor(bos, eos);
    }

    private boolean flag(String key, boolean dflt) throws IOException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isBoolean()) throw new IOException(file + ": " + key + " must be true or false, got " + v);
        return v.asBoolean();
    }

    /** The single token that special token key's text is, as the class's template names it. */
    private int id(BpeTokenizer t, String key, String because) throws IOException {
        String text = token(key);
        if (text == null) throw new IOException(file + ": " + because + " is true but " + key + " is not set (transformers refuses this too)");
        int[] ids = t.encode(text, true);
        if (ids.length != 1) throw new IOException(file + ": " + key + " '" + text + "' is " + ids.length + " tokens of tokenizer.json, not one token");
        return ids[0];
    }
}
