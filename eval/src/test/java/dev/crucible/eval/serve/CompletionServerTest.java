package dev.crucible.eval.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.eval.LogLikelihood;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.Model;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import dev.crucible.tensor.WorkerPool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server through a real HTTP client: every endpoint, every error path, concurrent clients, and log-probabilities equal to the scorer's. */
class CompletionServerTest {
    @TempDir
    static Path dir;
    static WorkerPool pool;
    static CompletionServer server;
    static Model model;
    static final HttpClient CLIENT = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        pool = new WorkerPool(2);
        Path m = checkpoint(dir.resolve("m"), 5);
        server = new CompletionServer(m, "tiny-test", new CompletionServer.Settings("127.0.0.1", 0, 2, 4, null), pool);
        model = Model.forInference(CONFIG, 4, CONFIG.contextLength(), pool);
        try (HfCheckpoint ck = HfCheckpoint.open(m)) {
            ck.load(model.layout(), model.params);
        }
    }

    static final ModelConfig CONFIG = dev.crucible.eval.TestCheckpoints.BYTE_LEVEL;

    static Path checkpoint(Path dir, int seed) throws java.io.IOException {
        return dev.crucible.eval.TestCheckpoints.byteLevel(dir, seed);
    }

    @AfterAll
    static void stop() {
        server.close();
        pool.close();
    }

    record Reply(int status, JsonNode json, String body) {}

    static Reply post(String path, String body) throws Exception {
        HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        JsonNode j = r.headers().firstValue("Content-Type").orElse("").startsWith("application/json") ? JSON.readTree(r.body()) : null;
        return new Reply(r.statusCode(), j, r.body());
    }

    /** A completion's body from another server; anything but 200 fails. */
    static String postTo(String url, String body) throws Exception {
        HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    static Reply get(String path) throws Exception {
        HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), JSON.readTree(r.body()), r.body());
    }

    @Test
    void listsItsModel() throws Exception {
        Reply r = get("/v1/models");
        assertEquals(200, r.status());
        assertEquals("list", r.json().get("object").asText());
        assertEquals(1, r.json().get("data").size());
        assertEquals("tiny-test", r.json().get("data").get(0).get("id").asText());
        assertEquals(32, r.json().get("data").get(0).get("context_length").asInt());
        Reply one = get("/v1/models/tiny-test");
        assertEquals(200, one.status(), one.body());
        assertEquals(r.json().get("data").get(0), one.json());
        assertEquals("model", one.json().get("object").asText());
    }

    /**
     * A request's model must be the served model's name, or it is OpenAI's 404 (model_not_found, param
     * model), on both endpoints and on the scoring path; absent or null it is the served one (vLLM's
     * way). GET /v1/models/{id} likewise.
     */
    @Test
    void anotherModelsNameIsNotFound() throws Exception {
        String scoring = "\"prompt\": [[5, 6, 7]], \"max_tokens\": 1, \"temperature\": 0, \"logprobs\": 1, \"echo\": true";
        for (String body : new String[] {"{\"model\": \"gpt-4\", \"prompt\": \"a\", \"max_tokens\": 2}", "{\"model\": \"gpt-4\", " + scoring + "}"}) {
            Reply r = post("/v1/completions", body);
            assertEquals(404, r.status(), r.body());
            JsonNode e = r.json().get("error");
            assertEquals("invalid_request_error", e.get("type").asText());
            assertEquals("model", e.get("param").asText());
            assertEquals("model_not_found", e.get("code").asText());
            assertTrue(e.get("message").asText().startsWith("The model `gpt-4` does not exist.") && e.get("message").asText().contains("`tiny-test`"), r.body());
        }
        Reply chat = post("/v1/chat/completions", "{\"model\": \"gpt-4\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
        assertEquals(404, chat.status(), chat.body());
        assertEquals("model_not_found", chat.json().get("error").get("code").asText());
        for (String model : new String[] {"\"model\": \"tiny-test\", ", "\"model\": null, ", ""}) {
            assertEquals(200, post("/v1/completions", "{" + model + scoring + "}").status(), model);
        }
        Reply typed = post("/v1/completions", "{\"model\": 3, \"prompt\": \"a\"}");
        assertEquals(400, typed.status(), typed.body());
        assertEquals("model", typed.json().get("error").get("param").asText());
        Reply missing = get("/v1/models/gpt-4");
        assertEquals(404, missing.status(), missing.body());
        assertEquals("model_not_found", missing.json().get("error").get("code").asText());
    }

    /** lm-evaluation-harness's local-completions request for log-likelihoods: token ids, echo, logprobs, max_tokens 1. */
    @Test
    void echoedLogprobsAreTheScorersLogLikelihoods() throws Exception {
        int[][] prompts = {{72, 101, 108, 108, 111, 32, 119}, {10, 84, 104, 101}, {97, 98}};
        Reply r = post("/v1/completions", "{\"model\": \"tiny-test\", \"prompt\": " + JSON.writeValueAsString(prompts)
                + ", \"max_tokens\": 1, \"temperature\": 0, \"logprobs\": 1, \"echo\": true, \"seed\": 1234}");
        assertEquals(200, r.status(), r.body());
        LogLikelihood scorer = new LogLikelihood(model);
        for (int i = 0; i < prompts.length; i++) {
            JsonNode choice = r.json().get("choices").get(i);
            assertEquals(i, choice.get("index").asInt());
            JsonNode lp = choice.get("logprobs");
            assertEquals(prompts[i].length + 1, lp.get("tokens").size(), "the prompt echoed and one token more");
            assertTrue(lp.get("token_logprobs").get(0).isNull() && lp.get("top_logprobs").get(0).isNull(), "nothing before the first token");
            for (int split = 1; split < prompts[i].length; split++) { // every context/continuation split, as the harness slices them
                double sum = 0;
                for (int t = split; t < prompts[i].length; t++) sum += lp.get("token_logprobs").get(t).asDouble();
                LogLikelihood.Score s = scorer.score(List.of(new LogLikelihood.Request(java.util.Arrays.copyOf(prompts[i], split),
                        java.util.Arrays.copyOfRange(prompts[i], split, prompts[i].length))))[0];
                assertEquals(s.logProb(), sum, 1e-4, "prompt " + i + " split at " + split);
                boolean greedy = true;
                for (int t = split; t < prompts[i].length; t++) {
                    var top = lp.get("top_logprobs").get(t).fields().next();
                    greedy &= top.getKey().equals(lp.get("tokens").get(t).asText());
                }
                assertEquals(s.greedy(), greedy, "prompt " + i + " split at " + split);
            }
            // the offsets locate each token's text in the echoed text
            String text = choice.get("text").asText();
            for (int t = 0; t < prompts[i].length; t++) {
                int at = lp.get("text_offset").get(t).asInt();
                assertEquals(lp.get("tokens").get(t).asText(), text.substring(at, at + lp.get("tokens").get(t).asText().length()));
            }
        }
        assertEquals(7 + 4 + 2, r.json().get("usage").get("prompt_tokens").asInt());
        assertEquals(3, r.json().get("usage").get("completion_tokens").asInt());
    }

    @Test
    void greedyCompletionsStopsSeedsAndStreaming() throws Exception {
        Reply greedy = post("/v1/completions", "{\"prompt\": \"The \", \"max_tokens\": 12, \"temperature\": 0}");
        assertEquals(200, greedy.status(), greedy.body());
        String text = greedy.json().get("choices").get(0).get("text").asText();
        assertEquals(12, greedy.json().get("usage").get("completion_tokens").asInt());
        assertEquals("length", greedy.json().get("choices").get(0).get("finish_reason").asText());
        // the same text as the generator's argmax, token by token (a byte model: one character per token for ASCII)
        dev.crucible.model.Generator g = new dev.crucible.model.Generator(model.config(), model.params, 32, pool);
        float[] logits = null;
        for (byte b : "The ".getBytes()) logits = g.next(b & 0xFF);
        StringBuilder expected = new StringBuilder();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int k = 0; k < 12; k++) {
            int best = 0;
            for (int v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
            bytes.write(best);
            logits = g.next(best);
        }
        expected.append(bytes.toString(java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(expected.toString(), text);

        // a stop sequence ends the text before it
        String stopAt = text.substring(3, 5);
        Reply stopped = post("/v1/completions", "{\"prompt\": \"The \", \"max_tokens\": 12, \"temperature\": 0, \"stop\": [" + JSON.writeValueAsString(stopAt) + "]}");
        String cut = stopped.json().get("choices").get(0).get("text").asText();
        assertEquals(text.substring(0, text.indexOf(stopAt)), cut);
        assertEquals("stop", stopped.json().get("choices").get(0).get("finish_reason").asText());

        // sampling: the same seed gives the same text; n choices each their own
        String body = "{\"prompt\": \"a\", \"max_tokens\": 10, \"temperature\": 1.0, \"seed\": 7, \"n\": 3}";
        Reply s1 = post("/v1/completions", body), s2 = post("/v1/completions", body);
        assertEquals(s1.json().get("choices"), s2.json().get("choices"));
        assertEquals(3, s1.json().get("choices").size());

        // streaming: server-sent events whose texts join up to the same completion
        Reply stream = post("/v1/completions", "{\"prompt\": \"The \", \"max_tokens\": 12, \"temperature\": 0, \"stream\": true}");
        assertEquals(200, stream.status());
        StringBuilder joined = new StringBuilder();
        List<String> events = stream.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", events.getLast());
        for (String e : events.subList(0, events.size() - 1)) joined.append(JSON.readTree(e).get("choices").get(0).get("text").asText());
        assertEquals(text, joined.toString());
        assertEquals("length", JSON.readTree(events.get(events.size() - 2)).get("choices").get(0).get("finish_reason").asText());
        // streamed with a stop sequence: the same text as without streaming, nothing of the stop sequence sent
        Reply streamStop = post("/v1/completions", "{\"prompt\": \"The \", \"max_tokens\": 12, \"temperature\": 0, \"stream\": true, \"stop\": "
                + JSON.writeValueAsString(stopAt) + "}");
        StringBuilder joinedStop = new StringBuilder();
        for (String e : streamStop.body().lines().filter(l -> l.startsWith("data: {")).map(l -> l.substring(6)).toList()) {
            joinedStop.append(JSON.readTree(e).get("choices").get(0).get("text").asText());
        }
        assertEquals(cut, joinedStop.toString());
        // streamed with log-probabilities: the chunks' arrays join up to the unstreamed response's, text offsets included
        for (String stop : new String[] {"", ", \"stop\": " + JSON.writeValueAsString(stopAt)}) {
            String lpBody = "{\"prompt\": \"The \", \"max_tokens\": 12, \"temperature\": 0, \"logprobs\": 2" + stop;
            JsonNode whole = post("/v1/completions", lpBody + "}").json().get("choices").get(0).get("logprobs");
            Reply lpStream = post("/v1/completions", lpBody + ", \"stream\": true}");
            assertEquals(200, lpStream.status(), lpStream.body());
            com.fasterxml.jackson.databind.node.ObjectNode joinedLp = JSON.createObjectNode();
            for (String key : new String[] {"tokens", "token_logprobs", "top_logprobs", "text_offset"}) joinedLp.putArray(key);
            int carrying = 0;
            for (String e : lpStream.body().lines().filter(l -> l.startsWith("data: {")).map(l -> l.substring(6)).toList()) {
                JsonNode lp = JSON.readTree(e).get("choices").get(0).get("logprobs");
                if (lp.isNull()) continue; // the last chunk, with the finish reason
                carrying++;
                assertTrue(lp.get("tokens").size() > 0, "a chunk with nothing new says null: " + e);
                for (String key : new String[] {"tokens", "token_logprobs", "top_logprobs", "text_offset"}) {
                    ((com.fasterxml.jackson.databind.node.ArrayNode) joinedLp.get(key)).addAll((com.fasterxml.jackson.databind.node.ArrayNode) lp.get(key));
                }
            }
            assertEquals(whole, joinedLp, stop);
            assertTrue(carrying > 1, "log-probabilities come as the text streams, not all at the end: " + lpStream.body());
        }
        assertEquals(0, Completions.settled("ab" + stopAt.charAt(0), List.of(stopAt)) - 2, "a tail that may begin the stop sequence waits");

        // logprobs 0: each token's own log-probability, no alternatives
        Reply zero = post("/v1/completions", "{\"prompt\": \"The \", \"max_tokens\": 3, \"temperature\": 0, \"logprobs\": 0}");
        assertEquals(200, zero.status(), zero.body());
        assertEquals(3, zero.json().get("choices").get(0).get("logprobs").get("token_logprobs").size());
    }

    /**
     * lm-evaluation-harness's local-completions sends a task's whole until list and the end-of-sequence
     * text (humaneval's: 9), more than OpenAI's 4: taken, the text cut at the first one found; past the
     * bound, a 400 naming stop.
     */
    @Test
    void theHarnesssStopListIsTakenWhole() throws Exception {
        String text = post("/v1/completions", "{\"prompt\": \"The \", \"max_tokens\": 12, \"temperature\": 0}").json().get("choices").get(0).get("text").asText();
        List<String> stops = new ArrayList<>(List.of("\nclass", "\n#", "\nif", "\nprint", "\n```", "\n```\n\n", "<|eot_id|>", "</s>"));
        stops.add(text.substring(5, 7)); // the one that is found
        Reply r = post("/v1/completions", "{\"prompt\": \"The \", \"max_tokens\": 12, \"temperature\": 0, \"stop\": " + JSON.writeValueAsString(stops) + "}");
        assertEquals(200, r.status(), r.body());
        assertEquals(text.substring(0, text.indexOf(text.substring(5, 7))), r.json().get("choices").get(0).get("text").asText());
        assertEquals("stop", r.json().get("choices").get(0).get("finish_reason").asText());

        List<String> tooMany = new ArrayList<>();
        for (int i = 0; i <= Completions.MAX_STOPS; i++) tooMany.add("stop" + i);
        Reply refused = post("/v1/completions", "{\"prompt\": \"The \", \"stop\": " + JSON.writeValueAsString(tooMany) + "}");
        assertEquals(400, refused.status(), refused.body());
        assertEquals("stop", refused.json().get("error").get("param").asText());
        assertTrue(refused.json().get("error").get("message").asText().contains("up to " + Completions.MAX_STOPS), refused.body());
    }

    /**
     * stream_options.include_usage, as OpenAI defines it: every chunk carries "usage": null, and one more
     * chunk, with no choices and the request's usage, comes just before [DONE]; without it no chunk has
     * a usage. stream_options without stream is a 400 (vLLM's check: an empty object passes).
     */
    @Test
    void aStreamEndsWithItsUsageWhenAsked() throws Exception {
        String body = "{\"prompt\": \"The \", \"max_tokens\": 12, \"temperature\": 0";
        JsonNode whole = post("/v1/completions", body + "}").json();
        Reply r = post("/v1/completions", body + ", \"stream\": true, \"stream_options\": {\"include_usage\": true}}");
        assertEquals(200, r.status(), r.body());
        List<String> events = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", events.getLast());
        JsonNode last = JSON.readTree(events.get(events.size() - 2));
        assertEquals(0, last.get("choices").size(), last.toString());
        assertEquals(whole.get("usage"), last.get("usage"));
        assertEquals("text_completion", last.get("object").asText());
        StringBuilder text = new StringBuilder();
        for (String e : events.subList(0, events.size() - 2)) {
            JsonNode chunk = JSON.readTree(e);
            assertTrue(chunk.has("usage") && chunk.get("usage").isNull(), e);
            text.append(chunk.get("choices").get(0).get("text").asText());
        }
        assertEquals(whole.get("choices").get(0).get("text").asText(), text.toString());
        assertEquals("length", JSON.readTree(events.get(events.size() - 3)).get("choices").get(0).get("finish_reason").asText());

        for (String options : new String[] {"", ", \"stream_options\": null", ", \"stream_options\": {\"include_usage\": false}"}) {
            Reply plain = post("/v1/completions", body + ", \"stream\": true" + options + "}");
            assertTrue(!plain.body().contains("usage") && plain.body().contains("[DONE]"), options + " -> " + plain.body());
        }
        assertEquals(200, post("/v1/completions", body + ", \"stream_options\": {}}").status(), "vLLM lets an empty object through");
        for (String bad : new String[] {", \"stream_options\": {\"include_usage\": true}", ", \"stream\": true, \"stream_options\": true",
                ", \"stream\": true, \"stream_options\": {\"include_usage\": \"yes\"}"}) {
            Reply refused = post("/v1/completions", body + bad + "}");
            assertEquals(400, refused.status(), bad + " -> " + refused.body());
            assertEquals("stream_options", refused.json().get("error").get("param").asText(), refused.body());
        }
    }

    /**
     * A prompt and its max_tokens must fit in the context, as vLLM requires (it was cut short at the
     * context's end, finish "length", as if max_tokens had been reached): the most that fits is served
     * in full, one more is a 400 naming max_tokens.
     */
    @Test
    void maxTokensPastTheContextIsRefused() throws Exception {
        int room = CONFIG.contextLength() - 2;
        Reply fits = post("/v1/completions", "{\"prompt\": \"ab\", \"max_tokens\": " + room + ", \"temperature\": 0}");
        assertEquals(200, fits.status(), fits.body());
        assertEquals(room, fits.json().get("usage").get("completion_tokens").asInt(), fits.body());
        for (int asked : new int[] {room + 1, Integer.MAX_VALUE}) {
            Reply r = post("/v1/completions", "{\"prompt\": \"ab\", \"max_tokens\": " + asked + ", \"temperature\": 0}");
            assertEquals(400, r.status(), r.body());
            assertEquals("max_tokens", r.json().get("error").get("param").asText(), r.body());
            assertTrue(r.json().get("error").get("message").asText().contains("at most " + room), r.body());
        }
    }

    /**
     * frequency_penalty, presence_penalty and logit_bias as OpenAI defines them, applied to the logits
     * before the draw (greedy included): the text is the generator's argmax over logits adjusted by hand,
     * the counts taken over the generated tokens only (vLLM's: a prompt of 16 times the byte that greedy
     * puts after it still gets that byte first, where counting the prompt would take 34 from its logit);
     * zeros change no bit. The bytes past ASCII are biased away, so that texts compare token for token.
     */
    @Test
    void penaltiesAndBiasChangeTheDraw() throws Exception {
        java.util.Map<Integer, Double> bias = new java.util.HashMap<>();
        for (int b = 128; b < 256; b++) bias.put(b, -100.0);
        bias.put(32, 2.5);
        String asked = JSON.writeValueAsString(bias);
        String biased = post("/v1/completions", "{\"prompt\": \"The \", \"max_tokens\": 28, \"temperature\": 0, \"logit_bias\": " + asked + "}")
                .json().get("choices").get(0).get("text").asText();
        assertEquals(adjustedGreedy("The ", 28, 0, 0, bias), biased);
        Reply r = post("/v1/completions", "{\"prompt\": \"The \", \"max_tokens\": 28, \"temperature\": 0, \"frequency_penalty\": 2, \"presence_penalty\": 1.5, "
                + "\"logit_bias\": " + asked + "}");
        assertEquals(200, r.status(), r.body());
        String text = r.json().get("choices").get(0).get("text").asText();
        assertEquals(adjustedGreedy("The ", 28, 2, 1.5, bias), text);
        assertTrue(!text.equals(biased), "the penalties change the text: " + text);

        String loop = null; // a byte that greedy puts after 16 of itself
        for (char c = 33; c < 127 && loop == null; c++) {
            String p = String.valueOf(c).repeat(16);
            if (adjustedGreedy(p, 1, 0, 0, bias).equals(String.valueOf(c))) loop = p;
        }
        assertTrue(loop != null, "some byte follows 16 of itself");
        String heavy = post("/v1/completions", "{\"prompt\": " + JSON.writeValueAsString(loop) + ", \"max_tokens\": 8, \"temperature\": 0, "
                + "\"frequency_penalty\": 2, \"presence_penalty\": 2, \"logit_bias\": " + asked + "}").json().get("choices").get(0).get("text").asText();
        assertEquals(adjustedGreedy(loop, 8, 2, 2, bias), heavy);
        assertEquals(loop.charAt(0), heavy.charAt(0), "the prompt's tokens are not counted");

        String sampled = "{\"prompt\": \"a\", \"max_tokens\": 10, \"temperature\": 1.0, \"seed\": 7, \"n\": 2";
        JsonNode plain = post("/v1/completions", sampled + "}").json();
        JsonNode zeros = post("/v1/completions", sampled + ", \"frequency_penalty\": 0, \"presence_penalty\": 0, \"logit_bias\": {\"7\": 0}}").json();
        assertEquals(plain.get("choices"), zeros.get("choices"), "zeros change nothing");
    }

    /** The generator's greedy text from logits adjusted as OpenAI defines it (counts over the generated tokens), by hand. */
    static String adjustedGreedy(String prompt, int n, double frequency, double presence, java.util.Map<Integer, Double> bias) {
        dev.crucible.model.Generator g = new dev.crucible.model.Generator(model.config(), model.params, CONFIG.contextLength(), pool);
        float[] logits = null;
        for (byte b : prompt.getBytes(java.nio.charset.StandardCharsets.UTF_8)) logits = g.next(b & 0xFF);
        int[] count = new int[logits.length];
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int k = 0; k < n; k++) {
            int best = 0;
            double bestValue = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < logits.length; v++) {
                double a = logits[v] + bias.getOrDefault(v, 0.0) - count[v] * frequency - (count[v] > 0 ? presence : 0);
                if (a > bestValue) {
                    bestValue = a;
                    best = v;
                }
            }
            count[best]++;
            out.write(best);
            if (k < n - 1) logits = g.next(best);
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void badRequestsAreJsonErrorsNamingTheParameter() throws Exception {
        Object[][] cases = {
                {"{\"prompt\": \"a\", \"max_tokens\": \"5\"}", 400, "max_tokens"},
                {"{\"prompt\": \"a\", \"temperature\": 3}", 400, "temperature"},
                {"{\"prompt\": \"a\", \"logprobs\": 6}", 400, "logprobs"},
                {"{\"prompt\": \"a\", \"echo\": \"yes\"}", 400, "echo"},
                {"{\"prompt\": \"a\", \"stop\": [\"x\", 3]}", 400, "stop"},
                {"{\"prompt\": \"a\", \"frequency_penalty\": 2.5}", 400, "frequency_penalty"},
                {"{\"prompt\": \"a\", \"presence_penalty\": \"1\"}", 400, "presence_penalty"},
                {"{\"prompt\": \"a\", \"logit_bias\": [1]}", 400, "logit_bias"},
                {"{\"prompt\": \"a\", \"logit_bias\": {\"e\": 1}}", 400, "logit_bias"},
                {"{\"prompt\": \"a\", \"logit_bias\": {\"01\": 1}}", 400, "logit_bias"},
                {"{\"prompt\": \"a\", \"logit_bias\": {\"256\": 1}}", 400, "logit_bias"},
                {"{\"prompt\": \"a\", \"logit_bias\": {\"5\": 101}}", 400, "logit_bias"},
                {"{\"prompt\": \"a\", \"logit_bias\": {\"5\": \"1\"}}", 400, "logit_bias"},
                {"{\"prompt\": [1, 2, 300]}", 400, "prompt"},
                {"{\"prompt\": {\"text\": \"a\"}}", 400, "prompt"},
                {"{\"max_tokens\": 3}", 400, "prompt"},
                {"{\"prompt\": \"" + "x".repeat(40) + "\"}", 400, "prompt"},
                {"{\"prompt\": \"a\", \"stream\": true, \"n\": 2}", 400, "stream"},
                {"not json", 400, null},
                {"[1, 2]", 400, null},
        };
        for (Object[] c : cases) {
            Reply r = post("/v1/completions", (String) c[0]);
            assertEquals(c[1], r.status(), c[0] + " -> " + r.body());
            JsonNode e = r.json().get("error");
            assertEquals("invalid_request_error", e.get("type").asText(), r.body());
            assertEquals(c[2] == null ? "null" : c[2], e.get("param").isNull() ? "null" : e.get("param").asText(), c[0] + " -> " + r.body());
            assertTrue(!e.get("message").asText().isBlank() && !r.body().contains("\tat "), r.body());
        }
        Reply ok = post("/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": 2, \"user\": \"u\", \"suffix\": \"x\"}");
        assertEquals(200, ok.status(), "unknown fields are ignored, as OpenAI does: " + ok.body());
        assertEquals(405, get("/v1/completions").status());
        assertEquals(404, get("/v1/embeddings").status());
        assertEquals(400, post("/v1/chat/completions", "{\"messages\": []}").status());
    }

    /** Scoring requests from several clients waiting together are scored in the same passes, each answer as it would be alone. */
    @Test
    void queuedScoringRequestsShareABatch() throws Exception {
        String a = "{\"prompt\": [[5, 6, 7, 8, 9]], \"max_tokens\": 1, \"temperature\": 0, \"logprobs\": 1, \"echo\": true}";
        String b = "{\"prompt\": [[40, 41, 42], [50, 51]], \"max_tokens\": 1, \"temperature\": 0, \"logprobs\": 2, \"echo\": true}";
        JsonNode aloneA = post("/v1/completions", a).json(), aloneB = post("/v1/completions", b).json();
        CountDownLatch release = new CountDownLatch(1);
        Future<?> busy = server.occupy(release);
        ExecutorService clients = Executors.newFixedThreadPool(2);
        try {
            Future<Reply> ra = clients.submit(() -> post("/v1/completions", a));
            while (server.queued() < 1) Thread.onSpinWait(); // a first, then b: the order the model takes them in
            Future<Reply> rb = clients.submit(() -> post("/v1/completions", b));
            while (server.queued() < 2) Thread.onSpinWait();
            release.countDown();
            busy.get();
            assertEquals(aloneA.get("choices"), ra.get().json().get("choices"));
            assertEquals(aloneB.get("choices"), rb.get().json().get("choices"));
            assertEquals(2, server.largestGroup, "the two requests went through the model together");
        } finally {
            release.countDown();
            clients.shutdownNow();
        }
    }

    /**
     * Generations from several clients share the decoder's steps (continuous batching: a request
     * joins when a slot is free, one with more choices than slots waits for them), and each answer is
     * what it is alone: greedy, seeded sampling with n choices, a stop sequence, a stream, penalties and a
     * bias (each choice counts its own tokens).
     */
    @Test
    void generationsFromSeveralClientsAreDecodedTogether() throws Exception {
        try (CompletionServer roomy = new CompletionServer(dir.resolve("m"), "tiny-test", new CompletionServer.Settings("127.0.0.1", 0, 8, 4, null), pool)) {
            String url = "http://127.0.0.1:" + roomy.port() + "/v1/completions";
            List<String> bodies = List.of(
                    "{\"prompt\": \"The \", \"max_tokens\": 12, \"temperature\": 0}",
                    "{\"prompt\": \"a\", \"max_tokens\": 9, \"temperature\": 1.0, \"seed\": 7, \"n\": 3, \"logprobs\": 2}",
                    "{\"prompt\": \"qu\", \"max_tokens\": 15, \"temperature\": 0.8, \"top_p\": 0.9, \"seed\": 3, \"stop\": [\"e\", \"  \"]}",
                    "{\"prompt\": \"The \", \"max_tokens\": 12, \"temperature\": 0, \"stream\": true}",
                    "{\"prompt\": [[72, 101], [10, 84, 104]], \"max_tokens\": 6, \"temperature\": 1.0, \"seed\": 11, \"n\": 3}",
                    "{\"prompt\": \"qu\", \"max_tokens\": 10, \"temperature\": 0.9, \"seed\": 4, \"n\": 2, \"frequency_penalty\": 1.2, "
                            + "\"presence_penalty\": -0.5, \"logit_bias\": {\"101\": -100, \"32\": 2.5}}");
            List<String> alone = new ArrayList<>();
            for (String b : bodies) alone.add(postTo(url, b));
            assertEquals(1, roomy.largestDecodeRequests, "one request at a time");
            roomy.largestDecode = 0;
            CountDownLatch release = new CountDownLatch(1);
            Future<?> busy = roomy.occupy(release);
            while (roomy.queued() > 0) Thread.onSpinWait(); // the model thread holds the pause
            ExecutorService clients = Executors.newFixedThreadPool(bodies.size());
            try {
                List<Future<String>> together = new ArrayList<>();
                for (int i = 0; i < bodies.size(); i++) {
                    String b = bodies.get(i);
                    together.add(clients.submit(() -> postTo(url, b)));
                    while (roomy.queued() < i + 1) Thread.onSpinWait(); // queued in order while the model is paused
                }
                release.countDown();
                busy.get();
                for (int i = 0; i < bodies.size(); i++) {
                    String got = together.get(i).get(), want = alone.get(i);
                    if (bodies.get(i).contains("stream")) {
                        assertEquals(streamed(want), streamed(got), bodies.get(i));
                    } else {
                        assertEquals(JSON.readTree(want).get("choices"), JSON.readTree(got).get("choices"), bodies.get(i));
                        assertEquals(JSON.readTree(want).get("usage"), JSON.readTree(got).get("usage"), bodies.get(i));
                    }
                }
                assertEquals(4, roomy.largestDecode, "every slot decoded in one step");
                assertTrue(roomy.largestDecodeRequests >= 2, "sequences of different clients in one step: " + roomy.largestDecodeRequests);
            } finally {
                release.countDown();
                clients.shutdownNow();
            }
        }
    }

    /**
     * What goes wrong with one request stays with it: a client that leaves in the middle of a stream
     * (on this tiny model the generation may well end before the departure is noticed; what is checked
     * is that nothing hangs and every slot is free after), a bad request that arrives while others decode
     * is a 400; the server serves on.
     */
    @Test
    void aRequestsFailureStaysWithIt() throws Exception {
        try (CompletionServer s = new CompletionServer(dir.resolve("m"), "tiny-test", new CompletionServer.Settings("127.0.0.1", 0, 8, 2, null), pool)) {
            String url = "http://127.0.0.1:" + s.port() + "/v1/completions";
            // a streaming client that reads one event and hangs up
            try (java.net.Socket sock = new java.net.Socket("127.0.0.1", s.port())) {
                String body = "{\"prompt\": \"a\", \"max_tokens\": 30, \"temperature\": 1.0, \"seed\": 1, \"stream\": true}";
                sock.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                        + "\r\n\r\n" + body).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(sock.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
                for (String line; (line = in.readLine()) != null && !line.startsWith("data: "); ) { } // headers, then the first event
            }
            // a bad request while a generation decodes: its 400, and the generation's answer
            CountDownLatch release = new CountDownLatch(1);
            Future<?> busy = s.occupy(release);
            while (s.queued() > 0) Thread.onSpinWait();
            ExecutorService clients = Executors.newFixedThreadPool(2);
            try {
                Future<String> gen = clients.submit(() -> postTo(url, "{\"prompt\": \"q\", \"max_tokens\": 20, \"temperature\": 0}"));
                while (s.queued() < 1) Thread.onSpinWait();
                Future<HttpResponse<String>> bad = clients.submit(() -> CLIENT.send(HttpRequest.newBuilder(URI.create(url))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"q\", \"max_tokens\": -1}")).build(), HttpResponse.BodyHandlers.ofString()));
                while (s.queued() < 2) Thread.onSpinWait();
                release.countDown();
                busy.get();
                assertEquals(400, bad.get().statusCode(), bad.get().body());
                assertEquals(20, JSON.readTree(gen.get()).get("usage").get("completion_tokens").asInt());
            } finally {
                release.countDown();
                clients.shutdownNow();
            }
            // the abandoned stream started before the later requests and needed no more steps than they did: it has ended
            assertEquals(0, s.running(), "every slot is free again");
        }
    }

    /** A scoring request does not wait behind a generation that waits for a slot: it is answered between the running generation's steps. */
    @Test
    void scoringPassesAGenerationWaitingForASlot() throws Exception {
        try (CompletionServer s = new CompletionServer(dir.resolve("m"), "tiny-test", new CompletionServer.Settings("127.0.0.1", 0, 8, 4, null), pool)) {
            String url = "http://127.0.0.1:" + s.port() + "/v1/completions";
            String filling = "{\"prompt\": \"a\", \"max_tokens\": 25, \"temperature\": 1.0, \"seed\": 2, \"n\": 4}"; // all four slots
            String waiting = "{\"prompt\": \"b\", \"max_tokens\": 5, \"temperature\": 0}";
            String scoring = "{\"prompt\": [[5, 6, 7]], \"max_tokens\": 1, \"temperature\": 0, \"logprobs\": 1, \"echo\": true}";
            String scoredAlone = JSON.readTree(postTo(url, scoring)).get("choices").toString();
            CountDownLatch release = new CountDownLatch(1);
            Future<?> busy = s.occupy(release);
            while (s.queued() > 0) Thread.onSpinWait();
            ExecutorService clients = Executors.newFixedThreadPool(3);
            try {
                List<Future<String>> replies = new ArrayList<>();
                for (String b : List.of(filling, waiting, scoring)) {
                    int before = s.queued();
                    replies.add(clients.submit(() -> postTo(url, b)));
                    while (s.queued() == before) Thread.onSpinWait();
                }
                release.countDown();
                busy.get();
                for (Future<String> f : replies) assertEquals("length", JSON.readTree(f.get()).get("choices").get(0).get("finish_reason").asText());
                assertEquals(scoredAlone, JSON.readTree(replies.get(2).get()).get("choices").toString());
                assertEquals(1, s.passedWaiting, "the scoring request went ahead of the waiting generation");
            } finally {
                release.countDown();
                clients.shutdownNow();
            }
        }
    }

    /** The text and finish reason a stream of server-sent events adds up to. */
    static String streamed(String body) throws Exception {
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (String e : body.lines().filter(l -> l.startsWith("data: {")).map(l -> l.substring(6)).toList()) {
            JsonNode c = JSON.readTree(e).get("choices").get(0);
            text.append(c.get("text").asText());
            if (!c.get("finish_reason").isNull()) finish = c.get("finish_reason").asText();
        }
        return text + " / " + finish;
    }

    /** A run in progress: the newest checkpoint is loaded before the next request, and named so. */
    @Test
    void aNewerCheckpointIsServedFromTheNextRequest() throws Exception {
        for (int seed : new int[] {1, 2}) checkpoint(dir.resolve("run/checkpoints/step-000000" + seed), seed);
        java.util.concurrent.atomic.AtomicReference<Path> newest = new java.util.concurrent.atomic.AtomicReference<>(dir.resolve("run/checkpoints/step-0000001"));
        CompletionServer.Source source = new CompletionServer.Source() {
            public Path checkpoint() {
                return newest.get();
            }

            public String name(Path ck) {
                return "run/" + ck.getFileName();
            }

            public List<String> aliases() {
                return List.of("run");
            }
        };
        try (CompletionServer s = new CompletionServer(source, new CompletionServer.Settings("127.0.0.1", 0, 2, 4, null), pool)) {
            String url = "http://127.0.0.1:" + s.port() + "/v1/completions", body = "{\"prompt\": \"The \", \"max_tokens\": 8, \"temperature\": 0}";
            JsonNode first = JSON.readTree(CLIENT.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertEquals("run/step-0000001", first.get("model").asText());
            newest.set(dir.resolve("run/checkpoints/step-0000002")); // the trainer wrote a newer checkpoint
            JsonNode second = JSON.readTree(CLIENT.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertEquals("run/step-0000002", second.get("model").asText());
            assertTrue(!first.get("choices").get(0).get("text").asText().equals(second.get("choices").get(0).get("text").asText()),
                    "other weights, another greedy text");
            // the run's name stays while its checkpoints come and go; a checkpoint's own name only while it is served
            String named = "{\"model\": \"%s\", \"prompt\": \"The \", \"max_tokens\": 8, \"temperature\": 0}";
            assertEquals(second.get("choices"), JSON.readTree(postTo(url, named.formatted("run"))).get("choices"));
            assertEquals(second.get("choices"), JSON.readTree(postTo(url, named.formatted("run/step-0000002"))).get("choices"));
            HttpResponse<String> gone = CLIENT.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(named.formatted("run/step-0000001")))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, gone.statusCode(), gone.body());
            JsonNode listed = JSON.readTree(CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).get("data");
            assertEquals(List.of("run/step-0000002", "run"), List.of(listed.get(0).get("id").asText(), listed.get(1).get("id").asText()));
            assertEquals("run/step-0000002", listed.get(1).get("root").asText(), "the alias names the checkpoint it is now");
            HttpResponse<String> byId = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/models/run/step-0000002")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, byId.statusCode(), byId.body());
            assertEquals("run/step-0000002", JSON.readTree(byId.body()).get("id").asText(), "an id with a slash");
        }
    }

    @Test
    void aFullQueueAnswers429AndConcurrentClientsGetTheirOwnAnswers() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Future<?> busy = server.occupy(release); // the model is busy; the queue holds 2
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<Future<Reply>> replies = new ArrayList<>();
            String body = "{\"prompt\": \"q\", \"max_tokens\": 4, \"temperature\": 0}";
            for (int i = 0; i < 2; i++) replies.add(clients.submit(() -> post("/v1/completions", body)));
            while (server.queued() < 2) Thread.onSpinWait();
            Reply rejected = post("/v1/completions", body);
            assertEquals(429, rejected.status(), rejected.body());
            assertEquals("rate_limit_error", rejected.json().get("error").get("type").asText());
            release.countDown();
            busy.get();
            for (Future<Reply> f : replies) assertEquals(200, f.get().status());

            // clients at once, each a different prompt, on a server whose queue holds them all: each gets its own greedy text
            try (CompletionServer roomy = new CompletionServer(dir.resolve("m"), "tiny-test", new CompletionServer.Settings("127.0.0.1", 0, 8, 4, null), pool)) {
                String url = "http://127.0.0.1:" + roomy.port() + "/v1/completions";
                List<String> bodies = new ArrayList<>(), alone = new ArrayList<>();
                for (int i = 0; i < 6; i++) bodies.add("{\"prompt\": \"p" + i + "\", \"max_tokens\": 5, \"temperature\": 0}");
                for (String b : bodies) alone.add(JSON.readTree(postTo(url, b)).get("choices").get(0).get("text").asText());
                List<Future<String>> many = new ArrayList<>();
                for (String b : bodies) many.add(clients.submit(() -> postTo(url, b)));
                for (int i = 0; i < 6; i++) assertEquals(alone.get(i), JSON.readTree(many.get(i).get()).get("choices").get(0).get("text").asText());
            }
        } finally {
            release.countDown();
            clients.shutdownNow();
        }
    }
}
