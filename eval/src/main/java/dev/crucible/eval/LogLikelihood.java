package dev.crucible.eval;

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
    }

    public record Score(double logProb, boolean greedy, int tokens) {}

    private final Model model;
    private final int[] inputs, targets, positions;
    private int passes;

    /** model: allocated for (batch rows, window) — its maxBatch and maxSeqLen. */
    public LogLikelihood(Model model) {
        this.model = model;
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
     * Greedy continuations (argmax, the lowest id on a tie) of each context, up to maxTokens or until
     * stop says a generated prefix is complete. Each step runs the whole row again (no cache):
     * simple, and like scoring independent of the batch a context is in; contexts keep their last
     * window tokens.
     */
    public int[][] greedy(List<int[]> contexts, int maxTokens, java.util.function.Predicate<int[]> stop) {
        int[][] out = new int[contexts.size()][];
        int b = model.maxBatch(), window = model.maxSeqLen(), vocab = model.config().vocabSize();
        for (int start = 0; start < contexts.size(); start += b) {
            int rows = Math.min(b, contexts.size() - start);
            java.util.List<java.util.List<Integer>> seq = new java.util.ArrayList<>();
            int[] generated = new int[rows];
            boolean[] done = new boolean[rows];
            for (int r = 0; r < rows; r++) {
                java.util.List<Integer> l = new java.util.ArrayList<>();
                for (int x : contexts.get(start + r)) l.add(x);
                seq.add(l);
            }
            for (int step = 0; step < maxTokens; step++) {
                int t = 1;
                for (int r = 0; r < rows; r++) t = Math.max(t, Math.min(window, seq.get(r).size()));
                for (int r = 0; r < rows; r++) {
                    java.util.List<Integer> l = seq.get(r);
                    int n = Math.min(window, l.size()), skip = l.size() - n;
                    for (int i = 0; i < t; i++) {
                        inputs[r * t + i] = i < n ? l.get(skip + i) : 0;
                        targets[r * t + i] = 0;
                    }
                }
                for (int r = 0; r < rows; r++) positions[r] = r * t + Math.min(window, seq.get(r).size()) - 1;
                model.forwardPositions(inputs, targets, rows, t, positions, rows);
                float[] probs = model.probabilities();
                int ld = model.probabilityStride();
                boolean any = false;
                for (int r = 0; r < rows; r++) {
                    if (done[r]) continue;
                    int row = r * ld, best = 0;
                    for (int v = 1; v < vocab; v++) if (probs[row + v] > probs[row + best]) best = v;
                    seq.get(r).add(best);
                    generated[r]++;
                    int[] gen = tail(seq.get(r), generated[r]);
                    if (stop.test(gen)) done[r] = true;
                    any |= !done[r];
                }
                if (!any) break;
            }
            for (int r = 0; r < rows; r++) out[start + r] = tail(seq.get(r), generated[r]);
        }
        return out;
    }

    private static int[] tail(java.util.List<Integer> l, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = l.get(l.size() - n + i);
        return out;
    }

    private static int length(Request q) {
        return q.context().length + q.continuation().length;
    }

    private static int at(Request q, int i) {
        return i < q.context().length ? q.context()[i] : q.continuation()[i - q.context().length];
    }
}
