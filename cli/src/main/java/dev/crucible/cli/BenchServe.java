package dev.crucible.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.eval.serve.CompletionServer;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import dev.crucible.tensor.WorkerPool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** bench serve: the HTTP server under 1, 4 and 16 concurrent clients, generating and scoring. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Requests/s and tokens/s of `crucible serve` (random weights, token-id prompts) with 1, 4 and 16 concurrent clients: "
                + "greedy generation (32-token prompts, 64 tokens each) and lm-evaluation-harness-style scoring (echo, logprobs, 128-token prompts); "
                + "--batch is the server's (prompts scored in one pass, sequences decoded together; default 8).")
final class BenchServe implements Runnable {
    @Mixin
    BenchCommand.Common c;
    @Option(names = "--requests", defaultValue = "32", description = "Requests per workload and client count (default ${DEFAULT-VALUE}).")
    int requests;

    @Override
    public void run() {
        ModelConfig cfg = c.config();
        try (WorkerPool pool = c.pool()) {
            Path dir = Files.createTempDirectory("crucible-bench-serve-");
            ParamLayout layout = new ParamLayout(cfg);
            float[] params = new float[layout.size()];
            layout.initialize(params, 1);
            HfCheckpoint.write(dir.resolve("model"), cfg, params, null);
            List<Map<String, Object>> rows = new ArrayList<>();
            try (CompletionServer server = new CompletionServer(dir.resolve("model"), c.preset, new CompletionServer.Settings("127.0.0.1", 0, 64, c.batch != null ? c.batch : 8, null), pool)) {
                HttpClient http = HttpClient.newHttpClient();
                String url = "http://127.0.0.1:" + server.port() + "/v1/completions";
                SplittableRandom rng = new SplittableRandom(1);
                for (String workload : new String[] {"generate", "score"}) {
                    int promptLen = workload.equals("generate") ? 32 : Math.min(128, cfg.contextLength() - 1), maxTokens = workload.equals("generate") ? 64 : 1;
                    List<String> bodies = new ArrayList<>();
                    for (int i = 0; i < requests; i++) {
                        int[] ids = rng.ints(promptLen, 0, cfg.vocabSize()).toArray();
                        bodies.add("{\"prompt\": " + new ObjectMapper().writeValueAsString(ids) + ", \"max_tokens\": " + maxTokens + ", \"temperature\": 0"
                                + (workload.equals("score") ? ", \"echo\": true, \"logprobs\": 1" : "") + "}");
                    }
                    send(http, url, bodies.subList(0, 2), 1); // warm-up
                    for (int clients : new int[] {1, 4, 16}) {
                        long t0 = System.nanoTime();
                        long tokens = send(http, url, bodies, clients);
                        double sec = (System.nanoTime() - t0) / 1e9;
                        long counted = workload.equals("generate") ? tokens : (long) requests * promptLen;
                        System.out.printf(Locale.ROOT, "%-8s %2d client(s): %d requests in %.2f s, %.1f requests/s, %.0f %s tokens/s%n", workload, clients,
                                requests, sec, requests / sec, counted / sec, workload.equals("generate") ? "generated" : "scored");
                        Map<String, Object> row = new LinkedHashMap<>();
                        row.put("workload", workload);
                        row.put("clients", clients);
                        row.put("requests_per_s", requests / sec);
                        row.put("tokens_per_s", counted / sec);
                        rows.add(row);
                    }
                }
            } finally {
                dev.crucible.data.pipeline.RecipeRun.deleteTree(dir);
            }
            if (c.json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("bench", "serve");
                out.put("model", c.describe());
                out.put("threads", pool.size());
                out.put("rows", rows);
                System.out.println(new ObjectMapper().writeValueAsString(out));
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends the bodies from `clients` threads at once; returns the completion tokens the server reported. */
    private static long send(HttpClient http, String url, List<String> bodies, int clients) throws Exception {
        ExecutorService ex = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Long>> fs = new ArrayList<>();
            java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
            for (int k = 0; k < clients; k++) {
                fs.add(ex.submit(() -> {
                    long tokens = 0;
                    for (int i; (i = next.getAndIncrement()) < bodies.size(); ) {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(bodies.get(i)))
                                .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() != 200) throw new IllegalStateException("HTTP " + r.statusCode() + ": " + r.body());
                        tokens += new ObjectMapper().readTree(r.body()).get("usage").get("completion_tokens").asLong();
                    }
                    return tokens;
                }));
            }
            long total = 0;
            for (Future<Long> f : fs) total += f.get();
            return total;
        } finally {
            ex.shutdownNow();
        }
    }
}
