package dev.crucible.eval.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.crucible.tensor.WorkerPool;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An OpenAI-compatible HTTP server for one checkpoint (the JDK's own HTTP server; no dependency):
 * {@code GET /v1/models} (and {@code /v1/models/{id}}), {@code POST /v1/completions} and {@code POST /v1/chat/completions}
 * (the conversation through the model's chat template; both with server-sent events when
 * {@code stream} is true). Requests wait in a bounded queue for the model; scoring requests queued
 * together are scored together, and generations from several clients are decoded together, a token
 * of each per pass over the weights; a full queue answers 429.
 * Errors are JSON in OpenAI's shape, 400 for a bad request, never a stack trace. Binds to the
 * address it is given (the command's default is loopback).
 */
public final class CompletionServer implements AutoCloseable {
    /** The checkpoint to serve now (a run's newest), and the model's name for it. */
    public interface Source {
        Path checkpoint() throws IOException;

        String name(Path checkpoint);

        /** Other names the model answers to: a run's own, say, which stays while its checkpoints change. */
        default List<String> aliases() {
            return List.of();
        }
    }

    private final Source source;
    private final int batch;
    private final Path chatTemplate;
    private final WorkerPool pool;
    private volatile ServedModel model;
    private Path loaded, failed;
    private final HttpServer http;
    /** Requests waiting for the model, taken by one worker thread. */
    private final ArrayBlockingQueue<Job> jobs;
    private final Thread worker;
    private volatile boolean closed;
    private final ExecutorService connections;
    private final AtomicLong ids = new AtomicLong();
    private static final int MAX_BODY = 16 << 20;

    /**
     * How the server listens and batches: host and port; queue: requests that may wait for the model;
     * batch: prompts scored in one forward pass, and sequences decoded together; chatTemplate: a
     * template file for /v1/chat/completions, or null for the checkpoint's own.
     */
    public record Settings(String host, int port, int queue, int batch, Path chatTemplate) {}

    /** Serves one checkpoint under a name. */
    public CompletionServer(Path checkpoint, String name, Settings settings, WorkerPool pool) throws IOException {
        this(new Source() {
            public Path checkpoint() {
                return checkpoint;
            }

            public String name(Path ck) {
                return name;
            }
        }, settings, pool);
    }

    /** Serves what source names: a checkpoint newer than the one loaded is loaded when no generation is running (a run in progress). */
    public CompletionServer(Source source, Settings settings, WorkerPool pool) throws IOException {
        this.source = source;
        this.batch = settings.batch();
        this.chatTemplate = settings.chatTemplate();
        this.pool = pool;
        refresh();
        jobs = new ArrayBlockingQueue<>(settings.queue());
        worker = new Thread(this::work, "crucible-serve-model");
        worker.setDaemon(true);
        worker.start();
        // a request holds its connection's thread while it waits (queue), decodes (up to batch requests) or is scored in a
        // group taken from the queue (up to batch), and spare threads answer 429 and /v1/models at once
        connections = Executors.newFixedThreadPool(settings.queue() + 2 * batch + 4, r -> {
            Thread t = new Thread(r, "crucible-serve-http");
            t.setDaemon(true);
            return t;
        });
        http = HttpServer.create(new InetSocketAddress(settings.host(), settings.port()), 64);
        http.setExecutor(connections);
        http.createContext("/", this::handle);
        http.start();
    }

    /**
     * Loads the source's checkpoint when it is not the one loaded (on the model thread, between
     * requests). One that fails to load (still being written, or damaged) leaves the loaded model in
     * service and is not tried again.
     */
    private void refresh() throws IOException {
        Path ck = source.checkpoint();
        if (ck.equals(loaded) || ck.equals(failed)) return;
        try {
            model = new ServedModel(ck, source.name(ck), batch, pool, chatTemplate);
            loaded = ck;
        } catch (IOException | RuntimeException e) {
            if (model == null) throw e instanceof IOException io ? io : new IOException(ck + ": " + e.getMessage(), e);
            failed = ck;
            System.err.println("crucible serve: " + ck + " does not load (" + e.getMessage() + "); still serving " + loaded);
        }
    }

    /**
     * A completion request waiting for the model (or, with hold set, a pause of the model: tests make
     * it busy deterministically). parsed and bad are filled on the model thread, generation once it
     * is started there. The model thread never writes to the connection: it hands what is to be
     * written (a stream's events, then the response) to the connection's own thread through out, so
     * a slow or stalled client does not hold up the decoding of the others (it holds its own
     * connection thread, and enough such clients can take all of them: the JDK server has no write timeout).
     */
    private static final class Job {
        final JsonNode body;
        final String id;
        final java.util.concurrent.CountDownLatch hold;
        final boolean chat;
        final long created = System.currentTimeMillis() / 1000;
        final CompletableFuture<Void> done = new CompletableFuture<>(); // a hold's end
        final java.util.concurrent.LinkedBlockingQueue<Object> out = new java.util.concurrent.LinkedBlockingQueue<>();
        /** The client went away (a write failed), or reads too slowly: the model thread ends the job's sequences. */
        volatile boolean gone, slow;
        ServedModel parsedFor;
        Completions.Request parsed;
        Completions.BadRequest bad;
        Completions.Generation generation;

        Job(JsonNode body, String id, java.util.concurrent.CountDownLatch hold, boolean chat) {
            this.chat = chat;
            this.body = body;
            this.id = id;
            this.hold = hold;
        }

        /** Scored on the forward pass alone (no decoder): what requests from several clients share a batch for. */
        boolean scoringOnly() {
            return parsed != null && parsed.maxTokens() <= 1 && !parsed.stream();
        }

        /** The response (or, after a stream's events, its end: json null), which ends the job. */
        void reply(int status, ObjectNode json) {
            out.add(new Reply(status, json));
        }

        /** A stream's event; refused once the client has fallen too far behind (its sequence then ends). */
        void event(ObjectNode chunk) {
            if (gone) throw new java.io.UncheckedIOException(new IOException("the client went away"));
            if (out.size() >= STREAM_BACKLOG) {
                slow = true;
                throw new java.io.UncheckedIOException(new IOException("the client reads too slowly: " + STREAM_BACKLOG + " events unread"));
            }
            out.add(chunk);
        }
    }

    private record Reply(int status, ObjectNode json) {}

    /** Events a streaming client may have unread before its generation is ended. */
    static final int STREAM_BACKLOG = 4096;

    /**
     * The model thread. Generations share the decoder: every step advances each running sequence by a
     * token in one pass over the weights, and a new request's sequences join at the next step when
     * slots are free (continuous batching). A request that only scores (lm-evaluation-harness's
     * log-likelihood requests, one token or none generated) is served between steps, with the scoring
     * requests queued behind it, up to `batch` prompts in the same forward passes. A generation is
     * taken from the queue only when a slot is free for it, so the queue's bound (429) holds. A
     * failure is that request's (or, in a decoding step, the running requests'): the thread goes on.
     */
    private void work() {
        List<Job> active = new ArrayList<>(); // generations on the decoder or waiting for slots, oldest first
        while (!closed) {
            Job first;
            try {
                first = active.isEmpty() ? jobs.take() : ready(active);
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) { // admitting sequences failed (parse() keeps a request's own failure to itself): as a failed step
                first = null;
                abortDecoding(active, t);
            }
            if (first != null && first.hold != null) {
                try {
                    first.hold.await();
                } catch (InterruptedException e) {
                    return;
                }
                first.done.complete(null);
                continue;
            }
            ServedModel m = model;
            if (first != null) {
                List<Job> group = new ArrayList<>(List.of(first));
                try {
                    if (active.isEmpty()) { // between generations: a newer checkpoint of a run goes into service
                        refresh();
                        m = model;
                    }
                    parse(first, m);
                    if (first.scoringOnly()) {
                        int prompts = first.parsed.prompts().size();
                        for (Job next; prompts < batch && (next = jobs.peek()) != null && next.hold == null; ) {
                            parse(next, m);
                            if (!next.scoringOnly() && next.bad == null) break; // a generation: it waits for its own turn
                            jobs.poll();
                            group.add(next);
                            if (next.parsed != null) prompts += next.parsed.prompts().size();
                        }
                        largestGroup = Math.max(largestGroup, group.size());
                        score(group, m);
                    } else if (first.bad != null) {
                        score(group, m);
                    } else {
                        Job j = first;
                        if (j.parsed.chat() && j.parsed.stream()) j.event(Completions.chunk(j.parsed, j.id, j.created, m, "", null, null, true));
                        j.generation = Completions.start(j.parsed, m, j.id, j.parsed.stream() ? sse(j, m) : null, null);
                        active.add(j);
                    }
                } catch (Throwable t) {
                    for (Job j : group) if (!active.contains(j)) j.reply(500, errorJson(500, "the model failed on this request: " + t, null));
                }
            }
            if (active.isEmpty()) continue;
            try {
                for (Job j : active) if (!j.generation.admit()) break; // oldest first: a request's sequences keep their order
                largestDecode = Math.max(largestDecode, m.running());
                largestDecodeRequests = Math.max(largestDecodeRequests, (int) active.stream().filter(j -> j.generation.running()).count());
                m.step();
                for (java.util.Iterator<Job> it = active.iterator(); it.hasNext(); ) {
                    Job j = it.next();
                    if (j.generation.done()) {
                        it.remove();
                        finish(j, m);
                    }
                }
            } catch (Throwable t) { // the step failed for every sequence in it
                abortDecoding(active, t);
            }
        }
    }

    /** After a failure of the decoder: every running sequence ends and its request is answered 500. */
    private void abortDecoding(List<Job> active, Throwable t) {
        model.abortAll();
        for (Job j : active) j.reply(500, errorJson(500, "the model failed while decoding: " + t, null));
        active.clear();
    }

    /**
     * While generations run: the next request to take, if one can go now: the head of the queue when
     * it is a scoring request, or a generation with a slot free for it (every request in flight has
     * its sequences on the decoder); else the first scoring request behind a waiting generation; else null.
     */
    private Job ready(List<Job> active) {
        Job head = jobs.peek();
        if (head == null) return null;
        if (head.hold != null) return jobs.poll();
        parse(head, model);
        if (head.scoringOnly() || head.bad != null || roomFor(active)) return jobs.poll();
        for (Job j : jobs) { // generations keep their order; a scoring request need not wait behind them
            if (j.hold != null) return null;
            parse(j, model);
            if ((j.scoringOnly() || j.bad != null) && jobs.remove(j)) {
                passedWaiting++;
                return j;
            }
        }
        return null;
    }

    /** Admits the sequences that wait for slots; true when none waits and a slot is still free. */
    private boolean roomFor(List<Job> active) {
        for (Job j : active) if (!j.generation.admit()) return false;
        return model.running() < model.slots();
    }

    private void parse(Job j, ServedModel m) {
        if (j.parsedFor == m) return;
        j.parsedFor = m;
        j.parsed = null;
        j.bad = null;
        try {
            Completions.checkModel(j.body, names(m));
            j.parsed = j.chat ? Completions.parseChat(j.body, m) : Completions.parse(j.body, m);
        } catch (Completions.BadRequest e) {
            j.bad = e;
        } catch (RuntimeException | Error e) { // input the checks did not foresee: still that request's error
            j.bad = new Completions.BadRequest(null, "the request could not be read: " + e);
        }
    }

    /** Answers a group of requests that need no decoder: bad ones with 400, the scoring ones from one batched scoring of all their prompts. */
    private static void score(List<Job> group, ServedModel m) {
        List<int[]> prompts = new ArrayList<>();
        int top = 1;
        for (Job j : group) {
            if (j.parsed != null && j.scoringOnly()) {
                prompts.addAll(j.parsed.prompts());
                if (j.parsed.logprobs() != null) top = Math.max(top, j.parsed.logprobs());
            }
        }
        List<ServedModel.Scored> scored = prompts.isEmpty() ? List.of() : m.score(prompts, top);
        int at = 0;
        for (Job j : group) {
            if (j.bad != null) {
                j.reply(j.bad.status, errorJson(j.bad.status, j.bad.getMessage(), j.bad.param, j.bad.code));
                continue;
            }
            int n = j.parsed.prompts().size();
            try {
                Completions.Generation g = Completions.start(j.parsed, m, j.id, null, scored.subList(at, at + n));
                if (!g.admit() || !g.done()) throw new IllegalStateException("a scoring request left a sequence to decode");
                j.reply(200, g.finish(j.created));
            } catch (Throwable t) {
                j.reply(500, errorJson(500, "the model failed on this request: " + t, null));
            }
            at += n;
        }
    }

    /** Answers a generation that is done: its response, or the end of its stream; a client that went away gets nothing more. */
    private static void finish(Job j, ServedModel m) {
        try {
            RuntimeException failure = j.generation.failure();
            if (failure != null) {
                if (j.gone) j.reply(499, null); // the client is gone: nothing to write
                else j.reply(500, errorJson(500, j.slow ? failure.getMessage() : "the model failed on this request: " + failure, null));
                return;
            }
            ObjectNode response = j.generation.finish(j.created);
            if (j.parsed.stream()) {
                j.event(Completions.chunk(j.parsed, j.id, j.created, m, "", null, response.get("choices").get(0).get("finish_reason").asText(), false));
                if (j.parsed.includeUsage()) j.event(Completions.usageChunk(j.parsed, j.id, j.created, m, response.get("usage")));
                j.reply(200, null);
            } else {
                j.reply(200, response);
            }
        } catch (Throwable t) {
            j.reply(500, errorJson(500, "the model failed on this request: " + t, null));
        }
    }

    /** Holds the model thread until released (tests: a busy model, deterministically). */
    Future<?> occupy(java.util.concurrent.CountDownLatch release) {
        Job hold = new Job(null, null, release, false);
        if (!jobs.offer(hold)) throw new IllegalStateException("queue full");
        return hold.done;
    }

    /** The most requests served by one batched scoring so far, the most sequences decoded in one step, and the most requests they came from. */
    volatile int largestGroup, largestDecode, largestDecodeRequests;
    /** Requests answered ahead of a generation that waited in the queue for a slot. */
    volatile int passedWaiting;

    /** Requests waiting for the model. */
    int queued() {
        return jobs.size();
    }

    /** Sequences on the decoder (read from another thread: a test's view). */
    int running() {
        return model.running();
    }

    public int port() {
        return http.getAddress().getPort();
    }

    public String modelName() {
        return model.name;
    }

    /** The names a request may give the model: its id (the checkpoint's name), then the source's aliases. */
    private List<String> names(ServedModel m) {
        List<String> names = new ArrayList<>(List.of(m.name));
        for (String alias : source.aliases()) if (!names.contains(alias)) names.add(alias);
        return names;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            if (path.startsWith("/v1/models/")) { // an id may hold slashes (a run's name/checkpoint)
                if (!ex.getRequestMethod().equals("GET")) {
                    error(ex, 405, "use GET for " + path, null);
                    return;
                }
                ServedModel now = model;
                String id = path.substring("/v1/models/".length());
                if (names(now).contains(id)) {
                    send(ex, 200, card(now, id));
                } else {
                    Completions.BadRequest e = Completions.modelNotFound(id, names(now));
                    send(ex, e.status, errorJson(e.status, e.getMessage(), e.param, e.code));
                }
                return;
            }
            switch (path) {
                case "/v1/models" -> {
                    if (!ex.getRequestMethod().equals("GET")) {
                        error(ex, 405, "use GET for " + path, null);
                        return;
                    }
                    ServedModel now = model;
                    ObjectNode out = Completions.JSON.createObjectNode();
                    out.put("object", "list");
                    com.fasterxml.jackson.databind.node.ArrayNode data = out.putArray("data");
                    for (String name : names(now)) data.add(card(now, name));
                    send(ex, 200, out);
                }
                case "/v1/completions" -> completions(ex, false);
                case "/v1/chat/completions" -> completions(ex, true);
                default -> error(ex, 404, "no such endpoint: " + path + " (/v1/models, /v1/models/{id}, /v1/completions, /v1/chat/completions)", null);
            }
        } catch (IOException e) {
            // the client went away; nothing to answer
        }
    }

    /** OpenAI's model object for one of the model's names; root: the checkpoint it is now. */
    private static ObjectNode card(ServedModel m, String name) {
        ObjectNode c = Completions.JSON.createObjectNode();
        c.put("id", name);
        c.put("object", "model");
        c.put("created", 0);
        c.put("owned_by", "crucible");
        c.put("root", m.name);
        c.put("context_length", m.config.contextLength());
        return c;
    }

    private void completions(HttpExchange ex, boolean chat) throws IOException {
        if (!ex.getRequestMethod().equals("POST")) {
            error(ex, 405, "use POST for " + ex.getRequestURI().getPath(), null);
            return;
        }
        byte[] bytes;
        try (InputStream in = ex.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY + 1);
        }
        if (bytes.length > MAX_BODY) {
            error(ex, 413, "the request body is over " + (MAX_BODY >> 20) + " MB", null);
            return;
        }
        JsonNode body;
        try {
            body = Completions.JSON.readTree(bytes);
        } catch (IOException e) {
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            error(ex, 400, "the request body is not JSON: " + why, null);
            return;
        }
        Job job = new Job(body, (chat ? "chatcmpl-" : "cmpl-") + ids.incrementAndGet(), null, chat);
        if (!jobs.offer(job)) {
            error(ex, 429, "the server is busy (" + jobs.size() + " requests waiting); retry later", null);
            return;
        }
        // what the model thread hands over: a stream's events (headers sent with the first), then the reply
        boolean streaming = false;
        OutputStream out = ex.getResponseBody();
        try {
            while (true) {
                Object next = job.out.take();
                if (next instanceof ObjectNode chunk) {
                    if (!streaming) {
                        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
                        ex.getResponseHeaders().set("Cache-Control", "no-cache");
                        ex.sendResponseHeaders(200, 0);
                        streaming = true;
                    }
                    event(out, chunk);
                } else if (next instanceof Reply r) {
                    if (r.status() == 499) return; // the client went away
                    if (streaming) { // the stream's end: a failure after its start can only be told in an event
                        if (r.json() != null) event(out, r.json());
                        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                        out.flush();
                    } else if (r.json() != null) {
                        send(ex, r.status(), r.json());
                    }
                    return;
                }
            }
        } catch (InterruptedException e) {
            job.gone = true;
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            job.gone = true; // the model thread ends its sequences at their next token
            throw e;
        }
    }

    /** A stream's pieces as server-sent events (for chat, after the role the model thread sent first). */
    private static java.util.function.BiConsumer<String, ObjectNode> sse(Job j, ServedModel m) {
        return (piece, logprobs) -> j.event(Completions.chunk(j.parsed, j.id, j.created, m, piece, logprobs, null, false));
    }

    private static void event(OutputStream out, ObjectNode data) throws IOException {
        out.write(("data: " + Completions.JSON.writeValueAsString(data) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void error(HttpExchange ex, int status, String message, String param) throws IOException {
        send(ex, status, errorJson(status, message, param));
    }

    private static ObjectNode errorJson(int status, String message, String param) {
        return errorJson(status, message, param, null);
    }

    private static ObjectNode errorJson(int status, String message, String param, String code) {
        ObjectNode out = Completions.JSON.createObjectNode();
        ObjectNode e = out.putObject("error");
        e.put("message", message);
        e.put("type", status == 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error");
        if (param == null) e.putNull("param");
        else e.put("param", param);
        if (code == null) e.putNull("code");
        else e.put("code", code);
        return out;
    }

    private static void send(HttpExchange ex, int status, ObjectNode json) throws IOException {
        byte[] b = Completions.JSON.writeValueAsBytes(json);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    @Override
    public void close() {
        closed = true;
        http.stop(0);
        worker.interrupt();
        connections.shutdownNow();
    }
}
