package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * Knowledge distillation from a teacher's logits, the loss of SALT (Rawat et al. 2024, "A Little Help
 * Goes a Long Way"): per row, L = (1 − ω)·CE(y, p_S) + ω·CE(p_T, p_S) with p_S = softmax(z_S) and the
 * softened teacher p_T = softmax(z_T / τ). Fused in place as {@link CrossEntropy} is: forward turns the
 * student's logits into p_S and the teacher's into p_T; backward turns p_S into the gradient
 * p_S − [(1 − ω)·onehot(y) + ω·p_T], scaled. Written per row: both cross-entropies share the student's
 * log-partition, CE(y) = lse − z_y and CE(p_T) = lse − Σ p_T·z_S.
 */
public final class Distillation {
    private final WorkerPool pool;

    public Distillation(WorkerPool pool) {
        this.pool = pool;
    }

    /**
     * losses[r] = the combined loss, hard[r] = CE(y), soft[r] = CE(p_T, p_S) (each from its offset);
     * student logits become p_S, teacher logits p_T.
     */
    public void forward(float[] losses, float[] hard, float[] soft, float[] student, int sOff, int sLd, float[] teacher, int tOff, int tLd,
                        int[] targets, int tgtOff, int rows, int vocab, float weight, float temperature) {
        float invTemp = 1f / temperature;
        pool.forRange(rows, pool.chunksFor((long) rows * vocab, 1 << 13), (s, e, ch, wk) -> {
            for (int r = s; r < e; r++) {
                int srow = sOff + r * sLd, trow = tOff + r * tLd, tgt = targets[tgtOff + r];
                if (tgt < 0 || tgt >= vocab) {
                    throw new IllegalArgumentException("target id " + tgt + " at position " + r + " outside vocabulary of " + vocab);
                }
                float tmax = Vec.max(teacher, trow, vocab);
                float tsum = Vec.expInPlace(teacher, trow, vocab, invTemp, tmax * invTemp);
                Vec.scale(teacher, trow, vocab, 1f / tsum);
                float dot = Vec.dot(teacher, trow, student, srow, vocab);
                float smax = Vec.max(student, srow, vocab), target = student[srow + tgt];
                float ssum = Vec.expInPlace(student, srow, vocab, 1f, smax);
                Vec.scale(student, srow, vocab, 1f / ssum);
                double lse = Math.log(ssum) + smax;
                float h = (float) (lse - target), k = (float) (lse - dot);
                hard[r] = h;
                soft[r] = k;
                losses[r] = (1 - weight) * h + weight * k;
            }
        });
    }

    /** p_S := (p_S − ω·p_T − (1 − ω)·onehot(y)) · dloss, the gradient of dloss · Σ losses. */
    public void backward(float[] probs, int sOff, int sLd, float[] teacher, int tOff, int tLd, int[] targets, int tgtOff, int rows, int vocab,
                         float weight, float dloss) {
        float wt = -weight * dloss;
        pool.forRange(rows, pool.chunksFor((long) rows * vocab, 1 << 14), (s, e, ch, wk) -> {
            for (int r = s; r < e; r++) {
                int srow = sOff + r * sLd, trow = tOff + r * tLd;
                FloatVector f = FloatVector.broadcast(Vec.S, dloss), w = FloatVector.broadcast(Vec.S, wt);
                int i = 0, bound = Vec.S.loopBound(vocab);
                for (; i < bound; i += Vec.L) {
                    FloatVector g = FloatVector.fromArray(Vec.S, probs, srow + i).mul(f);
                    Vec.fma(FloatVector.fromArray(Vec.S, teacher, trow + i), w, g).intoArray(probs, srow + i);
                }
                for (; i < vocab; i++) probs[srow + i] = Vec.fma(teacher[trow + i], wt, probs[srow + i] * dloss);
                probs[srow + targets[tgtOff + r]] -= (1 - weight) * dloss;
            }
        });
    }
}
