package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/** Token embedding plus optional learned position embedding: out[b,t,:] = wte[tok[b,t],:] + wpe[t,:]. */
public final class Embedding {
    private final WorkerPool pool;

    public Embedding(WorkerPool pool) {
        this.pool = pool;
    }

    /** wpe may be null (RoPE models have no learned positions). */
    public void forward(float[] out, int outOff, int[] tokens, int tokOff, float[] wte, int wteOff, float[] wpe, int wpeOff,
                        int b, int t, int c, int vocab) {
        pool.forRange(b * t, pool.chunksFor((long) b * t * c, 1 << 13), (s, e, ch, wk) -> {
            for (int r = s; r < e; r++) {
                int tok = tokens[tokOff + r];
                if (tok < 0 || tok >= vocab) {
                    throw new IllegalArgumentException("token id " + tok + " at position " + r + " outside vocabulary of " + vocab);
                }
                int o = outOff + r * c, we = wteOff + tok * c;
                if (wpe == null) {
                    System.arraycopy(wte, we, out, o, c);
                    continue;
                }
                int pe = wpeOff + (r % t) * c;
                int i = 0, bound = Vec.S.loopBound(c);
                for (; i < bound; i += Vec.L) {
                    FloatVector.fromArray(Vec.S, wte, we + i).add(FloatVector.fromArray(Vec.S, wpe, pe + i)).intoArray(out, o + i);
                }
                for (; i < c; i++) out[o + i] = wte[we + i] + wpe[pe + i];
            }
        });
    }

    /**
     * dwte[tok] += dout[b,t]; dwpe[t] += sum_b dout[b,t]. Parallel over channel slices so that each
     * gradient element is accumulated by one task, in (b, t) order: deterministic without locks.
     */
    public void backward(float[] dwte, int dwteOff, float[] dwpe, int dwpeOff, float[] dout, int doutOff, int[] tokens,
                         int tokOff, int b, int t, int c) {
        int slices = Math.max(1, Math.min(4 * pool.size(), c / Vec.L));
        pool.forRange(c, slices, (s, e, ch, wk) -> {
            int n = e - s;
            for (int r = 0; r < b * t; r++) {
                int d = doutOff + r * c + s;
                Vec.addInto(dwte, dwteOff + tokens[tokOff + r] * c + s, dout, d, n);
                if (dwpe != null) Vec.addInto(dwpe, dwpeOff + (r % t) * c + s, dout, d, n);
            }
        });
    }
}
