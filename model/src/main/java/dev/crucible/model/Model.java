package dev.crucible.model;

import dev.crucible.tensor.Attention;
import dev.crucible.tensor.Embedding;
import dev.crucible.tensor.Gemm;
import dev.crucible.tensor.Linear;
import dev.crucible.tensor.PackedMatrix;
import dev.crucible.tensor.Residual;
import dev.crucible.tensor.Rope;
import dev.crucible.tensor.WorkerPool;
import java.util.Arrays;

/**
 * A decoder-only transformer that walks its {@link BlockPlan}, with parameters, activations and (for
 * training) gradients in flat float arrays allocated once for a maximum batch (B, T); forward and
 * backward allocate nothing. Each layer is two residual sub-layers (attention, then MLP); a norm
 * placement (pre, post, output) is written once in {@code sublayerForward} and once in {@code sublayerBackward}, for both.
 *
 * <pre>
 * x0 = wte[tokens] (+ wpe[pos] with learned positions)   (then · R1ᵀ with embedding projections)
 * per layer (pre-norm): h = x + attn_out(attention(rope?(qkv(norm1(x)))));  x' = h + mlp_out(act(mlp_in(norm2(h))))
 *   (parallel residual, GPT-NeoX: the same with norm2(x) in place of norm2(h))
 * logits = final_norm(x_L) (· R2ᵀ with embedding projections) · W_headᵀ (W_head = wte when tied)
 * </pre>
 *
 * A model built {@link #forTraining} keeps every layer's activations and has gradient buffers; one
 * built {@link #forInference} (evaluation, generation, a teacher) keeps one layer's activations and
 * no gradients, and computes the same forward bit for bit. The loss is a {@link Loss} applied to
 * {@link #logits()}; {@link #forward(int[], int[], int, int)} is the common case of hard-target
 * cross-entropy.
 */
public final class Model {
    private final ModelConfig cfg;
    private final BlockPlan plan;
    private final ParamLayout layout;
    private final int maxB, maxT;
    private final boolean training;
    public final float[] params;
    /** Gradients, laid out as params; null for an inference model. */
    public final float[] grads;
    private final WorkerPool pool;

    private final Linear linear;
    private final Attention attention;
    private final Rope rope;
    private final Embedding embedding;
    private final Residual residual;
    private final NormOp[] attnNorm, mlpNorm;
    private final NormOp finalNormOp;
    private final MlpActivation[] mlpAct;
    private final CrossEntropyLoss crossEntropy;
    private final dev.crucible.tensor.Softcap softcap;
    /** 1 − tanh² of each capped logit of the last full forward, for backward (the logits turn into probabilities in between). */
    private final float[] softcapDerivative;

    // Activations, one slice per layer when training (sizes for maxB x maxT); one slice reused by every layer otherwise.
    private final float[] x, h, norm1, norm1Mean, norm1Rstd, qkv, lse, attnOut, norm2, norm2Mean, norm2Rstd, mlpIn, mlpActOut;
    private final float[] finalNorm, finalMean, finalRstd, logits;
    /** With embedding projections: the embedding before R1, and the final norm's output after R2 (the head's input). */
    private final float[] embRaw, headIn;
    private final int[] positionTargets;
    // Gradient scratch reused by every layer (training only).
    private final float[] dres, dnorm, dqkv, dattn, dmlpIn, dmlpAct;
    /** With a parallel residual: the gradient the MLP branch sends to the layer's input, until the attention sub-layer's is in dres. */
    private final float[] dparallel;
    // QK-norm (null without it): the raw query and key heads and their statistics, per layer; scratch for both passes.
    private final QkNormOp qkNormOp;
    private final float[] qkRaw, qkRstd, qkScratch;
    /** clip_qkv (OLMo 1.7's): training's bits of where the clamp cut each layer's q, k and v (null without it, or for inference). */
    private final long[] clipMask;
    private final int clipWords;
    private final dev.crucible.tensor.Clamp clamp;
    private final float[] scratch;
    private long allocatedFloats;
    private final boolean allocate;

    private int[] tokens;
    /** Targets of the last forward(tokens, targets, ...), for backward(lossScale); null after any other forward. */
    private int[] targets;
    private int curB, curT;
    /** Rows the last LM head ran on: -1 after a full forward, n after forwardPositions. */
    private int headRows = -1;
    /** Row stride of the logits: the vocabulary rounded up to 16 floats, so rows start on cache lines (16% faster LM head at V = 50257). */
    private final int ldLogits;
    /** The view {@link #logits()} hands out, made again only when the number of rows changes (so a step allocates nothing). */
    private Logits logitsView;
    private final Profile profile = new Profile();
    private final Slices at = new Slices();
    private final dev.crucible.tensor.Dropout dropoutOp;
    /** Dropout sites: each sub-layer's branch output (attention, MLP), the MLP's hidden activation and the attention probabilities. */
    static final int SITE_ATTENTION_OUT = 0, SITE_MLP_OUT = 1, SITE_MLP_HIDDEN = 2, SITE_ATTENTION_PROBS = 3;
    /** Armed for the next training forward and its backward (seed, step, micro-batch), or off. */
    private boolean dropoutArmed;
    private long dropoutSeed, dropoutStep;
    private int dropoutMicro;

    /** A model that can be trained: every layer's activations are kept for backward. */
    public static Model forTraining(ModelConfig cfg, int maxB, int maxT, WorkerPool pool) {
        return new Model(cfg, maxB, maxT, pool, true, true);
    }

    /** A forward-only model (scoring, generation, teachers): no gradients, one layer's activations. */
    public static Model forInference(ModelConfig cfg, int maxB, int maxT, WorkerPool pool) {
        return new Model(cfg, maxB, maxT, pool, false, true);
    }

    /** What {@link #memoryBytes()} of such a model would be, without allocating it (an inference model's with its weights packed). */
    public static long memoryBytes(ModelConfig cfg, int maxB, int maxT, boolean training, WorkerPool pool) {
        Model m = new Model(cfg, maxB, maxT, pool, training, false);
        long packedCopies = 0; // an inference model's weights packed for its products (packWeights), as every inference use packs them
        if (!training) for (int[] shape : linearWeights(cfg, m.layout, m.plan).values()) packedCopies += PackedMatrix.bytes(shape[0], shape[1]);
        return m.memoryBytes() + packedCopies;
    }

    /** allocate = false only counts the buffers (every one is then null). */
    private Model(ModelConfig cfg, int maxB, int maxT, WorkerPool pool, boolean training, boolean allocate) {
        this.pool = pool;
        if (maxT > cfg.contextLength()) {
            throw new IllegalArgumentException("sequence length " + maxT + " exceeds the model's context length " + cfg.contextLength());
        }
        this.cfg = cfg;
        this.layout = new ParamLayout(cfg);
        this.plan = layout.plan();
        this.maxB = maxB;
        this.maxT = maxT;
        this.training = training;
        Gemm gemm = new Gemm(pool);
        linear = new Linear(gemm);
        attention = new Attention(gemm);
        embedding = new Embedding(pool);
        residual = new Residual(pool);
        dropoutOp = new dev.crucible.tensor.Dropout(pool);
        int layers = cfg.nLayer(), d = cfg.dModel(), bt = maxB * maxT;
        PlanKernels k = PlanKernels.of(plan, cfg, pool);
        attnNorm = k.attnNorm();
        mlpNorm = k.mlpNorm();
        mlpAct = k.mlp();
        finalNormOp = k.finalNorm();
        rope = k.rope();
        int maxIn = k.maxInWidth();
        this.allocate = allocate;
        crossEntropy = allocate ? new CrossEntropyLoss(pool, bt) : null;

        int slices = training ? layers : 1, w = Attention.qkvWidth(cfg.nHead(), cfg.nKvHead(), cfg.headSize());
        int hid = cfg.intermediateSize(), aw = cfg.attentionWidth();
        params = alloc("parameters", layout.size());
        grads = training ? alloc("gradients", layout.size()) : null;
        x = alloc("residual stream", (long) (training ? layers + 1 : 1) * bt * d);
        h = alloc("mid residual", (long) slices * bt * d);
        norm1 = alloc("attention norm", (long) slices * bt * d);
        norm1Mean = alloc("norm stats", (long) slices * bt);
        norm1Rstd = alloc("norm stats", (long) slices * bt);
        qkv = alloc("qkv", (long) slices * bt * w);
        lse = alloc("attention log-sum-exp (B·heads·T·layers)", (long) slices * maxB * cfg.nHead() * maxT);
        attnOut = alloc("attention output", (long) slices * bt * aw);
        norm2 = alloc("mlp norm", (long) slices * bt * d);
        norm2Mean = alloc("norm stats", (long) slices * bt);
        norm2Rstd = alloc("norm stats", (long) slices * bt);
        mlpIn = alloc("mlp input projection", (long) slices * bt * maxIn);
        mlpActOut = alloc("mlp activation", (long) slices * bt * hid);
        finalNorm = alloc("final norm", (long) bt * d);
        finalMean = alloc("norm stats", bt);
        finalRstd = alloc("norm stats", bt);
        embRaw = cfg.embeddingProjection() ? alloc("embedding before its projection", (long) bt * d) : null;
        headIn = cfg.embeddingProjection() ? alloc("final norm after the head projection", (long) bt * d) : finalNorm;
        ldLogits = (cfg.vocabSize() + 15) / 16 * 16;
        logits = alloc("logits (B·T·vocab)", (long) bt * ldLogits);
        softcap = cfg.logitSoftcap() > 0 ? new dev.crucible.tensor.Softcap(pool) : null;
        softcapDerivative = training && softcap != null ? alloc("logit soft-cap derivative (B·T·vocab)", (long) bt * ldLogits) : null;
        positionTargets = allocate ? new int[bt] : null;
        scratch = alloc("scratch", (long) bt * d);
        dres = training ? alloc("residual gradient", (long) bt * d) : null;
        dnorm = training ? alloc("norm gradient", (long) bt * d) : null;
        dqkv = training ? alloc("qkv gradient", (long) bt * w) : null;
        dattn = training ? alloc("attention gradient", (long) bt * Math.max(aw, d)) : null; // also the head projection's, d wide
        dmlpIn = training ? alloc("mlp gradient", (long) bt * maxIn) : null;
        dmlpAct = training ? alloc("mlp gradient", (long) bt * hid) : null;
        boolean parallel = plan.layers().stream().anyMatch(BlockPlan.Layer::parallel);
        dparallel = training && parallel ? alloc("parallel residual gradient", (long) bt * d) : null;
        qkNormOp = cfg.qkNorm().on() ? new QkNormOp(new dev.crucible.tensor.Norms(pool), cfg) : null;
        qkRaw = qkNormOp == null ? null : alloc("QK-norm heads", (long) slices * qkNormOp.rawSize(bt));
        qkRstd = qkNormOp == null ? null : alloc("QK-norm stats", (long) slices * qkNormOp.statSize(bt));
        qkScratch = qkNormOp == null ? null : alloc("QK-norm scratch", qkNormOp.rawSize(bt));
        clamp = new dev.crucible.tensor.Clamp(pool);
        clipWords = dev.crucible.tensor.Clamp.words((long) bt * w);
        boolean clipping = training && cfg.clipQkv() > 0;
        if (clipping) allocatedFloats += 2L * layers * clipWords; // counted as floats, two to a long
        clipMask = clipping && allocate ? new long[layers * clipWords] : null;
        allocatedFloats += 2L * bt; // the per-row losses and the listed positions' targets
    }

    private float[] alloc(String what, long n) {
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("buffer for " + what + " would need " + n
                    + " floats, more than one Java array holds; lower the batch size or sequence length");
        }
        allocatedFloats += n;
        return allocate ? new float[(int) n] : null;
    }

    public ModelConfig config() {
        return cfg;
    }

    public ParamLayout layout() {
        return layout;
    }

    public BlockPlan plan() {
        return plan;
    }

    public int maxBatch() {
        return maxB;
    }

    public int maxSeqLen() {
        return maxT;
    }

    /** The workers this model's kernels run on. */
    public WorkerPool pool() {
        return pool;
    }

    /**
     * Positions the buffers hold, maxBatch · maxSeqLen: a forward takes any b x t with t ≤ maxSeqLen and
     * b·t within it (short rows, more of them: scoring packs short requests so).
     */
    public int maxPositions() {
        return maxB * maxT;
    }

    public boolean trainable() {
        return training;
    }

    /** Rows (B·T) of the last forward. */
    public int lastRows() {
        return curB * curT;
    }

    /** Bytes of every float buffer this model allocated: parameters, gradients, activations, packed weights. */
    public long memoryBytes() {
        return 4 * allocatedFloats + (packed == null ? 0 : packed.bytes());
    }

    /** Per-op timing of forward and backward (off by default). */
    public Profile profile() {
        return profile;
    }

    public void initialize(long seed) {
        layout.initialize(params, seed);
    }

    /**
     * Packs every linear layer's weights (the projections and the LM head) for the forward, once, so
     * that no forward packs them again per product (in a scoring pass of a few hundred rows that
     * packing is a sixth of the time); the copies take as much memory again as those weights. For
     * inference models, after their parameters are set: the copies are taken from params as they are
     * now, and params must not change afterwards unless this is called again. As a guard, a forward
     * compares every {@link #CHECK_STRIDE}-th value of each matrix (and its last) with the packed
     * one's source and refuses to run on a change it sees (a reload, a row rewritten); a change to
     * fewer, unsampled values goes unseen. The forward's results are the same bits, packed or not.
     */
    public void packWeights() {
        if (training) throw new IllegalStateException("a training model's weights change every step; pack the weights of an inference model");
        java.util.TreeMap<Integer, int[]> shapes = linearWeights(cfg, layout, plan);
        int n = shapes.size(), i = 0;
        int[] offsets = new int[n], sizes = new int[n];
        PackedMatrix[] matrices = new PackedMatrix[n];
        int[][] samples = new int[n][];
        for (var e : shapes.entrySet()) {
            int off = e.getKey(), in = e.getValue()[0], out = e.getValue()[1];
            offsets[i] = off;
            sizes[i] = in * out;
            matrices[i] = linear.pack(params, off, in, out);
            samples[i] = PackedWeights.sample(params, off, sizes[i]);
            i++;
        }
        packed = new PackedWeights(offsets, sizes, matrices, samples);
    }

    /** The linear layers' weights as the forward uses them: offset in params -> {in, out} (W is out x in). */
    private static java.util.TreeMap<Integer, int[]> linearWeights(ModelConfig cfg, ParamLayout layout, BlockPlan plan) {
        int d = cfg.dModel(), w = Attention.qkvWidth(cfg.nHead(), cfg.nKvHead(), cfg.headSize()), hid = cfg.intermediateSize();
        java.util.TreeMap<Integer, int[]> shapes = new java.util.TreeMap<>();
        for (BlockPlan.Layer lp : plan.layers()) {
            ParamLayout.Block blk = layout.block(lp.index());
            shapes.put(blk.qkvW(), new int[] {d, w});
            shapes.put(blk.attnOutW(), new int[] {cfg.nHead() * cfg.headSize(), d});
            shapes.put(blk.mlpInW(), new int[] {d, lp.mlp().inWidth(hid)});
            shapes.put(blk.mlpOutW(), new int[] {hid, d});
        }
        shapes.put(layout.lmHead(), new int[] {d, cfg.vocabSize()});
        if (cfg.embeddingProjection()) {
            shapes.put(layout.embedProj(), new int[] {d, d});
            shapes.put(layout.headProj(), new int[] {d, d});
        }
        return shapes;
    }

    /** The guard's sampling: any run of this many consecutive values (a row of a matrix this wide or wider) holds a sampled one. */
    static final int CHECK_STRIDE = 256;

    private record PackedWeights(int[] offsets, int[] sizes, PackedMatrix[] matrices, int[][] samples) {
        PackedMatrix at(int offset) {
            int i = Arrays.binarySearch(offsets, offset);
            return i >= 0 ? matrices[i] : null;
        }

        long bytes() {
            long b = 0;
            for (var m : matrices) b += m.bytes();
            return b;
        }

        /** The bits of every CHECK_STRIDE-th value of params[off, off + size), then of its last. */
        static int[] sample(float[] params, int off, int size) {
            int[] out = new int[(size + CHECK_STRIDE - 1) / CHECK_STRIDE + 1];
            for (int k = 0; k < out.length - 1; k++) out[k] = Float.floatToRawIntBits(params[off + k * CHECK_STRIDE]);
            out[out.length - 1] = Float.floatToRawIntBits(params[off + size - 1]);
            return out;
        }

        /** As sample would take them now, without allocating (a forward allocates nothing). */
        void check(float[] params) {
            for (int i = 0; i < offsets.length; i++) {
                int[] was = samples[i];
                boolean same = Float.floatToRawIntBits(params[offsets[i] + sizes[i] - 1]) == was[was.length - 1];
                for (int k = 0; same && k < was.length - 1; k++) same = Float.floatToRawIntBits(params[offsets[i] + k * CHECK_STRIDE]) == was[k];
                if (!same) throw new IllegalStateException("the parameters changed after Model.packWeights(): call it again after setting them");
            }
        }
    }

    /** Packed copies of the linear weights (see {@link #packWeights}), or null: each product then packs its own. */
    private PackedWeights packed;

    /** out (rows ldOut apart) = inp · W[oc, c]ᵀ (+ bias) for the weight at wOff, from its packed copy when there is one. */
    private void project(float[] out, int outOff, int ldOut, float[] inp, int inpOff, int wOff, float[] bias, int biasOff, int bt, int c, int oc) {
        PackedMatrix pw = packed == null ? null : packed.at(wOff);
        if (pw != null && (pw.rows() != c || pw.columns() != oc)) {
            throw new IllegalStateException("the weight at " + wOff + " was packed as " + pw.columns() + " x " + pw.rows() + ", used as " + oc + " x " + c);
        }
        if (pw != null) linear.forward(out, outOff, ldOut, inp, inpOff, pw, bias, biasOff, bt);
        else linear.forward(out, outOff, ldOut, inp, inpOff, params, wOff, bias, biasOff, bt, c, oc);
    }

    /** Offset of layer l's slice in a per-layer activation buffer whose slices hold `size` floats. */
    private int slice(int l, int size) {
        return training ? l * size : 0;
    }

    /**
     * Forward pass over tokens[B·T] (row-major) to the logits of every position ({@link #logits()});
     * a {@link Loss} takes it from there.
     */
    public Logits forwardLogits(int[] tokens, int b, int t) {
        trunk(tokens, b, t);
        final int d = cfg.dModel(), bt = b * t;
        finalNormOp.forward(finalNorm, 0, finalMean, finalRstd, 0, x, slice(cfg.nLayer(), bt * d), params, layout.finalNormW(),
                layout.finalNormB(), bt, d);
        profile.stop(Profile.Op.NORM, false);
        head(bt);
        headRows = -1;
        return logits();
    }

    /**
     * Forward pass with the hard-target cross-entropy against targets[B·T] (the next tokens). Returns
     * the mean loss; per-position losses are in {@link #losses()} and next-token probabilities in
     * {@link #probabilities()}.
     */
    public float forward(int[] tokens, int[] targets, int b, int t) {
        Logits lg = forwardLogits(tokens, b, t);
        float loss = crossEntropy.forward(lg, targets);
        this.targets = targets;
        profile.stop(Profile.Op.LOSS, false);
        return loss;
    }

    /** The logits of the last forward (all B·T positions, or the listed ones after forwardPositions). */
    public Logits logits() {
        int rows = headRows >= 0 ? headRows : curB * curT;
        if (logitsView == null || logitsView.rows() != rows) logitsView = new Logits(logits, ldLogits, rows, cfg.vocabSize());
        return logitsView;
    }

    /** The model's own hard-target cross-entropy, whose per-position losses {@link #losses()} returns. */
    public CrossEntropyLoss crossEntropy() {
        return crossEntropy;
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
        final int d = cfg.dModel(), bt = b * t, last = slice(cfg.nLayer(), bt * d);
        if (n > bt) throw new IllegalArgumentException(n + " positions of " + bt);
        for (int k = 0; k < n; k++) {
            if (positions[k] < 0 || positions[k] >= bt) throw new IllegalArgumentException("position " + positions[k] + " outside the " + b + "x" + t + " batch");
        }
        headRows = n; // set first: whatever happens below, no backward follows
        trunk(tokens, b, t);
        for (int k = 0; k < n; k++) {
            int pos = positions[k];
            System.arraycopy(x, last + pos * d, scratch, k * d, d);
            positionTargets[k] = targets[pos];
        }
        finalNormOp.forward(finalNorm, 0, finalMean, finalRstd, 0, scratch, 0, params, layout.finalNormW(), layout.finalNormB(), n, d);
        profile.stop(Profile.Op.NORM, false);
        head(n);
        crossEntropy.forward(logits(), positionTargets);
        profile.stop(Profile.Op.LOSS, false);
    }

    /** The LM head on the final norm's first `rows` rows (through the head projection R2 first, when there is one). */
    private void head(int rows) {
        final int d = cfg.dModel();
        if (headIn != finalNorm) project(headIn, 0, d, finalNorm, 0, layout.headProj(), null, 0, rows, d, d);
        project(logits, 0, ldLogits, headIn, 0, layout.lmHead(), ParamLayout.ifPresent(params, layout.lmHeadB()), layout.lmHeadB(), rows, d, cfg.vocabSize());
        if (softcap != null) softcap.forward(logits, 0, ldLogits, rows, cfg.vocabSize(), (float) cfg.logitSoftcap(), softcapDerivative);
        profile.stop(Profile.Op.LM_HEAD, false);
    }

    /** Embedding and transformer blocks: x holds the residual stream (every layer's, when training). */
    private void trunk(int[] tokens, int b, int t) {
        if (t > maxT || (long) b * t > (long) maxB * maxT) {
            throw new IllegalArgumentException("batch " + b + "x" + t + " does not fit the allocated " + maxB + "x" + maxT
                    + " (rows of at most " + maxT + " positions, " + maxPositions() + " positions in all)");
        }
        if (packed != null) packed.check(params);
        this.tokens = tokens;
        this.targets = null;
        this.curB = b;
        this.curT = t;
        final int d = cfg.dModel();
        profile.start();
        boolean learned = plan.positions() == BlockPlan.Positions.LEARNED;
        if (embRaw == null) {
            embedding.forward(x, 0, tokens, 0, params, layout.wte(), learned ? params : null, layout.wpe(), b, t, d, cfg.vocabSize(), (float) cfg.embeddingMultiplier());
        } else { // x0 = R1 · (wte[token] + wpe[pos])
            embedding.forward(embRaw, 0, tokens, 0, params, layout.wte(), learned ? params : null, layout.wpe(), b, t, d, cfg.vocabSize(), (float) cfg.embeddingMultiplier());
            project(x, 0, d, embRaw, 0, layout.embedProj(), null, 0, b * t, d, d);
        }
        profile.stop(Profile.Op.EMBEDDING, false);
        for (BlockPlan.Layer lp : plan.layers()) {
            at.layer(lp, b, t);
            ParamLayout.Block blk = layout.block(lp.index());
            // attention sub-layer: x -> h; MLP sub-layer: h -> x' (its norm reading x with a parallel residual)
            sublayerForward(lp.attention(), attnNorm[lp.index()], blk.attnNormW(), blk.attnNormB(), x, at.xo, x, at.xo, h, at.xo, norm1, norm1Mean, norm1Rstd);
            float[] mlpSource = lp.parallel() ? x : h;
            sublayerForward(lp.mlpSublayer(), mlpNorm[lp.index()], blk.mlpNormW(), blk.mlpNormB(), mlpSource, at.xo, h, at.xo, x, at.xNext, norm2,
                    norm2Mean, norm2Rstd);
        }
    }

    /**
     * Drops out (at the config's rate) in the next forward and its backward, with masks of (seed, step,
     * micro-batch, layer, site); every other forward (validation, scoring) drops nothing.
     */
    public void armDropout(long seed, long step, int micro) {
        if (!training) throw new IllegalStateException("dropout is for training; this model was built for inference");
        dropoutArmed = cfg.dropout() > 0;
        dropoutSeed = seed;
        dropoutStep = step;
        dropoutMicro = micro;
    }

    public void disarmDropout() {
        dropoutArmed = false;
    }

    /** Applies the armed dropout mask of (layer, site) to x[off, off + n), or nothing when disarmed. */
    private void drop(float[] x, int off, int n, int site) {
        if (!dropoutArmed) return;
        dropoutOp.apply(x, off, n, dev.crucible.tensor.Dropout.key(dropoutSeed, dropoutStep, dropoutMicro, at.l, site), (float) cfg.dropout());
    }

    private float probsDrop() {
        return dropoutArmed ? (float) cfg.dropout() : 0f;
    }

    private long probsKey() {
        return dropoutArmed ? dev.crucible.tensor.Dropout.key(dropoutSeed, dropoutStep, dropoutMicro, at.l, SITE_ATTENTION_PROBS) : 0;
    }

    private static int outSite(BlockPlan.Branch b) {
        return b == BlockPlan.Branch.ATTENTION ? SITE_ATTENTION_OUT : SITE_MLP_OUT;
    }

    /** Offsets of the current layer's slices in the activation buffers (one object, updated per layer: nothing is allocated). */
    private final class Slices {
        int l, b, t, bt, in, xo, xNext, so, qo, po, ho, mo, ao, ko, ks;
        BlockPlan.Layer lp;

        void layer(BlockPlan.Layer layer, int b, int t) {
            int d = cfg.dModel(), w = Attention.qkvWidth(cfg.nHead(), cfg.nKvHead(), cfg.headSize()), hid = cfg.intermediateSize();
            this.lp = layer;
            this.l = layer.index();
            this.b = b;
            this.t = t;
            this.bt = b * t;
            this.in = layer.mlp().inWidth(hid);
            this.xo = slice(l, bt * d);
            this.xNext = training ? xo + bt * d : 0;
            this.so = slice(l, bt);
            this.qo = slice(l, bt * w);
            this.po = slice(l, b * cfg.nHead() * t);
            this.ho = slice(l, bt * cfg.attentionWidth());
            this.mo = slice(l, bt * in);
            this.ao = slice(l, bt * hid);
            this.ko = qkNormOp == null ? 0 : slice(l, qkNormOp.rawSize(bt));
            this.ks = qkNormOp == null ? 0 : slice(l, qkNormOp.statSize(bt));
        }
    }

    /**
     * One residual sub-layer. Pre-norm, out = in + branch(norm(source)): the norm's output goes to normed
     * at the layer's slice; source is in itself but for a parallel residual's MLP, which reads the layer's
     * input. Post-norm, out = norm(in + branch(in)): normed keeps the sum, the norm's input. Output-norm,
     * out = in + norm(branch(in)): normed keeps the branch's output, the norm's input. The branch's output goes
     * to scratch.
     */
    private void sublayerForward(BlockPlan.Sublayer s, NormOp norm, int wOff, int bOff, float[] source, int sourceOff, float[] in, int inOff,
                                 float[] out, int outOff, float[] normed, float[] mean, float[] rstd) {
        final int d = cfg.dModel();
        switch (s.placement()) {
            case PRE -> {
                norm.forward(normed, at.xo, mean, rstd, at.so, source, sourceOff, params, wOff, bOff, at.bt, d);
                profile.stop(Profile.Op.NORM, false);
                branchForward(s.branch(), normed, at.xo);
                drop(scratch, 0, at.bt * d, outSite(s.branch()));
                residual.forward(out, outOff, in, inOff, scratch, 0, at.bt * d);
                profile.stop(Profile.Op.RESIDUAL, false);
            }
            case POST -> {
                branchForward(s.branch(), in, inOff);
                drop(scratch, 0, at.bt * d, outSite(s.branch()));
                residual.forward(normed, at.xo, in, inOff, scratch, 0, at.bt * d);
                profile.stop(Profile.Op.RESIDUAL, false);
                norm.forward(out, outOff, mean, rstd, at.so, normed, at.xo, params, wOff, bOff, at.bt, d);
                profile.stop(Profile.Op.NORM, false);
            }
            case OUTPUT -> {
                branchForward(s.branch(), in, inOff);
                System.arraycopy(scratch, 0, normed, at.xo, at.bt * d);
                norm.forward(scratch, 0, mean, rstd, at.so, normed, at.xo, params, wOff, bOff, at.bt, d);
                profile.stop(Profile.Op.NORM, false);
                drop(scratch, 0, at.bt * d, outSite(s.branch()));
                residual.forward(out, outOff, in, inOff, scratch, 0, at.bt * d);
                profile.stop(Profile.Op.RESIDUAL, false);
            }
            default -> throw new UnsupportedOperationException("norm placement " + s.placement() + " has no forward pass");
        }
    }

    /**
     * One residual sub-layer's backward, with dres holding d(out) and left holding d(in). Pre-norm:
     * the residual passes d(out) to in twice, unchanged through the skip (dres keeps it) and through
     * the branch, whose input gradient the norm adds (Input.ADD). Post-norm: the norm turns d(out)
     * into d(sum) in place; the residual passes d(sum) to in through the skip (dres keeps it) and
     * through the branch, whose input gradient is added into dres. Output-norm: the norm turns d(out) into the
     * gradient of the branch's output in dnorm; the skip passes d(out) (dres keeps it), and the branch's input
     * gradient is added into dres.
     */
    private void sublayerBackward(BlockPlan.Sublayer s, NormOp norm, int wOff, int bOff, float[] in, int inOff, float[] normed, float[] mean,
                                  float[] rstd) {
        switch (s.placement()) {
            case PRE -> {
                branchBackward(s.branch(), branchGradient(s.branch()), normed, at.xo, dnorm, false);
                norm.backward(dres, NormOp.Input.ADD, grads, wOff, bOff, dnorm, in, inOff, params, mean, rstd, at.so, at.bt, cfg.dModel());
                profile.stop(Profile.Op.NORM, true);
            }
            case POST -> {
                norm.backward(dres, NormOp.Input.WRITE, grads, wOff, bOff, dres, normed, at.xo, params, mean, rstd, at.so, at.bt, cfg.dModel());
                profile.stop(Profile.Op.NORM, true);
                branchBackward(s.branch(), branchGradient(s.branch()), in, inOff, dres, true);
            }
            case OUTPUT -> { // a norm with a scale would scale its d(out), here dres, in place: ModelConfig allows scales with Pre-LN only
                norm.backward(dnorm, NormOp.Input.WRITE, grads, wOff, bOff, branchGradient(s.branch()), normed, at.xo, params, mean, rstd, at.so, at.bt,
                        cfg.dModel());
                profile.stop(Profile.Op.NORM, true);
                branchBackward(s.branch(), dnorm, in, inOff, dres, true);
            }
            default -> throw new UnsupportedOperationException("norm placement " + s.placement() + " has no backward pass");
        }
    }

    /** scratch = the branch applied to inp (rows at inpOff), keeping what its backward needs at the layer's slices. */
    private void branchForward(BlockPlan.Branch branch, float[] inp, int inpOff) {
        switch (branch) {
            case ATTENTION -> attentionForward(inp, inpOff);
            case MLP -> mlpForward(inp, inpOff);
            default -> throw new UnsupportedOperationException("branch " + branch);
        }
    }

    /**
     * The gradient of the branch's output: dres (the sub-layer's residual gradient) itself, or, when the
     * branch output was dropped out, a masked copy in scratch (dres keeps the skip path's).
     */
    private float[] branchGradient(BlockPlan.Branch branch) {
        if (!dropoutArmed) return dres;
        int n = at.bt * cfg.dModel();
        System.arraycopy(dres, 0, scratch, 0, n);
        drop(scratch, 0, n, outSite(branch));
        return scratch;
    }

    /**
     * The branch's backward from dOut as the gradient of its output: the gradient of its input goes to
     * dIn (added when accumulate), parameter gradients are accumulated.
     */
    private void branchBackward(BlockPlan.Branch branch, float[] dOut, float[] inp, int inpOff, float[] dIn, boolean accumulate) {
        switch (branch) {
            case ATTENTION -> attentionBackward(dOut, inp, inpOff, dIn, accumulate);
            case MLP -> mlpBackward(dOut, inp, inpOff, dIn, accumulate);
            default -> throw new UnsupportedOperationException("branch " + branch);
        }
    }

    /** scratch = attn_out(attention(rope?(qkv(inp)))), keeping qkv, the attention's log-sum-exp and its output at their slices. */
    private void attentionForward(float[] inp, int inpOff) {
        final int d = cfg.dModel(), nh = cfg.nHead(), nkv = cfg.nKvHead(), hs = cfg.headSize(), w = Attention.qkvWidth(nh, nkv, hs);
        ParamLayout.Block blk = layout.block(at.l);
        project(qkv, at.qo, w, inp, inpOff, blk.qkvW(), ParamLayout.ifPresent(params, blk.qkvB()), blk.qkvB(), at.bt, d, w);
        if (cfg.clipQkv() > 0) clamp.forward(qkv, at.qo, at.bt * w, (float) cfg.clipQkv(), clipMask, at.l * clipWords); // booked with the projection
        profile.stop(Profile.Op.MATMUL, false);
        if (at.lp.qkNorm()) qkNormOp.forward(qkv, at.qo, at.bt, qkRaw, at.ko, qkRstd, at.ks, qkScratch, params, blk.qNormW(), blk.kNormW());
        profile.stop(Profile.Op.NORM, false);
        if (rope != null) rope.forward(qkv, at.qo, at.b, at.t, nh, nkv, hs);
        profile.stop(Profile.Op.ROPE, false);
        attention.forward(attnOut, at.ho, lse, at.po, qkv, at.qo, at.b, at.t, nh, nkv, hs, probsKey(), probsDrop());
        profile.stop(Profile.Op.ATTENTION, false);
        project(scratch, 0, d, attnOut, at.ho, blk.attnOutW(), ParamLayout.ifPresent(params, blk.attnOutB()), blk.attnOutB(), at.bt, nh * hs, d);
        profile.stop(Profile.Op.MATMUL, false);
    }

    private void attentionBackward(float[] dOut, float[] inp, int inpOff, float[] dIn, boolean accumulate) {
        final int d = cfg.dModel(), nh = cfg.nHead(), nkv = cfg.nKvHead(), hs = cfg.headSize(), w = Attention.qkvWidth(nh, nkv, hs);
        final float[] p = params, g = grads;
        ParamLayout.Block blk = layout.block(at.l);
        linear.backward(dattn, 0, false, g, blk.attnOutW(), addWeightGrads, ParamLayout.ifPresent(g, blk.attnOutB()), blk.attnOutB(), dOut, 0, attnOut, at.ho, p, blk.attnOutW(), at.bt, nh * hs, d);
        profile.stop(Profile.Op.MATMUL, true);
        attention.backward(dqkv, 0, dattn, 0, attnOut, at.ho, qkv, at.qo, lse, at.po, at.b, at.t, nh, nkv, hs, probsKey(), probsDrop());
        profile.stop(Profile.Op.ATTENTION, true);
        if (rope != null) rope.backward(dqkv, 0, at.b, at.t, nh, nkv, hs);
        profile.stop(Profile.Op.ROPE, true);
        if (at.lp.qkNorm()) qkNormOp.backward(dqkv, 0, at.bt, qkRaw, at.ko, qkRstd, at.ks, qkScratch, p, g, blk.qNormW(), blk.kNormW());
        profile.stop(Profile.Op.NORM, true);
        if (clipMask != null) clamp.backward(dqkv, 0, at.bt * w, clipMask, at.l * clipWords); // booked with the projection's backward
        linear.backward(dIn, 0, accumulate, g, blk.qkvW(), addWeightGrads, ParamLayout.ifPresent(g, blk.qkvB()), blk.qkvB(), dqkv, 0, inp, inpOff, p, blk.qkvW(), at.bt, d, w);
        profile.stop(Profile.Op.MATMUL, true);
    }

    /** scratch = mlp_out(act(mlp_in(inp))), keeping the projection and the activation at their slices. */
    private void mlpForward(float[] inp, int inpOff) {
        final int d = cfg.dModel(), hid = cfg.intermediateSize();
        ParamLayout.Block blk = layout.block(at.l);
        project(mlpIn, at.mo, at.in, inp, inpOff, blk.mlpInW(), ParamLayout.ifPresent(params, blk.mlpInB()), blk.mlpInB(), at.bt, d, at.in);
        profile.stop(Profile.Op.MATMUL, false);
        mlpAct[at.l].forward(mlpActOut, at.ao, mlpIn, at.mo, at.bt, hid);
        drop(mlpActOut, at.ao, at.bt * hid, SITE_MLP_HIDDEN);
        profile.stop(Profile.Op.ACTIVATION, false);
        project(scratch, 0, d, mlpActOut, at.ao, blk.mlpOutW(), ParamLayout.ifPresent(params, blk.mlpOutB()), blk.mlpOutB(), at.bt, hid, d);
        profile.stop(Profile.Op.MATMUL, false);
    }

    private void mlpBackward(float[] dOut, float[] inp, int inpOff, float[] dIn, boolean accumulate) {
        final int d = cfg.dModel(), hid = cfg.intermediateSize();
        final float[] p = params, g = grads;
        ParamLayout.Block blk = layout.block(at.l);
        linear.backward(dmlpAct, 0, false, g, blk.mlpOutW(), addWeightGrads, ParamLayout.ifPresent(g, blk.mlpOutB()), blk.mlpOutB(), dOut, 0, mlpActOut, at.ao, p, blk.mlpOutW(), at.bt, hid, d);
        profile.stop(Profile.Op.MATMUL, true);
        drop(dmlpAct, 0, at.bt * hid, SITE_MLP_HIDDEN);
        mlpAct[at.l].backward(dmlpIn, 0, mlpIn, at.mo, dmlpAct, 0, at.bt, hid);
        profile.stop(Profile.Op.ACTIVATION, true);
        linear.backward(dIn, 0, accumulate, g, blk.mlpInW(), addWeightGrads, ParamLayout.ifPresent(g, blk.mlpInB()), blk.mlpInB(), dmlpIn, 0, inp, inpOff, p, blk.mlpInW(), at.bt, d, at.in);
        profile.stop(Profile.Op.MATMUL, true);
    }

    /**
     * Backward pass of the last forward and its cross-entropy, accumulating into {@link #grads} the
     * gradient of lossScale · Σ per-position losses (lossScale = 1/(B·T·micro-steps) gives the mean over a batch);
     * after {@link #zeroGradNextBackward}, writing the linear weights' gradients.
     */
    public void backward(float lossScale) {
        requireBackward();
        if (targets == null) throw new IllegalStateException("backward(lossScale) follows forward(tokens, targets, ...); after forwardLogits, use a Loss and backwardFromLogits");
        crossEntropy.backward(logits(), targets, lossScale);
        profile.stop(Profile.Op.LOSS, true);
        backwardFromLogits();
    }

    private void requireBackward() {
        if (!training) throw new IllegalStateException("this model was built for inference; build it with Model.forTraining to train it");
        if (headRows >= 0) throw new IllegalStateException("backward needs a full forward pass, not forwardPositions");
    }

    /**
     * Backward pass of the last forward, from the logit gradient a {@link Loss} left in {@link #logits()};
     * accumulates into {@link #grads} (the linear weights' gradients written after {@link #zeroGradNextBackward}).
     */
    public void backwardFromLogits() {
        requireBackward();
        final int b = curB, t = curT, d = cfg.dModel(), bt = b * t, vocab = cfg.vocabSize();
        final float[] p = params, g = grads;
        profile.start();
        if (softcap != null) softcap.backward(logits, 0, ldLogits, bt, vocab, softcapDerivative);
        linear.backward(dnorm, 0, false, g, layout.lmHead(), addWeightGrads, ParamLayout.ifPresent(g, layout.lmHeadB()), layout.lmHeadB(), logits, 0, ldLogits,
                headIn, 0, p, layout.lmHead(), bt, d, vocab);
        float[] dFinal = dnorm;
        if (headIn != finalNorm) { // dattn is free until the last layer's backward
            linear.backward(dattn, 0, false, g, layout.headProj(), addWeightGrads, null, 0, dnorm, 0, finalNorm, 0, p, layout.headProj(), bt, d, d);
            dFinal = dattn;
        }
        profile.stop(Profile.Op.LM_HEAD, true);
        finalNormOp.backward(dres, NormOp.Input.WRITE, g, layout.finalNormW(), layout.finalNormB(), dFinal, x, cfg.nLayer() * bt * d, p, finalMean, finalRstd, 0, bt, d);
        profile.stop(Profile.Op.NORM, true);
        for (int l = cfg.nLayer() - 1; l >= 0; l--) {
            BlockPlan.Layer lp = plan.layer(l);
            at.layer(lp, b, t);
            ParamLayout.Block blk = layout.block(l);
            // in reverse: the MLP sub-layer h -> x', then the attention sub-layer x -> h. With a parallel residual the MLP
            // branch's input gradient belongs to x, not h: it waits in dparallel while dres carries d(h) = d(x') through
            // the attention sub-layer, then joins it.
            if (lp.parallel()) {
                branchBackward(BlockPlan.Branch.MLP, branchGradient(BlockPlan.Branch.MLP), norm2, at.xo, dnorm, false);
                mlpNorm[l].backward(dparallel, NormOp.Input.WRITE, g, blk.mlpNormW(), blk.mlpNormB(), dnorm, x, at.xo, p, norm2Mean, norm2Rstd, at.so, bt, d);
                profile.stop(Profile.Op.NORM, true);
            } else {
                sublayerBackward(lp.mlpSublayer(), mlpNorm[l], blk.mlpNormW(), blk.mlpNormB(), h, at.xo, norm2, norm2Mean, norm2Rstd);
            }
            sublayerBackward(lp.attention(), attnNorm[l], blk.attnNormW(), blk.attnNormB(), x, at.xo, norm1, norm1Mean, norm1Rstd);
            if (lp.parallel()) {
                residual.forward(dres, 0, dres, 0, dparallel, 0, bt * d);
                profile.stop(Profile.Op.RESIDUAL, true);
            }
        }
        boolean learned = plan.positions() == BlockPlan.Positions.LEARNED;
        float[] dEmb = dres;
        if (embRaw != null) { // through R1 to the embedding's gradient
            linear.backward(dnorm, 0, false, g, layout.embedProj(), addWeightGrads, null, 0, dres, 0, embRaw, 0, p, layout.embedProj(), bt, d, d);
            dEmb = dnorm;
        }
        embedding.backward(g, layout.wte(), learned ? g : null, layout.wpe(), dEmb, 0, tokens, 0, b, t, d, (float) cfg.embeddingMultiplier());
        profile.stop(Profile.Op.EMBEDDING, true);
        addWeightGrads = true; // a later micro-batch's backward adds to this one's
    }

    /**
     * The residual stream entering layer l after the last full forward (l = nLayer: what the final norm
     * reads), B·T rows of d_model, copied. Needs a training model, which keeps every layer's.
     */
    public float[] hiddenStates(int l) {
        if (!training) throw new IllegalStateException("an inference model keeps one layer's activations; use Model.forTraining");
        if (l < 0 || l > cfg.nLayer()) throw new IllegalArgumentException("layer " + l + " of " + cfg.nLayer());
        int n = curB * curT * cfg.dModel();
        return Arrays.copyOfRange(x, l * n, (l + 1) * n);
    }

    /** What layer l's attention branch read in the last full forward (its norm's output, for a Pre-LN layer), copied; for tests. */
    float[] attentionInput(int l) {
        int n = curB * curT * cfg.dModel();
        return plan.layer(l).attention().placement() == BlockPlan.Placement.PRE ? Arrays.copyOfRange(norm1, l * n, (l + 1) * n)
                : hiddenStates(l);
    }

    /** Every gradient zeroed, by the pool's workers (gpt2-small's 497 MB: 18-22 ms on one core, 11 on two). */
    public void zeroGrad() {
        pool.forRange(grads.length, pool.chunksFor(grads.length, 1 << 16), (s, e, chunk, w) -> Arrays.fill(grads, s, e, 0f));
        addWeightGrads = true;
    }

    /**
     * What {@link #zeroGrad} does, for a step's first backward: every gradient but the linear layers'
     * weights zeroed now, and the next backward's products write those (the projections', the head's) instead
     * of adding to them, the same bits. Until that backward those gradients hold whatever they held: a step
     * calls this, then its micro-batches' forwards and backwards. Saves writing the weights' zeros and the
     * products reading them back (nearly all of gpt2-small's 497 MB of gradients, each a step).
     */
    public void zeroGradNextBackward() {
        if (!training) throw new IllegalStateException("this model was built for inference; build it with Model.forTraining to train it");
        if (otherGrads == null) otherGrads = outsideLinearWeights();
        int[] r = otherGrads;
        if (r.length > 0) pool.forRange(r.length / 2, pool.chunksFor(r.length / 2, 1), (s, e, chunk, w) -> {
            for (int i = s; i < e; i++) Arrays.fill(grads, r[2 * i], r[2 * i + 1], 0f);
        });
        addWeightGrads = false;
    }

    /**
     * Whether the backward's products add the linear weights' gradients to what grads holds (zeroGrad's zeros, an
     * earlier micro-batch's sum) or write them ({@link #zeroGradNextBackward}, until its backward ends).
     */
    private boolean addWeightGrads = true;
    /** The gradients outside the linear weights, as [start, end) pairs of at most 64K floats; computed on first use. */
    private int[] otherGrads;

    private int[] outsideLinearWeights() {
        java.util.List<Integer> bounds = new java.util.ArrayList<>();
        int at = 0;
        for (var e : linearWeights(cfg, layout, plan).entrySet()) { // by offset; a tied head is the embedding's place
            chunks(bounds, at, e.getKey());
            at = Math.max(at, e.getKey() + e.getValue()[0] * e.getValue()[1]);
        }
        chunks(bounds, at, grads.length);
        return bounds.stream().mapToInt(Integer::intValue).toArray();
    }

    /** [from, to) as [start, end) pairs of at most 64K floats. */
    private static void chunks(java.util.List<Integer> bounds, int from, int to) {
        for (int s = from; s < to; s += 1 << 16) {
            bounds.add(s);
            bounds.add(Math.min(to, s + (1 << 16)));
        }
    }

    /** Per-position losses of the last cross-entropy forward (B·T; after forwardPositions, one per listed position). */
    public float[] losses() {
        return crossEntropy.losses();
    }

    /**
     * Next-token probabilities of the last cross-entropy forward, rows {@link #probabilityStride()}
     * apart (one per listed position after forwardPositions); overwritten by backward.
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
}
