package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Fused AdamW over a range of one flat parameter buffer (decoupled weight decay as in PyTorch:
 * p ← p − lr·wd·p − lr·m̂/(√v̂ + eps)), with gradient clipping folded in as a gradient scale. One range
 * on the calling thread: the optimizer cuts its tensors into ranges and hands them to its workers.
 */
public final class AdamW {
    private AdamW() {}

    /**
     * One AdamW step on p[start, end) at step number {@code step} (1-based, for bias correction);
     * the gradient is multiplied by gradScale first (clipping). The moments of p[start + i] are
     * m[stateStart + i] and v[stateStart + i] (an optimizer keeps state only for the tensors it updates).
     * The scalar tail computes every element as the vector loop does, so the result does not depend on
     * where a range is cut.
     */
    public static void update(float[] p, float[] g, float[] m, float[] v, int start, int end, int stateStart, float lr, float beta1,
                              float beta2, float eps, float weightDecay, float gradScale, long step) {
        if (end <= start) return;
        final float bc1 = (float) (1 - Math.pow(beta1, step)), bc2 = (float) (1 - Math.pow(beta2, step));
        final float decay = 1f - lr * weightDecay, b1c = 1f - beta1, b2c = 1f - beta2;
        final float stepSize = lr / bc1, invSqrtBc2 = (float) (1 / Math.sqrt(bc2));
        int shift = stateStart - start;
        int i = start, bound = start + Vec.S.loopBound(end - start);
        for (; i < bound; i += Vec.L) {
            FloatVector gv = FloatVector.fromArray(Vec.S, g, i).mul(gradScale);
            FloatVector mv = FloatVector.fromArray(Vec.S, m, i + shift).mul(beta1).add(gv.mul(b1c));
            FloatVector vv = FloatVector.fromArray(Vec.S, v, i + shift).mul(beta2).add(gv.mul(gv).mul(b2c));
            mv.intoArray(m, i + shift);
            vv.intoArray(v, i + shift);
            FloatVector denom = vv.lanewise(VectorOperators.SQRT).mul(invSqrtBc2).add(eps);
            FloatVector pv = FloatVector.fromArray(Vec.S, p, i).mul(decay);
            pv.sub(mv.div(denom).mul(stepSize)).intoArray(p, i);
        }
        for (; i < end; i++) {
            float gi = g[i] * gradScale;
            float mi = m[i + shift] * beta1 + gi * b1c, vi = v[i + shift] * beta2 + gi * gi * b2c;
            m[i + shift] = mi;
            v[i + shift] = vi;
            float denom = (float) Math.sqrt(vi) * invSqrtBc2 + eps;
            p[i] = p[i] * decay - mi / denom * stepSize;
        }
    }
}
