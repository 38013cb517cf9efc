package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The element-wise part of SPAM (Huang et al., ICLR 2025, as its reference code does it): spike-aware
 * clipping of the gradient against the second moment before it is updated, then Adam with the
 * update scaled by the warm-up factor after a momentum reset (the reset itself, zeroing m and v, and
 * the factor are the optimizer's), and decoupled weight decay that the factor does not scale.
 */
public final class Spam {
    private Spam() {}

    /**
     * One step on p[start, end), state at m, v[stateStart + i]. g is multiplied by gradScale first; with
     * theta &gt; 0, where g² &gt; theta·v (v before this step's update) g becomes sign(g)·sqrt(theta·v).
     * Then m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g², and
     * p ← (p − lr·warmup·sqrt(1−β2^t)/(1−β1^t)·m/(sqrt(v)+eps))·(1 − lr·wd): the reference's two
     * in-place updates, the decay applied to the weight after the Adam term. On the calling thread; the
     * scalar tail computes every element as the vector loop does, so the result does not depend on
     * where a range is cut.
     */
    public static void update(float[] p, float[] g, float[] m, float[] v, int start, int end, int stateStart, float lr, float warmup,
                              float beta1, float beta2, float eps, float weightDecay, float theta, float gradScale, long t) {
        if (end <= start) return;
        final float stepSize = (float) (lr * warmup * Math.sqrt(1 - Math.pow(beta2, t)) / (1 - Math.pow(beta1, t)));
        final float decay = 1f - lr * weightDecay, b1c = 1f - beta1, b2c = 1f - beta2;
        final boolean clip = theta > 0;
        int shift = stateStart - start;
        int i = start, bound = start + Vec.S.loopBound(end - start);
        for (; i < bound; i += Vec.L) {
            FloatVector gv = FloatVector.fromArray(Vec.S, g, i).mul(gradScale);
            FloatVector vOld = FloatVector.fromArray(Vec.S, v, i + shift);
            if (clip) {
                FloatVector limit2 = vOld.mul(theta);
                VectorMask<Float> spike = gv.mul(gv).compare(VectorOperators.GT, limit2);
                if (spike.anyTrue()) {
                    FloatVector limit = limit2.lanewise(VectorOperators.SQRT);
                    FloatVector signed = limit.blend(limit.neg(), gv.compare(VectorOperators.LT, 0f));
                    gv = gv.blend(signed, spike);
                }
            }
            FloatVector mv = FloatVector.fromArray(Vec.S, m, i + shift).mul(beta1).add(gv.mul(b1c));
            FloatVector vv = vOld.mul(beta2).add(gv.mul(gv).mul(b2c));
            mv.intoArray(m, i + shift);
            vv.intoArray(v, i + shift);
            FloatVector pv = FloatVector.fromArray(Vec.S, p, i);
            pv = pv.sub(mv.div(vv.lanewise(VectorOperators.SQRT).add(eps)).mul(stepSize));
            pv.mul(decay).intoArray(p, i);
        }
        for (; i < end; i++) {
            float gi = g[i] * gradScale, vi = v[i + shift];
            if (clip && gi * gi > theta * vi) gi = Math.copySign((float) Math.sqrt(theta * vi), gi);
            float mi = beta1 * m[i + shift] + b1c * gi;
            vi = vi * beta2 + gi * gi * b2c;
            m[i + shift] = mi;
            v[i + shift] = vi;
            p[i] = (p[i] - stepSize * (mi / ((float) Math.sqrt(vi) + eps))) * decay;
        }
    }
}
