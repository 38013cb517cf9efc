package dev.crucible.eval.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.crucible.data.tokenizer.BpeTokenizer;
import dev.crucible.data.tokenizer.TokenizerJson;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import dev.crucible.tensor.WorkerPool;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * /v1/chat/completions on a checkpoint with a ChatML template in its tokenizer_config.json and
 * &lt;|im_start|&gt; / &lt;|im_end|&gt; as special tokens: the reply is what /v1/completions gives for
 * the rendered conversation, the end-of-turn token ends it, and every error is a 400 naming messages.
 */
class ChatCompletionsTest {
    @TempDir
    static Path dir;
    static WorkerPool pool;
    static final HttpClient CLIENT = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();
    static final ModelConfig CONFIG = ModelConfig.gpt2(259, 96, 2, 2, 32);
    static final int IM_START = 256, IM_END = 257, EOT = 258;
    static final String CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
            + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /**
     * A byte-level model with three special tokens and the ChatML template; turnEnder: weights that
     * make &lt;|im_end|&gt; the greedy token everywhere (the final norm's output is a constant vector
     * that only that token's embedding aligns with).
     */
    static Path checkpoint(Path out, boolean turnEnder) throws Exception {
        ParamLayout l = new ParamLayout(CONFIG);
        float[] p = new float[l.size()];
        l.initialize(p, 3);
        for (int i = 0; i < p.length; i++) p[i] *= 10;
        if (turnEnder) {
            int d = CONFIG.dModel();
            java.util.Arrays.fill(p, l.finalNormW(), l.finalNormW() + d, 0f);
            java.util.Arrays.fill(p, l.finalNormB(), l.finalNormB() + d, 0f);
            p[l.finalNormB()] = 1f;
            for (int v = 0; v < CONFIG.vocabSize(); v++) p[l.wte() + v * d] = v == IM_END ? 10f : 0f;
        }
        HfCheckpoint.write(out, CONFIG, p, null);
        ObjectNode cfg = (ObjectNode) JSON.readTree(out.resolve("config.json").toFile());
        cfg.put("eos_token_id", EOT);
        JSON.writeValue(out.resolve("config.json").toFile(), cfg);
        StringBuilder ranks = new StringBuilder();
        for (int b = 0; b < 256; b++) ranks.append(java.util.Base64.getEncoder().encodeToString(new byte[] {(byte) b})).append(' ').append(b).append('\n');
        TokenizerJson.write(BpeTokenizer.fromTiktoken(new ByteArrayInputStream(ranks.toString().getBytes(StandardCharsets.US_ASCII)), BpeTokenizer.GPT2_PATTERN,
                Map.of("<|im_start|>", IM_START, "<|im_end|>", IM_END, "<|endoftext|>", EOT)), out.resolve("tokenizer.json"));
        ObjectNode tc = JSON.createObjectNode();
        tc.put("chat_template", CHATML);
        tc.putObject("eos_token").put("content", "<|im_end|>").put("special", true); // an AddedToken, as transformers writes it
        tc.put("bos_token", (String) null);
        JSON.writeValue(out.resolve("tokenizer_config.json").toFile(), tc);
        return out;
    }

    static CompletionServer server, ender;

    @BeforeAll
    static void start() throws Exception {
        pool = new WorkerPool(2);
        server = new CompletionServer(checkpoint(dir.resolve("chat"), false), "chat-test", new CompletionServer.Settings("127.0.0.1", 0, 4, 4, null), pool);
        ender = new CompletionServer(checkpoint(dir.resolve("ender"), true), "ender", new CompletionServer.Settings("127.0.0.1", 0, 4, 4, null), pool);
    }

    @AfterAll
    static void stop() {
        server.close();
        ender.close();
        pool.close();
    }

    record Reply(int status, JsonNode json, String body) {}

    static Reply post(CompletionServer s, String path, Object body) throws Exception {
        HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body instanceof String t ? t : JSON.writeValueAsString(body))).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode j = r.headers().firstValue("Content-Type").orElse("").startsWith("application/json") ? JSON.readTree(r.body()) : null;
        return new Reply(r.statusCode(), j, r.body());
    }

    static final List<Map<String, String>> CONVERSATION = List.of(Map.of("role", "system", "content", "Be brief."),
            Map.of("role", "user", "content", "Name a colour."));
    static final String RENDERED = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>assistant\n";

    @Test
    void theReplyIsTheCompletionOfTheRenderedConversation() throws Exception {
        Reply chat = post(server, "/v1/chat/completions", Map.of("messages", CONVERSATION, "max_tokens", 10, "temperature", 0, "logprobs", true,
                "top_logprobs", 2));
        assertEquals(200, chat.status(), chat.body());
        assertEquals("chat.completion", chat.json().get("object").asText());
        assertTrue(chat.json().get("id").asText().startsWith("chatcmpl-"));
        JsonNode choice = chat.json().get("choices").get(0);
        assertEquals("assistant", choice.get("message").get("role").asText());
        // the same text as /v1/completions on the rendered prompt, cut where the turn ends
        Reply plain = post(server, "/v1/completions", Map.of("prompt", RENDERED, "max_tokens", 10, "temperature", 0, "logprobs", 2,
                "stop", List.of("<|im_end|>")));
        assertEquals(200, plain.status(), plain.body());
        assertEquals(plain.json().get("choices").get(0).get("text").asText(), choice.get("message").get("content").asText());
        // the template's special tokens are single tokens: 3 + 2 + 3 + 3 + 2 + 3 + 1 + 2 per turn marker and role
        int promptTokens = RENDERED.replace("<|im_start|>", "S").replace("<|im_end|>", "E").getBytes(StandardCharsets.UTF_8).length;
        assertEquals(promptTokens, chat.json().get("usage").get("prompt_tokens").asInt());
        assertEquals(plain.json().get("usage").get("prompt_tokens").asInt(), promptTokens);
        // log-probabilities in chat's shape, equal to the completion's
        JsonNode content = choice.get("logprobs").get("content"), lp = plain.json().get("choices").get(0).get("logprobs");
        assertTrue(content.size() > 0);
        for (int t = 0; t < content.size(); t++) {
            JsonNode e = content.get(t);
            assertEquals(lp.get("tokens").get(t).asText(), e.get("token").asText());
            assertEquals(lp.get("token_logprobs").get(t).asDouble(), e.get("logprob").asDouble(), 0);
            assertEquals(2, e.get("top_logprobs").size());
            String fromBytes = new String(toBytes(e.get("bytes")), StandardCharsets.UTF_8);
            assertEquals(e.get("token").asText(), fromBytes);
        }

        // streamed with log-probabilities: the chunks' entries join up to the unstreamed reply's, with a stop sequence too
        String reply = choice.get("message").get("content").asText();
        for (Map<String, Object> stop : List.of(Map.<String, Object>of(), Map.<String, Object>of("stop", reply.substring(2, 4)))) {
            Map<String, Object> body = new java.util.HashMap<>(Map.of("messages", CONVERSATION, "max_tokens", 10, "temperature", 0, "logprobs", true,
                    "top_logprobs", 2));
            body.putAll(stop);
            JsonNode want = post(server, "/v1/chat/completions", body).json().get("choices").get(0).get("logprobs").get("content");
            body.put("stream", true);
            Reply lpStream = post(server, "/v1/chat/completions", body);
            assertEquals(200, lpStream.status(), lpStream.body());
            com.fasterxml.jackson.databind.node.ArrayNode streamedContent = JSON.createArrayNode();
            for (String e : lpStream.body().lines().filter(l -> l.startsWith("data: {")).map(l -> l.substring(6)).toList()) {
                JsonNode chunkLp = JSON.readTree(e).get("choices").get(0).get("logprobs");
                if (!chunkLp.isNull()) streamedContent.addAll((com.fasterxml.jackson.databind.node.ArrayNode) chunkLp.get("content"));
            }
            assertEquals(want, streamedContent, stop.toString());
        }
        // streamed: the role, the pieces of the same content, a finish reason, [DONE]
        Reply stream = post(server, "/v1/chat/completions", Map.of("messages", CONVERSATION, "max_tokens", 10, "temperature", 0, "stream", true));
        List<String> events = stream.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", events.getLast());
        JsonNode first = JSON.readTree(events.getFirst()), last = JSON.readTree(events.get(events.size() - 2));
        assertEquals("chat.completion.chunk", first.get("object").asText());
        assertEquals("assistant", first.get("choices").get(0).get("delta").get("role").asText());
        assertEquals(choice.get("finish_reason").asText(), last.get("choices").get(0).get("finish_reason").asText());
        assertTrue(last.get("choices").get(0).get("delta").isEmpty(), "the last chunk's delta is empty: " + last);
        StringBuilder joined = new StringBuilder();
        for (String e : events.subList(1, events.size() - 2)) joined.append(JSON.readTree(e).get("choices").get(0).get("delta").get("content").asText());
        assertEquals(choice.get("message").get("content").asText(), joined.toString());

        // streamed with include_usage: the same chunks with "usage": null, then one with no choices and the usage
        Reply counted = post(server, "/v1/chat/completions", Map.of("messages", CONVERSATION, "max_tokens", 10, "temperature", 0, "stream", true,
                "stream_options", Map.of("include_usage", true)));
        List<String> withUsage = counted.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals(events.size() + 1, withUsage.size(), counted.body());
        JsonNode usage = JSON.readTree(withUsage.get(withUsage.size() - 2));
        assertEquals("chat.completion.chunk", usage.get("object").asText());
        assertEquals(0, usage.get("choices").size());
        assertEquals(chat.json().get("usage"), usage.get("usage"));
        for (int e = 0; e < events.size() - 1; e++) {
            JsonNode got = JSON.readTree(withUsage.get(e));
            assertEquals(JSON.readTree(events.get(e)).get("choices"), got.get("choices"));
            assertTrue(got.has("usage") && got.get("usage").isNull(), got.toString());
        }

        // content as text parts, and max_completion_tokens
        Reply parts = post(server, "/v1/chat/completions", Map.of("messages", List.of(Map.of("role", "system", "content", "Be brief."),
                Map.of("role", "user", "content", List.of(Map.of("type", "text", "text", "Name a colour.")))), "max_completion_tokens", 10, "temperature", 0));
        assertEquals(choice.get("message").get("content"), parts.json().get("choices").get(0).get("message").get("content"));
    }

    static byte[] toBytes(JsonNode a) {
        byte[] b = new byte[a.size()];
        for (int i = 0; i < b.length; i++) b[i] = (byte) a.get(i).asInt();
        return b;
    }

    /**
     * A tokenizer.json whose post_processor puts a begin-of-sequence token before a text (as Llama's): a
     * /v1/completions text prompt gets it, as vLLM encodes one; token ids are taken as given; a chat's
     * rendered conversation does not (its template writes the token where it wants it, vLLM's default).
     */
    @Test
    void aTextPromptGetsThePostProcessorsBeginningOfSequence() throws Exception {
        Path ck = checkpoint(dir.resolve("bos"), false);
        ObjectNode tok = (ObjectNode) JSON.readTree(ck.resolve("tokenizer.json").toFile());
        tok.set("post_processor", JSON.readTree("{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<|endoftext|>\", "
                + "\"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": [], "
                + "\"special_tokens\": {\"<|endoftext|>\": {\"id\": \"<|endoftext|>\", \"ids\": [" + EOT + "], \"tokens\": [\"<|endoftext|>\"]}}}"));
        JSON.writeValue(ck.resolve("tokenizer.json").toFile(), tok);
        try (CompletionServer bos = new CompletionServer(ck, "bos", new CompletionServer.Settings("127.0.0.1", 0, 4, 4, null), pool)) {
            Reply text = post(bos, "/v1/completions", Map.of("prompt", "hi", "max_tokens", 1, "echo", true, "logprobs", 0, "temperature", 0));
            assertEquals(200, text.status(), text.body());
            assertEquals(3, text.json().get("usage").get("prompt_tokens").asInt());
            JsonNode tokens = text.json().get("choices").get(0).get("logprobs").get("tokens");
            assertEquals("<|endoftext|>", tokens.get(0).asText());
            assertEquals("h", tokens.get(1).asText());
            Reply ids = post(bos, "/v1/completions", Map.of("prompt", List.of((int) 'h', (int) 'i'), "max_tokens", 1));
            assertEquals(2, ids.json().get("usage").get("prompt_tokens").asInt());
            Reply chat = post(bos, "/v1/chat/completions", Map.of("messages", CONVERSATION, "max_tokens", 1));
            int rendered = RENDERED.replace("<|im_start|>", "S").replace("<|im_end|>", "E").getBytes(StandardCharsets.UTF_8).length;
            assertEquals(rendered, chat.json().get("usage").get("prompt_tokens").asInt());
        }
    }

    /** tokenizer_config.json's eos_token ends a reply; /v1/completions stops only at config.json's and generation_config.json's. */
    @Test
    void theEndOfTurnTokenEndsTheReply() throws Exception {
        Reply chat = post(ender, "/v1/chat/completions", Map.of("messages", CONVERSATION, "temperature", 0));
        assertEquals(200, chat.status(), chat.body());
        assertEquals("", chat.json().get("choices").get(0).get("message").get("content").asText());
        assertEquals("stop", chat.json().get("choices").get(0).get("finish_reason").asText());
        assertEquals(1, chat.json().get("usage").get("completion_tokens").asInt(), "the end-of-turn token is generated, and counted as vLLM counts it");
        Reply plain = post(ender, "/v1/completions", Map.of("prompt", RENDERED, "max_tokens", 3, "temperature", 0));
        assertEquals("<|im_end|><|im_end|><|im_end|>", plain.json().get("choices").get(0).get("text").asText());
        assertEquals("length", plain.json().get("choices").get(0).get("finish_reason").asText());

        Path listed = dir.resolve("ender-listed");
        checkpoint(listed, true);
        Files.writeString(listed.resolve("generation_config.json"), "{\"eos_token_id\": [" + EOT + ", " + IM_END + "]}");
        try (CompletionServer s = new CompletionServer(listed, "listed", new CompletionServer.Settings("127.0.0.1", 0, 4, 4, null), pool)) {
            Reply stopped = post(s, "/v1/completions", Map.of("prompt", RENDERED, "max_tokens", 3, "temperature", 0));
            assertEquals("", stopped.json().get("choices").get(0).get("text").asText());
            assertEquals("stop", stopped.json().get("choices").get(0).get("finish_reason").asText(), "generation_config.json lists the end of turn");
            assertEquals(1, stopped.json().get("usage").get("completion_tokens").asInt(), "the end-of-sequence token counted");
        }

        // an eos_token of several tokens (no special token of its own) ends a reply where its text appears, as a stop sequence would
        Path twice = dir.resolve("ender-twice");
        checkpoint(twice, true);
        ObjectNode tc = (ObjectNode) JSON.readTree(twice.resolve("tokenizer_config.json").toFile());
        tc.put("eos_token", "<|im_end|><|im_end|>");
        JSON.writeValue(twice.resolve("tokenizer_config.json").toFile(), tc);
        try (CompletionServer s = new CompletionServer(twice, "twice", new CompletionServer.Settings("127.0.0.1", 0, 4, 4, null), pool)) {
            for (boolean stream : new boolean[] {false, true}) {
                Reply r = post(s, "/v1/chat/completions", Map.of("messages", CONVERSATION, "temperature", 0, "max_tokens", 8, "stream", stream));
                assertEquals(200, r.status(), r.body());
                if (stream) {
                    assertTrue(r.body().contains("\"finish_reason\":\"stop\"") && !r.body().contains("im_end"), r.body());
                } else {
                    assertEquals("", r.json().get("choices").get(0).get("message").get("content").asText(), r.body());
                    assertEquals("stop", r.json().get("choices").get(0).get("finish_reason").asText());
                    assertEquals(2, r.json().get("usage").get("completion_tokens").asInt(), "it stops at the second <|im_end|>");
                }
            }
            Reply completion = post(s, "/v1/completions", Map.of("prompt", RENDERED, "max_tokens", 3, "temperature", 0));
            assertEquals("length", completion.json().get("choices").get(0).get("finish_reason").asText(), "completions do not stop at a chat template's end of turn");
        }
    }

    /**
     * An assistant's tool_calls reach the template with each function's arguments parsed from OpenAI's
     * JSON string into the object transformers' templates expect (vLLM's chat_utils does the same), so
     * that {@code arguments | tojson} writes the object, not a quoted string; empty arguments are {}, an
     * empty list of calls is no calls; arguments that are not a JSON object are a 400 naming the message.
     */
    @Test
    void toolCallArgumentsReachTheTemplateAsObjects() throws Exception {
        Path tools = dir.resolve("tools.jinja");
        Files.writeString(tools, "{% for m in messages %}{% if m.tool_calls is defined %}{% for t in m.tool_calls %}{{ t.function.name }}"
                + "{{ t.function.arguments | tojson }}{% endfor %}{% else %}{{ m.content }}{% endif %}|{% endfor %}");
        ServedModel m = new ServedModel(dir.resolve("chat"), "tools", 1, pool, tools);
        JsonNode body = JSON.valueToTree(Map.of("max_tokens", 1, "messages", List.of(
                Map.of("role", "user", "content", "W?"),
                Map.of("role", "assistant", "tool_calls", List.of(
                        Map.of("id", "call_1", "type", "function", "function", Map.of("name", "w", "arguments", "{\"c\": \"P\", \"d\": 2}")),
                        Map.of("type", "function", "function", Map.of("name", "n", "arguments", "")))),
                Map.of("role", "assistant", "content", "ok", "tool_calls", List.of()),
                Map.of("role", "assistant", "tool_calls", List.of(Map.of("function", Map.of("name", "f", "arguments", Map.of("x", 1.5))))))));
        int[] prompt = Completions.parseChat(body, m).prompts().getFirst();
        List<Integer> ids = new java.util.ArrayList<>();
        for (int t : prompt) ids.add(t);
        assertEquals("W?|w{\"c\": \"P\", \"d\": 2}n{}|ok|f{\"x\": 1.5}|", m.text(ids));

        Object[][] bad = {
                {"\"not json\"", "messages[1].tool_calls[0].function.arguments is not JSON"},
                {"\"{\\\"a\\\": 1} and more\"", "messages[1].tool_calls[0].function.arguments is not JSON"},
                {"\"[1, 2]\"", "messages[1].tool_calls[0].function.arguments must be a JSON object"},
                {"7", "messages[1].tool_calls[0].function.arguments must be a JSON object"},
        };
        for (Object[] c : bad) {
            String conversation = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"tool_calls\": [{\"type\": \"function\", "
                    + "\"function\": {\"name\": \"f\", \"arguments\": " + c[0] + "}}]}]}";
            Reply r = post(server, "/v1/chat/completions", conversation);
            assertEquals(400, r.status(), conversation + " -> " + r.body());
            assertEquals("messages", r.json().get("error").get("param").asText(), r.body());
            assertTrue(r.json().get("error").get("message").asText().contains((String) c[1]), conversation + " -> " + r.body());
        }
        for (String calls : new String[] {"\"x\"", "[3]", "[{\"type\": \"retrieval\", \"function\": {\"name\": \"f\"}}]"}) {
            Reply r = post(server, "/v1/chat/completions", "{\"messages\": [{\"role\": \"assistant\", \"tool_calls\": " + calls + "}]}");
            assertEquals(400, r.status(), calls + " -> " + r.body());
            assertTrue(r.json().get("error").get("message").asText().contains("messages[0].tool_calls"), r.body());
        }
    }

    @Test
    void badConversationsAreAnswered400NamingMessages() throws Exception {
        Object[][] cases = {
                {"{\"max_tokens\": 3}", "'messages'"},
                {"{\"messages\": []}", "'messages'"},
                {"{\"messages\": \"hi\"}", "'messages'"},
                {"{\"messages\": [{\"content\": \"no role\"}]}", "messages[0]"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"x\"}}]}]}", "text parts"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": 3}]}", "messages[0].content"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"" + "long ".repeat(20) + "\"}]}", "context"},
        };
        for (Object[] c : cases) {
            Reply r = post(server, "/v1/chat/completions", c[0]);
            assertEquals(400, r.status(), c[0] + " -> " + r.body());
            assertEquals("messages", r.json().get("error").get("param").asText(), r.body());
            assertTrue(r.json().get("error").get("message").asText().contains((String) c[1]), c[0] + " -> " + r.body());
        }
        Reply r = post(server, "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_logprobs\": 2}");
        assertEquals("top_logprobs", r.json().get("error").get("param").asText(), r.body());
        for (String key : new String[] {"max_tokens", "max_completion_tokens"}) { // past the context: named as it was asked
            r = post(server, "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"" + key + "\": " + CONFIG.contextLength() + "}");
            assertEquals(400, r.status(), r.body());
            assertEquals(key, r.json().get("error").get("param").asText(), r.body());
        }

        // a template that refuses a conversation: its message comes back
        Path strict = dir.resolve("strict.jinja");
        Files.writeString(strict, "{% for m in messages %}{% if m.role not in ['user', 'assistant'] %}{{ raise_exception('Only user and assistant roles are "
                + "supported!') }}{% endif %}[{{ m.role }}] {{ m.content }}\n{% endfor %}[assistant] ");
        try (CompletionServer s = new CompletionServer(dir.resolve("chat"), "strict", new CompletionServer.Settings("127.0.0.1", 0, 4, 4, strict), pool)) {
            Reply refused = post(s, "/v1/chat/completions", Map.of("messages", CONVERSATION));
            assertEquals(400, refused.status());
            assertTrue(refused.json().get("error").get("message").asText().contains("Only user and assistant roles are supported!"), refused.body());
            Reply ok = post(s, "/v1/chat/completions", Map.of("messages", List.of(Map.of("role", "user", "content", "hi")), "max_tokens", 2));
            assertEquals(200, ok.status(), ok.body());
            assertEquals("[user] hi\n[assistant] ".length(), ok.json().get("usage").get("prompt_tokens").asInt(), "the file's template, not the checkpoint's");
        }
        // a template that does not parse stops the server from starting, naming the file and line
        Path broken = dir.resolve("broken.jinja");
        Files.writeString(broken, "{% for m in messages %}\n{{ m.content }\n{% endfor %}");
        var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> new CompletionServer(dir.resolve("chat"), "broken", new CompletionServer.Settings("127.0.0.1", 0, 4, 4, broken), pool));
        assertTrue(e.getMessage().contains(broken.toString()) && e.getMessage().contains("line 2"), e.getMessage());
    }
}
