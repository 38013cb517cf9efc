package dev.crucible.model;

import dev.crucible.tensor.Attention;
import dev.crucible.tensor.Reference;
import java.util.Arrays;
import java.util.List;

/**
 * The same transformer in double precision, written from the reference kernels with no shared
 * activation buffers: an independent second implementation to hold the fast model against, and
 * small enough to check by finite differences.
 */
final class ReferenceModel {
    final ModelConfig cfg;
    final ParamLayout layout;
    final double[] params, grads;
    double[] probs; // next-token probabilities of the last forward
    /** Dropout masks of (seed, step, micro-batch), or none (null). */
    private long[] dropout;

    /** Drops out as the trainer's model does in the micro-batch (seed, step, micro). */
    void dropout(long seed, long step, int micro) {
        dropout = new long[] {seed, step, micro};
    }

    /** x times the dropout mask of (layer, site) scaled by 1/(1 − p), in place; nothing without dropout. */
    private void drop(double[] x, int l, int site) {
        if (dropout == null || cfg.dropout() == 0) return;
        float p = (float) cfg.dropout();
        long key = dev.crucible.tensor.Dropout.key(dropout[0], dropout[1], (int) dropout[2], l, site);
        for (int i = 0; i < x.length; i++) x[i] = dev.crucible.tensor.Dropout.keep(key, i, p) ? x[i] / (1 - p) : 0;
    }

    ReferenceModel(ModelConfig cfg, float[] params) {
        this.cfg = cfg;
        this.layout = new ParamLayout(cfg);
        this.params = new double[params.length];
        for (int i = 0; i < params.length; i++) this.params[i] = params[i];
        this.grads = new double[params.length];
    }

    private double[] get(int off, int n) {
        return Arrays.copyOfRange(params, off, off + n);
    }

    /** The layout's name for a tensor named by its place in the block ("layers.0.attn.qkv.weight"). */
    private String hfName(String generic) {
        HfNames hf = HfNames.of(cfg);
        String[] parts = generic.split("\\.");
        String leaf = parts[parts.length - 1];
        if (generic.startsWith("wte.")) return hf.embed() + "." + leaf;
        if (generic.startsWith("wpe.")) return hf.positions() + "." + leaf;
        if (generic.startsWith("final_norm.")) return hf.finalNorm() + "." + leaf;
        if (generic.startsWith("lm_head.")) return hf.head() + "." + leaf;
        if (!generic.startsWith("layers.")) return generic;
        int l = Integer.parseInt(parts[1]);
        String module = String.join(".", java.util.Arrays.copyOfRange(parts, 2, parts.length - 1));
        String hfModule = switch (module) {
            case "attn_norm" -> hf.attnNorm();
            case "attn.qkv" -> hf.qkv();
            case "attn.out" -> hf.attnOut();
            case "mlp_norm" -> hf.mlpNorm(cfg); // with a shared norm, the attention's tensors
            case "mlp.in" -> hf.mlpIn();
            case "mlp.out" -> hf.mlpOut();
            case "attn.q_norm" -> hf.qNorm();
            case "attn.k_norm" -> hf.kNorm();
            default -> throw new IllegalArgumentException(generic);
        };
        return hf.layer(l, hfModule) + "." + leaf;
    }

    private double[] get(String name) {
        ParamLayout.Tensor t = layout.tensor(hfName(name));
        return get(t.offset(), t.size());
    }

    private void addGrad(String name, double[] g) {
        int off = layout.tensor(hfName(name)).offset();
        for (int i = 0; i < g.length; i++) grads[off + i] += g[i];
    }

    /** The attention probabilities' dropout mask of layer l (0 or 1/(1 − p) per probability), or null without dropout. */
    private double[] probsMask(int l, int n) {
        if (dropout == null || cfg.dropout() == 0) return null;
        float p = (float) cfg.dropout();
        long key = dev.crucible.tensor.Dropout.key(dropout[0], dropout[1], (int) dropout[2], l, 3);
        double[] m = new double[n];
        for (int i = 0; i < n; i++) m[i] = dev.crucible.tensor.Dropout.keep(key, i, p) ? 1 / (1 - p) : 0;
        return m;
    }

    private static int layerOf(String prefix) {
        return Integer.parseInt(prefix.substring("layers.".length(), prefix.length() - 1));
    }

    /** Whether layer l is Post-LN (Mix-LN: the first ⌊α·L⌋ layers; all with post; none with pre). */
    private boolean post(int l) {
        return switch (cfg.normPlacement()) {
            case PRE, OUTPUT -> false;
            case POST -> true;
            case MIX -> l < Math.floor(cfg.mixLnFraction() * cfg.nLayer());
        };
    }

    /** LayerNorm Scaling: 1/√ℓ for layer ℓ = l + 1 (1-based). */
    private double scale(int l) {
        return cfg.normScaling() == ModelConfig.NormScaling.LAYER_INDEX ? 1 / Math.sqrt(l + 1) : 1;
    }

    /** GPT-2 style's learned positions; the others rotate. */
    private boolean learned() {
        return cfg.style() == ModelConfig.Style.GPT2;
    }

    /**
     * A projection's bias, where the config gives it one ("qkv", "attn.out", "mlp.in" or "mlp.out" of the layer at prefix p;
     * else null): one tensor, or a fused projection's parts' joined in order by name (Llama's q_proj, k_proj, v_proj; gate_proj,
     * up_proj), not by where the layout puts them.
     */
    private double[] bias(String p, String projection, int n) {
        if (!hasBias(projection)) return null;
        double[] out = new double[n];
        int at = 0;
        for (ParamLayout.Tensor t : biasParts(p, projection)) {
            System.arraycopy(get(t.offset(), t.size()), 0, out, at, t.size());
            at += t.size();
        }
        if (at != n) throw new IllegalStateException(p + projection + " bias: " + at + " values, the projection has " + n + " outputs");
        return out;
    }

    private void addBiasGrad(String p, String projection, double[] g) {
        if (!hasBias(projection)) return;
        int at = 0;
        for (ParamLayout.Tensor t : biasParts(p, projection)) {
            for (int i = 0; i < t.size(); i++) grads[t.offset() + i] += g[at + i];
            at += t.size();
        }
    }

    private boolean hasBias(String projection) {
        ModelConfig.LinearBias b = cfg.linearBias();
        return switch (projection) {
            case "qkv" -> b.qkv();
            case "attn.out" -> b.attnOut();
            case "mlp.in", "mlp.out" -> b.mlp();
            default -> throw new IllegalArgumentException(projection);
        };
    }

    /** The bias tensors of a projection, by name: its own, or its weight's parts' (…_proj.weight's …_proj.bias) in order. */
    private List<ParamLayout.Tensor> biasParts(String p, String projection) {
        String weight = hfName(p + (projection.equals("qkv") ? "attn.qkv" : projection) + ".weight");
        String whole = weight.substring(0, weight.length() - "weight".length()) + "bias";
        if (layout.tensors().stream().anyMatch(t -> t.name().equals(whole))) return List.of(layout.tensor(whole));
        return layout.tensor(weight).views().stream().map(v -> layout.tensor(v.name().replaceFirst("\\.weight$", ".bias"))).toList();
    }

    /** What a sub-layer's backward needs from its forward. */
    private static final class Sub {
        double[] in, normIn, normOut, mean, rstd, branchIn;
        double[][] branch; // the branch's own activations
    }

    /** Mean cross-entropy; when backward is true also accumulates grads of the mean loss. */
    double run(int[] tokens, int[] targets, int b, int t, boolean backward) {
        int d = cfg.dModel(), bt = b * t, vocab = cfg.vocabSize();
        boolean learned = learned();
        int layers = cfg.nLayer();
        double[] x = new double[bt * d];
        Reference.embeddingForward(x, tokens, get("wte.weight"), learned ? get("wpe.weight") : null, b, t, d, cfg.embeddingMultiplier());
        double[] emb = x;
        if (cfg.embeddingProjection()) {
            x = new double[bt * d];
            Reference.linearForward(x, emb, get(ParamLayout.EMBED_PROJ), null, bt, d, d);
        }
        Sub[][] subs = new Sub[layers][2];
        for (int l = 0; l < layers; l++) {
            subs[l][0] = new Sub();
            subs[l][1] = new Sub();
            if (cfg.parallelResidual()) { // x' = (x + attn(norm1(x))) + mlp(norm2(x))
                double[] h = sublayer(subs[l][0], l, "attn_norm", true, x, b, t);
                x = parallelMlp(subs[l][1], l, x, h, b, t);
            } else {
                x = sublayer(subs[l][0], l, "attn_norm", true, x, b, t);
                x = sublayer(subs[l][1], l, "mlp_norm", false, x, b, t);
            }
        }
        double[] fn = new double[bt * d], fm = new double[bt], fr = new double[bt];
        norm(fn, fm, fr, x, "final_norm", bt, d, cfg.normEps());
        String head = cfg.tieEmbeddings() ? "wte.weight" : "lm_head.weight";
        double[] logits = new double[bt * vocab], losses = new double[bt];
        probs = new double[bt * vocab];
        double[] hin = fn;
        if (cfg.embeddingProjection()) {
            hin = new double[bt * d];
            Reference.linearForward(hin, fn, get(ParamLayout.HEAD_PROJ), null, bt, d, d);
        }
        Reference.linearForward(logits, hin, get(head), cfg.headBias() ? get("lm_head.bias") : null, bt, d, vocab);
        if (cfg.logitSoftcap() > 0) Reference.softcapForward(logits, bt * vocab, cfg.logitSoftcap());
        double[] capped = logits.clone();
        Reference.crossEntropyForward(losses, probs, logits, targets, bt, vocab);
        double loss = 0;
        for (double v : losses) loss += v;
        loss /= bt;
        if (!backward) return loss;

        double[] dlogits = new double[bt * vocab];
        Reference.crossEntropyBackward(dlogits, probs, targets, bt, vocab, 1.0 / bt);
        if (cfg.logitSoftcap() > 0) Reference.softcapBackward(dlogits, capped, bt * vocab, cfg.logitSoftcap());
        double[] dfn = new double[bt * d], dhead = new double[vocab * d], dheadBias = new double[vocab];
        Reference.linearBackward(dfn, dhead, dheadBias, dlogits, hin, get(head), bt, d, vocab);
        addGrad(head, dhead);
        if (cfg.headBias()) addGrad("lm_head.bias", dheadBias);
        if (cfg.embeddingProjection()) {
            double[] dhin = dfn, dr2 = new double[d * d];
            dfn = new double[bt * d];
            Reference.linearBackward(dfn, dr2, null, dhin, fn, get(ParamLayout.HEAD_PROJ), bt, d, d);
            addGrad(ParamLayout.HEAD_PROJ, dr2);
        }
        double[] dx = new double[bt * d];
        normBackward(dx, dfn, x, fm, fr, "final_norm", bt, d);
        for (int l = layers - 1; l >= 0; l--) {
            if (cfg.parallelResidual()) { // d(x) = d(x') through the skip and the attention branch, plus the MLP branch's
                double[] fromMlp = parallelMlpBackward(subs[l][1], l, dx, b, t);
                dx = sublayerBackward(subs[l][0], l, "attn_norm", true, dx, b, t);
                for (int i = 0; i < dx.length; i++) dx[i] += fromMlp[i];
            } else {
                for (int k = 1; k >= 0; k--) dx = sublayerBackward(subs[l][k], l, k == 0 ? "attn_norm" : "mlp_norm", k == 0, dx, b, t);
            }
        }
        if (cfg.embeddingProjection()) {
            double[] dx0 = dx, dr1 = new double[d * d];
            dx = new double[bt * d];
            Reference.linearBackward(dx, dr1, null, dx0, emb, get(ParamLayout.EMBED_PROJ), bt, d, d);
            addGrad(ParamLayout.EMBED_PROJ, dr1);
        }
        double[] dwte = new double[cfg.vocabSize() * d], dwpe = learned ? new double[cfg.contextLength() * d] : null;
        Reference.embeddingBackward(dwte, dwpe, dx, tokens, b, t, d, cfg.embeddingMultiplier());
        addGrad("wte.weight", dwte);
        if (learned) addGrad("wpe.weight", dwpe);
        return loss;
    }

    /** A parallel residual's MLP sub-layer (Pre-LN): base + mlp(Norm(in)·scale), in being the layer's input, base the attention's output. */
    private double[] parallelMlp(Sub s, int l, double[] in, double[] base, int b, int t) {
        int n = in.length, bt = b * t, d = cfg.dModel();
        String p = "layers." + l + ".";
        s.in = in;
        s.mean = new double[bt];
        s.rstd = new double[bt];
        s.normOut = new double[n];
        norm(s.normOut, s.mean, s.rstd, in, p + "mlp_norm", bt, d, cfg.normEps());
        double sc = scale(l);
        for (int i = 0; i < n; i++) s.normOut[i] *= sc;
        s.branchIn = s.normOut;
        double[] y = mlp(s, p, s.normOut, bt);
        drop(y, l, 1);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = base[i] + y[i];
        return out;
    }

    /** The gradient a parallel residual's MLP branch sends to the layer's input, from d(out). */
    private double[] parallelMlpBackward(Sub s, int l, double[] dout, int b, int t) {
        int n = dout.length, bt = b * t, d = cfg.dModel();
        String p = "layers." + l + ".";
        double[] dy = dout.clone();
        drop(dy, l, 1);
        double[] dnormOut = mlpBackward(s, p, dy, bt);
        double sc = scale(l);
        for (int i = 0; i < n; i++) dnormOut[i] *= sc;
        double[] din = new double[n];
        normBackward(din, dnormOut, s.in, s.mean, s.rstd, p + "mlp_norm", bt, d);
        return din;
    }

    /** Pre-LN: in + f(Norm(in)·scale); Post-LN: Norm(in + f(in)); output-norm: in + Norm(f(in)). Returns the sub-layer's output. */
    private double[] sublayer(Sub s, int l, String normName, boolean attention, double[] in, int b, int t) {
        int n = in.length, bt = b * t, d = cfg.dModel();
        String p = "layers." + l + ".";
        s.in = in;
        s.mean = new double[bt];
        s.rstd = new double[bt];
        if (cfg.normPlacement() == ModelConfig.NormPlacement.OUTPUT) {
            s.branchIn = in;
            s.normIn = attention ? attention(s, p, in, b, t) : mlp(s, p, in, bt);
            s.normOut = new double[n];
            norm(s.normOut, s.mean, s.rstd, s.normIn, p + normName, bt, d, cfg.normEps());
            double[] y = s.normOut.clone();
            drop(y, l, attention ? 0 : 1);
            double[] out = new double[n];
            for (int i = 0; i < n; i++) out[i] = in[i] + y[i];
            return out;
        }
        if (post(l)) {
            s.branchIn = in;
            double[] y = attention ? attention(s, p, in, b, t) : mlp(s, p, in, bt);
            drop(y, l, attention ? 0 : 1);
            s.normIn = new double[n];
            for (int i = 0; i < n; i++) s.normIn[i] = in[i] + y[i];
            s.normOut = new double[n];
            norm(s.normOut, s.mean, s.rstd, s.normIn, p + normName, bt, d, cfg.normEps());
            return s.normOut;
        }
        s.normIn = in;
        s.normOut = new double[n];
        norm(s.normOut, s.mean, s.rstd, in, p + normName, bt, d, cfg.normEps());
        double sc = scale(l);
        for (int i = 0; i < n; i++) s.normOut[i] *= sc;
        s.branchIn = s.normOut;
        double[] y = attention ? attention(s, p, s.normOut, b, t) : mlp(s, p, s.normOut, bt);
        drop(y, l, attention ? 0 : 1);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = in[i] + y[i];
        return out;
    }

    /** From d(out) to d(in), accumulating parameter gradients. */
    private double[] sublayerBackward(Sub s, int l, String normName, boolean attention, double[] dout, int b, int t) {
        int n = dout.length, bt = b * t, d = cfg.dModel();
        String p = "layers." + l + ".";
        if (cfg.normPlacement() == ModelConfig.NormPlacement.OUTPUT) {
            double[] dy = dout.clone();
            drop(dy, l, attention ? 0 : 1);
            double[] dbranchOut = new double[n];
            normBackward(dbranchOut, dy, s.normIn, s.mean, s.rstd, p + normName, bt, d);
            double[] dbranchIn = attention ? attentionBackward(s, p, dbranchOut, b, t) : mlpBackward(s, p, dbranchOut, bt);
            double[] din = dout.clone();
            for (int i = 0; i < n; i++) din[i] += dbranchIn[i];
            return din;
        }
        if (post(l)) {
            double[] dsum = new double[n];
            normBackward(dsum, dout, s.normIn, s.mean, s.rstd, p + normName, bt, d);
            double[] dy = dsum.clone();
            drop(dy, l, attention ? 0 : 1);
            double[] dbranchIn = attention ? attentionBackward(s, p, dy, b, t) : mlpBackward(s, p, dy, bt);
            double[] din = dsum.clone();
            for (int i = 0; i < n; i++) din[i] += dbranchIn[i];
            return din;
        }
        double[] dy = dout.clone();
        drop(dy, l, attention ? 0 : 1);
        double[] dnormOut = attention ? attentionBackward(s, p, dy, b, t) : mlpBackward(s, p, dy, bt);
        double sc = scale(l);
        for (int i = 0; i < n; i++) dnormOut[i] *= sc;
        double[] din = dout.clone();
        normBackward(din, dnormOut, s.in, s.mean, s.rstd, p + normName, bt, d);
        return din;
    }

    private double[] attention(Sub s, String p, double[] in, int b, int t) {
        int d = cfg.dModel(), bt = b * t, nh = cfg.nHead(), nkv = cfg.nKvHead(), hs = cfg.headSize(), w = Attention.qkvWidth(nh, nkv, hs);
        double[] q = new double[bt * w];
        Reference.linearForward(q, in, get(p + "attn.qkv.weight"), bias(p, "qkv", w), bt, d, w);
        double[] projected = q.clone();
        double clip = cfg.clipQkv();
        if (clip > 0) for (int i = 0; i < q.length; i++) q[i] = Math.max(-clip, Math.min(clip, q[i])); // clip_qkv: torch.clamp
        double[] raw = q.clone(), rstd = new double[bt * (nh + nkv)];
        if (cfg.qkNorm().on()) qkNorm(q, rstd, p, bt);
        if (!learned()) Reference.rope(q, b, t, nh, nkv, hs, cfg.rotaryDims(), cfg.ropeTheta(), cfg.ropeScaling(), 1);
        double[] ao = new double[bt * nh * hs], pr = new double[b * nh * t * t];
        Reference.attentionForward(ao, pr, q, b, t, nh, nkv, hs, probsMask(layerOf(p), pr.length));
        double[] proj = new double[bt * d];
        Reference.linearForward(proj, ao, get(p + "attn.out.weight"), bias(p, "attn.out", d), bt, nh * hs, d);
        s.branch = new double[][] {q, ao, pr, raw, rstd, projected};
        return proj;
    }

    private double[] attentionBackward(Sub s, String p, double[] dy, int b, int t) {
        int d = cfg.dModel(), bt = b * t, nh = cfg.nHead(), nkv = cfg.nKvHead(), hs = cfg.headSize(), w = Attention.qkvWidth(nh, nkv, hs);
        double[] q = s.branch[0], ao = s.branch[1], pr = s.branch[2];
        double[] dao = new double[bt * nh * hs], dw = new double[d * nh * hs], db = new double[d];
        Reference.linearBackward(dao, dw, db, dy, ao, get(p + "attn.out.weight"), bt, nh * hs, d);
        addGrad(p + "attn.out.weight", dw);
        addBiasGrad(p, "attn.out", db);
        double[] dq = new double[bt * w];
        Reference.attentionBackward(dq, dao, q, pr, b, t, nh, nkv, hs, probsMask(layerOf(p), pr.length));
        if (!learned()) Reference.rope(dq, b, t, nh, nkv, hs, cfg.rotaryDims(), cfg.ropeTheta(), cfg.ropeScaling(), -1);
        if (cfg.qkNorm().on()) qkNormBackward(dq, s.branch[3], s.branch[4], p, bt);
        double clip = cfg.clipQkv();
        if (clip > 0) { // torch.clamp passes the gradient inside [-clip, clip], bounds included
            for (int i = 0; i < dq.length; i++) if (Math.abs(s.branch[5][i]) > clip) dq[i] = 0;
        }
        double[] din = new double[bt * d];
        dw = new double[w * d];
        db = new double[w];
        Reference.linearBackward(din, dw, db, dq, s.branchIn, get(p + "attn.qkv.weight"), bt, d, w);
        addGrad(p + "attn.qkv.weight", dw);
        addBiasGrad(p, "qkv", db);
        return din;
    }

    /**
     * QK-norm's parts of a token's qkv row: each query head (gain q_norm) and key head (gain k_norm), or the whole query
     * projection and the whole key projection; {offset, width, 1 for a query part}.
     */
    private int[][] qkParts() {
        int nh = cfg.nHead(), nkv = cfg.nKvHead(), hs = cfg.headSize();
        if (cfg.qkNorm() == ModelConfig.QkNorm.WHOLE) return new int[][] {{0, nh * hs, 1}, {nh * hs, nkv * hs, 0}};
        int[][] parts = new int[nh + nkv][];
        for (int h = 0; h < nh + nkv; h++) parts[h] = new int[] {h * hs, hs, h < nh ? 1 : 0};
        return parts;
    }

    /** QK-norm: every part of every token RMS-normalised in place. */
    private void qkNorm(double[] q, double[] rstd, String p, int bt) {
        int w = Attention.qkvWidth(cfg.nHead(), cfg.nKvHead(), cfg.headSize());
        int[][] parts = qkParts();
        for (int r = 0; r < bt; r++) {
            for (int i = 0; i < parts.length; i++) {
                int off = r * w + parts[i][0], n = parts[i][1];
                double[] part = Arrays.copyOfRange(q, off, off + n), out = new double[n], rs = new double[1];
                Reference.rmsNormForward(out, rs, part, get(p + (parts[i][2] == 1 ? "attn.q_norm" : "attn.k_norm") + ".weight"), 1, n, cfg.normEps());
                System.arraycopy(out, 0, q, off, n);
                rstd[r * parts.length + i] = rs[0];
            }
        }
    }

    private void qkNormBackward(double[] dq, double[] raw, double[] rstd, String p, int bt) {
        int w = Attention.qkvWidth(cfg.nHead(), cfg.nKvHead(), cfg.headSize());
        int[][] parts = qkParts();
        double[] dwq = new double[parts[0][1]], dwk = new double[parts[parts.length - 1][1]];
        for (int r = 0; r < bt; r++) {
            for (int i = 0; i < parts.length; i++) {
                int off = r * w + parts[i][0], n = parts[i][1];
                boolean query = parts[i][2] == 1;
                double[] dout = Arrays.copyOfRange(dq, off, off + n), din = new double[n];
                Reference.rmsNormBackward(din, query ? dwq : dwk, dout, Arrays.copyOfRange(raw, off, off + n),
                        get(p + (query ? "attn.q_norm" : "attn.k_norm") + ".weight"), new double[] {rstd[r * parts.length + i]}, 1, n);
                System.arraycopy(din, 0, dq, off, n);
            }
        }
        addGrad(p + "attn.q_norm.weight", dwq);
        addGrad(p + "attn.k_norm.weight", dwk);
    }

    private double[] mlp(Sub s, String p, double[] in, int bt) {
        int d = cfg.dModel(), hid = cfg.intermediateSize();
        boolean llama = cfg.style() == ModelConfig.Style.LLAMA;
        int inW = llama ? 2 * hid : hid;
        double[] mi = new double[bt * inW];
        Reference.linearForward(mi, in, get(p + "mlp.in.weight"), bias(p, "mlp.in", inW), bt, d, inW);
        double[] ma = new double[bt * hid];
        if (llama && cfg.glu() == ModelConfig.Glu.GEGLU) Reference.gegluForward(ma, mi, bt, hid);
        else if (llama) Reference.swigluForward(ma, mi, bt, hid);
        else if (cfg.gelu() == ModelConfig.Gelu.EXACT) Reference.geluExactForward(ma, mi, bt * hid);
        else Reference.geluForward(ma, mi, bt * hid);
        drop(ma, layerOf(p), 2);
        double[] proj = new double[bt * d];
        Reference.linearForward(proj, ma, get(p + "mlp.out.weight"), bias(p, "mlp.out", d), bt, hid, d);
        s.branch = new double[][] {mi, ma};
        return proj;
    }

    private double[] mlpBackward(Sub s, String p, double[] dy, int bt) {
        int d = cfg.dModel(), hid = cfg.intermediateSize();
        boolean llama = cfg.style() == ModelConfig.Style.LLAMA;
        int inW = llama ? 2 * hid : hid;
        double[] mi = s.branch[0], ma = s.branch[1];
        double[] dma = new double[bt * hid], dw = new double[d * hid], db = new double[d];
        Reference.linearBackward(dma, dw, db, dy, ma, get(p + "mlp.out.weight"), bt, hid, d);
        addGrad(p + "mlp.out.weight", dw);
        addBiasGrad(p, "mlp.out", db);
        drop(dma, layerOf(p), 2);
        double[] dmi = new double[bt * inW];
        if (llama && cfg.glu() == ModelConfig.Glu.GEGLU) Reference.gegluBackward(dmi, mi, dma, bt, hid);
        else if (llama) Reference.swigluBackward(dmi, mi, dma, bt, hid);
        else if (cfg.gelu() == ModelConfig.Gelu.EXACT) Reference.geluExactBackward(dmi, mi, dma, bt * hid);
        else Reference.geluBackward(dmi, mi, dma, bt * hid);
        double[] din = new double[bt * d];
        dw = new double[inW * d];
        db = new double[inW];
        Reference.linearBackward(din, dw, db, dmi, s.branchIn, get(p + "mlp.in.weight"), bt, d, inW);
        addGrad(p + "mlp.in.weight", dw);
        addBiasGrad(p, "mlp.in", db);
        return din;
    }

    /** The norm's gain as a vector of d: Single-Scale RMSNorm's one scalar repeated, Gemma's 1 + w. */
    private double[] gain(String name, int d) {
        double[] w = get(name + ".weight");
        if (cfg.norm() == ModelConfig.Norm.OFFSET_RMSNORM) return Arrays.stream(w).map(v -> 1 + v).toArray();
        if (w.length == d) return w;
        double[] full = new double[d];
        Arrays.fill(full, w[0]);
        return full;
    }

    private void norm(double[] out, double[] mean, double[] rstd, double[] inp, String name, int rows, int d, double eps) {
        switch (cfg.norm()) {
            case LAYERNORM -> Reference.layerNormForward(out, mean, rstd, inp, gain(name, d), get(name + ".bias"), rows, d, eps);
            case NONPARAMETRIC_LAYERNORM -> Reference.layerNormForward(out, mean, rstd, inp, ones(d), new double[d], rows, d, eps);
            default -> Reference.rmsNormForward(out, rstd, inp, gain(name, d), rows, d, eps);
        }
    }

    private static double[] ones(int d) {
        double[] v = new double[d];
        Arrays.fill(v, 1);
        return v;
    }

    private void normBackward(double[] dinp, double[] dout, double[] inp, double[] mean, double[] rstd, String name, int rows, int d) {
        double[] dw = new double[d];
        if (cfg.norm() == ModelConfig.Norm.NONPARAMETRIC_LAYERNORM) { // nothing to learn: the input's gradient alone
            Reference.layerNormBackward(dinp, dw, new double[d], dout, inp, ones(d), mean, rstd, rows, d);
            return;
        }
        if (cfg.norm() == ModelConfig.Norm.LAYERNORM) {
            double[] db = new double[d];
            Reference.layerNormBackward(dinp, dw, db, dout, inp, gain(name, d), mean, rstd, rows, d);
            addGrad(name + ".bias", db);
        } else {
            Reference.rmsNormBackward(dinp, dw, dout, inp, gain(name, d), rstd, rows, d);
        }
        if (cfg.norm() == ModelConfig.Norm.SINGLE_SCALE_RMSNORM) dw = new double[] {Arrays.stream(dw).sum()};
        addGrad(name + ".weight", dw);
    }
}
