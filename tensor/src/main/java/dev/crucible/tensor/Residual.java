package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/** Residual connection: out = a + b (its backward, the gradient reaching both inputs, is the model's: see Model.backwardFromLogits). */
public final class Residual {
    private final WorkerPool pool;

    public Residual(WorkerPool pool) {
        this.pool = pool;
    }

    public void forward(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n) {
        pool.forRange(n, pool.chunksFor(n, 1 << 15), (s, e, ch, wk) -> {
            int i = s, bound = s + Vec.S.loopBound(e - s);
            for (; i < bound; i += Vec.L) {
                FloatVector.fromArray(Vec.S, a, aOff + i).add(FloatVector.fromArray(Vec.S, b, bOff + i)).intoArray(out, outOff + i);
            }
            for (; i < e; i++) out[outOff + i] = a[aOff + i] + b[bOff + i];
        });
    }
}
