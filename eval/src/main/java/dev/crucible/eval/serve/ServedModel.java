package dev.crucible.eval.serve;

import dev.crucible.data.tokenizer.TextEncoding;
import dev.crucible.model.Generator;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.Model;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.Sampler;
import dev.crucible.tensor.WorkerPool;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A checkpoint loaded for serving: prompts scored in batches on the training forward pass (every
 * position's log-probability and its top alternatives, as lm-evaluation-harness's completions models
 * ask for with echo and logprobs), and text sampled by a shared KV-cache decoder that steps every
 * running sequence together (batch of them: several clients' generations share each pass over the
 * weights). Not thread-safe: the server drives it from one thread.
 */
final class ServedModel {
    final String name;
    final ModelConfig config;
    final TextEncoding encoding;
    /** Tokens that end a completion (config.json's and generation_config.json's eos_token_id). */
    final java.util.Set<Integer> endOfSequence;
    /** The chat template (null: none, and /v1/chat/completions is refused), and the tokens that end a reply: those above and its end-of-turn token. */
    final ChatTemplate chat;
    final String chatMissing; // why chat is null
    final java.util.Set<Integer> endOfTurn;
    /** The template's end of turn where it is several tokens (no special token): a chat reply ends where this text appears, as at a stop sequence; else null. */
    final String endOfTurnText;
    private final Model model;
    private final WorkerPool pool;
    private final int batch;
    private final int[] inputs, targets, positions;

    /** chatTemplate: a template file to use, or null for the checkpoint's own (if it has one). */
    ServedModel(Path checkpoint, String name, int batch, WorkerPool pool, Path chatTemplate) throws IOException {
        this.name = name;
        this.pool = pool;
        this.batch = batch;
        try (HfCheckpoint ck = HfCheckpoint.open(checkpoint)) {
            config = ck.config();
            model = Model.forInference(config, batch, config.contextLength(), pool);
            ck.load(model.layout(), model.params);
            model.packWeights();
            endOfSequence = ck.endOfSequence();
        }
        // a model without a tokenizer (and not byte-level) is served on token ids only
        encoding = java.nio.file.Files.isRegularFile(checkpoint.resolve("tokenizer.json")) || config.vocabSize() == 256
                ? TextEncoding.forModel(checkpoint, config.vocabSize()) : null;
        ChatTemplate own = null;
        String missing = "no chat_template in its tokenizer_config.json, no chat_template.jinja";
        if (chatTemplate == null) { // the checkpoint's own: one that does not parse costs chat, not the server
            try {
                own = ChatTemplate.forCheckpoint(checkpoint);
            } catch (IOException e) {
                missing = "its template does not load: " + e.getMessage();
                System.err.println("crucible serve: " + checkpoint + ": the chat template does not load (" + e.getMessage() + "); /v1/chat/completions is refused");
            }
        }
        chat = chatTemplate != null ? ChatTemplate.fromFile(chatTemplate, checkpoint) : own; // a file the user names must load
        chatMissing = missing;
        java.util.Set<Integer> turn = new java.util.LinkedHashSet<>(endOfSequence);
        String turnText = null;
        if (chat != null && chat.endOfTurn() != null && !chat.endOfTurn().isEmpty() && encoding != null) {
            int[] ids = encoding.encode(chat.endOfTurn());
            if (ids.length == 1) turn.add(ids[0]); // a special token: the reply ends there
            else turnText = chat.endOfTurn();
        }
        endOfTurn = java.util.Set.copyOf(turn);
        endOfTurnText = turnText;
        int n = batch * config.contextLength();
        inputs = new int[n];
        targets = new int[n];
        positions = new int[n];
    }

    /**
     * A token's text as the API shows it (a piece that is not whole UTF-8 shows its replacement
     * characters; without a tokenizer, "<id>").
     */
    String piece(int token) {
        return encoding == null ? "<" + token + ">" : new String(encoding.bytes(token), StandardCharsets.UTF_8);
    }

    byte[] bytes(int token) {
        return encoding == null ? new byte[0] : encoding.bytes(token);
    }

    String text(List<Integer> tokens) {
        if (encoding == null) {
            StringBuilder sb = new StringBuilder();
            for (int t : tokens) sb.append(piece(t));
            return sb.toString();
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int t : tokens) b.writeBytes(encoding.bytes(t));
        return b.toString(StandardCharsets.UTF_8);
    }

    /**
     * For each prompt: the log-probability of each token after the first given the ones before it
     * (index 0 is NaN), the top alternatives at each of those positions, and the log-probabilities of
     * the token after the prompt (the last position's distribution).
     */
    record Scored(double[] logprobs, int[][] topTokens, double[][] topLogprobs, double[] next) {}

    List<Scored> score(List<int[]> prompts, int top) {
        List<Scored> out = new ArrayList<>();
        int b = model.maxBatch(), vocab = config.vocabSize();
        for (int start = 0; start < prompts.size(); start += b) {
            int rows = Math.min(b, prompts.size() - start), t = 1;
            for (int r = 0; r < rows; r++) t = Math.max(t, prompts.get(start + r).length);
            int n = 0;
            for (int r = 0; r < rows; r++) {
                int[] p = prompts.get(start + r);
                for (int i = 0; i < t; i++) {
                    inputs[r * t + i] = i < p.length ? p[i] : 0;
                    targets[r * t + i] = i + 1 < p.length ? p[i + 1] : 0;
                }
                for (int i = 0; i < p.length; i++) positions[n++] = r * t + i; // the last: the next token's distribution
            }
            model.forwardPositions(inputs, targets, rows, t, positions, n);
            float[] probs = model.probabilities(), losses = model.losses();
            int ld = model.probabilityStride(), k = 0;
            for (int r = 0; r < rows; r++) {
                int[] p = prompts.get(start + r);
                double[] lp = new double[p.length];
                int[][] tt = new int[p.length][];
                double[][] tl = new double[p.length][];
                lp[0] = Double.NaN;
                double[] next = new double[vocab];
                for (int i = 0; i < p.length; i++, k++) {
                    int row = k * ld;
                    if (i + 1 < p.length) {
                        lp[i + 1] = -losses[k]; // the loss's log-sum-exp: finite where the probability underflows, and the scorer's own value
                        tt[i + 1] = topK(probs, row, vocab, top);
                        tl[i + 1] = new double[tt[i + 1].length];
                        for (int j = 0; j < tt[i + 1].length; j++) {
                            // the token itself among its alternatives carries the same value (the harness's greedy test compares them)
                            tl[i + 1][j] = tt[i + 1][j] == p[i + 1] ? lp[i + 1] : Math.log(Math.max(probs[row + tt[i + 1][j]], Float.MIN_VALUE));
                        }
                    } else {
                        for (int v = 0; v < vocab; v++) next[v] = Math.log(Math.max(probs[row + v], Float.MIN_VALUE)); // finite: JSON has no -Infinity
                    }
                }
                out.add(new Scored(lp, tt, tl, next));
            }
        }
        return out;
    }

    /** The top ids of a probability row, most likely first (the lower id on a tie). */
    static int[] topK(float[] probs, int row, int vocab, int k) {
        k = Math.min(k, vocab);
        if (k <= 0) return new int[0];
        int[] best = new int[k];
        int have = 0;
        for (int v = 0; v < vocab; v++) {
            float p = probs[row + v];
            if (have == k && p <= probs[row + best[k - 1]]) continue;
            int at = have < k ? have++ : k - 1;
            while (at > 0 && probs[row + best[at - 1]] < p) {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = v;
        }
        return best;
    }

    /** Receives each sampled token with its log-probability; returns false to stop. */
    interface TokenSink {
        boolean accept(int token, double logprob, double[] logprobs);
    }

    /**
     * A sequence to generate: up to maxTokens tokens after the prompt, stopping at one of the stop
     * tokens (end of sequence, or of a chat turn), the context's end, or when the sink says so. It runs on a slot of the shared decoder
     * from {@link #admit} until it finishes; {@link #finish} says why it stopped ("length" or
     * "stop"), null while it runs; a sink that threw ends it with {@link #failure} set.
     */
    final class Sequence {
        private final int[] prompt;
        private final int maxTokens, total;
        private final Sampler sampler;
        private final TokenSink sink;
        private final java.util.Set<Integer> stops;
        private int slot = -1, fed, produced, generated, last;
        private String finish;
        private RuntimeException failure;

        private Sequence(int[] prompt, int maxTokens, Sampler sampler, java.util.Set<Integer> stops, TokenSink sink) {
            this.prompt = prompt;
            this.stops = stops;
            this.maxTokens = maxTokens;
            this.total = (int) Math.min(config.contextLength(), (long) prompt.length + maxTokens);
            this.sampler = sampler;
            this.sink = sink;
        }

        String finish() {
            return finish;
        }

        RuntimeException failure() {
            return failure;
        }

        /** Tokens sampled so far, the stop token it ended on included (vLLM's completion_tokens counts it). */
        int generated() {
            return generated;
        }

        /** The token this sequence feeds at the next step: the prompt's next, then the last one sampled. */
        private int input() {
            return fed < prompt.length ? prompt[fed] : last;
        }

        /** Takes the logits after its input: samples when the prompt is in, tells the sink, ends when it is done. */
        private void after(float[] logits, int at) {
            fed++;
            if (fed < prompt.length) return;
            float[] row = java.util.Arrays.copyOfRange(logits, at, at + config.vocabSize());
            double[] lp = logSoftmax(row);
            int token = sampler.sample(row);
            generated++;
            if (stops.contains(token)) {
                end("stop");
            } else if (!accept(token, lp)) {
                end(failure != null ? "error" : "stop");
            } else if (++produced == maxTokens || fed == total) {
                end("length"); // asked for no more, or the context is full
            } else {
                last = token;
            }
        }

        private boolean accept(int token, double[] lp) {
            try {
                return sink.accept(token, lp[token], lp);
            } catch (RuntimeException e) { // the client went away, say: this sequence ends, the others go on
                failure = e;
                return false;
            }
        }

        private void end(String why) {
            finish = why;
            if (slot >= 0) {
                running.remove(this);
                runningCount = running.size();
                slot = -1;
            }
        }
    }

    /**
     * A sequence for the shared decoder, to {@link #admit} and {@link #step}. Sampling is seeded, and
     * adjusted (penalties on its own tokens, a bias), per sequence, so its tokens do not depend on which
     * others share its steps. One token (lm-evaluation-
     * harness's greedy-continuation check, say) is sampled here from the prompt's next-token
     * log-probabilities (next, or scored now when null), without the decoder's prefill: the sequence
     * comes back finished.
     */
    Sequence sequence(int[] prompt, int maxTokens, double temperature, double topP, Sampler.Adjustments adjustments, long seed, java.util.Set<Integer> stops,
                      double[] next, TokenSink sink) {
        Sequence s = new Sequence(prompt, maxTokens, new Sampler(config.vocabSize(), temperature, 0, topP, seed, adjustments), stops, sink);
        if (maxTokens == 1) {
            double[] lp = next != null ? next : score(List.of(prompt), 1).getFirst().next();
            float[] logits = new float[lp.length];
            for (int i = 0; i < lp.length; i++) logits[i] = (float) lp[i];
            int token = s.sampler.sample(logits);
            s.generated = 1;
            if (stops.contains(token)) s.finish = "stop";
            else s.finish = !s.accept(token, lp) ? (s.failure != null ? "error" : "stop") : "length";
        } else if (maxTokens < 1) {
            s.finish = "length";
        }
        return s;
    }

    /** The decoder's sequences, in the order they were admitted. */
    private final List<Sequence> running = new ArrayList<>();
    private Generator decoder;

    /** Sequences the decoder can hold at once. */
    int slots() {
        return batch;
    }

    /** Sequences on the decoder now (volatile: another thread may look). */
    int running() {
        return runningCount;
    }

    private volatile int runningCount;

    /** Puts a sequence on a free slot of the decoder; false when every slot is taken. */
    boolean admit(Sequence s) {
        if (s.finish != null || s.slot >= 0) throw new IllegalStateException("the sequence is finished or already running");
        if (running.size() == batch) return false;
        if (decoder == null) decoder = new Generator(config, model.params, config.contextLength(), batch, pool);
        boolean[] taken = new boolean[batch];
        for (Sequence r : running) taken[r.slot] = true;
        int slot = 0;
        while (taken[slot]) slot++;
        decoder.reset(slot);
        s.slot = slot;
        running.add(s);
        runningCount = running.size();
        return true;
    }

    /** Ends every running sequence (after a failed step): their slots are free for the next requests. */
    void abortAll() {
        for (Sequence s : running.toArray(new Sequence[0])) s.end("error");
    }

    /**
     * One token for every running sequence, in one pass over the weights; those that finish leave their
     * slots. Before it, a sequence with more of its prompt to feed than that token is prefilled by up to
     * {@link Generator#PREFILL_ROWS} positions (the same bits as token by token): a long prompt goes in a
     * chunk per step, so the others' streams go on meanwhile rather than wait for all of it.
     */
    void step() {
        int n = running.size();
        if (n == 0) return;
        for (Sequence s : running) {
            int ahead = s.prompt.length - 1 - s.fed; // prompt tokens before the one this step feeds
            if (ahead > 0) {
                int c = Math.min(ahead, Generator.PREFILL_ROWS);
                decoder.prefill(s.slot, s.prompt, s.fed, c);
                s.fed += c;
            }
        }
        int[] slotOf = new int[n], tokens = new int[n];
        Sequence[] rows = running.toArray(new Sequence[0]);
        for (int r = 0; r < n; r++) {
            slotOf[r] = rows[r].slot;
            tokens[r] = rows[r].input();
        }
        float[] logits = decoder.step(slotOf, tokens, n);
        for (int r = 0; r < n; r++) rows[r].after(logits, r * config.vocabSize());
    }

    static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float l : logits) max = Math.max(max, l);
        for (float l : logits) sum += Math.exp(l - max);
        double log = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) out[i] = logits[i] - log;
        return out;
    }
}
