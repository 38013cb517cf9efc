package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/** Pointwise activations: GELU (tanh form, as GPT-2) and SwiGLU (as Llama). */
public final class Activations {
    private static final float GELU_S = (float) Math.sqrt(2.0 / Math.PI), GELU_C = 0.044715f;
    private final WorkerPool pool;

    public Activations(WorkerPool pool) {
        this.pool = pool;
    }

    /*
     * GELU(x) = 0.5·x·(1 + tanh u), u = sqrt(2/pi)·(x + 0.044715·x³), evaluated through
     * 1 + tanh u = 2σ(2u) and 1 − tanh² u = 4σ(2u)σ(−2u): both keep their relative accuracy where the
     * tanh form cancels (large |x|). With E = exp(−2u): σ(2u) = 1/(1+E), σ(−2u) = E·σ(2u).
     */

    /** out = GELU(inp), tanh approximation as GPT-2. */
    public void geluForward(float[] out, int outOff, float[] inp, int inpOff, int n) {
        pool.forRange(n, pool.chunksFor(n, 1 << 14), (s, e, ch, wk) -> {
            int i = s, bound = s + Vec.S.loopBound(e - s);
            FloatVector one = FloatVector.broadcast(Vec.S, 1f);
            for (; i < bound; i += Vec.L) {
                FloatVector x = FloatVector.fromArray(Vec.S, inp, inpOff + i);
                FloatVector m2u = x.mul(x).mul(x).mul(GELU_C).add(x).mul(-2f * GELU_S);
                x.div(Vec.exp(m2u).add(one)).intoArray(out, outOff + i);
            }
            for (; i < e; i++) {
                float x = inp[inpOff + i];
                float m2u = (x * x * x * GELU_C + x) * (-2f * GELU_S);
                out[outOff + i] = x / (Vec.exp(m2u) + 1f);
            }
        });
    }

    /** dinp = dout · GELU'(inp) (overwrites: the pre-activation gradient buffer is scratch). */
    public void geluBackward(float[] dinp, int dinpOff, float[] inp, int inpOff, float[] dout, int doutOff, int n) {
        pool.forRange(n, pool.chunksFor(n, 1 << 14), (s, e, ch, wk) -> {
            int i = s, bound = s + Vec.S.loopBound(e - s);
            FloatVector one = FloatVector.broadcast(Vec.S, 1f);
            for (; i < bound; i += Vec.L) {
                FloatVector x = FloatVector.fromArray(Vec.S, inp, inpOff + i);
                FloatVector x2 = x.mul(x);
                FloatVector big = Vec.exp(x2.mul(x).mul(GELU_C).add(x).mul(-2f * GELU_S));
                FloatVector sg = one.div(big.add(one)), sgc = big.mul(sg);
                FloatVector du = x2.mul(3f * GELU_C).add(one).mul(2f * GELU_S);
                FloatVector grad = x.mul(sg).mul(sgc).mul(du).add(sg);
                grad.mul(FloatVector.fromArray(Vec.S, dout, doutOff + i)).intoArray(dinp, dinpOff + i);
            }
            for (; i < e; i++) {
                float x = inp[inpOff + i], x2 = x * x;
                float big = Vec.exp((x2 * x * GELU_C + x) * (-2f * GELU_S));
                float sg = 1f / (big + 1f), sgc = big * sg;
                float du = (x2 * (3f * GELU_C) + 1f) * (2f * GELU_S);
                float grad = x * sg * sgc * du + sg;
                dinp[dinpOff + i] = grad * dout[doutOff + i];
            }
        });
    }

    /** inp rows are [gate(I), up(I)]; out[r, j] = silu(gate) * up. */
    public void swigluForward(float[] out, int outOff, float[] inp, int inpOff, int rows, int hidden) {
        pool.forRange(rows, pool.chunksFor((long) rows * hidden, 1 << 14), (s, e, ch, wk) -> {
            FloatVector one = FloatVector.broadcast(Vec.S, 1f);
            int bound = Vec.S.loopBound(hidden);
            for (int r = s; r < e; r++) {
                int g = inpOff + r * 2 * hidden, u = g + hidden, o = outOff + r * hidden;
                int i = 0;
                for (; i < bound; i += Vec.L) {
                    FloatVector gv = FloatVector.fromArray(Vec.S, inp, g + i);
                    FloatVector sig = Vec.sigmoid(gv);
                    gv.mul(sig).mul(FloatVector.fromArray(Vec.S, inp, u + i)).intoArray(out, o + i);
                }
                for (; i < hidden; i++) {
                    float gv = inp[g + i];
                    out[o + i] = gv * Vec.sigmoid(gv) * inp[u + i];
                }
            }
        });
    }

    /** dinp (rows of [dgate, dup]) is overwritten with the SwiGLU gradient of dout. */
    public void swigluBackward(float[] dinp, int dinpOff, float[] inp, int inpOff, float[] dout, int doutOff, int rows,
                               int hidden) {
        pool.forRange(rows, pool.chunksFor((long) rows * hidden, 1 << 14), (s, e, ch, wk) -> {
            FloatVector one = FloatVector.broadcast(Vec.S, 1f);
            int bound = Vec.S.loopBound(hidden);
            for (int r = s; r < e; r++) {
                int g = inpOff + r * 2 * hidden, u = g + hidden, d = doutOff + r * hidden;
                int dg = dinpOff + r * 2 * hidden, du = dg + hidden;
                int i = 0;
                for (; i < bound; i += Vec.L) {
                    FloatVector gv = FloatVector.fromArray(Vec.S, inp, g + i), uv = FloatVector.fromArray(Vec.S, inp, u + i);
                    FloatVector go = FloatVector.fromArray(Vec.S, dout, d + i);
                    FloatVector sig = Vec.sigmoid(gv);
                    FloatVector silu = gv.mul(sig);
                    go.mul(silu).intoArray(dinp, du + i);
                    go.mul(uv).mul(sig.mul(one.add(gv.mul(one.sub(sig))))).intoArray(dinp, dg + i);
                }
                for (; i < hidden; i++) {
                    float gv = inp[g + i], uv = inp[u + i], go = dout[d + i];
                    float sig = Vec.sigmoid(gv);
                    dinp[du + i] = go * gv * sig;
                    dinp[dg + i] = go * uv * sig * (1f + gv * (1f - sig));
                }
            }
        });
    }
}
