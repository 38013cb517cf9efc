package dev.crucible.eval.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.crucible.data.tokenizer.TokenizerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's chat template, the Jinja text that turns a conversation into the prompt the model was
 * tuned on, found where Hugging Face keeps it: chat_template.jinja beside the weights, else
 * tokenizer_config.json's chat_template (a string, or named templates, of which "default"), or a
 * file the user names. It is rendered as transformers' apply_chat_template renders it, with the
 * special tokens of tokenizer_config.json and special_tokens_map.json (bos_token, eos_token, ...;
 * {@link TokenizerConfig}) as variables; the end-of-turn token (eos_token) is where a reply stops.
 */
public final class ChatTemplate {
    private final JinjaTemplate template;
    private final Map<String, Object> specials;

    private ChatTemplate(JinjaTemplate template, Map<String, Object> specials) {
        this.template = template;
        this.specials = specials;
    }

    /** The checkpoint's template, or null when it has none. */
    public static ChatTemplate forCheckpoint(Path dir) throws IOException {
        Path jinja = dir.resolve("chat_template.jinja"), config = dir.resolve("tokenizer_config.json");
        TokenizerConfig cfg = TokenizerConfig.read(dir);
        if (Files.isRegularFile(jinja)) return fromText(Files.readString(jinja), jinja.toString(), cfg);
        JsonNode t = cfg.field("chat_template");
        if (t == null) return null;
        if (t.isTextual()) return fromText(t.asText(), config + ": chat_template", cfg);
        if (t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText())) return fromText(named.path("template").asText(), config + ": chat_template 'default'", cfg);
            }
            throw new IOException(config + ": chat_template lists named templates but none is called 'default'");
        }
        throw new IOException(config + ": chat_template must be a string or a list of {name, template}, got " + t.getNodeType());
    }

    /** A template from a file, with the checkpoint's special tokens (if it has a tokenizer_config.json). */
    public static ChatTemplate fromFile(Path file, Path checkpoint) throws IOException {
        return fromText(Files.readString(file), file.toString(), TokenizerConfig.read(checkpoint));
    }

    private static ChatTemplate fromText(String text, String source, TokenizerConfig cfg) throws IOException {
        try {
            return new ChatTemplate(JinjaTemplate.parse(text, source), new LinkedHashMap<>(cfg.specialTokens()));
        } catch (JinjaTemplate.TemplateError e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** The eos_token's text (where the model ends its turn), or null. */
    public String endOfTurn() {
        return (String) specials.get("eos_token");
    }

    /**
     * The prompt for a conversation (messages: maps with role and content), ending with the
     * assistant's turn opened when asked; extra: more variables (tools, documents, a template's own switches).
     */
    public String render(List<Object> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
        Map<String, Object> vars = new LinkedHashMap<>(specials);
        vars.putAll(extra);
        vars.put("messages", messages);
        vars.put("add_generation_prompt", addGenerationPrompt);
        return template.render(vars);
    }

    /** A JSON value as a template sees it: String, Long, Double, Boolean, null, List, Map (in order). */
    static Object value(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) return null;
        if (n.isTextual()) return n.asText();
        if (n.isBoolean()) return n.asBoolean();
        if (n.isIntegralNumber()) return n.asLong();
        if (n.isNumber()) return n.asDouble();
        if (n.isArray()) {
            List<Object> out = new ArrayList<>();
            for (JsonNode e : n) out.add(value(e));
            return out;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        n.properties().forEach(e -> out.put(e.getKey(), value(e.getValue())));
        return out;
    }
}
