package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/** Pointwise activations: GELU (tanh form, as GPT-2; exact, by erf, as GPT-NeoX), SwiGLU (as Llama) and GeGLU (tanh form, as Gemma). */
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

    /** GELU(x), tanh form: x·σ(2u). */
    private static FloatVector gelu(FloatVector x, FloatVector one) {
        FloatVector m2u = x.mul(x).mul(x).mul(GELU_C).add(x).mul(-2f * GELU_S);
        return x.div(Vec.exp(m2u).add(one));
    }

    private static float gelu(float x) {
        float m2u = (x * x * x * GELU_C + x) * (-2f * GELU_S);
        return x / (Vec.exp(m2u) + 1f);
    }

    /** GELU'(x), tanh form: σ(2u) + x·σ(2u)·σ(−2u)·2u'. */
    private static FloatVector geluGrad(FloatVector x, FloatVector one) {
        FloatVector x2 = x.mul(x);
        FloatVector big = Vec.exp(x2.mul(x).mul(GELU_C).add(x).mul(-2f * GELU_S));
        FloatVector sg = one.div(big.add(one)), sgc = big.mul(sg);
        FloatVector du = x2.mul(3f * GELU_C).add(one).mul(2f * GELU_S);
        return x.mul(sg).mul(sgc).mul(du).add(sg);
    }

    private static float geluGrad(float x) {
        float x2 = x * x;
        float big = Vec.exp((x2 * x * GELU_C + x) * (-2f * GELU_S));
        float sg = 1f / (big + 1f), sgc = big * sg;
        float du = (x2 * (3f * GELU_C) + 1f) * (2f * GELU_S);
        return x * sg * sgc * du + sg;
    }

    /** out = GELU(inp), tanh approximation as GPT-2. */
    public void geluForward(float[] out, int outOff, float[] inp, int inpOff, int n) {
        pool.forRange(n, pool.chunksFor(n, 1 << 14), (s, e, ch, wk) -> {
            int i = s, bound = s + Vec.S.loopBound(e - s);
            FloatVector one = FloatVector.broadcast(Vec.S, 1f);
            for (; i < bound; i += Vec.L) gelu(FloatVector.fromArray(Vec.S, inp, inpOff + i), one).intoArray(out, outOff + i);
            for (; i < e; i++) out[outOff + i] = gelu(inp[inpOff + i]);
        });
    }

    /** dinp = dout · GELU'(inp) (overwrites: the pre-activation gradient buffer is scratch). */
    public void geluBackward(float[] dinp, int dinpOff, float[] inp, int inpOff, float[] dout, int doutOff, int n) {
        pool.forRange(n, pool.chunksFor(n, 1 << 14), (s, e, ch, wk) -> {
            int i = s, bound = s + Vec.S.loopBound(e - s);
            FloatVector one = FloatVector.broadcast(Vec.S, 1f);
            for (; i < bound; i += Vec.L) {
                FloatVector grad = geluGrad(FloatVector.fromArray(Vec.S, inp, inpOff + i), one);
                grad.mul(FloatVector.fromArray(Vec.S, dout, doutOff + i)).intoArray(dinp, dinpOff + i);
            }
            for (; i < e; i++) dinp[dinpOff + i] = geluGrad(inp[inpOff + i]) * dout[doutOff + i];
        });
    }

    /*
     * Exact GELU(x) = x·Φ(x), Φ(x) = ½·erfc(−x/√2), with erfc(z) for z = |x|/√2 ≥ 0 as Numerical Recipes' erfcc
     * (Press et al., 2nd ed., §6.2: a Chebyshev fit, fractional error below 1.2e-7 everywhere): erfc(z) =
     * t·exp(−z² + P(t)), t = 1/(1 + z/2). Φ(x) = ½·erfc(z) for x < 0 and 1 − ½·erfc(z) otherwise, so that both
     * tails keep their relative accuracy (transformers' own float form, 1 + erf(x/√2), cancels for negative x).
     * −z² + P(t) = −|x|·(|x|/2) + P(t) is one fused multiply-add whose product is exact (z itself is rounded, and z²'s
     * relative error would grow the tail's by z²: 1e-5 at x = −12). Its derivative
     * is Φ(x) + x·φ(x), φ(x) = exp(−x²/2)/√(2π).
     */
    private static final float RSQRT2 = (float) (1 / Math.sqrt(2)), RSQRT_2PI = (float) (1 / Math.sqrt(2 * Math.PI));
    private static final float[] ERFC = {-1.26551223f, 1.00002368f, 0.37409196f, 0.09678418f, -0.18628806f, 0.27886807f, -1.13520398f,
            1.48851587f, -0.82215223f, 0.17087277f};

    /** Φ(x), the standard normal distribution function, by vectors. */
    private static FloatVector phi(FloatVector x) {
        FloatVector z = x.abs().mul(RSQRT2), t = FloatVector.broadcast(Vec.S, 1f).div(z.mul(0.5f).add(1f));
        FloatVector p = FloatVector.broadcast(Vec.S, ERFC[9]);
        for (int i = 8; i >= 0; i--) p = p.fma(t, FloatVector.broadcast(Vec.S, ERFC[i]));
        FloatVector a = x.abs(), half = t.mul(Vec.exp(a.neg().fma(a.mul(0.5f), p))).mul(0.5f); // ½·erfc(z)
        return half.neg().add(1f).blend(half, x.lt(0f));
    }

    private static float phi(float x) {
        float z = Math.abs(x) * RSQRT2, t = 1f / (z * 0.5f + 1f);
        float p = ERFC[9];
        for (int i = 8; i >= 0; i--) p = Math.fma(p, t, ERFC[i]);
        float a = Math.abs(x), half = t * Vec.exp(Math.fma(-a, a * 0.5f, p)) * 0.5f;
        return x < 0 ? half : 1f - half;
    }

    /** out = GELU(inp), exact (by erf), as transformers' "gelu". */
    public void geluExactForward(float[] out, int outOff, float[] inp, int inpOff, int n) {
        pool.forRange(n, pool.chunksFor(n, 1 << 14), (s, e, ch, wk) -> geluExactRange(out, outOff, inp, inpOff, s, e));
    }

    private static void geluExactRange(float[] out, int outOff, float[] inp, int inpOff, int s, int e) {
        int i = s, bound = s + Vec.S.loopBound(e - s);
        for (; i < bound; i += Vec.L) {
            FloatVector x = FloatVector.fromArray(Vec.S, inp, inpOff + i);
            x.mul(phi(x)).intoArray(out, outOff + i);
        }
        for (; i < e; i++) {
            float x = inp[inpOff + i];
            out[outOff + i] = x * phi(x);
        }
    }

    /** dinp = dout · GELU'(inp) for the exact GELU (overwrites; dinp must not be dout, which is read after dinp is first written). */
    public void geluExactBackward(float[] dinp, int dinpOff, float[] inp, int inpOff, float[] dout, int doutOff, int n) {
        pool.forRange(n, pool.chunksFor(n, 1 << 14), (s, e, ch, wk) -> geluExactBackwardRange(dinp, dinpOff, inp, inpOff, dout, doutOff, s, e));
    }

    /**
     * Φ(x) first, then + x·φ(x) and the product with dout, in two loops of one exponential each over the range (in cache
     * between them): one loop with both exponentials was past C2's inlining budget, which left the vectors boxed
     * (36 MB allocated per call on an MLP's 3.1M activations, four times the time).
     */
    private static void geluExactBackwardRange(float[] dinp, int dinpOff, float[] inp, int inpOff, float[] dout, int doutOff, int s, int e) {
        distribution(dinp, dinpOff, inp, inpOff, s, e);
        addDensityTimesGradient(dinp, dinpOff, inp, inpOff, dout, doutOff, s, e);
    }

    /** dinp = Φ(inp) over [s, e). */
    private static void distribution(float[] dinp, int dinpOff, float[] inp, int inpOff, int s, int e) {
        int i = s, bound = s + Vec.S.loopBound(e - s);
        for (; i < bound; i += Vec.L) phi(FloatVector.fromArray(Vec.S, inp, inpOff + i)).intoArray(dinp, dinpOff + i);
        for (; i < e; i++) dinp[dinpOff + i] = phi(inp[inpOff + i]);
    }

    /** dinp = (dinp + x·φ(x))·dout over [s, e), φ(x) = exp(−x²/2)/√(2π). */
    private static void addDensityTimesGradient(float[] dinp, int dinpOff, float[] inp, int inpOff, float[] dout, int doutOff, int s, int e) {
        int i = s, bound = s + Vec.S.loopBound(e - s);
        for (; i < bound; i += Vec.L) {
            FloatVector x = FloatVector.fromArray(Vec.S, inp, inpOff + i);
            FloatVector density = Vec.exp(x.neg().mul(x.mul(0.5f))).mul(RSQRT_2PI);
            x.fma(density, FloatVector.fromArray(Vec.S, dinp, dinpOff + i)).mul(FloatVector.fromArray(Vec.S, dout, doutOff + i)).intoArray(dinp, dinpOff + i);
        }
        for (; i < e; i++) {
            float x = inp[inpOff + i];
            float density = Vec.exp(x * x * -0.5f) * RSQRT_2PI;
            dinp[dinpOff + i] = Math.fma(x, density, dinp[dinpOff + i]) * dout[doutOff + i];
        }
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

    /** inp rows are [gate(I), up(I)]; out[r, j] = gelu(gate) * up, GELU's tanh form (GeGLU as Gemma has it). */
    public void gegluForward(float[] out, int outOff, float[] inp, int inpOff, int rows, int hidden) {
        pool.forRange(rows, pool.chunksFor((long) rows * hidden, 1 << 14), (s, e, ch, wk) -> {
            FloatVector one = FloatVector.broadcast(Vec.S, 1f);
            int bound = Vec.S.loopBound(hidden);
            for (int r = s; r < e; r++) {
                int g = inpOff + r * 2 * hidden, u = g + hidden, o = outOff + r * hidden;
                int i = 0;
                for (; i < bound; i += Vec.L) {
                    gelu(FloatVector.fromArray(Vec.S, inp, g + i), one).mul(FloatVector.fromArray(Vec.S, inp, u + i)).intoArray(out, o + i);
                }
                for (; i < hidden; i++) out[o + i] = gelu(inp[g + i]) * inp[u + i];
            }
        });
    }

    /** dinp (rows of [dgate, dup]) is overwritten with the GeGLU gradient of dout. */
    public void gegluBackward(float[] dinp, int dinpOff, float[] inp, int inpOff, float[] dout, int doutOff, int rows, int hidden) {
        pool.forRange(rows, pool.chunksFor((long) rows * hidden, 1 << 14), (s, e, ch, wk) -> {
            FloatVector one = FloatVector.broadcast(Vec.S, 1f);
            int bound = Vec.S.loopBound(hidden);
            for (int r = s; r < e; r++) {
                int g = inpOff + r * 2 * hidden, u = g + hidden, d = doutOff + r * hidden;
                int dg = dinpOff + r * 2 * hidden, du = dg + hidden;
                int i = 0;
                for (; i < bound; i += Vec.L) {
                    // GELU and its derivative from one exp, written out: calling the two helpers here, the vectors were
                    // allocated (74 MB a step in bench train --model tiny-llama --set glu=geglu, against 8 KB written out)
                    FloatVector x = FloatVector.fromArray(Vec.S, inp, g + i), uv = FloatVector.fromArray(Vec.S, inp, u + i);
                    FloatVector go = FloatVector.fromArray(Vec.S, dout, d + i);
                    FloatVector x2 = x.mul(x);
                    FloatVector big = Vec.exp(x2.mul(x).mul(GELU_C).add(x).mul(-2f * GELU_S));
                    FloatVector sg = one.div(big.add(one)), sgc = big.mul(sg);
                    FloatVector dudx = x2.mul(3f * GELU_C).add(one).mul(2f * GELU_S);
                    go.mul(x.mul(sg)).intoArray(dinp, du + i);
                    go.mul(uv).mul(x.mul(sg).mul(sgc).mul(dudx).add(sg)).intoArray(dinp, dg + i);
                }
                for (; i < hidden; i++) {
                    float x = inp[g + i], go = dout[d + i];
                    dinp[du + i] = go * gelu(x);
                    dinp[dg + i] = go * inp[u + i] * geluGrad(x);
                }
            }
        });
    }
}
