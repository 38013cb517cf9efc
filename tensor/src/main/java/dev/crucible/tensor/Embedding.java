package dev.crucible.tensor;

/**
 * Token embedding, times a multiplier (Gemma's √d; 1 elsewhere), plus an optional learned position embedding:
 * out[b,t,:] = m·wte[tok[b,t],:] + wpe[t,:].
 */
public final class Embedding {
    private final WorkerPool pool;

    public Embedding(WorkerPool pool) {
        this.pool = pool;
    }

    /** wpe may be null (RoPE models have no learned positions). */
    public void forward(float[] out, int outOff, int[] tokens, int tokOff, float[] wte, int wteOff, float[] wpe, int wpeOff,
                        int b, int t, int c, int vocab, float multiplier) {
        pool.forRange(b * t, pool.chunksFor((long) b * t * c, 1 << 13), (s, e, ch, wk) -> {
            for (int r = s; r < e; r++) {
                int tok = tokens[tokOff + r];
                if (tok < 0 || tok >= vocab) {
                    throw new IllegalArgumentException("token id " + tok + " at position " + r + " outside vocabulary of " + vocab);
                }
                int o = outOff + r * c;
                if (multiplier == 1f) System.arraycopy(wte, wteOff + tok * c, out, o, c);
                else Vec.scaleInto(out, o, wte, wteOff + tok * c, c, multiplier);
                // the position added by a method called per row, which a few steps compile: the lambda's own loop, entered
                // a few times a step, was not C2's code through gpt2-small's first tens of steps (each vector an object)
                if (wpe != null) Vec.addInto(out, o, wpe, wpeOff + (r % t) * c, c);
            }
        });
    }

    /**
     * dwte[tok] += m·dout[b,t]; dwpe[t] += sum_b dout[b,t]. Parallel over channel slices so that each
     * gradient element is accumulated by one task, in (b, t) order: deterministic without locks.
     */
    public void backward(float[] dwte, int dwteOff, float[] dwpe, int dwpeOff, float[] dout, int doutOff, int[] tokens,
                         int tokOff, int b, int t, int c, float multiplier) {
        int slices = Math.max(1, Math.min(4 * pool.size(), c / Vec.L));
        pool.forRange(c, slices, (s, e, ch, wk) -> {
            int n = e - s;
            for (int r = 0; r < b * t; r++) {
                int d = doutOff + r * c + s;
                if (multiplier == 1f) Vec.addInto(dwte, dwteOff + tokens[tokOff + r] * c + s, dout, d, n);
                else Vec.axpy(multiplier, dout, d, dwte, dwteOff + tokens[tokOff + r] * c + s, n);
                if (dwpe != null) Vec.addInto(dwpe, dwpeOff + (r % t) * c + s, dout, d, n);
            }
        });
    }
}
