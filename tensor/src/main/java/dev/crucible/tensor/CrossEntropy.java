package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * Softmax cross-entropy fused over the logits buffer (rows x V, rows ld floats apart): forward turns
 * logits into probabilities in place and returns per-row losses; backward turns probabilities into
 * logit gradients in place. No second (rows x V) buffer is needed.
 */
public final class CrossEntropy {
    private final WorkerPool pool;

    public CrossEntropy(WorkerPool pool) {
        this.pool = pool;
    }

    /** losses[r] = −log softmax(logits[r])[target[r]]; logits become probabilities. */
    public void forward(float[] losses, int lossOff, float[] logits, int logitsOff, int ld, int[] targets, int tgtOff, int rows,
                        int vocab) {
        forward(losses, lossOff, null, logits, logitsOff, ld, targets, tgtOff, rows, vocab);
    }

    /** As above, also writing each row's log partition function log Z = log Σ exp(logits) to logZ[r] (when not null). */
    public void forward(float[] losses, int lossOff, float[] logZ, float[] logits, int logitsOff, int ld, int[] targets, int tgtOff, int rows,
                        int vocab) {
        pool.forRange(rows, pool.chunksFor((long) rows * vocab, 1 << 14), (s, e, ch, wk) -> {
            for (int r = s; r < e; r++) {
                int row = logitsOff + r * ld, tgt = targets[tgtOff + r];
                if (tgt < 0 || tgt >= vocab) {
                    throw new IllegalArgumentException("target id " + tgt + " at position " + r + " outside vocabulary of " + vocab);
                }
                float max = Vec.max(logits, row, vocab);
                float target = logits[row + tgt];
                float sum = Vec.expInPlace(logits, row, vocab, 1f, max);
                double logSum = Math.log(sum);
                losses[lossOff + r] = (float) (logSum - (target - max));
                if (logZ != null) logZ[r] = (float) (logSum + max);
                Vec.scale(logits, row, vocab, 1f / sum);
            }
        });
    }

    /** probs[r] := (probs[r] − onehot(target[r])) · dloss, the gradient of dloss · Σ losses. */
    public void backward(float[] probs, int off, int ld, int[] targets, int tgtOff, int rows, int vocab, float dloss) {
        backward(probs, off, ld, targets, tgtOff, rows, vocab, dloss, null, 0f);
    }

    /**
     * As above with PaLM's z-loss added to each row's loss, zLoss · log²Z (logZ from forward):
     * probs[r] := (probs[r] · (1 + 2 · zLoss · logZ[r]) − onehot(target[r])) · dloss.
     */
    public void backward(float[] probs, int off, int ld, int[] targets, int tgtOff, int rows, int vocab, float dloss, float[] logZ, float zLoss) {
        pool.forRange(rows, pool.chunksFor((long) rows * vocab, 1 << 14), (s, e, ch, wk) -> {
            for (int r = s; r < e; r++) {
                int row = off + r * ld;
                float f = logZ == null ? dloss : dloss * (1 + 2 * zLoss * logZ[r]);
                int i = 0, bound = Vec.S.loopBound(vocab);
                for (; i < bound; i += Vec.L) FloatVector.fromArray(Vec.S, probs, row + i).mul(f).intoArray(probs, row + i);
                for (; i < vocab; i++) probs[row + i] *= f;
                probs[row + targets[tgtOff + r]] -= dloss;
            }
        });
    }
}
