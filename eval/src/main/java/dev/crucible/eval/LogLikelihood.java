package dev.crucible.eval;

import dev.crucible.data.PythonText;
import dev.crucible.data.tokenizer.TextEncoding;
import dev.crucible.model.Generator;
import dev.crucible.model.Model;
import java.util.List;

/**
 * Log-likelihood of continuations given contexts, as lm-evaluation-harness defines it: the tokens
 * (context + continuation), left-truncated to the model's window plus one, are run through the
 * model once; the score is the sum of the continuation tokens' log-probabilities, and "greedy" says
 * whether each of them is the model's argmax. The LM head runs only on the continuation's positions.
 * Requests are batched, shortest first, into rows padded at the end, as many rows per pass as the
 * model's positions hold ({@link Model#maxPositions()}: a model for 8 rows of a 256-token window scores
 * some 150 BLiMP sentences at once, not 8); causal attention and row-independent kernels make every
 * score independent of the batch it is in and of the padding, bit for bit (a test holds one request
 * per call and many per pass equal).
 */
public final class LogLikelihood {
    public record Request(int[] context, int[] continuation) {
        public Request {
            if (continuation.length == 0) throw new IllegalArgumentException("empty continuation");
            if (context.length == 0) throw new IllegalArgumentException("empty context: give at least the document-start token");
        }

        /**
         * A context and continuation encoded as lm-evaluation-harness encodes the pair (TemplateLM's
         * loglikelihood and _encode_pair): an empty context is the document-start token; otherwise the
         * whitespace ending the context moves to the continuation's start, context + continuation is
         * encoded whole, and the continuation is what follows as many tokens as the context alone
         * encodes to. Encoded apart, a prompt ending in "Answer: " would leave its space a token of
         * its own outside the scored part, and a pair whose boundary falls inside a pre-token would
         * split where the harness does not.
         */
        public static Request of(TextEncoding enc, String context, String continuation) {
            if (context.isEmpty()) return new Request(new int[] {enc.documentStart()}, enc.encode(continuation));
            int keep = PythonText.rstripLength(context);
            String ctx = context.substring(0, keep), cont = context.substring(keep) + continuation;
            if (ctx.isEmpty()) return new Request(new int[] {enc.documentStart()}, enc.encode(cont)); // the harness would score from no context at all
            int[] c = enc.encode(ctx), whole = enc.encode(ctx + cont);
            if (whole.length <= c.length) {
                throw new IllegalArgumentException("continuation '" + continuation + "' adds no token to its context '" + context + "' (the tokenizer merges it into the context's tokens)");
            }
            return new Request(c, java.util.Arrays.copyOfRange(whole, c.length, whole.length));
        }
    }

    public record Score(double logProb, boolean greedy, int tokens) {}

    private final Model model;
    private final java.util.Set<Integer> endOfSequence;
    private final int[] inputs, targets, positions;
    private int passes;
    private Generator generator; // made by the first greedy call

    /** model: allocated for (batch rows, window) — its maxBatch and maxSeqLen; no token ends a generation. */
    public LogLikelihood(Model model) {
        this(model, java.util.Set.of());
    }

    /** As above, with the tokens that end a generation (the checkpoint's eos_token_id, {@link dev.crucible.model.HfCheckpoint#endOfSequence}). */
    public LogLikelihood(Model model, java.util.Set<Integer> endOfSequence) {
        this.model = model;
        this.endOfSequence = java.util.Set.copyOf(endOfSequence);
        int n = model.maxPositions();
        inputs = new int[n];
        targets = new int[n];
        positions = new int[n];
    }

    /** Tokens the model sees at once: a request keeps its last window + 1 tokens. */
    public int window() {
        return model.maxSeqLen();
    }

    public Score[] score(List<Request> requests) {
        // Requests run in order of length, so the rows of a pass are padded little; a score does not
        // depend on the pass it is in, and comes back in the caller's order.
        long[] byLength = new long[requests.size()]; // length << 32 | index: a primitive sort, stable by index
        for (int i = 0; i < byLength.length; i++) byLength[i] = (long) length(requests.get(i)) << 32 | i;
        java.util.Arrays.sort(byLength);
        List<Request> sorted = new java.util.ArrayList<>(requests.size());
        for (long k : byLength) sorted.add(requests.get((int) k));
        Score[] inOrder = scoreInOrder(sorted), out = new Score[requests.size()];
        for (int k = 0; k < byLength.length; k++) out[(int) byLength[k]] = inOrder[k];
        return out;
    }

    /** The tokens that end a generation, as the harness stops at the tokenizer's end-of-sequence token whatever the task's stop strings. */
    public java.util.Set<Integer> endOfSequence() {
        return endOfSequence;
    }

    /** Forward passes the last {@link #score} ran. */
    public int passes() {
        return passes;
    }

    private Score[] scoreInOrder(List<Request> requests) {
        Score[] out = new Score[requests.size()];
        int capacity = model.maxPositions(), window = model.maxSeqLen(), vocab = model.config().vocabSize();
        passes = 0;
        for (int start = 0, rows; start < requests.size(); start += rows, passes++) {
            // as many requests as the positions hold, each row as long as the pass's last (longest) one
            int t = 1;
            for (rows = 0; start + rows < requests.size(); rows++) {
                int longer = Math.max(t, Math.min(window, length(requests.get(start + rows)) - 1));
                if ((long) (rows + 1) * longer > capacity) break;
                t = longer;
            }
            int n = 0;
            for (int r = 0; r < rows; r++) {
                Request q = requests.get(start + r);
                int len = length(q), keep = Math.min(len, window + 1), skip = len - keep;
                // row r: inputs = seq[skip .. len-2], targets = seq[skip+1 .. len-1], padded to t with token 0 (ignored)
                for (int i = 0; i < t; i++) {
                    boolean real = i < keep - 1;
                    inputs[r * t + i] = real ? at(q, skip + i) : 0;
                    targets[r * t + i] = real ? at(q, skip + i + 1) : 0;
                }
                // only the continuation's targets are scored (those left of the window are cut off with the context)
                int first = keep - 1 - q.continuation().length;
                for (int i = Math.max(0, first); i < keep - 1; i++) positions[n++] = r * t + i;
            }
            model.forwardPositions(inputs, targets, rows, t, positions, n);
            float[] losses = model.losses(), probs = model.probabilities();
            int ld = model.probabilityStride();
            int k = 0;
            for (int r = 0; r < rows; r++) {
                Request q = requests.get(start + r);
                int keep = Math.min(length(q), window + 1), scored = Math.min(q.continuation().length, keep - 1);
                double lp = 0;
                boolean greedy = true;
                for (int j = 0; j < scored; j++, k++) {
                    lp -= losses[k];
                    int row = k * ld;
                    float p = probs[row + targets[positions[k]]];
                    for (int v = 0; v < vocab && greedy; v++) if (probs[row + v] > p) greedy = false;
                }
                out[start + r] = new Score(lp, greedy, q.continuation().length);
            }
        }
        return out;
    }

    /**
     * Greedy continuations (argmax of the logits, the lowest id on a tie) of each context, up to
     * maxTokens or until stop says a generated prefix is complete, decoded with a key/value cache
     * ({@link Generator} over the model's weights, as many contexts at once as the model has rows):
     * each context's last window tokens prefilled, then one token per step. A sequence that fills the
     * window slides: its last window tokens are prefilled again for each further token, as a model
     * without a cache would see them. The cache's logits equal the full forward's within float rounding
     * and do not depend on the other contexts decoded beside them, bit for bit.
     */
    public int[][] greedy(List<int[]> contexts, int maxTokens, java.util.function.Predicate<int[]> stop) {
        int[][] out = new int[contexts.size()][];
        int window = model.maxSeqLen(), vocab = model.config().vocabSize(), slots = model.maxBatch();
        for (int i = 0; i < contexts.size(); i++) {
            if (contexts.get(i).length == 0) throw new IllegalArgumentException("context " + i + " is empty: give at least the document-start token");
        }
        if (maxTokens <= 0) {
            java.util.Arrays.fill(out, new int[0]);
            return out;
        }
        if (generator == null) generator = new Generator(model.config(), model.params, window, slots, model.pool());
        int[] slotOf = new int[slots], feed = new int[slots];
        for (int start = 0; start < contexts.size(); start += slots) {
            int rows = Math.min(slots, contexts.size() - start);
            int[][] seq = new int[rows][];
            int[] len = new int[rows], next = new int[rows], generated = new int[rows];
            boolean[] done = new boolean[rows];
            generator.reset();
            for (int r = 0; r < rows; r++) {
                int[] c = contexts.get(start + r);
                seq[r] = java.util.Arrays.copyOf(c, c.length + maxTokens);
                len[r] = c.length;
                next[r] = prefillLast(r, seq[r], len[r], window, vocab);
            }
            for (int step = 0; step < maxTokens; step++) {
                int k = 0;
                boolean any = false;
                for (int r = 0; r < rows; r++) {
                    if (done[r]) continue;
                    seq[r][len[r]++] = next[r];
                    generated[r]++;
                    if (stop.test(java.util.Arrays.copyOfRange(seq[r], len[r] - generated[r], len[r]))) {
                        done[r] = true;
                        continue;
                    }
                    any = true;
                    if (step == maxTokens - 1) continue;
                    if (generator.position(r) < window) {
                        slotOf[k] = r;
                        feed[k++] = next[r];
                    } else {
                        next[r] = prefillLast(r, seq[r], len[r], window, vocab); // the window is full: it slides by one
                    }
                }
                if (k > 0) {
                    float[] logits = generator.step(slotOf, feed, k);
                    for (int i = 0; i < k; i++) next[slotOf[i]] = argmax(logits, i * vocab, vocab);
                }
                if (!any) break;
            }
            for (int r = 0; r < rows; r++) out[start + r] = java.util.Arrays.copyOfRange(seq[r], len[r] - generated[r], len[r]);
        }
        return out;
    }

    /** Slot r's cache made anew from the last window tokens of seq[0, len); the argmax after them. */
    private int prefillLast(int r, int[] seq, int len, int window, int vocab) {
        int n = Math.min(window, len);
        generator.reset(r);
        return argmax(generator.prefill(r, seq, len - n, n), 0, vocab);
    }

    private static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int v = 1; v < n; v++) if (x[off + v] > x[off + best]) best = v;
        return best;
    }

    private static int length(Request q) {
        return q.context().length + q.continuation().length;
    }

    private static int at(Request q, int i) {
        return i < q.context().length ? q.context()[i] : q.continuation()[i - q.context().length];
    }
}
