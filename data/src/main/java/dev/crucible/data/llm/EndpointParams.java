package dev.crucible.data.llm;

import dev.crucible.data.pipeline.Params;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The recipe keys of an operator that asks a completion endpoint (rewrite, refine_programs with
 * from: endpoint), read in one place: endpoint, model, api, max_tokens, temperature, stop,
 * concurrency, retries, timeout_s, backoff_ms, cache (a directory, "none" for no cache),
 * api_key_env (the name of an environment variable holding the key: keys never sit in recipes),
 * and prompt (a template file whose {text} is replaced by the document or chunk).
 */
public final class EndpointParams {
    private EndpointParams() {}

    public static CompletionClient client(Params p, String defaultCache, int defaultMaxTokens) {
        String endpoint = p.string("endpoint", null);
        if (endpoint == null) throw new IllegalArgumentException("'endpoint' is required: the API root of an OpenAI-compatible server, e.g. http://localhost:8000/v1");
        URI base;
        try {
            base = new URI(endpoint);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("endpoint '" + endpoint + "' is not a URL");
        }
        String cache = p.string("cache", defaultCache);
        String keyEnv = p.string("api_key_env", null);
        String key = keyEnv == null ? null : System.getenv(keyEnv);
        if (keyEnv != null && (key == null || key.isBlank())) throw new IllegalArgumentException("api_key_env: the environment variable " + keyEnv + " is not set");
        double timeout = p.number("timeout_s", 60);
        if (!(timeout > 0)) throw new IllegalArgumentException("timeout_s must be positive");
        return new CompletionClient(new CompletionClient.Settings(base, p.string("model", "default"), p.string("api", "completions"),
                p.integer("max_tokens", defaultMaxTokens), p.number("temperature", 0), p.strings("stop", List.of()), p.integer("concurrency", 4),
                p.integer("retries", 3), Duration.ofMillis(Math.round(timeout * 1000)), p.integer("backoff_ms", 1000),
                cache.equals("none") ? null : Path.of(cache), key));
    }

    /** The prompt template: a file whose text holds {text} once or more. */
    public static String template(Params p, String dflt) {
        String file = p.string("prompt", null);
        if (file == null) return dflt;
        try {
            String t = Files.readString(Path.of(file), StandardCharsets.UTF_8);
            if (!t.contains("{text}")) throw new IllegalArgumentException(file + ": the prompt template has no {text} where the document goes");
            return t;
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }
}
