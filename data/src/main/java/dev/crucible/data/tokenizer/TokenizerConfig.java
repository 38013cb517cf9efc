package dev.crucible.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a model directory's tokenizer_config.json says beside tokenizer.json: its special tokens' texts
 * (bos_token, eos_token, ...; a string or an AddedToken {content, ...}; special_tokens_map.json's over
 * them where the config is of the form before added_tokens_decoder, as transformers 4 loads them), the
 * tokenizer class, and whether a Llama-family tokenizer adds its begin- and end-of-sequence tokens.
 * {@link #EMPTY} where there is neither file.
 */
public final class TokenizerConfig {
    /** The keys transformers fills a chat template's special-token variables from. */
    private static final String[] SPECIAL_KEYS = {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"};
    /**
     * The classes whose constructor in transformers 4 rebuilds the post_processor (update_post_processor) from
     * add_bos_token and add_eos_token, whatever tokenizer.json holds: those flags' defaults and the class's own
     * bos_token and eos_token where tokenizer_config.json leaves them out.
     */
    private record Rebuilt(boolean addBos, boolean addEos, String bos, String eos) {}

    private static final Map<String, Rebuilt> REBUILT = Map.of(
            "LlamaTokenizer", new Rebuilt(true, false, "<s>", "</s>"), "LlamaTokenizerFast", new Rebuilt(true, false, "<s>", "</s>"),
            "CodeLlamaTokenizer", new Rebuilt(true, false, "<s>", "</s>"), "CodeLlamaTokenizerFast", new Rebuilt(true, false, "<s>", "</s>"),
            "GemmaTokenizer", new Rebuilt(true, false, "<bos>", "<eos>"), "GemmaTokenizerFast", new Rebuilt(true, false, "<bos>", "<eos>"),
            "GPTNeoXTokenizer", new Rebuilt(false, false, "<|endoftext|>", "<|endoftext|>"),
            "GPTNeoXTokenizerFast", new Rebuilt(false, false, "<|endoftext|>", "<|endoftext|>"));

    public static final TokenizerConfig EMPTY = new TokenizerConfig(null, null, Map.of());

    private final Path file;
    private final JsonNode root;
    private final Map<String, Path> overridden; // special-token keys special_tokens_map.json set, and that file

    private TokenizerConfig(Path file, JsonNode root, Map<String, Path> overridden) {
        this.file = file;
        this.root = root;
        this.overridden = overridden;
    }

    /**
     * dir's tokenizer_config.json, with special_tokens_map.json's special tokens over it where the config has no
     * added_tokens_decoder (or there is none); {@link #EMPTY} where dir has neither file.
     */
    public static TokenizerConfig read(Path dir) throws IOException {
        Path f = dir.resolve("tokenizer_config.json"), map = dir.resolve("special_tokens_map.json");
        boolean hasConfig = Files.isRegularFile(f), hasMap = Files.isRegularFile(map);
        if (!hasConfig && !hasMap) return EMPTY;
        ObjectNode root = hasConfig ? object(f) : new ObjectMapper().createObjectNode();
        Map<String, Path> overridden = new LinkedHashMap<>();
        if (hasMap && !root.has("added_tokens_decoder")) { // transformers (4.34 on) reads the map only for a config of the older form, without added_tokens_decoder
            JsonNode m = object(map);
            for (String key : SPECIAL_KEYS) {
                JsonNode v = m.get(key);
                if (v == null || v.isNull()) continue;
                root.set(key, v);
                overridden.put(key, map);
            }
        }
        return new TokenizerConfig(f, root, Map.copyOf(overridden));
    }

    private static ObjectNode object(Path f) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(f.toFile());
        } catch (IOException e) {
            throw new IOException(f + ": not JSON (" + e.getMessage() + ")", e);
        }
        if (!(root instanceof ObjectNode o)) throw new IOException(f + ": not a JSON object");
        return o;
    }

    /** Its value for key, or null where it is absent, null, or there is no file. */
    public JsonNode field(String key) {
        JsonNode v = root == null ? null : root.get(key);
        return v == null || v.isNull() ? null : v;
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
     * The post-processor transformers (4) encodes with: for a Llama, CodeLlama, Gemma or GPT-NeoX tokenizer class,
     * the begin-of-sequence token before the text if add_bos_token and the end-of-sequence token after it if
     * add_eos_token (each defaulting as the class does), as its constructor rebuilds the template; for any other
     * class, tokenizer.json's own.
     */
    public PostProcessor postProcessor(BpeTokenizer t) throws IOException {
        String cls = root == null ? null : root.path("tokenizer_class").asText(null);
        Rebuilt r = cls == null ? null : REBUILT.get(cls);
        if (r == null) return t.postProcessor();
        int[] bos = flag("add_bos_token", r.addBos()) ? new int[] {required(t, "bos_token", r.bos(), "add_bos_token")} : new int[0];
        int[] eos = flag("add_eos_token", r.addEos()) ? new int[] {required(t, "eos_token", r.eos(), "add_eos_token")} : new int[0];
        return new PostProcessor(bos, eos);
    }

    private boolean flag(String key, boolean dflt) throws IOException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isBoolean()) throw new IOException(file + ": " + key + " must be true or false, got " + v);
        return v.asBoolean();
    }

    /** Special token key's id for the rebuilt template: the class's default text where the key is absent; null set there is refused, as transformers refuses it. */
    private int required(BpeTokenizer t, String key, String classDefault, String because) throws IOException {
        String text = root.has(key) ? token(key) : classDefault;
        if (text == null) throw new IOException(file + ": " + because + " is true but " + key + " is null (transformers refuses this too)");
        Integer id = singleToken(t, text);
        if (id == null) throw new IOException(overridden.getOrDefault(key, file) + ": " + key + " '" + text + "' is not one token of tokenizer.json");
        return id;
    }

    /** The id of special token key's text where it is set and a single token of t, else null. */
    public Integer tokenId(BpeTokenizer t, String key) {
        String text = token(key);
        return text == null ? null : singleToken(t, text);
    }

    private static Integer singleToken(BpeTokenizer t, String text) {
        int[] ids = t.encode(text, true);
        return ids.length == 1 ? ids[0] : null;
    }
}
