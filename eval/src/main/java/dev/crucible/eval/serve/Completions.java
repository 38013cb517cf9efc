package dev.crucible.eval.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI's /v1/completions on a {@link ServedModel}: the prompt as text, token ids, or a list of
 * either; max_tokens (16), temperature (1), top_p (1), stop (a string or up to 4), seed, n (1),
 * logprobs (0-5: the sampled or echoed token's log-probability and that many alternatives) and echo
 * (the prompt repeated before the completion, with its tokens' log-probabilities when logprobs is
 * set: how lm-evaluation-harness's local-completions model scores). Unknown fields are ignored, as
 * OpenAI ignores them; a field of the wrong type or out of range is a {@link BadRequest}.
 */
final class Completions {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** A request that cannot be served: 400 with OpenAI's error shape, naming the parameter. */
    static final class BadRequest extends RuntimeException {
        final String param;

        BadRequest(String param, String message) {
            super(message);
            this.param = param;
        }
    }

    record Request(List<int[]> prompts, int maxTokens, double temperature, double topP, List<String> stop, Long seed, int n, Integer logprobs,
                   boolean echo, boolean stream) {}

    static Request parse(JsonNode body, ServedModel m) {
        if (!(body instanceof ObjectNode)) throw new BadRequest(null, "the request body must be a JSON object");
        JsonNode p = body.get("prompt");
        if (p == null || p.isNull()) throw new BadRequest("prompt", "'prompt' is required");
        List<int[]> prompts = new ArrayList<>();
        if (p.isTextual()) {
            prompts.add(encode(p.asText(), m));
        } else if (p.isArray() && !p.isEmpty() && p.get(0).isIntegralNumber()) {
            prompts.add(ids(p, m));
        } else if (p.isArray() && !p.isEmpty()) {
            for (JsonNode e : p) {
                if (e.isTextual()) prompts.add(encode(e.asText(), m));
                else if (e.isArray()) prompts.add(ids(e, m));
                else throw new BadRequest("prompt", "'prompt' must be a string, an array of strings, an array of token ids, or an array of arrays of token ids");
            }
        } else {
            throw new BadRequest("prompt", "'prompt' must be a string, an array of strings, an array of token ids, or an array of arrays of token ids");
        }
        int maxTokens = integer(body, "max_tokens", 16, 0, Integer.MAX_VALUE);
        double temperature = number(body, "temperature", 1, 0, 2);
        double topP = number(body, "top_p", 1, 0, 1);
        if (topP == 0) throw new BadRequest("top_p", "'top_p' must be in (0, 1]");
        List<String> stop = new ArrayList<>();
        JsonNode s = body.get("stop");
        if (s != null && !s.isNull()) {
            if (s.isTextual()) stop.add(s.asText());
            else if (s.isArray() && s.size() <= 4) for (JsonNode e : s) {
                if (!e.isTextual()) throw new BadRequest("stop", "'stop' must be a string or an array of up to 4 strings");
                stop.add(e.asText());
            }
            else throw new BadRequest("stop", "'stop' must be a string or an array of up to 4 strings");
            if (stop.stream().anyMatch(String::isEmpty)) throw new BadRequest("stop", "a stop sequence must not be empty");
        }
        JsonNode seedNode = body.get("seed");
        Long seed = null;
        if (seedNode != null && !seedNode.isNull()) {
            if (!seedNode.isIntegralNumber() || !seedNode.canConvertToLong()) throw new BadRequest("seed", "'seed' must be an integer");
            seed = seedNode.asLong();
        }
        int n = integer(body, "n", 1, 1, 16);
        JsonNode lpNode = body.get("logprobs");
        Integer logprobs = lpNode == null || lpNode.isNull() ? null : integer(body, "logprobs", 0, 0, 5);
        boolean echo = bool(body, "echo"), stream = bool(body, "stream");
        if (stream && (echo || n > 1 || prompts.size() > 1)) throw new BadRequest("stream", "streaming serves one prompt, n = 1, without echo");
        for (int[] ids : prompts) {
            if (ids.length >= m.config.contextLength() && maxTokens > 0 || ids.length > m.config.contextLength()) {
                throw new BadRequest("prompt", "the prompt has " + ids.length + " tokens; the model's context is " + m.config.contextLength()
                        + (maxTokens > 0 ? " and must leave room for max_tokens" : ""));
            }
        }
        return new Request(prompts, maxTokens, temperature, topP, stop, seed, n, logprobs, echo, stream);
    }

    private static int[] encode(String text, ServedModel m) {
        if (m.encoding == null) throw new BadRequest("prompt", "this model has no tokenizer.json: send the prompt as token ids");
        int[] ids = m.encoding.encode(text);
        return ids.length == 0 ? new int[] {m.encoding.documentStart()} : ids.clone();
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
        String finish = "length";
        int completionTokens, echoed, stopAt = -1, sent;

        void add(ServedModel m, int token, double logprob, ObjectNode top) {
            offsets.add(text.length());
            tokens.add(token);
            String piece = m.piece(token);
            text.append(piece);
            lpTokens.add(piece);
            if (Double.isNaN(logprob)) lpValues.addNull();
            else lpValues.add(logprob);
            if (top == null) lpTop.addNull();
            else lpTop.add(top);
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

    static ObjectNode top(ServedModel m, int[] ids, double[] logprobs) {
        ObjectNode o = F.objectNode();
        for (int i = 0; i < ids.length; i++) if (!o.has(m.piece(ids[i]))) o.put(m.piece(ids[i]), logprobs[i]);
        return o;
    }

    static ObjectNode top(ServedModel m, double[] logprobs, int k) {
        float[] asFloat = new float[logprobs.length];
        for (int i = 0; i < logprobs.length; i++) asFloat[i] = (float) logprobs[i];
        int[] ids = ServedModel.topK(asFloat, 0, logprobs.length, k);
        double[] lp = new double[ids.length];
        for (int i = 0; i < ids.length; i++) lp[i] = logprobs[ids[i]];
        return top(m, ids, lp);
    }

    /**
     * A request being served: its choices (one per prompt and n), each with its sequence on the
     * model's decoder; when {@link #done}, {@link #finish} gives the response.
     */
    static final class Generation {
        private final Request q;
        private final ServedModel m;
        private final String id;
        private final java.util.function.Consumer<String> sink;
        private final List<Choice> choices = new ArrayList<>();
        private final List<ServedModel.Sequence> sequences = new ArrayList<>();
        private int admitted;

        private Generation(Request q, ServedModel m, String id, java.util.function.Consumer<String> sink) {
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

        /** Once done: streams what was held back (the text is complete now) and returns the response. */
        ObjectNode finish() {
            ArrayNode out = F.arrayNode();
            int promptTokens = 0, completionTokens = 0;
            for (int pi = 0; pi < q.prompts().size(); pi++) promptTokens += q.prompts().get(pi).length;
            for (int ci = 0; ci < choices.size(); ci++) {
                Choice c = choices.get(ci);
                c.finish = sequences.get(ci).finish();
                // decoded as a whole, so that pieces splitting a character join up again
                String generated = m.text(c.tokens.subList(c.echoed, c.tokens.size()));
                String text = c.stopAt >= 0 ? generated.substring(0, c.stopAt) : generated;
                if (sink != null && text.length() > c.sent) sink.accept(text.substring(c.sent));
                completionTokens += c.completionTokens;
                ObjectNode ch = F.objectNode();
                ch.put("text", m.text(c.tokens.subList(0, c.echoed)) + text);
                ch.put("index", ci);
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
            response.put("object", "text_completion");
            response.put("created", System.currentTimeMillis() / 1000);
            response.put("model", m.name);
            response.set("choices", out);
            ObjectNode usage = response.putObject("usage");
            usage.put("prompt_tokens", promptTokens);
            usage.put("completion_tokens", completionTokens);
            usage.put("total_tokens", promptTokens + completionTokens);
            return response;
        }
    }

    /**
     * Starts serving a parsed request: echoes and scores its prompts as asked, and makes a sequence
     * per choice for the model's decoder (a one-token completion is finished here, from the scoring
     * pass). sink receives each choice's text as it becomes final (streaming), or null; prescored:
     * its prompts already scored with at least logprobs alternatives (a batch shared with other
     * requests), or null.
     */
    static Generation start(Request q, ServedModel m, String id, java.util.function.Consumer<String> sink, List<ServedModel.Scored> prescored) {
        Generation g = new Generation(q, m, id, sink);
        boolean wantLp = q.logprobs() != null;
        int k = wantLp ? q.logprobs() : 0;
        // scored in batches when the prompts' log-probabilities are asked for, or when one token is all
        // that is generated (the last position gives it without the decoder's token-by-token prefill)
        List<ServedModel.Scored> scored = prescored != null ? prescored
                : q.echo() && wantLp || q.maxTokens() == 1 ? m.score(q.prompts(), Math.max(1, k)) : null;
        for (int pi = 0; pi < q.prompts().size(); pi++) {
            int[] prompt = q.prompts().get(pi);
            for (int j = 0; j < q.n(); j++) {
                Choice c = new Choice();
                if (q.echo()) {
                    for (int i = 0; i < prompt.length; i++) {
                        ObjectNode top = null;
                        double lp = Double.NaN;
                        if (scored != null && wantLp && i > 0) {
                            ServedModel.Scored sc = scored.get(pi);
                            lp = sc.logprobs()[i];
                            top = top(m, java.util.Arrays.copyOf(sc.topTokens()[i], k), java.util.Arrays.copyOf(sc.topLogprobs()[i], k));
                        }
                        c.add(m, prompt[i], lp, top);
                    }
                }
                c.echoed = c.tokens.size();
                long seed = q.seed() != null ? q.seed() + j : System.nanoTime() + j;
                g.choices.add(c);
                g.sequences.add(m.sequence(prompt, q.maxTokens(), q.temperature(), q.topP(), seed, scored == null ? null : scored.get(pi).next(),
                        (token, lp, all) -> {
                            c.add(m, token, wantLp ? lp : Double.NaN, wantLp ? top(m, all, k) : null);
                            c.completionTokens++;
                            if (q.stop().isEmpty() && sink == null) return true; // nothing looks at the text before the end
                            String generated = m.text(c.tokens.subList(c.echoed, c.tokens.size()));
                            for (String stop : q.stop()) {
                                int at = generated.indexOf(stop);
                                if (at >= 0 && (c.stopAt < 0 || at < c.stopAt)) c.stopAt = at;
                            }
                            if (sink != null) { // stream what is final: not a possible start of a stop sequence, no half of a character
                                int end = c.stopAt >= 0 ? c.stopAt : settled(generated, q.stop());
                                if (end > c.sent) sink.accept(generated.substring(c.sent, end));
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
