package dev.crucible.model;

import dev.crucible.tensor.Activations;
import dev.crucible.tensor.Attention;
import dev.crucible.tensor.CrossEntropy;
import dev.crucible.tensor.Embedding;
import dev.crucible.tensor.Gemm;
import dev.crucible.tensor.Linear;
import dev.crucible.tensor.Norms;
import dev.crucible.tensor.Residual;
import dev.crucible.tensor.Rope;
import dev.crucible.tensor.WorkerPool;
import java.util.Arrays;

/**
 * A decoder-only transformer (pre-norm) with all parameters, gradients and activations in flat
 * float arrays allocated once for a maximum batch (B, T); forward and backward allocate nothing.
 *
 * <pre>
 * x0 = wte[tokens] (+ wpe[pos])
 * per layer: h = x + attn_out(attention(rope(qkv(norm1(x)))));  x' = h + mlp_out(act(mlp_in(norm2(h))))
 * logits = final_norm(x_L) · W_headᵀ (W_head = wte when tied);  loss = mean cross-entropy
 * </pre>
 */
public final class Model {
    private final ModelConfig cfg;
    private final ParamLayout layout;
    private final int maxB, maxT;
    public final float[] params, grads;

    private final Linear linear;
    private final Norms norms;
    private final Activations act;
    private final Attention attention;
    private final Rope rope;
    private final Embedding embedding;
    private final CrossEntropy crossEntropy;
    private final Residual residual;

    // Activations kept for backward, one slice per layer (sizes for maxB x maxT).
    private final float[] x, h, norm1, norm1Mean, norm1Rstd, qkv, probs, attnOut, norm2, norm2Mean, norm2Rstd, mlpIn, mlpAct;
    private final float[] finalNorm, finalMean, finalRstd, logits, losses;
    private final int[] positionTargets;
    // Gradient scratch reused by every layer.
    private final float[] dres, dnorm, dqkv, dattn, dmlpIn, dmlpAct, scratch;

    private int[] tokens, targets;
    private int curB, curT;
    /** Rows the last LM head ran on: -1 after a full forward, n after forwardPositions. */
    private int headRows = -1;
    /** Row stride of the logits: the vocabulary rounded up to 16 floats, so rows start on cache lines (16% faster LM head at V = 50257). */
    private final int ldLogits;
    private final Profile profile = new Profile();

    public Model(ModelConfig cfg, int maxB, int maxT, WorkerPool pool) {
        if (maxT > cfg.contextLength()) {
            throw new IllegalArgumentException("sequence length " + maxT + " exceeds the model's context length " + cfg.contextLength());
        }
        this.cfg = cfg;
        this.layout = new ParamLayout(cfg);
        this.maxB = maxB;
        this.maxT = maxT;
        Gemm gemm = new Gemm(pool);
        linear = new Linear(gemm);
        norms = new Norms(pool);
        act = new Activations(pool);
        attention = new Attention(gemm);
        rope = cfg.llama() ? new Rope(pool, cfg.contextLength(), cfg.headSize(), cfg.ropeTheta()) : null;
        embedding = new Embedding(pool);
        crossEntropy = new CrossEntropy(pool);
        residual = new Residual(pool);

        int layers = cfg.nLayer(), d = cfg.dModel(), bt = maxB * maxT;
        int w = Attention.qkvWidth(cfg.nHead(), cfg.nKvHead(), cfg.headSize());
        params = new float[layout.size()];
        grads = new float[layout.size()];
        x = alloc("residual stream", (long) (layers + 1) * bt * d);
        h = alloc("mid residual", (long) layers * bt * d);
        norm1 = alloc("attention norm", (long) layers * bt * d);
        norm1Mean = alloc("norm stats", (long) layers * bt);
        norm1Rstd = alloc("norm stats", (long) layers * bt);
        qkv = alloc("qkv", (long) layers * bt * w);
        probs = alloc("attention probabilities (B·heads·T²·layers)", (long) layers * maxB * cfg.nHead() * maxT * maxT);
        attnOut = alloc("attention output", (long) layers * bt * d);
        norm2 = alloc("mlp norm", (long) layers * bt * d);
        norm2Mean = alloc("norm stats", (long) layers * bt);
        norm2Rstd = alloc("norm stats", (long) layers * bt);
        mlpIn = alloc("mlp input projection", (long) layers * bt * cfg.mlpInWidth());
        mlpAct = alloc("mlp activation", (long) layers * bt * cfg.hiddenSize());
        finalNorm = alloc("final norm", (long) bt * d);
        finalMean = new float[bt];
        finalRstd = new float[bt];
        ldLogits = (cfg.vocabSize() + 15) / 16 * 16;
        logits = alloc("logits (B·T·vocab)", (long) bt * ldLogits);
        losses = new float[bt];
        positionTargets = new int[bt];
        dres = new float[bt * d];
        dnorm = new float[bt * d];
        dqkv = alloc("qkv gradient", (long) bt * w);
        dattn = new float[bt * d];
        dmlpIn = alloc("mlp gradient", (long) bt * cfg.mlpInWidth());
        dmlpAct = alloc("mlp gradient", (long) bt * cfg.hiddenSize());
        scratch = new float[bt * d];
    }

    private static float[] alloc(String what, long n) {
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("activation buffer for " + what + " would need " + n
                    + " floats, more than one Java array holds; lower the batch size or sequence length");
        }
        return new float[(int) n];
    }

    public ModelConfig config() {
        return cfg;
    }

    public ParamLayout layout() {
        return layout;
    }

    public int maxBatch() {
        return maxB;
    }

    public int maxSeqLen() {
        return maxT;
    }

    /** Per-op timing of forward and backward (off by default). */
    public Profile profile() {
        return profile;
    }

    public void initialize(long seed) {
        layout.initialize(params, seed);
    }

    /**
     * Forward pass over tokens[B·T] (row-major), targets[B·T] the next tokens. Returns the mean loss;
     * per-position losses are in {@link #losses()} and next-token probabilities in {@link #probabilities()}.
     */
    public float forward(int[] tokens, int[] targets, int b, int t) {
        trunk(tokens, targets, b, t);
        final int d = cfg.dModel(), bt = b * t;
        int last = cfg.nLayer() * bt * d;
        norm(finalNorm, 0, finalMean, finalRstd, 0, x, last, layout.finalNormW(), layout.finalNormB(), bt, d, (float) cfg.normEps());
        profile.stop(Profile.Op.NORM, false);
        linear.forward(logits, 0, ldLogits, finalNorm, 0, params, layout.lmHead(), null, 0, bt, d, cfg.vocabSize());
        profile.stop(Profile.Op.LM_HEAD, false);
        crossEntropy.forward(losses, 0, logits, 0, ldLogits, targets, 0, bt, cfg.vocabSize());
        profile.stop(Profile.Op.LOSS, false);
        headRows = -1;
        double sum = 0;
        for (int i = 0; i < bt; i++) sum += losses[i];
        return (float) (sum / bt);
    }

    /**
     * The forward pass for scoring: the transformer runs on all B·T positions, but the final norm, the
     * LM head and the loss only on the n listed positions (indices r·T + i). Each position's values
     * are those {@link #forward} gives it, bit for bit. Afterwards, {@link #losses()} and
     * {@link #probabilities()} hold one row per listed position, in list order. The LM head is a
     * quarter or more of a small model's forward, and most scoring requests need a few positions of
     * a long context. A backward pass cannot follow this.
     */
    public void forwardPositions(int[] tokens, int[] targets, int b, int t, int[] positions, int n) {
        final int d = cfg.dModel(), bt = b * t, last = cfg.nLayer() * bt * d;
        if (n > bt) throw new IllegalArgumentException(n + " positions of " + bt);
        for (int k = 0; k < n; k++) {
            if (positions[k] < 0 || positions[k] >= bt) throw new IllegalArgumentException("position " + positions[k] + " outside the " + b + "x" + t + " batch");
        }
        headRows = n; // set first: whatever happens below, no backward follows
        trunk(tokens, targets, b, t);
        for (int k = 0; k < n; k++) {
            int pos = positions[k];
            System.arraycopy(x, last + pos * d, scratch, k * d, d);
            positionTargets[k] = targets[pos];
        }
        norm(finalNorm, 0, finalMean, finalRstd, 0, scratch, 0, layout.finalNormW(), layout.finalNormB(), n, d, (float) cfg.normEps());
        profile.stop(Profile.Op.NORM, false);
        linear.forward(logits, 0, ldLogits, finalNorm, 0, params, layout.lmHead(), null, 0, n, d, cfg.vocabSize());
        profile.stop(Profile.Op.LM_HEAD, false);
        crossEntropy.forward(losses, 0, logits, 0, ldLogits, positionTargets, 0, n, cfg.vocabSize());
        profile.stop(Profile.Op.LOSS, false);
    }

    /** Embedding and transformer blocks: x holds every layer's residual stream. */
    private void trunk(int[] tokens, int[] targets, int b, int t) {
        if (b > maxB || t > maxT) throw new IllegalArgumentException("batch " + b + "x" + t + " exceeds the allocated " + maxB + "x" + maxT);
        this.tokens = tokens;
        this.targets = targets;
        this.curB = b;
        this.curT = t;
        final int d = cfg.dModel(), bt = b * t, nh = cfg.nHead(), nkv = cfg.nKvHead(), hs = cfg.headSize();
        final int w = Attention.qkvWidth(nh, nkv, hs), in = cfg.mlpInWidth(), hid = cfg.hiddenSize();
        final float eps = (float) cfg.normEps();
        final float[] p = params;
        profile.start();
        embedding.forward(x, 0, tokens, 0, p, layout.wte(), cfg.llama() ? null : p, layout.wpe(), b, t, d, cfg.vocabSize());
        profile.stop(Profile.Op.EMBEDDING, false);
        for (int l = 0; l < cfg.nLayer(); l++) {
            ParamLayout.Block blk = layout.block(l);
            int xo = l * bt * d, ho = l * bt * d, so = l * bt, qo = l * bt * w, po = l * b * nh * t * t;
            int mo = l * bt * in, ao = l * bt * hid;
            norm(norm1, xo, norm1Mean, norm1Rstd, so, x, xo, blk.attnNormW(), blk.attnNormB(), bt, d, eps);
            profile.stop(Profile.Op.NORM, false);
            linear.forward(qkv, qo, norm1, xo, p, blk.qkvW(), bias(), blk.qkvB(), bt, d, w);
            profile.stop(Profile.Op.MATMUL, false);
            if (rope != null) rope.forward(qkv, qo, b, t, nh, nkv, hs);
            profile.stop(Profile.Op.ROPE, false);
            attention.forward(attnOut, xo, probs, po, qkv, qo, b, t, nh, nkv, hs);
            profile.stop(Profile.Op.ATTENTION, false);
            linear.forward(scratch, 0, attnOut, xo, p, blk.attnOutW(), bias(), blk.attnOutB(), bt, nh * hs, d);
            profile.stop(Profile.Op.MATMUL, false);
            residual.forward(h, ho, x, xo, scratch, 0, bt * d);
            profile.stop(Profile.Op.RESIDUAL, false);
            norm(norm2, ho, norm2Mean, norm2Rstd, so, h, ho, blk.mlpNormW(), blk.mlpNormB(), bt, d, eps);
            profile.stop(Profile.Op.NORM, false);
            linear.forward(mlpIn, mo, norm2, ho, p, blk.mlpInW(), bias(), blk.mlpInB(), bt, d, in);
            profile.stop(Profile.Op.MATMUL, false);
            if (cfg.llama()) act.swigluForward(mlpAct, ao, mlpIn, mo, bt, hid);
            else act.geluForward(mlpAct, ao, mlpIn, mo, bt * hid);
            profile.stop(Profile.Op.ACTIVATION, false);
            linear.forward(scratch, 0, mlpAct, ao, p, blk.mlpOutW(), bias(), blk.mlpOutB(), bt, hid, d);
            profile.stop(Profile.Op.MATMUL, false);
            residual.forward(x, (l + 1) * bt * d, h, ho, scratch, 0, bt * d);
            profile.stop(Profile.Op.RESIDUAL, false);
        }
    }

    /**
     * Backward pass of the last forward, accumulating into {@link #grads} the gradient of
     * lossScale · Σ per-position losses (lossScale = 1/(B·T·micro-steps) gives the mean over a batch).
     */
    public void backward(float lossScale) {
        if (headRows >= 0) throw new IllegalStateException("backward needs a full forward pass, not forwardPositions");
        final int b = curB, t = curT, d = cfg.dModel(), bt = b * t, nh = cfg.nHead(), nkv = cfg.nKvHead(), hs = cfg.headSize();
        final int w = Attention.qkvWidth(nh, nkv, hs), in = cfg.mlpInWidth(), hid = cfg.hiddenSize(), vocab = cfg.vocabSize();
        final float[] p = params, g = grads;
        profile.start();
        crossEntropy.backward(logits, 0, ldLogits, targets, 0, bt, vocab, lossScale);
        profile.stop(Profile.Op.LOSS, true);
        linear.backward(dnorm, 0, false, g, layout.lmHead(), null, 0, logits, 0, ldLogits, finalNorm, 0, p, layout.lmHead(), bt, d, vocab);
        profile.stop(Profile.Op.LM_HEAD, true);
        Arrays.fill(dres, 0, bt * d, 0f);
        int last = cfg.nLayer() * bt * d;
        normBackward(dres, dnorm, x, last, finalMean, finalRstd, 0, layout.finalNormW(), layout.finalNormB(), bt, d);
        profile.stop(Profile.Op.NORM, true);
        for (int l = cfg.nLayer() - 1; l >= 0; l--) {
            ParamLayout.Block blk = layout.block(l);
            int xo = l * bt * d, ho = l * bt * d, so = l * bt, qo = l * bt * w, po = l * b * nh * t * t;
            int mo = l * bt * in, ao = l * bt * hid;
            // MLP: dres is the gradient of this block's output, also of h through the skip connection.
            linear.backward(dmlpAct, 0, false, g, blk.mlpOutW(), biasGrad(), blk.mlpOutB(), dres, 0, mlpAct, ao, p, blk.mlpOutW(), bt, hid, d);
            profile.stop(Profile.Op.MATMUL, true);
            if (cfg.llama()) act.swigluBackward(dmlpIn, 0, mlpIn, mo, dmlpAct, 0, bt, hid);
            else act.geluBackward(dmlpIn, 0, mlpIn, mo, dmlpAct, 0, bt * hid);
            profile.stop(Profile.Op.ACTIVATION, true);
            linear.backward(dnorm, 0, false, g, blk.mlpInW(), biasGrad(), blk.mlpInB(), dmlpIn, 0, norm2, ho, p, blk.mlpInW(), bt, d, in);
            profile.stop(Profile.Op.MATMUL, true);
            normBackward(dres, dnorm, h, ho, norm2Mean, norm2Rstd, so, blk.mlpNormW(), blk.mlpNormB(), bt, d);
            profile.stop(Profile.Op.NORM, true);
            // Attention: dres is now the gradient of h, also of x through the skip connection.
            linear.backward(dattn, 0, false, g, blk.attnOutW(), biasGrad(), blk.attnOutB(), dres, 0, attnOut, xo, p, blk.attnOutW(), bt, nh * hs, d);
            profile.stop(Profile.Op.MATMUL, true);
            attention.backward(dqkv, 0, dattn, 0, qkv, qo, probs, po, b, t, nh, nkv, hs);
            profile.stop(Profile.Op.ATTENTION, true);
            if (rope != null) rope.backward(dqkv, 0, b, t, nh, nkv, hs);
            profile.stop(Profile.Op.ROPE, true);
            linear.backward(dnorm, 0, false, g, blk.qkvW(), biasGrad(), blk.qkvB(), dqkv, 0, norm1, xo, p, blk.qkvW(), bt, d, w);
            profile.stop(Profile.Op.MATMUL, true);
            normBackward(dres, dnorm, x, xo, norm1Mean, norm1Rstd, so, blk.attnNormW(), blk.attnNormB(), bt, d);
            profile.stop(Profile.Op.NORM, true);
        }
        embedding.backward(g, layout.wte(), cfg.llama() ? null : g, layout.wpe(), dres, 0, tokens, 0, b, t, d);
        profile.stop(Profile.Op.EMBEDDING, true);
    }

    public void zeroGrad() {
        Arrays.fill(grads, 0f);
    }

    /** Per-position losses of the last forward (B·T; after forwardPositions, one per listed position). */
    public float[] losses() {
        return losses;
    }

    /**
     * Next-token probabilities of the last forward, rows {@link #probabilityStride()} apart (one per
     * listed position after forwardPositions); overwritten by backward.
     */
    public float[] probabilities() {
        return logits;
    }

    public int probabilityStride() {
        return ldLogits;
    }

    /** The probabilities of the last forward as a dense (B·T, vocab) copy (for tests and tools, allocates). */
    public float[] probabilitiesDense() {
        int v = cfg.vocabSize(), rows = headRows >= 0 ? headRows : curB * curT;
        float[] out = new float[rows * v];
        for (int r = 0; r < rows; r++) System.arraycopy(logits, r * ldLogits, out, r * v, v);
        return out;
    }

    /** Bias parameters (GPT-2 style) live in the flat params; Llama style has none. */
    private float[] bias() {
        return cfg.llama() ? null : params;
    }

    private float[] biasGrad() {
        return cfg.llama() ? null : grads;
    }

    private void norm(float[] out, int outOff, float[] mean, float[] rstd, int statOff, float[] inp, int inpOff, int wOff, int bOff,
                      int rows, int d, float eps) {
        if (cfg.llama()) norms.rmsNormForward(out, outOff, rstd, statOff, inp, inpOff, params, wOff, rows, d, eps);
        else norms.layerNormForward(out, outOff, mean, rstd, statOff, inp, inpOff, params, wOff, params, bOff, rows, d, eps);
    }

    private void normBackward(float[] dinp, float[] dout, float[] inp, int inpOff, float[] mean, float[] rstd, int statOff,
                              int wOff, int bOff, int rows, int d) {
        if (cfg.llama()) norms.rmsNormBackward(dinp, 0, grads, wOff, dout, 0, inp, inpOff, params, wOff, rstd, statOff, rows, d);
        else norms.layerNormBackward(dinp, 0, grads, wOff, grads, bOff, dout, 0, inp, inpOff, params, wOff, mean, rstd, statOff, rows, d);
    }
}
