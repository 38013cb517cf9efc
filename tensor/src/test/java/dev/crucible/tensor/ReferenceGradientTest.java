package dev.crucible.tensor;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference checks, in double precision, of every reference backward pass: for a random
 * weighting R of a layer's output, d(Σ out·R)/dx from backward must equal central differences.
 */
class ReferenceGradientTest {
    static final double TOL = 1e-5;

    @Test
    void linear() {
        SplittableRandom rng = new SplittableRandom(20);
        int bt = 5, c = 7, oc = 6;
        double[] inp = rnd(rng, bt * c), w = rnd(rng, oc * c), b = rnd(rng, oc), r = rnd(rng, bt * oc), out = new double[bt * oc];
        double[] dinp = new double[inp.length], dw = new double[w.length], db = new double[b.length];
        Reference.linearBackward(dinp, dw, db, r, inp, w, bt, c, oc);
        Check.Objective f = () -> { Reference.linearForward(out, inp, w, b, bt, c, oc); return Check.weighted(out, r); };
        Check.gradient("linear dinp", inp, dinp, f, 50, rng, TOL);
        Check.gradient("linear dw", w, dw, f, 50, rng, TOL);
        Check.gradient("linear db", b, db, f, 50, rng, TOL);
    }

    @Test
    void norms() {
        SplittableRandom rng = new SplittableRandom(21);
        int rows = 4, c = 9;
        double[] inp = rnd(rng, rows * c), w = rnd(rng, c), b = rnd(rng, c), r = rnd(rng, rows * c), out = new double[rows * c];
        double[] mean = new double[rows], rstd = new double[rows];
        Reference.layerNormForward(out, mean, rstd, inp, w, b, rows, c, 1e-5);
        double[] dinp = new double[inp.length], dw = new double[c], db = new double[c];
        Reference.layerNormBackward(dinp, dw, db, r, inp, w, mean, rstd, rows, c);
        Check.Objective ln = () -> { Reference.layerNormForward(out, new double[rows], new double[rows], inp, w, b, rows, c, 1e-5); return Check.weighted(out, r); };
        Check.gradient("layernorm dinp", inp, dinp, ln, 60, rng, TOL);
        Check.gradient("layernorm dw", w, dw, ln, 60, rng, TOL);
        Check.gradient("layernorm db", b, db, ln, 60, rng, TOL);

        Reference.rmsNormForward(out, rstd, inp, w, rows, c, 1e-6);
        double[] rdinp = new double[inp.length], rdw = new double[c];
        Reference.rmsNormBackward(rdinp, rdw, r, inp, w, rstd, rows, c);
        Check.Objective rms = () -> { Reference.rmsNormForward(out, new double[rows], inp, w, rows, c, 1e-6); return Check.weighted(out, r); };
        Check.gradient("rmsnorm dinp", inp, rdinp, rms, 60, rng, TOL);
        Check.gradient("rmsnorm dw", w, rdw, rms, 60, rng, TOL);
    }

    @Test
    void activations() {
        SplittableRandom rng = new SplittableRandom(22);
        int n = 40;
        double[] x = rnd(rng, n), r = rnd(rng, n), out = new double[n], dx = new double[n];
        for (int i = 0; i < n; i++) x[i] *= 4;
        Reference.geluBackward(dx, x, r, n);
        Check.gradient("gelu", x, dx, () -> { Reference.geluForward(out, x, n); return Check.weighted(out, r); }, n, rng, TOL);
        int rows = 3, hidden = 5;
        double[] xs = rnd(rng, rows * 2 * hidden), rs = rnd(rng, rows * hidden), os = new double[rows * hidden];
        double[] dxs = new double[xs.length];
        Reference.swigluBackward(dxs, xs, rs, rows, hidden);
        Check.gradient("swiglu", xs, dxs, () -> { Reference.swigluForward(os, xs, rows, hidden); return Check.weighted(os, rs); }, 30, rng, TOL);
        Reference.gegluBackward(dxs, xs, rs, rows, hidden);
        Check.gradient("geglu", xs, dxs, () -> { Reference.gegluForward(os, xs, rows, hidden); return Check.weighted(os, rs); }, 30, rng, TOL);
    }

    @Test
    void attentionAndRope() {
        SplittableRandom rng = new SplittableRandom(23);
        int b = 2, t = 5, nh = 4, nkv = 2, hs = 4, w = Attention.qkvWidth(nh, nkv, hs);
        double[] qkv = rnd(rng, b * t * w), r = rnd(rng, b * t * nh * hs), out = new double[r.length], probs = new double[b * nh * t * t];
        Reference.attentionForward(out, probs, qkv, b, t, nh, nkv, hs);
        double[] dqkv = new double[qkv.length];
        Reference.attentionBackward(dqkv, r, qkv, probs, b, t, nh, nkv, hs);
        Check.gradient("attention dqkv", qkv, dqkv, () -> {
            Reference.attentionForward(out, new double[probs.length], qkv, b, t, nh, nkv, hs);
            return Check.weighted(out, r);
        }, 120, rng, TOL);

        double[] x = rnd(rng, b * t * w), rr = rnd(rng, x.length);
        double[] dx = rr.clone();
        Reference.rope(dx, b, t, nh, nkv, hs, 10000, -1); // backward = inverse rotation of the output gradient
        Check.gradient("rope", x, dx, () -> {
            double[] y = x.clone();
            Reference.rope(y, b, t, nh, nkv, hs, 10000, 1);
            return Check.weighted(y, rr);
        }, 80, rng, TOL);
    }

    /**
     * SALT's distillation loss (seed-techniques.md section 7): the gradient with respect to the student's
     * logits is softmax(z_S) − [(1 − ω)·onehot(y) + ω·p_T], by finite differences, at τ = 1 and with a
     * softened teacher.
     */
    @Test
    void distillationGradientIsStudentMinusTheMixedTarget() {
        SplittableRandom rng = new SplittableRandom(25);
        int rows = 5, vocab = 7;
        int[] tok = rng.ints(rows, 0, vocab).toArray();
        double[] student = rnd(rng, rows * vocab), teacher = rnd(rng, rows * vocab), losses = new double[rows];
        for (double temperature : new double[] {1, 2.5}) {
            double weight = 0.3;
            double[] ps = new double[student.length], pt = new double[student.length], d = new double[student.length];
            Reference.distillationForward(losses, ps, pt, student, teacher, tok, rows, vocab, weight, temperature);
            Reference.distillationBackward(d, ps, pt, tok, rows, vocab, weight, 0.5);
            Check.gradient("distillation, τ " + temperature, student, d, () -> {
                Reference.distillationForward(losses, new double[student.length], new double[student.length], student, teacher, tok, rows, vocab,
                        weight, temperature);
                double s = 0;
                for (double l : losses) s += 0.5 * l;
                return s;
            }, 100, rng, TOL);
        }
    }

    @Test
    void embeddingAndCrossEntropy() {
        SplittableRandom rng = new SplittableRandom(24);
        int b = 2, t = 3, c = 4, vocab = 6;
        int[] tok = rng.ints(b * t, 0, vocab).toArray();
        double[] wte = rnd(rng, vocab * c), wpe = rnd(rng, t * c), r = rnd(rng, b * t * c), out = new double[b * t * c];
        double[] dwte = new double[wte.length], dwpe = new double[wpe.length];
        Reference.embeddingBackward(dwte, dwpe, r, tok, b, t, c, 1.7);
        Check.Objective f = () -> { Reference.embeddingForward(out, tok, wte, wpe, b, t, c, 1.7); return Check.weighted(out, r); }; // a multiplier as Gemma's
        Check.gradient("embedding dwte", wte, dwte, f, 100, rng, TOL);
        Check.gradient("embedding dwpe", wpe, dwpe, f, 100, rng, TOL);

        int rows = b * t;
        double[] logits = rnd(rng, rows * vocab), losses = new double[rows], probs = new double[logits.length];
        Reference.crossEntropyForward(losses, probs, logits, tok, rows, vocab);
        double[] dlogits = new double[logits.length];
        Reference.crossEntropyBackward(dlogits, probs, tok, rows, vocab, 0.5);
        Check.gradient("cross-entropy", logits, dlogits, () -> {
            Reference.crossEntropyForward(losses, new double[logits.length], logits, tok, rows, vocab);
            double s = 0;
            for (double l : losses) s += 0.5 * l;
            return s;
        }, 100, rng, TOL);
    }

    static double[] rnd(SplittableRandom rng, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = rng.nextDouble() * 2 - 1;
        return a;
    }
}
