package dev.crucible.tensor;

/**
 * Plain double-precision twins of every fast kernel: straightforward loops that a reader can check
 * against the formulas. Tests hold the fast float kernels equal to these, and finite differences
 * check these backward passes; the reference model composes them.
 * Shapes as in the fast kernels; gradients accumulate (+=) unless noted.
 */
public final class Reference {
    private Reference() {}

    /** out[BT,OC] = inp[BT,C] · W[OC,C]ᵀ + bias (bias may be null). */
    public static void linearForward(double[] out, double[] inp, double[] w, double[] bias, int bt, int c, int oc) {
        for (int r = 0; r < bt; r++) {
            for (int o = 0; o < oc; o++) {
                double s = bias == null ? 0 : bias[o];
                for (int i = 0; i < c; i++) s += inp[r * c + i] * w[o * c + i];
                out[r * oc + o] = s;
            }
        }
    }

    public static void linearBackward(double[] dinp, double[] dw, double[] dbias, double[] dout, double[] inp, double[] w,
                                      int bt, int c, int oc) {
        for (int r = 0; r < bt; r++) {
            for (int o = 0; o < oc; o++) {
                double d = dout[r * oc + o];
                if (dbias != null) dbias[o] += d;
                for (int i = 0; i < c; i++) {
                    if (dinp != null) dinp[r * c + i] += d * w[o * c + i];
                    dw[o * c + i] += d * inp[r * c + i];
                }
            }
        }
    }

    /** C[M,N] (+)= A[M,K] · B[K,N], all row-major. */
    public static void matmul(double[] c, double[] a, double[] b, int m, int n, int k, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = accumulate ? c[i * n + j] : 0;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
                c[i * n + j] = s;
            }
        }
    }

    public static void layerNormForward(double[] out, double[] mean, double[] rstd, double[] inp, double[] w, double[] b,
                                        int rows, int c, double eps) {
        for (int r = 0; r < rows; r++) {
            double m = 0, v = 0;
            for (int i = 0; i < c; i++) m += inp[r * c + i];
            m /= c;
            for (int i = 0; i < c; i++) v += (inp[r * c + i] - m) * (inp[r * c + i] - m);
            v /= c;
            double rs = 1 / Math.sqrt(v + eps);
            mean[r] = m;
            rstd[r] = rs;
            for (int i = 0; i < c; i++) out[r * c + i] = (inp[r * c + i] - m) * rs * w[i] + b[i];
        }
    }

    public static void layerNormBackward(double[] dinp, double[] dw, double[] db, double[] dout, double[] inp, double[] w,
                                         double[] mean, double[] rstd, int rows, int c) {
        for (int r = 0; r < rows; r++) {
            double m = mean[r], rs = rstd[r], meanD = 0, meanDN = 0;
            for (int i = 0; i < c; i++) {
                double n = (inp[r * c + i] - m) * rs, dn = dout[r * c + i] * w[i];
                meanD += dn;
                meanDN += dn * n;
            }
            meanD /= c;
            meanDN /= c;
            for (int i = 0; i < c; i++) {
                double n = (inp[r * c + i] - m) * rs, dn = dout[r * c + i] * w[i];
                dinp[r * c + i] += (dn - meanD - n * meanDN) * rs;
                dw[i] += dout[r * c + i] * n;
                db[i] += dout[r * c + i];
            }
        }
    }

    public static void rmsNormForward(double[] out, double[] rstd, double[] inp, double[] w, int rows, int c, double eps) {
        for (int r = 0; r < rows; r++) {
            double ms = 0;
            for (int i = 0; i < c; i++) ms += inp[r * c + i] * inp[r * c + i];
            double rs = 1 / Math.sqrt(ms / c + eps);
            rstd[r] = rs;
            for (int i = 0; i < c; i++) out[r * c + i] = inp[r * c + i] * rs * w[i];
        }
    }

    public static void rmsNormBackward(double[] dinp, double[] dw, double[] dout, double[] inp, double[] w, double[] rstd,
                                       int rows, int c) {
        for (int r = 0; r < rows; r++) {
            double rs = rstd[r], meanDN = 0;
            for (int i = 0; i < c; i++) meanDN += dout[r * c + i] * w[i] * inp[r * c + i] * rs;
            meanDN /= c;
            for (int i = 0; i < c; i++) {
                double n = inp[r * c + i] * rs;
                dinp[r * c + i] += (dout[r * c + i] * w[i] - n * meanDN) * rs;
                dw[i] += dout[r * c + i] * n;
            }
        }
    }

    private static final double GELU_S = Math.sqrt(2 / Math.PI), GELU_C = 0.044715;

    private static double gelu(double x) {
        return 0.5 * x * (1 + Math.tanh(GELU_S * (x + GELU_C * x * x * x)));
    }

    private static double geluGrad(double x) {
        double th = Math.tanh(GELU_S * (x + GELU_C * x * x * x));
        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * GELU_S * (1 + 3 * GELU_C * x * x);
    }

    public static void geluForward(double[] out, double[] inp, int n) {
        for (int i = 0; i < n; i++) out[i] = gelu(inp[i]);
    }

    /** dinp = dout · gelu'(inp) (overwrites, as the fast kernel). */
    public static void geluBackward(double[] dinp, double[] inp, double[] dout, int n) {
        for (int i = 0; i < n; i++) dinp[i] = geluGrad(inp[i]) * dout[i];
    }

    /** Exact GELU, x·Φ(x) with Φ(x) = ½·erfc(−x/√2). */
    public static void geluExactForward(double[] out, double[] inp, int n) {
        for (int i = 0; i < n; i++) out[i] = inp[i] * 0.5 * erfc(-inp[i] / Math.sqrt(2));
    }

    /** dinp = dout · (Φ(x) + x·φ(x)) (overwrites). */
    public static void geluExactBackward(double[] dinp, double[] inp, double[] dout, int n) {
        for (int i = 0; i < n; i++) {
            double x = inp[i];
            dinp[i] = (0.5 * erfc(-x / Math.sqrt(2)) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI)) * dout[i];
        }
    }

    /**
     * erfc(z) in double: 1 − erf(z) by its Maclaurin series below |z| = 2 (terms fall below 1e-17 of the sum; the
     * largest is under 5, so a few bits of cancellation at most), and for z ≥ 2 the continued fraction
     * erfc(z) = exp(−z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))), evaluated from its 200th term;
     * erfc(−z) = 2 − erfc(z).
     */
    public static double erfc(double z) {
        if (Double.isNaN(z)) return z;
        if (z <= -2) return 2 - erfc(-z);
        if (z < 2) {
            double term = z, sum = z;
            for (int n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
                term *= -z * z / n;
                sum += term / (2 * n + 1);
            }
            return 1 - 2 / Math.sqrt(Math.PI) * sum;
        }
        double f = z;
        for (int n = 200; n >= 1; n--) f = z + n / 2.0 / f;
        return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
    }

    /** inp rows [gate(I), up(I)] → out[r, j] = silu(gate)·up. */
    public static void swigluForward(double[] out, double[] inp, int rows, int hidden) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < hidden; j++) {
                double g = inp[r * 2 * hidden + j], u = inp[r * 2 * hidden + hidden + j];
                out[r * hidden + j] = g / (1 + Math.exp(-g)) * u;
            }
        }
    }

    /** dinp (overwritten) = gradient of the SwiGLU rows. */
    public static void swigluBackward(double[] dinp, double[] inp, double[] dout, int rows, int hidden) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < hidden; j++) {
                int gi = r * 2 * hidden + j, ui = gi + hidden;
                double g = inp[gi], u = inp[ui], d = dout[r * hidden + j], sig = 1 / (1 + Math.exp(-g));
                dinp[ui] = d * g * sig;
                dinp[gi] = d * u * sig * (1 + g * (1 - sig));
            }
        }
    }

    /** inp rows [gate(I), up(I)] → out[r, j] = gelu(gate)·up, the tanh approximation (GeGLU, Gemma's). */
    public static void gegluForward(double[] out, double[] inp, int rows, int hidden) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < hidden; j++) out[r * hidden + j] = gelu(inp[r * 2 * hidden + j]) * inp[r * 2 * hidden + hidden + j];
        }
    }

    /** dinp (overwritten) = gradient of the GeGLU rows. */
    public static void gegluBackward(double[] dinp, double[] inp, double[] dout, int rows, int hidden) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < hidden; j++) {
                int gi = r * 2 * hidden + j, ui = gi + hidden;
                double d = dout[r * hidden + j];
                dinp[ui] = d * gelu(inp[gi]);
                dinp[gi] = d * inp[ui] * geluGrad(inp[gi]);
            }
        }
    }

    /** Logit soft-capping in place, x ← c·tanh(x/c). */
    public static void softcapForward(double[] x, int n, double cap) {
        for (int i = 0; i < n; i++) x[i] = cap * Math.tanh(x[i] / cap);
    }

    /** The gradient through the cap in place, from the capped values: dx ← dx·(1 − (capped/c)²). */
    public static void softcapBackward(double[] dx, double[] capped, int n, double cap) {
        for (int i = 0; i < n; i++) dx[i] *= 1 - (capped[i] / cap) * (capped[i] / cap);
    }

    /** Causal attention on fused qkv (B,T,(NH+2NKV)·hs); probs (B,NH,T,T). */
    public static void attentionForward(double[] out, double[] probs, double[] qkv, int b, int t, int nh, int nkv, int hs) {
        attentionForward(out, probs, qkv, b, t, nh, nkv, hs, null);
    }

    /** As above with dropout on the probabilities: out uses probs · mask (mask: 0 or 1/(1 − p) per probability; null: none). */
    public static void attentionForward(double[] out, double[] probs, double[] qkv, int b, int t, int nh, int nkv, int hs, double[] mask) {
        int w = (nh + 2 * nkv) * hs, oc = nh * hs, group = nh / nkv;
        double scale = 1 / Math.sqrt(hs);
        for (int bi = 0; bi < b; bi++) {
            for (int h = 0; h < nh; h++) {
                int kvh = h / group;
                for (int i = 0; i < t; i++) {
                    int p = ((bi * nh + h) * t + i) * t;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double s = 0;
                        for (int d = 0; d < hs; d++) {
                            s += qkv[(bi * t + i) * w + h * hs + d] * qkv[(bi * t + j) * w + (nh + kvh) * hs + d];
                        }
                        probs[p + j] = s * scale;
                        max = Math.max(max, s * scale);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) sum += probs[p + j] = Math.exp(probs[p + j] - max);
                    for (int j = 0; j < t; j++) probs[p + j] = j <= i ? probs[p + j] / sum : 0;
                    for (int d = 0; d < hs; d++) {
                        double s = 0;
                        for (int j = 0; j <= i; j++) s += probs[p + j] * (mask == null ? 1 : mask[p + j]) * qkv[(bi * t + j) * w + (nh + nkv + kvh) * hs + d];
                        out[(bi * t + i) * oc + h * hs + d] = s;
                    }
                }
            }
        }
    }

    /** dqkv (accumulated) from dout (B,T,NH·hs). */
    public static void attentionBackward(double[] dqkv, double[] dout, double[] qkv, double[] probs, int b, int t, int nh,
                                         int nkv, int hs) {
        attentionBackward(dqkv, dout, qkv, probs, b, t, nh, nkv, hs, null);
    }

    /** As above for dropout on the probabilities with the forward's mask (null: none). */
    public static void attentionBackward(double[] dqkv, double[] dout, double[] qkv, double[] probs, int b, int t, int nh,
                                         int nkv, int hs, double[] mask) {
        int w = (nh + 2 * nkv) * hs, oc = nh * hs, group = nh / nkv;
        double scale = 1 / Math.sqrt(hs);
        double[] dp = new double[t];
        for (int bi = 0; bi < b; bi++) {
            for (int h = 0; h < nh; h++) {
                int kvh = h / group, q = h * hs, k = (nh + kvh) * hs, v = (nh + nkv + kvh) * hs;
                for (int i = 0; i < t; i++) {
                    int p = ((bi * nh + h) * t + i) * t;
                    double dot = 0;
                    for (int j = 0; j <= i; j++) {
                        double s = 0, m = mask == null ? 1 : mask[p + j];
                        for (int d = 0; d < hs; d++) {
                            double go = dout[(bi * t + i) * oc + h * hs + d];
                            s += go * qkv[(bi * t + j) * w + v + d];
                            dqkv[(bi * t + j) * w + v + d] += probs[p + j] * m * go;
                        }
                        dp[j] = s * m;
                        dot += probs[p + j] * dp[j];
                    }
                    for (int j = 0; j <= i; j++) {
                        double ds = probs[p + j] * (dp[j] - dot) * scale;
                        for (int d = 0; d < hs; d++) {
                            dqkv[(bi * t + i) * w + q + d] += ds * qkv[(bi * t + j) * w + k + d];
                            dqkv[(bi * t + j) * w + k + d] += ds * qkv[(bi * t + i) * w + q + d];
                        }
                    }
                }
            }
        }
    }

    /** HF rotate_half RoPE in place on the q and k heads; sign −1 applies the inverse (backward). */
    public static void rope(double[] qkv, int b, int t, int nh, int nkv, int hs, double base, int sign) {
        rope(qkv, b, t, nh, nkv, hs, hs, base, sign);
    }

    /** As above on the first rotary dimensions of each head (GPT-NeoX's partial rotary), the rest left as they are. */
    public static void rope(double[] qkv, int b, int t, int nh, int nkv, int hs, int rotary, double base, int sign) {
        rope(qkv, b, t, nh, nkv, hs, rotary, base, null, sign);
    }

    /** As above with Llama 3.1's frequency scaling (null: none), in double. */
    public static void rope(double[] qkv, int b, int t, int nh, int nkv, int hs, int rotary, double base, Rope.Llama3Scaling scaling, int sign) {
        int w = (nh + 2 * nkv) * hs, half = rotary / 2;
        double[] invFreq = new double[half];
        for (int i = 0; i < half; i++) {
            double f = 1 / Math.pow(base, (double) (2 * i) / rotary);
            if (scaling != null) {
                double wavelen = 2 * Math.PI / f, ctx = scaling.originalMaxPositions();
                double lowWavelen = ctx / scaling.lowFreqFactor(), highWavelen = ctx / scaling.highFreqFactor();
                if (wavelen > lowWavelen) {
                    f /= scaling.factor();
                } else if (wavelen >= highWavelen) {
                    double smooth = (ctx / wavelen - scaling.lowFreqFactor()) / (scaling.highFreqFactor() - scaling.lowFreqFactor());
                    f = (1 - smooth) * f / scaling.factor() + smooth * f;
                }
            }
            invFreq[i] = f;
        }
        for (int r = 0; r < b * t; r++) {
            int pos = r % t;
            for (int h = 0; h < nh + nkv; h++) {
                int x1 = r * w + h * hs, x2 = x1 + half;
                for (int i = 0; i < half; i++) {
                    double angle = pos * invFreq[i];
                    double c = Math.cos(angle), s = sign * Math.sin(angle);
                    double a = qkv[x1 + i], bb = qkv[x2 + i];
                    qkv[x1 + i] = a * c - bb * s;
                    qkv[x2 + i] = bb * c + a * s;
                }
            }
        }
    }

    /** out = m·wte[token] + wpe[position]. */
    public static void embeddingForward(double[] out, int[] tokens, double[] wte, double[] wpe, int b, int t, int c, double m) {
        for (int r = 0; r < b * t; r++) {
            for (int i = 0; i < c; i++) {
                out[r * c + i] = m * wte[tokens[r] * c + i] + (wpe == null ? 0 : wpe[(r % t) * c + i]);
            }
        }
    }

    public static void embeddingBackward(double[] dwte, double[] dwpe, double[] dout, int[] tokens, int b, int t, int c, double m) {
        for (int r = 0; r < b * t; r++) {
            for (int i = 0; i < c; i++) {
                dwte[tokens[r] * c + i] += m * dout[r * c + i];
                if (dwpe != null) dwpe[(r % t) * c + i] += dout[r * c + i];
            }
        }
    }

    /** losses[r] = −log softmax(logits[r])[target]; probs written separately. */
    public static void crossEntropyForward(double[] losses, double[] probs, double[] logits, int[] targets, int rows,
                                           int vocab) {
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < vocab; i++) max = Math.max(max, logits[r * vocab + i]);
            for (int i = 0; i < vocab; i++) sum += Math.exp(logits[r * vocab + i] - max);
            for (int i = 0; i < vocab; i++) probs[r * vocab + i] = Math.exp(logits[r * vocab + i] - max) / sum;
            losses[r] = Math.log(sum) + max - logits[r * vocab + targets[r]];
        }
    }

    /** dlogits (overwritten) = (probs − onehot) · dloss. */
    public static void crossEntropyBackward(double[] dlogits, double[] probs, int[] targets, int rows, int vocab, double dloss) {
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < vocab; i++) dlogits[r * vocab + i] = (probs[r * vocab + i] - (i == targets[r] ? 1 : 0)) * dloss;
        }
    }

    /**
     * SALT's distillation loss per row, as its formula reads: (1 − ω)·(−log p_S[y]) + ω·(−Σ p_T log p_S),
     * p_T = softmax(z_T / τ); probsS and probsT receive p_S and p_T.
     */
    public static void distillationForward(double[] losses, double[] probsS, double[] probsT, double[] student, double[] teacher, int[] targets,
                                           int rows, int vocab, double weight, double temperature) {
        double[] scaled = new double[teacher.length];
        for (int i = 0; i < teacher.length; i++) scaled[i] = teacher[i] / temperature;
        double[] unused = new double[rows];
        crossEntropyForward(unused, probsT, scaled, targets, rows, vocab);
        crossEntropyForward(losses, probsS, student, targets, rows, vocab);
        for (int r = 0; r < rows; r++) {
            double soft = 0;
            for (int i = 0; i < vocab; i++) soft -= probsT[r * vocab + i] * Math.log(probsS[r * vocab + i]);
            losses[r] = (1 - weight) * losses[r] + weight * soft;
        }
    }

    /** dlogits (overwritten) = (p_S − (1 − ω)·onehot − ω·p_T) · dloss. */
    public static void distillationBackward(double[] dlogits, double[] probsS, double[] probsT, int[] targets, int rows, int vocab, double weight,
                                            double dloss) {
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < vocab; i++) {
                int k = r * vocab + i;
                dlogits[k] = (probsS[k] - (1 - weight) * (i == targets[r] ? 1 : 0) - weight * probsT[k]) * dloss;
            }
        }
    }

    /** PyTorch AdamW semantics, as the fast kernel. */
    public static void adamW(double[] p, double[] g, double[] m, double[] v, double lr, double beta1, double beta2,
                             double eps, double weightDecay, double gradScale, long step) {
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        for (int i = 0; i < p.length; i++) {
            double gi = g[i] * gradScale;
            m[i] = beta1 * m[i] + (1 - beta1) * gi;
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
            p[i] = p[i] * (1 - lr * weightDecay) - lr * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + eps);
        }
    }

    /** SPAM's element-wise step as its reference code writes it (spike clipping against v before the update, then Adam scaled by warmup, then decay). */
    public static void spam(double[] p, double[] g, double[] m, double[] v, double lr, double warmup, double beta1, double beta2,
                            double eps, double weightDecay, double theta, double gradScale, long t) {
        double stepSize = lr * warmup * Math.sqrt(1 - Math.pow(beta2, t)) / (1 - Math.pow(beta1, t));
        for (int i = 0; i < p.length; i++) {
            double gi = g[i] * gradScale;
            if (theta > 0 && gi * gi > theta * v[i]) gi = Math.signum(gi) * Math.sqrt(theta * v[i]);
            m[i] = beta1 * m[i] + (1 - beta1) * gi;
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
            p[i] = (p[i] - stepSize * m[i] / (Math.sqrt(v[i]) + eps)) * (1 - lr * weightDecay);
        }
    }

    /** a[m,k] · b[k,n] as a new array. */
    public static double[] product(double[] a, double[] b, int m, int k, int n) {
        double[] c = new double[m * n];
        matmul(c, a, b, m, n, k, false);
        return c;
    }

    public static double[] transpose(double[] a, int rows, int cols) {
        double[] t = new double[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }

    /** Muon's NS5 as muon.py writes it: transpose if tall, divide by (Frobenius norm + 1e-7), steps of X ← aX + (bA + cA²)X, A = XXᵀ. */
    public static double[] newtonSchulz5(double[] g, int rows, int cols, int steps) {
        boolean tall = rows > cols;
        int p = Math.min(rows, cols), q = Math.max(rows, cols);
        double[] x = tall ? transpose(g, rows, cols) : g.clone();
        double norm = 0;
        for (double e : x) norm += e * e;
        norm = Math.sqrt(norm) + 1e-7;
        for (int i = 0; i < x.length; i++) x[i] /= norm;
        for (int s = 0; s < steps; s++) {
            double[] a = product(x, transpose(x, p, q), p, q, p), a2 = product(a, a, p, p, p), b = new double[p * p];
            for (int i = 0; i < b.length; i++) b[i] = NewtonSchulz.B * a[i] + NewtonSchulz.C * a2[i];
            double[] bx = product(b, x, p, p, q);
            for (int i = 0; i < x.length; i++) x[i] = NewtonSchulz.A * x[i] + bx[i];
        }
        return tall ? transpose(x, p, q) : x;
    }

    /** The polar factor U·Vᵀ of a (rows ≤ cols, full row rank): (a·aᵀ)^(-1/2)·a, the inverse square root from an eigen-decomposition. */
    public static double[] polar(double[] a, int rows, int cols) {
        SymmetricEigen.Result e = SymmetricEigen.of(product(a, transpose(a, rows, cols), rows, cols, rows), rows);
        double[] w = new double[rows * rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < rows; j++) {
                double s = 0;
                for (int k = 0; k < rows; k++) s += e.vectors()[i * rows + k] * e.vectors()[j * rows + k] / Math.sqrt(e.values()[k]);
                w[i * rows + j] = s;
            }
        }
        return product(w, a, rows, rows, cols);
    }

    /** SinkGD's normalisation as the paper writes it: iterations rounds of rows to norm sqrt(cols), then columns to norm sqrt(rows). */
    public static void sinkhorn(double[] a, int rows, int cols, int iterations) {
        for (int it = 0; it < iterations; it++) {
            for (int r = 0; r < rows; r++) {
                double sq = 0;
                for (int c = 0; c < cols; c++) sq += a[r * cols + c] * a[r * cols + c];
                for (int c = 0; c < cols && sq > 0; c++) a[r * cols + c] *= Math.sqrt(cols / sq);
            }
            for (int c = 0; c < cols; c++) {
                double sq = 0;
                for (int r = 0; r < rows; r++) sq += a[r * cols + c] * a[r * cols + c];
                for (int r = 0; r < rows && sq > 0; r++) a[r * cols + c] *= Math.sqrt(rows / sq);
            }
        }
    }
}
