package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Pointwise activations: GELU (tanh form, as GPT-2) and SwiGLU (as Llama). */
public final class Activations {
    private static final float GELU_S = (float) Math.sqrt(2.0 / Math.PI), GELU_C = 0.044715f;
    private final WorkerPool pool;

    public Activations(WorkerPool pool) {
        this.pool = pool;
    }

    /** out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    public void geluForward(float[] out, int outOff, float[] inp, int inpOff, int n) {
        pool.forRange(n, pool.chunksFor(n, 1 << 14), (s, e, ch, wk) -> {
            int i = s, bound = s + Vec.S.loopBound(e - s);
            FloatVector half = FloatVector.broadcast(Vec.S, 0.5f), one = FloatVector.broadcast(Vec.S, 1f);
            for (; i < bound; i += Vec.L) {
                FloatVector x = FloatVector.fromArray(Vec.S, inp, inpOff + i);
                FloatVector u = x.mul(x).mul(x).mul(GELU_C).add(x).mul(GELU_S);
                x.mul(half).mul(u.lanewise(VectorOperators.TANH).add(one)).intoArray(out, outOff + i);
            }
            for (; i < e; i++) {
                float x = inp[inpOff + i];
                float u = GELU_S * (x + GELU_C * x * x * x);
                out[outOff + i] = 0.5f * x * (1f + (float) Math.tanh(u));
            }
        });
    }

    /** dinp = dout * gelu'(inp) (overwrites: the pre-activation gradient buffer is scratch) */
    public void geluBackward(float[] dinp, int dinpOff, float[] inp, int inpOff, float[] dout, int doutOff, int n) {
        pool.forRange(n, pool.chunksFor(n, 1 << 14), (s, e, ch, wk) -> {
            int i = s, bound = s + Vec.S.loopBound(e - s);
            FloatVector half = FloatVector.broadcast(Vec.S, 0.5f), one = FloatVector.broadcast(Vec.S, 1f);
            for (; i < bound; i += Vec.L) {
                FloatVector x = FloatVector.fromArray(Vec.S, inp, inpOff + i);
                FloatVector x2 = x.mul(x);
                FloatVector th = x2.mul(x).mul(GELU_C).add(x).mul(GELU_S).lanewise(VectorOperators.TANH);
                FloatVector sech2 = one.sub(th.mul(th));
                FloatVector du = x2.mul(3f * GELU_C).add(one).mul(GELU_S);
                FloatVector grad = th.add(one).mul(half).add(x.mul(half).mul(sech2).mul(du));
                grad.mul(FloatVector.fromArray(Vec.S, dout, doutOff + i)).intoArray(dinp, dinpOff + i);
            }
            for (; i < e; i++) {
                float x = inp[inpOff + i];
                float th = (float) Math.tanh(GELU_S * (x + GELU_C * x * x * x));
                float grad = 0.5f * (1f + th) + 0.5f * x * (1f - th * th) * GELU_S * (1f + 3f * GELU_C * x * x);
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
                    FloatVector sig = one.div(gv.neg().lanewise(VectorOperators.EXP).add(one));
                    gv.mul(sig).mul(FloatVector.fromArray(Vec.S, inp, u + i)).intoArray(out, o + i);
                }
                for (; i < hidden; i++) {
                    float gv = inp[g + i];
                    out[o + i] = gv / (1f + (float) Math.exp(-gv)) * inp[u + i];
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
                    FloatVector sig = one.div(gv.neg().lanewise(VectorOperators.EXP).add(one));
                    FloatVector silu = gv.mul(sig);
                    go.mul(silu).intoArray(dinp, du + i);
                    go.mul(uv).mul(sig.mul(one.add(gv.mul(one.sub(sig))))).intoArray(dinp, dg + i);
                }
                for (; i < hidden; i++) {
                    float gv = inp[g + i], uv = inp[u + i], go = dout[d + i];
                    float sig = 1f / (1f + (float) Math.exp(-gv));
                    dinp[du + i] = go * gv * sig;
                    dinp[dg + i] = go * uv * sig * (1f + gv * (1f - sig));
                }
            }
        });
    }
}
