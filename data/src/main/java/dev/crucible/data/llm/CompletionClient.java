package dev.crucible.data.llm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * A client of an OpenAI-compatible endpoint ({@code /v1/completions} or {@code /v1/chat/completions};
 * {@code crucible serve} is one) for data operators: at most {@code concurrency} requests in flight,
 * retries with exponential backoff on connection errors, timeouts, 429 and 5xx and on answers that are
 * not a completion (Retry-After honoured), no retry on other 4xx, an answer cut off at max_tokens
 * (finish_reason "length") refused, and a cache on disk keyed by the
 * request's bytes (one file per answer, written atomically), so a rerun, or a run resumed after a
 * kill, pays only for what it has not asked yet. Only successful answers are cached. Thread-safe.
 */
public final class CompletionClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** base: the API root, e.g. http://localhost:8000/v1; api: completions or chat. */
    public record Settings(URI base, String model, String api, int maxTokens, double temperature, List<String> stop, int concurrency, int retries,
                           Duration timeout, long backoffMs, Path cache, String apiKey) {
        public Settings {
            if (!api.equals("completions") && !api.equals("chat")) throw new IllegalArgumentException("api must be completions or chat, got '" + api + "'");
            if (maxTokens < 1 || concurrency < 1 || retries < 0 || backoffMs < 0 || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("max_tokens, concurrency and timeout must be positive, retries and backoff_ms not negative");
            }
            String s = base.getScheme();
            if (s == null || !(s.equals("http") || s.equals("https")) || base.getHost() == null) {
                throw new IllegalArgumentException("endpoint must be an http(s) URL such as http://localhost:8000/v1, got '" + base + "'");
            }
        }
    }

    /** An answer: the completion's text (from the cache or not), or why there is none after every attempt. */
    public sealed interface Answer permits Text, Failure {}

    public record Text(String text, boolean cached, int attempts) implements Answer {}

    public record Failure(String why, int attempts) implements Answer {}

    private final Settings s;
    private final HttpClient http;
    private final Semaphore slots;
    private final URI url;

    public CompletionClient(Settings settings) {
        this.s = settings;
        this.http = HttpClient.newBuilder().connectTimeout(settings.timeout()).build();
        this.slots = new Semaphore(settings.concurrency(), true);
        String base = settings.base().toString().replaceAll("/+$", "");
        this.url = URI.create(base + (settings.api().equals("chat") ? "/chat/completions" : "/completions"));
    }

    public Settings settings() {
        return s;
    }

    public Answer complete(String prompt) {
        String body = requestBody(prompt);
        Path cached = s.cache() == null ? null : s.cache().resolve(key(body));
        if (cached != null && Files.isRegularFile(cached)) {
            try {
                return new Text(JSON.readTree(cached.toFile()).get("text").asText(), true, 0);
            } catch (IOException | RuntimeException e) {
                // an unreadable entry is asked again and rewritten
            }
        }
        String why = null;
        for (int attempt = 1; attempt <= s.retries() + 1; attempt++) {
            long wait = 0;
            try {
                slots.acquire();
                HttpResponse<String> r;
                try {
                    HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(s.timeout()).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
                    if (s.apiKey() != null) b.header("Authorization", "Bearer " + s.apiKey());
                    r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                } finally {
                    slots.release();
                }
                int code = r.statusCode();
                if (code == 200) {
                    String text = text(r.body());
                    if (text != null && truncated(r.body())) {
                        // a cut-off answer would replace a document with part of a rewrite: not used, not cached
                        return new Failure("the answer reached max_tokens " + s.maxTokens() + " (finish_reason length)", attempt);
                    }
                    if (text != null) {
                        if (cached != null) store(cached, text);
                        return new Text(text, false, attempt);
                    }
                    why = "not a completion: " + abbreviate(r.body());
                } else if (code == 429 || code >= 500) {
                    why = "HTTP " + code + ": " + abbreviate(r.body());
                    wait = r.headers().firstValue("Retry-After").map(CompletionClient::seconds).orElse(0L) * 1000;
                } else {
                    return new Failure("HTTP " + code + ": " + abbreviate(r.body()), attempt);
                }
            } catch (HttpTimeoutException e) {
                why = "timed out after " + s.timeout().toMillis() + " ms";
            } catch (IOException e) {
                why = "connection failed: " + e;
            } catch (InterruptedException e) {
                throw interrupted();
            }
            if (attempt <= s.retries()) {
                try {
                    Thread.sleep(Math.min(30_000, Math.max(wait, s.backoffMs() << Math.min(attempt - 1, 20))));
                } catch (InterruptedException e) {
                    throw interrupted();
                }
            }
        }
        return new Failure(why, s.retries() + 1);
    }

    /** A cancelled run stops the step (it must not write documents as "failed" that were never asked about). */
    private static IllegalStateException interrupted() {
        Thread.currentThread().interrupt();
        return new IllegalStateException("interrupted while waiting for the endpoint");
    }

    private static boolean truncated(String body) {
        try {
            return "length".equals(JSON.readTree(body).path("choices").path(0).path("finish_reason").asText(null));
        } catch (IOException e) {
            return false;
        }
    }

    String requestBody(String prompt) {
        ObjectNode req = JSON.createObjectNode();
        req.put("model", s.model());
        if (s.api().equals("chat")) {
            req.putArray("messages").addObject().put("role", "user").put("content", prompt);
        } else {
            req.put("prompt", prompt);
        }
        req.put("max_tokens", s.maxTokens());
        req.put("temperature", s.temperature());
        if (!s.stop().isEmpty()) s.stop().forEach(req.withArray("stop")::add);
        return req.toString();
    }

    /** choices[0].text (completions) or choices[0].message.content (chat); null when the body is not that. */
    private String text(String body) {
        try {
            JsonNode c = JSON.readTree(body).path("choices").path(0);
            JsonNode t = s.api().equals("chat") ? c.path("message").path("content") : c.path("text");
            return t.isTextual() ? t.asText() : null;
        } catch (IOException e) {
            return null;
        }
    }

    private String key(String body) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest((url + "\n" + body).getBytes(StandardCharsets.UTF_8));
            String hex = HexFormat.of().formatHex(h);
            return hex.substring(0, 2) + "/" + hex + ".json";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Written to a temporary file of its own, then renamed: two threads asking the same prompt cannot mix their bytes. */
    private static void store(Path file, String text) {
        Path tmp = null;
        try {
            Files.createDirectories(file.getParent());
            tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
            Files.writeString(tmp, JSON.createObjectNode().put("text", text).toString(), StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // the answer is still used; only a rerun pays for it again
            if (tmp != null) tmp.toFile().delete();
        }
    }

    private static long seconds(String retryAfter) {
        try {
            return Math.min(30, Math.max(0, Long.parseLong(retryAfter.strip())));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ');
        return one.length() <= 200 ? one : one.substring(0, 200) + "…";
    }
}
