package dev.crucible.data.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.crucible.data.pipeline.Recipe;
import dev.crucible.data.pipeline.RecipeRun;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * rewrite and refine_programs (from: endpoint) against a local OpenAI-style server that answers,
 * fails once, rate-limits, times out, returns garbage, refuses and answers nothing: every document
 * comes out, every outcome is counted, and a rerun asks only for what failed.
 */
class EndpointOperatorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path tmp;
    private HttpServer server;
    private final CountDownLatch release = new CountDownLatch(1);
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private final List<JsonNode> bodies = java.util.Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/v1/", this::answer);
        server.start();
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
    }

    private void answer(HttpExchange ex) throws IOException {
        JsonNode req = JSON.readTree(ex.getRequestBody());
        bodies.add(req);
        boolean chat = ex.getRequestURI().getPath().endsWith("/chat/completions");
        String prompt = chat ? req.path("messages").path(0).path("content").asText() : req.path("prompt").asText();
        String kind = prompt.replaceAll("(?s).*\\b(OK|FLAKY|RATE|SLOW|GARBAGE|BAD|EMPTY|MENU|TRUNC)\\b.*", "$1");
        int n = requests.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
        String text = switch (kind) {
            case "MENU" -> "```python\nremove_lines(line_start=0, line_end=0)\nnormalize(source_str=\"spring\", target_str=\"summer\")\n```"; // fenced, as chat models write
            case "EMPTY" -> "   ";
            default -> "Rewritten: " + kind.toLowerCase() + " text, clear and well formed.";
        };
        int status = 200;
        String body = chat ? JSON.createObjectNode().set("choices", JSON.createArrayNode().add(JSON.createObjectNode().set("message",
                JSON.createObjectNode().put("role", "assistant").put("content", text)))).toString()
                : JSON.createObjectNode().set("choices", JSON.createArrayNode().add(JSON.createObjectNode().put("text", text)
                        .put("finish_reason", kind.equals("TRUNC") ? "length" : "stop"))).toString();
        switch (kind) {
            case "FLAKY" -> status = n == 1 ? 500 : 200;
            case "RATE" -> {
                if (n == 1) {
                    status = 429;
                    ex.getResponseHeaders().add("Retry-After", "0");
                }
            }
            case "SLOW" -> {
                try {
                    release.await(); // held until the test ends: the client's timeout must fire
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            case "GARBAGE" -> body = "<html>not a completion</html>";
            case "BAD" -> {
                status = 400;
                body = "{\"error\": {\"message\": \"bad request\"}}";
            }
            default -> {}
        }
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        try {
            ex.sendResponseHeaders(status, b.length);
            ex.getResponseBody().write(b);
        } catch (IOException e) {
            // the client gave up (timeout)
        }
        ex.close();
    }

    private String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    private JsonNode run(String name, String op, List<String> texts) throws IOException {
        Path in = tmp.resolve(name + ".jsonl"), out = tmp.resolve(name), recipe = tmp.resolve(name + ".yaml");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) lines.add(JSON.writeValueAsString(Map.of("id", "d" + i, "text", texts.get(i))));
        Files.write(in, lines);
        Files.writeString(recipe, "inputs: [" + in + "]\noutput: {dir: " + out + ", compression: none}\nthreads: 4\nops:\n  - " + op + "\n");
        RecipeRun.run(Recipe.load(recipe), null);
        var node = JSON.createObjectNode();
        node.set("rules", JSON.readTree(out.resolve(RecipeRun.SUMMARY).toFile()).get("steps").get(0).get("rules"));
        var docs = node.putArray("docs");
        for (String l : Files.readAllLines(out.resolve("part-00000.jsonl"))) docs.add(JSON.readTree(l));
        return node;
    }

    @Test
    void rewriteCountsEveryOutcomeLosesNothingAndARerunAsksOnlyForWhatFailed() throws IOException {
        List<String> texts = List.of("OK one", "FLAKY two", "RATE three", "SLOW four", "GARBAGE five", "BAD six", "EMPTY seven", "TRUNC eight");
        Path prompt = Files.writeString(tmp.resolve("prompt.txt"), "Please rephrase: {text}\n");
        String op = "rewrite: {endpoint: " + endpoint() + ", model: m1, prompt: " + prompt + ", retries: 1, timeout_s: 0.5, backoff_ms: 1, cache: "
                + tmp.resolve("cache") + "}";
        JsonNode r = run("rw", op, texts);
        assertEquals("{\"empty_answer\":1,\"failed\":4,\"rewritten\":3}", r.get("rules").toString());
        assertEquals(texts.size(), r.get("docs").size(), "nothing lost");
        Map<String, JsonNode> byId = new java.util.HashMap<>();
        r.get("docs").forEach(d -> byId.put(d.get("id").asText(), d));
        assertEquals("Rewritten: ok text, clear and well formed.", byId.get("d0").get("text").asText());
        assertEquals("m1", byId.get("d0").get("rewrite_model").asText());
        assertEquals("Rewritten: flaky text, clear and well formed.", byId.get("d1").get("text").asText());
        assertEquals("SLOW four", byId.get("d3").get("text").asText());
        assertTrue(byId.get("d3").get("rewrite_error").asText().startsWith("timed out after 500 ms"), byId.get("d3").toString());
        assertTrue(byId.get("d4").get("rewrite_error").asText().startsWith("not a completion: <html>"), byId.get("d4").toString());
        assertTrue(byId.get("d5").get("rewrite_error").asText().startsWith("HTTP 400"), byId.get("d5").toString());
        assertEquals("EMPTY seven", byId.get("d6").get("text").asText());
        assertEquals("TRUNC eight", byId.get("d7").get("text").asText());
        assertTrue(byId.get("d7").get("rewrite_error").asText().startsWith("the answer reached max_tokens 512"), byId.get("d7").toString());
        assertEquals(2, requests.get("FLAKY").get());
        assertEquals(2, requests.get("RATE").get());
        assertEquals(2, requests.get("SLOW").get(), "one retry");
        assertEquals(1, requests.get("BAD").get(), "a 4xx is not retried");
        assertEquals("Please rephrase: OK one\n", bodies.stream().filter(b -> b.path("prompt").asText().contains("OK")).findFirst().orElseThrow().get("prompt").asText());
        // the rerun: answers come from the cache, only the failures are asked again
        JsonNode again = run("rw2", op, texts);
        assertEquals("{\"empty_answer\":1,\"failed\":4,\"rewritten_cached\":3}", again.get("rules").toString());
        assertEquals(2, requests.get("TRUNC").get(), "a cut-off answer is not cached");
        assertEquals(2, requests.get("FLAKY").get());
        assertEquals(1, requests.get("OK").get());
        assertEquals(2, requests.get("BAD").get());
    }

    @Test
    void chatApiAndFieldModeKeepTheOriginal() throws IOException {
        JsonNode r = run("chat", "rewrite: {endpoint: " + endpoint() + ", api: chat, mode: field, field: rephrased, cache: none}", List.of("OK text"));
        JsonNode d = r.get("docs").get(0);
        assertEquals("OK text", d.get("text").asText());
        assertEquals("Rewritten: ok text, clear and well formed.", d.get("rephrased").asText());
        JsonNode body = bodies.getFirst();
        assertEquals("user", body.at("/messages/0/role").asText());
        assertTrue(body.at("/messages/0/content").asText().contains("OK text"));
    }

    @Test
    void refiningProgramsFromAnEndpointAreRunAndAudited() throws IOException {
        String words = "the river floods every spring when the snow melts in the mountains above";
        JsonNode r = run("refine", "refine_programs: {from: endpoint, endpoint: " + endpoint() + ", cache: none, retries: 0, timeout_s: 0.5}",
                List.of("MENU\n" + words, "SLOW\n" + words + " " + words));
        assertEquals(2, r.get("docs").size());
        JsonNode refined = r.get("docs").get(0);
        assertEquals(words.replace("spring", "summer"), refined.get("text").asText());
        assertTrue(refined.get("refine_program").asText().startsWith("remove_lines(line_start=0, line_end=0)"));
        assertTrue(bodies.getFirst().get("prompt").asText().contains("[doc]\n[000]MENU\n[001]the river"), bodies.getFirst().toString());
        assertEquals("{\"endpoint_failed\":1,\"refined\":1}", r.get("rules").toString());
    }
}
