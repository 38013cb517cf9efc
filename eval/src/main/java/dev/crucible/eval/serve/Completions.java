package dev.crucible.eval.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.crucible.model.Sampler;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI's /v1/completions on a {@link ServedModel}: the prompt as text, token ids, or a list of
 * either; max_tokens (16), temperature (1), top_p (1), frequency_penalty, presence_penalty and
 * logit_bias (none), stop (a string or up to {@link #MAX_STOPS}), seed, n (1), logprobs (0-5: the
 * sampled or echoed token's log-probability and that many alternatives), echo (the prompt repeated
 * before the completion, with its tokens' log-probabilities when logprobs is set: how
 * lm-evaluation-harness's local-completions model scores), stream and stream_options. Unknown fields
 * are ignored, as OpenAI ignores them; a field of the wrong type or out of range is a {@link BadRequest}.
 */
final class Completions {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** A request that cannot be served: 400 (or status) with OpenAI's error shape, naming the parameter, and OpenAI's code where it has one. */
    static final class BadRequest extends RuntimeException {
        final int status;
        final String param, code;

        BadRequest(String param, String message) {
            this(400, param, null, message);
        }

        BadRequest(int status, String param, String code, String message) {
            super(message);
            this.status = status;
            this.param = param;
            this.code = code;
        }
    }

    /**
     * The model a request names must be one of the served model's names (names: its id first). Absent
     * or null it is the served one, as vLLM takes it (OpenAI requires the field; the server's own
     * clients and curl lines leave it out).
     */
    static void checkModel(JsonNode body, List<String> names) {
        JsonNode model = body instanceof ObjectNode ? body.get("model") : null;
        if (model == null || model.isNull()) return;
        if (!model.isTextual()) throw new BadRequest("model", "'model' must be a string, got " + model);
        if (!names.contains(model.asText())) throw modelNotFound(model.asText(), names);
    }

    /** OpenAI's 404 for a model it does not have, in vLLM's words, and what is served here. */
    static BadRequest modelNotFound(String name, List<String> names) {
        return new BadRequest(404, "model", "model_not_found", "The model `" + name + "` does not exist. This server serves `" + names.getFirst() + "`"
                + (names.size() > 1 ? " (also as `" + String.join("`, `", names.subList(1, names.size())) + "`)" : "") + ".");
    }

    /**
     * A parsed request. logprobs: the alternatives per token (null: no log-probabilities); includeUsage:
     * a stream ends with a chunk carrying the usage (stream_options.include_usage); chat: a
     * /v1/chat/completions request (one prompt, the conversation rendered by the chat template).
     */
    record Request(List<int[]> prompts, int maxTokens, double temperature, double topP, Sampler.Adjustments adjustments, List<String> stop, Long seed,
                   int n, Integer logprobs, boolean echo, boolean stream, boolean includeUsage, boolean chat) {}

    /** A /v1/completions body. */
    static Request parse(JsonNode body, ServedModel m) {
        if (!(body instanceof ObjectNode)) throw new BadRequest(null, "the request body must be a JSON object");
        JsonNode p = body.get("prompt");
        if (p == null || p.isNull()) throw new BadRequest("prompt", "'prompt' is required");
        List<int[]> prompts = new ArrayList<>();
        if (p.isTextual()) {
            prompts.add(encode(p.asText(), m, true));
        } else if (p.isArray() && !p.isEmpty() && p.get(0).isIntegralNumber()) {
            prompts.add(ids(p, m));
        } else if (p.isArray() && !p.isEmpty()) {
            for (JsonNode e : p) {
                if (e.isTextual()) prompts.add(encode(e.asText(), m, true));
                else if (e.isArray()) prompts.add(ids(e, m));
                else throw new BadRequest("prompt", "'prompt' must be a string, an array of strings, an array of token ids, or an array of arrays of token ids");
            }
        } else {
            throw new BadRequest("prompt", "'prompt' must be a string, an array of strings, an array of token ids, or an array of arrays of token ids");
        }
        int maxTokens = integer(body, "max_tokens", 16, 0, Integer.MAX_VALUE);
        JsonNode lpNode = body.get("logprobs");
        Integer logprobs = lpNode == null || lpNode.isNull() ? null : integer(body, "logprobs", 0, 0, 5);
        boolean echo = bool(body, "echo");
        return common(body, m, prompts, "max_tokens", maxTokens, logprobs, echo, false);
    }

    /**
     * A /v1/chat/completions body: messages (role and content: a string, or text parts) rendered by
     * the model's chat template with the assistant's turn opened; max_completion_tokens or max_tokens
     * (default: up to the context's end); logprobs true with top_logprobs (0-20) alternatives.
     */
    static Request parseChat(JsonNode body, ServedModel m) {
        if (!(body instanceof ObjectNode)) throw new BadRequest(null, "the request body must be a JSON object");
        if (m.chat == null) {
            throw new BadRequest("messages", "this model has no chat template (" + m.chatMissing + "): start the server with --chat-template FILE, or use /v1/completions");
        }
        if (m.encoding == null) throw new BadRequest("messages", "this model has no tokenizer.json: use /v1/completions with token ids");
        JsonNode msgs = body.get("messages");
        if (msgs == null || !msgs.isArray() || msgs.isEmpty()) throw new BadRequest("messages", "'messages' must be a non-empty array of {role, content}");
        List<Object> messages = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) {
            JsonNode msg = msgs.get(i);
            if (!msg.isObject() || !msg.path("role").isTextual()) throw new BadRequest("messages", "messages[" + i + "] must be an object with a string 'role'");
            @SuppressWarnings("unchecked")
            java.util.Map<String, Object> value = (java.util.Map<String, Object>) ChatTemplate.value(msg);
            if (msg.has("content")) value.put("content", content(msg.get("content"), i)); // absent stays undefined, as transformers leaves it
            if ("assistant".equals(msg.get("role").asText()) && msg.hasNonNull("tool_calls")) toolCalls(msg.get("tool_calls"), value, i);
            messages.add(value);
        }
        // tools and documents reach the template as transformers passes them; chat_template_kwargs' keys as variables (vLLM's)
        java.util.Map<String, Object> extra = new java.util.LinkedHashMap<>();
        for (String key : new String[] {"tools", "documents"}) extra.put(key, ChatTemplate.value(body.get(key))); // none when absent, as transformers passes them
        JsonNode kwargs = body.get("chat_template_kwargs");
        if (kwargs != null && !kwargs.isNull()) {
            if (!kwargs.isObject()) throw new BadRequest("chat_template_kwargs", "'chat_template_kwargs' must be an object");
            kwargs.properties().forEach(e -> extra.put(e.getKey(), ChatTemplate.value(e.getValue())));
        }
        String text;
        try {
            text = m.chat.render(messages, true, extra);
        } catch (JinjaTemplate.TemplateError e) { // the template refuses the conversation (raise_exception), or fails on it
            throw new BadRequest("messages", "the chat template refuses these messages: " + e.getMessage());
        }
        List<int[]> prompts = List.of(encode(text, m, false)); // the template writes the begin-of-sequence token itself (vLLM's default for chat)
        int room = m.config.contextLength() - prompts.getFirst().length;
        String maxKey = body.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        int maxTokens = integer(body, maxKey, Math.max(room, 1), 1, Integer.MAX_VALUE);
        Integer logprobs = null;
        if (bool(body, "logprobs")) logprobs = integer(body, "top_logprobs", 0, 0, 20);
        else if (body.hasNonNull("top_logprobs")) throw new BadRequest("top_logprobs", "'top_logprobs' needs 'logprobs': true");
        return common(body, m, prompts, maxKey, maxTokens, logprobs, false, true);
    }

    /** A message's content as the template sees it: a string (text parts joined by newlines), or null (an assistant's turn with only tool calls). */
    private static String content(JsonNode c, int i) {
        if (c == null || c.isNull()) return null;
        if (c.isTextual()) return c.asText();
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw new BadRequest("messages", "messages[" + i + "].content: only text parts ({\"type\": \"text\", \"text\": ...}) are supported");
                }
                sb.append(sb.isEmpty() ? "" : "\n").append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw new BadRequest("messages", "messages[" + i + "].content must be a string or an array of text parts");
    }

    /**
     * An assistant's tool_calls as transformers' templates take them, which vLLM's chat_utils also
     * makes of them: each function's arguments, a JSON string in OpenAI's API, parsed into the object
     * (empty or null: {}), so that a template's {@code arguments | tojson} (Llama 3.1's) writes the object
     * and not a quoted string of it; an empty list is dropped, so that the template takes its plain
     * assistant path. Arguments that are not a JSON object are a 400 (vLLM's newest turns them into {}
     * with a warning, which would show the model a call it did not make).
     */
    private static void toolCalls(JsonNode calls, java.util.Map<String, Object> message, int i) {
        if (!calls.isArray()) throw new BadRequest("messages", "messages[" + i + "].tool_calls must be an array, got " + calls.getNodeType());
        if (calls.isEmpty()) {
            message.remove("tool_calls");
            return;
        }
        List<Object> out = new ArrayList<>();
        for (int k = 0; k < calls.size(); k++) {
            JsonNode call = calls.get(k);
            String at = "messages[" + i + "].tool_calls[" + k + "]";
            if (!call.isObject() || !call.path("function").isObject() || call.hasNonNull("type") && !"function".equals(call.get("type").asText())) {
                throw new BadRequest("messages", at + " must be {\"type\": \"function\", \"function\": {\"name\": ..., \"arguments\": ...}}");
            }
            @SuppressWarnings("unchecked")
            java.util.Map<String, Object> value = (java.util.Map<String, Object>) ChatTemplate.value(call);
            @SuppressWarnings("unchecked")
            java.util.Map<String, Object> function = (java.util.Map<String, Object>) value.get("function");
            function.put("arguments", arguments(call.get("function").get("arguments"), at + ".function.arguments"));
            out.add(value);
        }
        message.put("tool_calls", out);
    }

    private static Object arguments(JsonNode a, String at) {
        if (a == null || a.isNull() || a.isTextual() && a.asText().isEmpty()) return new java.util.LinkedHashMap<String, Object>();
        JsonNode parsed = a;
        if (a.isTextual()) {
            try { // the whole string, as Python's json.loads takes it
                parsed = JSON.reader().with(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(a.asText());
            } catch (java.io.IOException e) {
                String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
                throw new BadRequest("messages", at + " is not JSON: " + why);
            }
        }
        if (!parsed.isObject()) throw new BadRequest("messages", at + " must be a JSON object (or a string of one), got " + a);
        return ChatTemplate.value(parsed);
    }

    /**
     * The sampling fields both endpoints share, and the checks on the prompts' length: a prompt and its
     * maxKey tokens must fit in the context, or it is a 400 (vLLM's rule; it was cut short at the
     * context's end, which a client could not tell from a completion that ran to its max_tokens).
     */
    private static Request common(JsonNode body, ServedModel m, List<int[]> prompts, String maxKey, int maxTokens, Integer logprobs, boolean echo, boolean chat) {
        double temperature = number(body, "temperature", 1, 0, 2);
        double topP = number(body, "top_p", 1, 0, 1);
        if (topP == 0) throw new BadRequest("top_p", "'top_p' must be in (0, 1]");
        Sampler.Adjustments adjustments = adjustments(body, m);
        List<String> stop = new ArrayList<>();
        JsonNode s = body.get("stop");
        if (s != null && !s.isNull()) {
            String shape = "'stop' must be a string or an array of up to " + MAX_STOPS + " strings";
            if (s.isTextual()) stop.add(s.asText());
            else if (s.isArray() && s.size() <= MAX_STOPS) for (JsonNode e : s) {
                if (!e.isTextual()) throw new BadRequest("stop", shape);
                stop.add(e.asText());
            }
            else throw new BadRequest("stop", shape + (s.isArray() ? ", got " + s.size() : ""));
            if (stop.stream().anyMatch(String::isEmpty)) throw new BadRequest("stop", "a stop sequence must not be empty");
        }
        if (chat && m.endOfTurnText != null && !stop.contains(m.endOfTurnText)) stop.add(m.endOfTurnText); // an end of turn of several tokens
        JsonNode seedNode = body.get("seed");
        Long seed = null;
        if (seedNode != null && !seedNode.isNull()) {
            if (!seedNode.isIntegralNumber() || !seedNode.canConvertToLong()) throw new BadRequest("seed", "'seed' must be an integer");
            seed = seedNode.asLong();
        }
        int n = integer(body, "n", 1, 1, 16);
        boolean stream = bool(body, "stream");
        if (stream && (echo || n > 1 || prompts.size() > 1)) throw new BadRequest("stream", "streaming serves one prompt, n = 1, without echo");
        boolean includeUsage = false;
        JsonNode options = body.get("stream_options");
        if (options != null && !options.isNull()) {
            if (!options.isObject()) throw new BadRequest("stream_options", "'stream_options' must be an object, got " + options);
            // vLLM's check, which lets an empty object through
            if (!stream && !options.isEmpty()) throw new BadRequest("stream_options", "'stream_options' is only allowed with 'stream': true");
            JsonNode include = options.get("include_usage");
            if (include != null && !include.isNull() && !include.isBoolean()) {
                throw new BadRequest("stream_options", "'stream_options.include_usage' must be true or false, got " + include);
            }
            includeUsage = include != null && include.asBoolean();
        }
        int context = m.config.contextLength();
        for (int[] ids : prompts) {
            if (ids.length >= context && maxTokens > 0 || ids.length > context) {
                throw new BadRequest(chat ? "messages" : "prompt", "the prompt has " + ids.length + " tokens; the model's context is " + context
                        + (maxTokens > 0 ? " and must leave room for " + maxKey : ""));
            }
            if (ids.length + (long) maxTokens > context) {
                throw new BadRequest(maxKey, "the model's context is " + context + " tokens, and the prompt's " + ids.length + " with " + maxKey + " " + maxTokens
                        + " would take " + (ids.length + (long) maxTokens) + ": ask for at most " + (context - ids.length));
            }
        }
        return new Request(prompts, maxTokens, temperature, topP, adjustments, stop, seed, n, logprobs, echo, stream, includeUsage, chat);
    }

    /**
     * frequency_penalty and presence_penalty in [-2, 2], and logit_bias: token ids (JSON object keys,
     * so strings, in their plain decimal form) to a bias in [-100, 100], as OpenAI bounds them.
     */
    private static Sampler.Adjustments adjustments(JsonNode body, ServedModel m) {
        double frequency = number(body, "frequency_penalty", 0, -2, 2), presence = number(body, "presence_penalty", 0, -2, 2);
        JsonNode bias = body.get("logit_bias");
        if (bias == null || bias.isNull()) return new Sampler.Adjustments(frequency, presence, new int[0], new float[0]);
        if (!bias.isObject()) throw new BadRequest("logit_bias", "'logit_bias' must be an object of token ids (as strings) to biases in [-100, 100], got " + bias);
        int[] ids = new int[bias.size()];
        float[] biases = new float[bias.size()];
        int i = 0;
        for (var e : bias.properties()) {
            String key = e.getKey();
            JsonNode v = e.getValue();
            // the plain form only, so that no two keys name one token
            if (!key.matches("0|[1-9][0-9]{0,9}") || Long.parseLong(key) >= m.config.vocabSize()) {
                throw new BadRequest("logit_bias", "'logit_bias' keys must be token ids in [0, " + m.config.vocabSize() + "), got \"" + key + "\"");
            }
            if (!v.isNumber() || !(v.asDouble() >= -100 && v.asDouble() <= 100)) {
                throw new BadRequest("logit_bias", "'logit_bias' values must be numbers in [-100, 100], got " + v + " for token " + key);
            }
            ids[i] = Integer.parseInt(key);
            biases[i++] = (float) v.asDouble();
        }
        return new Sampler.Adjustments(frequency, presence, ids, biases);
    }

    /**
     * Stop sequences a request may give. OpenAI allows 4, but lm-evaluation-harness's local-completions
     * sends a task's whole until list and the end-of-sequence text (humaneval: 9) and vLLM takes any
     * number; the bound is there because the model's thread looks for every one of them in every running
     * sequence's text after each token, so one request's thousands would slow every client's decoding.
     */
    static final int MAX_STOPS = 64;

    /**
     * A text prompt's tokens; with specialTokens, those transformers puts around them (a Llama's
     * begin-of-sequence token: {@link dev.crucible.data.tokenizer.TextEncoding#encodeWithSpecialTokens}), as
     * vLLM encodes a /v1/completions prompt. Prompts given as token ids are taken as they are.
     */
    private static int[] encode(String text, ServedModel m, boolean specialTokens) {
        if (m.encoding == null) throw new BadRequest("prompt", "this model has no tokenizer.json: send the prompt as token ids");
        int[] ids = specialTokens ? m.encoding.encodeWithSpecialTokens(text) : m.encoding.encode(text).clone();
        return ids.length == 0 ? new int[] {m.encoding.documentStart()} : ids;
    }

    private static int[] ids(JsonNode a, ServedModel m) {
        if (a.isEmpty()) throw new BadRequest("prompt", "a prompt of token ids must not be empty");
        int[] ids = new int[a.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = a.get(i);
            if (!e.isIntegralNumber() || e.asLong() < 0 || e.asLong() >= m.config.vocabSize()) {
                throw new BadRequest("prompt", "token ids must be integers in [0, " + m.config.vocabSize() + "), got " + e);
            }
            ids[i] = e.asInt();
        }
        return ids;
    }

    private static int integer(JsonNode body, String key, int dflt, int min, int max) {
        JsonNode v = body.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isIntegralNumber() || v.asLong() < min || v.asLong() > max) {
            throw new BadRequest(key, "'" + key + "' must be an integer in [" + min + ", " + (max == Integer.MAX_VALUE ? "∞" : max) + "], got " + v);
        }
        return v.asInt();
    }

    private static double number(JsonNode body, String key, double dflt, double min, double max) {
        JsonNode v = body.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber() || !(v.asDouble() >= min && v.asDouble() <= max)) throw new BadRequest(key, "'" + key + "' must be a number in [" + min + ", " + max + "], got " + v);
        return v.asDouble();
    }

    private static boolean bool(JsonNode body, String key) {
        JsonNode v = body.get(key);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw new BadRequest(key, "'" + key + "' must be true or false, got " + v);
        return v.asBoolean();
    }

    /** One choice's text and log-probabilities, built token by token. */
    static final class Choice {
        final StringBuilder text = new StringBuilder(); // the pieces joined: what text_offset counts in
        final List<Integer> tokens = new ArrayList<>();
        final ArrayNode lpTokens = F.arrayNode(), lpValues = F.arrayNode(), lpTop = F.arrayNode(), offsets = F.arrayNode();
        final List<int[]> topIds = new ArrayList<>(); // per token, for the chat shape: the alternatives' ids and log-probabilities
        final List<double[]> topLps = new ArrayList<>();
        String finish;
        int echoed, stopAt = -1, sent, lpSent; // lpSent: tokens whose log-probabilities a streamed chunk carried

        /** A token with its log-probability (NaN: none) and alternatives (null: none asked for). */
        void add(ServedModel m, int token, double logprob, int[] ids, double[] lps) {
            offsets.add(text.length());
            tokens.add(token);
            String piece = m.piece(token);
            text.append(piece);
            lpTokens.add(piece);
            if (Double.isNaN(logprob)) lpValues.addNull();
            else lpValues.add(logprob);
            if (ids == null) lpTop.addNull();
            else lpTop.add(top(m, ids, lps));
            topIds.add(ids);
            topLps.add(lps);
        }
    }

    /**
     * How much of a growing text can be sent: all of it, except a last replacement character (a
     * character whose bytes have not all come) and a tail that could begin a stop sequence.
     */
    static int settled(String text, List<String> stops) {
        int end = text.length();
        if (end > 0 && text.charAt(end - 1) == '\uFFFD') end--;
        int safe = end;
        for (String s : stops) {
            for (int l = Math.min(s.length() - 1, end); l > 0; l--) {
                if (text.regionMatches(end - l, s, 0, l)) {
                    safe = Math.min(safe, end - l);
                    break;
                }
            }
        }
        return safe;
    }

    /**
     * A streamed chunk's log-probabilities: those of the tokens generated since the last chunk that carried
     * some, in the endpoint's shape (chat's content entries, or the completions arrays with each token's
     * offset in the whole text); null when none were asked for or none are new.
     */
    static ObjectNode streamedLogprobs(Request q, ServedModel m, Choice c) {
        int from = Math.max(c.lpSent, c.echoed), to = c.tokens.size();
        if (q.logprobs() == null || from == to) return null; // "logprobs": null rather than empty arrays, which a client reading the first entry would trip on
        c.lpSent = to;
        ObjectNode lp = F.objectNode();
        if (q.chat()) {
            lp.set("content", chatLogprobs(m, c, from, to));
            return lp;
        }
        ArrayNode tokens = lp.putArray("tokens"), values = lp.putArray("token_logprobs"), top = lp.putArray("top_logprobs"), offsets = lp.putArray("text_offset");
        for (int t = from; t < to; t++) {
            tokens.add(c.lpTokens.get(t));
            values.add(c.lpValues.get(t));
            top.add(c.lpTop.get(t));
            offsets.add(c.offsets.get(t));
        }
        return lp;
    }

    /** The completions shape of a token's alternatives: text -> log-probability, likeliest first (a text seen twice keeps the first). */
    static ObjectNode top(ServedModel m, int[] ids, double[] logprobs) {
        ObjectNode o = F.objectNode();
        for (int i = 0; i < ids.length; i++) if (!o.has(m.piece(ids[i]))) o.put(m.piece(ids[i]), logprobs[i]);
        return o;
    }

    /** The k likeliest token ids of a log-probability row, likeliest first. */
    static int[] topIds(double[] logprobs, int k) {
        float[] asFloat = new float[logprobs.length];
        for (int i = 0; i < logprobs.length; i++) asFloat[i] = (float) logprobs[i];
        return ServedModel.topK(asFloat, 0, logprobs.length, k);
    }

    static double[] at(double[] logprobs, int[] ids) {
        double[] lp = new double[ids.length];
        for (int i = 0; i < ids.length; i++) lp[i] = logprobs[ids[i]];
        return lp;
    }

    /**
     * A request being served: its choices (one per prompt and n), each with its sequence on the
     * model's decoder; when {@link #done}, {@link #finish} gives the response.
     */
    static final class Generation {
        private final Request q;
        private final ServedModel m;
        private final String id;
        private final java.util.function.BiConsumer<String, ObjectNode> sink;
        private final List<Choice> choices = new ArrayList<>();
        private final List<ServedModel.Sequence> sequences = new ArrayList<>();
        private int admitted;

        private Generation(Request q, ServedModel m, String id, java.util.function.BiConsumer<String, ObjectNode> sink) {
            this.q = q;
            this.m = m;
            this.id = id;
            this.sink = sink;
        }

        /** Puts as many of its waiting sequences on the decoder as there are free slots; true when none waits any more. */
        boolean admit() {
            while (admitted < sequences.size()) {
                ServedModel.Sequence s = sequences.get(admitted);
                if (s.finish() == null && !m.admit(s)) return false;
                admitted++;
            }
            return true;
        }

        boolean done() {
            return admitted == sequences.size() && sequences.stream().allMatch(s -> s.finish() != null);
        }

        /** What ended a sequence by throwing (a streamed client that went away), or null. */
        RuntimeException failure() {
            for (ServedModel.Sequence s : sequences) if (s.failure() != null) return s.failure();
            return null;
        }

        /** Whether some of its sequences are on the decoder now. */
        boolean running() {
            for (int i = 0; i < admitted; i++) if (sequences.get(i).finish() == null) return true;
            return false;
        }

        /** Once done: streams what was held back (the text is complete now) and returns the response. */
        ObjectNode finish(long created) {
            ArrayNode out = F.arrayNode();
            int promptTokens = 0, completionTokens = 0;
            for (int pi = 0; pi < q.prompts().size(); pi++) promptTokens += q.prompts().get(pi).length;
            for (int ci = 0; ci < choices.size(); ci++) {
                Choice c = choices.get(ci);
                c.finish = sequences.get(ci).finish();
                // decoded as a whole, so that pieces splitting a character join up again
                String generated = m.text(c.tokens.subList(c.echoed, c.tokens.size()));
                String text = c.stopAt >= 0 ? generated.substring(0, c.stopAt) : generated;
                // what the stream held back: the rest of the text, and the log-probabilities of the tokens not yet sent
                if (sink != null) {
                    ObjectNode lp = streamedLogprobs(q, m, c);
                    if (text.length() > c.sent || lp != null) sink.accept(text.substring(Math.min(c.sent, text.length())), lp);
                }
                completionTokens += sequences.get(ci).generated();
                ObjectNode ch = F.objectNode();
                ch.put("index", ci);
                if (q.chat()) {
                    ObjectNode message = ch.putObject("message");
                    message.put("role", "assistant");
                    message.put("content", text);
                    if (q.logprobs() != null) ch.putObject("logprobs").set("content", chatLogprobs(m, c, c.echoed, c.tokens.size()));
                    else ch.putNull("logprobs");
                    ch.put("finish_reason", c.finish);
                    out.add(ch);
                    continue;
                }
                ch.put("text", m.text(c.tokens.subList(0, c.echoed)) + text);
                if (q.logprobs() != null) {
                    ObjectNode lp = ch.putObject("logprobs");
                    lp.set("tokens", c.lpTokens);
                    lp.set("token_logprobs", c.lpValues);
                    lp.set("top_logprobs", c.lpTop);
                    lp.set("text_offset", c.offsets);
                } else {
                    ch.putNull("logprobs");
                }
                ch.put("finish_reason", c.finish);
                out.add(ch);
            }
            ObjectNode response = F.objectNode();
            response.put("id", id);
            response.put("object", q.chat() ? "chat.completion" : "text_completion");
            response.put("created", created);
            response.put("model", m.name);
            response.set("choices", out);
            ObjectNode usage = response.putObject("usage");
            usage.put("prompt_tokens", promptTokens);
            usage.put("completion_tokens", completionTokens);
            usage.put("total_tokens", promptTokens + completionTokens);
            return response;
        }
    }

    /** Chat's logprobs.content for generated tokens [from, to): per token its text, log-probability, UTF-8 bytes and alternatives. */
    private static ArrayNode chatLogprobs(ServedModel m, Choice c, int from, int to) {
        ArrayNode content = F.arrayNode();
        for (int t = from; t < to; t++) {
            ObjectNode e = tokenLogprob(m, c.tokens.get(t), c.lpValues.get(t).asDouble());
            ArrayNode top = e.putArray("top_logprobs");
            int[] ids = c.topIds.get(t);
            for (int j = 0; j < ids.length; j++) top.add(tokenLogprob(m, ids[j], c.topLps.get(t)[j]));
            content.add(e);
        }
        return content;
    }

    private static ObjectNode tokenLogprob(ServedModel m, int token, double logprob) {
        ObjectNode e = F.objectNode();
        e.put("token", m.piece(token));
        e.put("logprob", logprob);
        ArrayNode bytes = e.putArray("bytes");
        for (byte b : m.bytes(token)) bytes.add(b & 0xFF);
        return e;
    }

    /**
     * A streamed chunk: a piece of a choice's text (or, for chat, the assistant's role when role is
     * set) with its tokens' log-probabilities when they are asked for, and at the end its finish reason;
     * with include_usage, a null usage.
     */
    static ObjectNode chunk(Request q, String id, long created, ServedModel m, String text, ObjectNode logprobs, String finish, boolean role) {
        ObjectNode c = F.objectNode();
        c.put("id", id);
        c.put("object", q.chat() ? "chat.completion.chunk" : "text_completion");
        c.put("created", created);
        c.put("model", m.name);
        ObjectNode ch = c.putArray("choices").addObject();
        ch.put("index", 0);
        if (q.chat()) {
            ObjectNode delta = ch.putObject("delta");
            if (role) delta.put("role", "assistant");
            if (role || finish == null) delta.put("content", text);
        } else {
            ch.put("text", text);
        }
        if (logprobs != null) ch.set("logprobs", logprobs);
        else ch.putNull("logprobs");
        if (finish == null) ch.putNull("finish_reason");
        else ch.put("finish_reason", finish);
        if (q.includeUsage()) c.putNull("usage"); // OpenAI's: every chunk but the last has it, null
        return c;
    }

    /** A stream's last chunk when include_usage is asked for: no choices, the whole request's usage. */
    static ObjectNode usageChunk(Request q, String id, long created, ServedModel m, JsonNode usage) {
        ObjectNode c = F.objectNode();
        c.put("id", id);
        c.put("object", q.chat() ? "chat.completion.chunk" : "text_completion");
        c.put("created", created);
        c.put("model", m.name);
        c.putArray("choices");
        c.set("usage", usage);
        return c;
    }

    /**
     * Starts serving a parsed request: echoes and scores its prompts as asked, and makes a sequence
     * per choice for the model's decoder (a one-token completion is finished here, from the scoring
     * pass). sink receives each choice's text as it becomes final, with its tokens' log-probabilities
     * when they are asked for (streaming), or null; prescored: its prompts already scored with at least
     * logprobs alternatives (a batch shared with other requests), or null.
     */
    static Generation start(Request q, ServedModel m, String id, java.util.function.BiConsumer<String, ObjectNode> sink, List<ServedModel.Scored> prescored) {
        Generation g = new Generation(q, m, id, sink);
        boolean wantLp = q.logprobs() != null;
        int k = wantLp ? q.logprobs() : 0;
        // scored in batches when the prompts' log-probabilities are asked for, or when one token is all
        // that is generated (the last position gives it without the decoder's prefill)
        List<ServedModel.Scored> scored = prescored != null ? prescored
                : q.echo() && wantLp || q.maxTokens() == 1 ? m.score(q.prompts(), Math.max(1, k)) : null;
        for (int pi = 0; pi < q.prompts().size(); pi++) {
            int[] prompt = q.prompts().get(pi);
            for (int j = 0; j < q.n(); j++) {
                Choice c = new Choice();
                if (q.echo()) {
                    for (int i = 0; i < prompt.length; i++) {
                        int[] ids = null;
                        double[] lps = null;
                        double lp = Double.NaN;
                        if (scored != null && wantLp && i > 0) {
                            ServedModel.Scored sc = scored.get(pi);
                            lp = sc.logprobs()[i];
                            ids = java.util.Arrays.copyOf(sc.topTokens()[i], k);
                            lps = java.util.Arrays.copyOf(sc.topLogprobs()[i], k);
                        }
                        c.add(m, prompt[i], lp, ids, lps);
                    }
                }
                c.echoed = c.tokens.size();
                long seed = q.seed() != null ? q.seed() + j : System.nanoTime() + j;
                g.choices.add(c);
                g.sequences.add(m.sequence(prompt, q.maxTokens(), q.temperature(), q.topP(), q.adjustments(), seed, q.chat() ? m.endOfTurn : m.endOfSequence,
                        scored == null ? null : scored.get(pi).next(), (token, lp, all) -> {
                            int[] ids = wantLp ? topIds(all, k) : null;
                            c.add(m, token, wantLp ? lp : Double.NaN, ids, wantLp ? at(all, ids) : null);
                            if (q.stop().isEmpty() && sink == null) return true; // nothing looks at the text before the end
                            String generated = m.text(c.tokens.subList(c.echoed, c.tokens.size()));
                            for (String stop : q.stop()) {
                                int at = generated.indexOf(stop);
                                if (at >= 0 && (c.stopAt < 0 || at < c.stopAt)) c.stopAt = at;
                            }
                            if (sink != null) { // stream what is final: not a possible start of a stop sequence, no half of a character
                                int end = c.stopAt >= 0 ? c.stopAt : settled(generated, q.stop());
                                if (end > c.sent) sink.accept(generated.substring(c.sent, end), streamedLogprobs(q, m, c));
                                c.sent = Math.max(c.sent, end);
                            }
                            return c.stopAt < 0; // the text ends before a stop sequence
                        }));
            }
        }
        return g;
    }

    static final ObjectMapper JSON = new ObjectMapper();
}
