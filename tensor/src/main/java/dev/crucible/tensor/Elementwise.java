package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/** Elementwise kernels over a range of a flat buffer. */
public final class Elementwise {
    private final WorkerPool pool;

    public Elementwise(WorkerPool pool) {
        this.pool = pool;
    }

    /** x[off, off + n) *= s. */
    public void scale(float[] x, int off, int n, float s) {
        pool.forRange(n, pool.chunksFor(n, 1 << 15), (st, e, ch, wk) -> {
            int i = st, bound = st + Vec.S.loopBound(e - st);
            for (; i < bound; i += Vec.L) FloatVector.fromArray(Vec.S, x, off + i).mul(s).intoArray(x, off + i);
            for (; i < e; i++) x[off + i] *= s;
        });
    }
}
