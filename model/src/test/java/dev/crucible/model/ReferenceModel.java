package dev.crucible.model;

import dev.crucible.tensor.Attention;
import dev.crucible.tensor.Reference;
import java.util.Arrays;

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
        HfNames hf = HfNames.of(cfg.style());
        String[] parts = generic.split("\\.");
        String leaf = parts[parts.length - 1];
        if (generic.startsWith("wte.")) return hf.embed() + "." + leaf;
        if (generic.startsWith("wpe.")) return hf.positions() + "." + leaf;
        if (generic.startsWith("final_norm.")) return hf.finalNorm() + "." + leaf;
        if (!generic.startsWith("layers.")) return generic;
        int l = Integer.parseInt(parts[1]);
        String module = String.join(".", java.util.Arrays.copyOfRange(parts, 2, parts.length - 1));
        String hfModule = switch (module) {
            case "attn_norm" -> hf.attnNorm();
            case "attn.qkv" -> hf.qkv();
            case "attn.out" -> hf.attnOut();
            case "mlp_norm" -> hf.mlpNorm();
            case "mlp.in" -> hf.mlpIn();
            case "mlp.out" -> hf.mlpOut();
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

    /** Mean cross-entropy; when backward is true also accumulates grads of the mean loss. */
    double run(int[] tokens, int[] targets, int b, int t, boolean backward) {
        int d = cfg.dModel(), bt = b * t, nh = cfg.nHead(), nkv = cfg.nKvHead(), hs = cfg.headSize(), vocab = cfg.vocabSize();
        boolean llama = cfg.style() == ModelConfig.Style.LLAMA;
        int w = Attention.qkvWidth(nh, nkv, hs), hid = cfg.intermediateSize(), in = llama ? 2 * hid : hid;
        int layers = cfg.nLayer();
        double eps = cfg.normEps();
        double[][] xs = new double[layers + 1][], hsAct = new double[layers][], n1 = new double[layers][], n1m = new double[layers][],
                n1r = new double[layers][], q = new double[layers][], pr = new double[layers][], ao = new double[layers][],
                n2 = new double[layers][], n2m = new double[layers][], n2r = new double[layers][], mi = new double[layers][],
                ma = new double[layers][];
        xs[0] = new double[bt * d];
        Reference.embeddingForward(xs[0], tokens, get("wte.weight"), llama ? null : get("wpe.weight"), b, t, d);
        for (int l = 0; l < layers; l++) {
            String p = "layers." + l + ".";
            n1[l] = new double[bt * d];
            n1m[l] = new double[bt];
            n1r[l] = new double[bt];
            norm(n1[l], n1m[l], n1r[l], xs[l], p + "attn_norm", bt, d, eps);
            q[l] = new double[bt * w];
            Reference.linearForward(q[l], n1[l], get(p + "attn.qkv.weight"), llama ? null : get(p + "attn.qkv.bias"), bt, d, w);
            if (llama) Reference.rope(q[l], b, t, nh, nkv, hs, cfg.ropeTheta(), 1);
            ao[l] = new double[bt * nh * hs];
            pr[l] = new double[b * nh * t * t];
            Reference.attentionForward(ao[l], pr[l], q[l], b, t, nh, nkv, hs);
            double[] proj = new double[bt * d];
            Reference.linearForward(proj, ao[l], get(p + "attn.out.weight"), llama ? null : get(p + "attn.out.bias"), bt, nh * hs, d);
            hsAct[l] = new double[bt * d];
            for (int i = 0; i < bt * d; i++) hsAct[l][i] = xs[l][i] + proj[i];
            n2[l] = new double[bt * d];
            n2m[l] = new double[bt];
            n2r[l] = new double[bt];
            norm(n2[l], n2m[l], n2r[l], hsAct[l], p + "mlp_norm", bt, d, eps);
            mi[l] = new double[bt * in];
            Reference.linearForward(mi[l], n2[l], get(p + "mlp.in.weight"), llama ? null : get(p + "mlp.in.bias"), bt, d, in);
            ma[l] = new double[bt * hid];
            if (llama) Reference.swigluForward(ma[l], mi[l], bt, hid);
            else Reference.geluForward(ma[l], mi[l], bt * hid);
            double[] proj2 = new double[bt * d];
            Reference.linearForward(proj2, ma[l], get(p + "mlp.out.weight"), llama ? null : get(p + "mlp.out.bias"), bt, hid, d);
            xs[l + 1] = new double[bt * d];
            for (int i = 0; i < bt * d; i++) xs[l + 1][i] = hsAct[l][i] + proj2[i];
        }
        double[] fn = new double[bt * d], fm = new double[bt], fr = new double[bt];
        norm(fn, fm, fr, xs[layers], "final_norm", bt, d, eps);
        String head = cfg.tieEmbeddings() ? "wte.weight" : "lm_head.weight";
        double[] logits = new double[bt * vocab], losses = new double[bt];
        probs = new double[bt * vocab];
        Reference.linearForward(logits, fn, get(head), null, bt, d, vocab);
        Reference.crossEntropyForward(losses, probs, logits, targets, bt, vocab);
        double loss = 0;
        for (double x : losses) loss += x;
        loss /= bt;
        if (!backward) return loss;

        double[] dlogits = new double[bt * vocab];
        Reference.crossEntropyBackward(dlogits, probs, targets, bt, vocab, 1.0 / bt);
        double[] dfn = new double[bt * d], dhead = new double[vocab * d];
        Reference.linearBackward(dfn, dhead, null, dlogits, fn, get(head), bt, d, vocab);
        addGrad(head, dhead);
        double[] dx = new double[bt * d];
        normBackward(dx, dfn, xs[layers], fm, fr, "final_norm", bt, d);
        for (int l = layers - 1; l >= 0; l--) {
            String p = "layers." + l + ".";
            double[] dma = new double[bt * hid], dw = new double[d * hid], db = new double[d];
            Reference.linearBackward(dma, dw, db, dx, ma[l], get(p + "mlp.out.weight"), bt, hid, d);
            addGrad(p + "mlp.out.weight", dw);
            if (!llama) addGrad(p + "mlp.out.bias", db);
            double[] dmi = new double[bt * in];
            if (llama) Reference.swigluBackward(dmi, mi[l], dma, bt, hid);
            else Reference.geluBackward(dmi, mi[l], dma, bt * hid);
            double[] dn2 = new double[bt * d];
            dw = new double[in * d];
            db = new double[in];
            Reference.linearBackward(dn2, dw, db, dmi, n2[l], get(p + "mlp.in.weight"), bt, d, in);
            addGrad(p + "mlp.in.weight", dw);
            if (!llama) addGrad(p + "mlp.in.bias", db);
            normBackward(dx, dn2, hsAct[l], n2m[l], n2r[l], p + "mlp_norm", bt, d);
            double[] dao = new double[bt * nh * hs];
            dw = new double[d * nh * hs];
            db = new double[d];
            Reference.linearBackward(dao, dw, db, dx, ao[l], get(p + "attn.out.weight"), bt, nh * hs, d);
            addGrad(p + "attn.out.weight", dw);
            if (!llama) addGrad(p + "attn.out.bias", db);
            double[] dq = new double[bt * w];
            Reference.attentionBackward(dq, dao, q[l], pr[l], b, t, nh, nkv, hs);
            if (llama) Reference.rope(dq, b, t, nh, nkv, hs, cfg.ropeTheta(), -1);
            double[] dn1 = new double[bt * d];
            dw = new double[w * d];
            db = new double[w];
            Reference.linearBackward(dn1, dw, db, dq, n1[l], get(p + "attn.qkv.weight"), bt, d, w);
            addGrad(p + "attn.qkv.weight", dw);
            if (!llama) addGrad(p + "attn.qkv.bias", db);
            normBackward(dx, dn1, xs[l], n1m[l], n1r[l], p + "attn_norm", bt, d);
        }
        double[] dwte = new double[cfg.vocabSize() * d], dwpe = llama ? null : new double[cfg.contextLength() * d];
        Reference.embeddingBackward(dwte, dwpe, dx, tokens, b, t, d);
        addGrad("wte.weight", dwte);
        if (!llama) addGrad("wpe.weight", dwpe);
        return loss;
    }

    private void norm(double[] out, double[] mean, double[] rstd, double[] inp, String name, int rows, int d, double eps) {
        if (cfg.style() == ModelConfig.Style.LLAMA) Reference.rmsNormForward(out, rstd, inp, get(name + ".weight"), rows, d, eps);
        else Reference.layerNormForward(out, mean, rstd, inp, get(name + ".weight"), get(name + ".bias"), rows, d, eps);
    }

    private void normBackward(double[] dinp, double[] dout, double[] inp, double[] mean, double[] rstd, String name, int rows, int d) {
        double[] dw = new double[d];
        if (cfg.style() == ModelConfig.Style.LLAMA) {
            Reference.rmsNormBackward(dinp, dw, dout, inp, get(name + ".weight"), rstd, rows, d);
        } else {
            double[] db = new double[d];
            Reference.layerNormBackward(dinp, dw, db, dout, inp, get(name + ".weight"), mean, rstd, rows, d);
            addGrad(name + ".bias", db);
        }
        addGrad(name + ".weight", dw);
    }
}
