package dev.crucible.model;

import dev.crucible.tensor.Attention;
import dev.crucible.tensor.DecodeAttention;
import dev.crucible.tensor.MatVec;
import dev.crucible.tensor.Rope;
import dev.crucible.tensor.WorkerPool;

/**
 * Incremental decoding with a key/value cache: each step runs one token through the model, appends
 * its keys and values to the cache, and returns the next-token logits. It walks the same
 * {@link BlockPlan} with the same norm and activation kernels and RoPE tables as training; a test
 * holds its logits equal to the full-sequence forward pass at every position.
 *
 * <p>It holds several sequences ("slots"), each with its own cache and position: {@link #step}
 * advances any of them by one token together, so the weights are read once per step for all of
 * them (decoding is bound by reading the weights). A sequence's logits are the same bits whether it
 * is stepped alone or with others. A slot's cache grows with the longest sequence it has held
 * (doubling, up to maxT), so memory follows what is decoded rather than slots x maxT. A prompt goes
 * in through {@link #prefill}: many positions of one slot per pass over the weights, the same bits.
 */
public final class Generator {
    private final ModelConfig cfg;
    private final ParamLayout layout;
    private final BlockPlan plan;
    private final float[] p;
    private final MatVec mv;
    private final DecodeAttention decode;
    private final dev.crucible.tensor.Clamp clamp;
    private final dev.crucible.tensor.Softcap softcap;
    private final NormOp[] attnNorm, mlpNorm;
    private final NormOp finalNorm;
    private final MlpActivation[] mlpAct;
    private final Rope rope;
    private final QkNormOp qkNorm;
    private final float[] qkStat;
    private final int maxT, slots, w, kvw;
    /** Rows a step or a prefill chunk runs at once: the row buffers' size. */
    private final int rows;
    private final float[][] kCache, vCache; // per slot: [layer][capacity][nkv·hs]
    private final int[] pos, capacity;
    private final float[] x, xn, qkv, att, tmp, mlpIn, mlpOut, logits, stat1, stat2;
    /** With a parallel residual: the layer's input, which the MLP's norm reads after the attention sub-layer changed x. */
    private final float[] layerIn;
    // the step in progress: its rows' caches and positions
    private final float[][] rowK, rowV;
    private final int[] rowPos, rowSlot, rowCacheOff;
    private final int[] one = new int[1], slot0 = new int[1];

    /** One sequence of up to maxT tokens. */
    public Generator(ModelConfig cfg, float[] params, int maxT, WorkerPool pool) {
        this(cfg, params, maxT, 1, pool);
    }

    /** slots sequences of up to maxT tokens each. */
    public Generator(ModelConfig cfg, float[] params, int maxT, int slots, WorkerPool pool) {
        if (maxT > cfg.contextLength()) throw new IllegalArgumentException("maximum length " + maxT + " exceeds the context length " + cfg.contextLength());
        if (slots < 1) throw new IllegalArgumentException("slots must be at least 1, got " + slots);
        this.cfg = cfg;
        this.layout = new ParamLayout(cfg);
        if (params.length != layout.size()) throw new IllegalArgumentException("parameter buffer has " + params.length + " values, the config needs " + layout.size());
        this.plan = layout.plan();
        this.p = params;
        this.mv = new MatVec(pool);
        this.decode = new DecodeAttention(pool, maxT);
        this.clamp = new dev.crucible.tensor.Clamp(pool);
        this.softcap = cfg.logitSoftcap() > 0 ? new dev.crucible.tensor.Softcap(pool) : null;
        PlanKernels k = PlanKernels.of(plan, cfg, pool);
        attnNorm = k.attnNorm();
        mlpNorm = k.mlpNorm();
        mlpAct = k.mlp();
        finalNorm = k.finalNorm();
        rope = k.rope();
        qkNorm = cfg.qkNorm().on() ? new QkNormOp(new dev.crucible.tensor.Norms(pool), cfg) : null;
        qkStat = new float[cfg.nHead() + cfg.nKvHead()];
        int maxIn = k.maxInWidth();
        this.maxT = maxT;
        this.slots = slots;
        int d = cfg.dModel(), hs = cfg.headSize();
        w = Attention.qkvWidth(cfg.nHead(), cfg.nKvHead(), hs);
        kvw = cfg.nKvHead() * hs;
        kCache = new float[slots][];
        vCache = new float[slots][];
        pos = new int[slots];
        capacity = new int[slots];
        rows = Math.max(slots, Math.min(PREFILL_ROWS, maxT));
        x = new float[rows * d];
        xn = new float[rows * d];
        qkv = new float[rows * w];
        att = new float[rows * cfg.nHead() * hs];
        tmp = new float[rows * d];
        layerIn = plan.layers().stream().anyMatch(BlockPlan.Layer::parallel) ? new float[rows * d] : null;
        mlpIn = new float[rows * maxIn];
        mlpOut = new float[rows * cfg.intermediateSize()];
        logits = new float[slots * cfg.vocabSize()];
        stat1 = new float[rows];
        stat2 = new float[rows];
        rowK = new float[rows][];
        rowV = new float[rows][];
        rowPos = new int[rows];
        rowSlot = new int[rows];
        rowCacheOff = new int[rows];
    }

    public int slots() {
        return slots;
    }

    /** Forgets every slot's sequence. */
    public void reset() {
        java.util.Arrays.fill(pos, 0);
    }

    /** Forgets one slot's sequence (its cache is kept for the next one). */
    public void reset(int slot) {
        pos[slot] = 0;
    }

    /** Tokens in slot 0's sequence. */
    public int position() {
        return pos[0];
    }

    /** Tokens in a slot's sequence. */
    public int position(int slot) {
        return pos[slot];
    }

    /** Feeds one token at slot 0's next position; returns the logits of the token after it (a buffer reused by the next call). */
    public float[] next(int token) {
        one[0] = token;
        float[] out = step(slot0, one, 1);
        return slots == 1 ? out : java.util.Arrays.copyOf(out, cfg.vocabSize());
    }

    /**
     * Feeds tokens[r] at the next position of slot slotOf[r], for r < n (n distinct slots); returns
     * the n rows of next-token logits, row r at r·vocab (a buffer reused by the next call).
     */
    public float[] step(int[] slotOf, int[] tokens, int n) {
        if (n < 1 || n > slots) throw new IllegalArgumentException("a step feeds 1 to " + slots + " sequences, got " + n);
        for (int r = 0; r < n; r++) {
            int s = slotOf[r], token = tokens[r];
            checkSlot(s);
            for (int q = 0; q < r; q++) if (slotOf[q] == s) throw new IllegalArgumentException("slot " + s + " fed twice in one step");
            if (pos[s] >= maxT) throw new IllegalStateException("sequence in slot " + s + " is full (" + maxT + " tokens)");
            checkToken(token);
            if (pos[s] == capacity[s]) grow(s);
            load(r, s, token, pos[s]);
        }
        layers(n);
        head(0, n);
        for (int r = 0; r < n; r++) pos[rowSlot[r]]++;
        java.util.Arrays.fill(rowK, null);
        java.util.Arrays.fill(rowV, null);
        return logits;
    }

    /**
     * Feeds tokens[off, off + n) to a slot at its next n positions, as n calls of {@link #step} would,
     * to the same bits, but {@link #PREFILL_ROWS} positions at a time (as many as the slots, when they
     * are more: the rows a step holds): each row attends to the cache up to its own position, so a
     * prompt's rows can run together and the weights are read once per chunk rather than once per
     * token (decoding is bound by reading them). Returns the logits after the last token (vocab
     * floats at 0 of a buffer reused by the next call).
     */
    public float[] prefill(int slot, int[] tokens, int off, int n) {
        checkSlot(slot);
        if (n < 1) throw new IllegalArgumentException("a prefill feeds at least one token, got " + n);
        if (pos[slot] + n > maxT) throw new IllegalStateException("sequence in slot " + slot + " would exceed " + maxT + " tokens: " + pos[slot] + " + " + n);
        for (int i = off; i < off + n; i++) checkToken(tokens[i]);
        for (int c0 = 0; c0 < n; c0 += rows) {
            int c = Math.min(rows, n - c0), at = pos[slot];
            while (capacity[slot] < at + c) grow(slot);
            for (int r = 0; r < c; r++) load(r, slot, tokens[off + c0 + r], at + r);
            layers(c);
            if (c0 + c == n) head(c - 1, 1); // only the last token's logits are asked for
            pos[slot] += c;
        }
        java.util.Arrays.fill(rowK, null);
        java.util.Arrays.fill(rowV, null);
        return logits;
    }

    /** Positions a prefill runs at once, at least: the row buffers hold max(slots, this) rows. */
    public static final int PREFILL_ROWS = 32;

    private void checkSlot(int s) {
        if (s < 0 || s >= slots) throw new IllegalArgumentException("slot " + s + " outside [0, " + slots + ")");
    }

    private void checkToken(int token) {
        if (token < 0 || token >= cfg.vocabSize()) throw new IllegalArgumentException("token " + token + " outside vocabulary of " + cfg.vocabSize());
    }

    /** Row r of this step: token at position at of slot s (whose cache holds that position), embedded into x. */
    private void load(int r, int s, int token, int at) {
        int d = cfg.dModel();
        rowSlot[r] = s;
        rowK[r] = kCache[s];
        rowV[r] = vCache[s];
        rowPos[r] = at;
        float m = (float) cfg.embeddingMultiplier();
        for (int i = 0; i < d; i++) x[r * d + i] = p[layout.wte() + token * d + i] * m; // the float product Embedding computes (exact for m = 1)
        if (plan.positions() == BlockPlan.Positions.LEARNED) for (int i = 0; i < d; i++) x[r * d + i] += p[layout.wpe() + at * d + i];
    }

    /** The embedding projection (if any) and every layer on the step's n rows of x. */
    private void layers(int n) {
        int d = cfg.dModel();
        if (cfg.embeddingProjection()) { // x0 = R1 · embedding
            System.arraycopy(x, 0, tmp, 0, n * d);
            mv.forward(x, 0, d, p, layout.embedProj(), tmp, 0, d, null, 0, n, d, d);
        }
        for (BlockPlan.Layer lp : plan.layers()) {
            ParamLayout.Block b = layout.block(lp.index());
            if (lp.parallel()) System.arraycopy(x, 0, layerIn, 0, n * d);
            sublayer(lp, lp.attention(), attnNorm[lp.index()], b.attnNormW(), b.attnNormB(), x, n);
            sublayer(lp, lp.mlpSublayer(), mlpNorm[lp.index()], b.mlpNormW(), b.mlpNormB(), lp.parallel() ? layerIn : x, n);
        }
    }

    /** The final norm and the LM head on rows [r0, r0 + n) of x: their logits in rows [0, n) of logits. */
    private void head(int r0, int n) {
        int d = cfg.dModel();
        finalNorm.forward(xn, 0, stat1, stat2, 0, x, r0 * d, p, layout.finalNormW(), layout.finalNormB(), n, d);
        float[] headIn = xn;
        if (cfg.embeddingProjection()) {
            mv.forward(tmp, 0, d, p, layout.headProj(), xn, 0, d, null, 0, n, d, d);
            headIn = tmp;
        }
        mv.forward(logits, 0, cfg.vocabSize(), p, layout.lmHead(), headIn, 0, d, ParamLayout.ifPresent(p, layout.lmHeadB()), layout.lmHeadB(), n, d, cfg.vocabSize());
        if (softcap != null) softcap.forward(logits, 0, cfg.vocabSize(), n, cfg.vocabSize(), (float) cfg.logitSoftcap(), null);
    }

    /** Doubles a slot's cache (at least 64 positions, at most maxT), keeping what it holds. */
    private void grow(int s) {
        int cap = Math.min(maxT, Math.max(64, 2 * capacity[s])), layers = cfg.nLayer();
        float[] k = new float[Math.multiplyExact(Math.multiplyExact(layers, cap), kvw)], v = new float[k.length];
        for (int l = 0; l < layers && kCache[s] != null; l++) {
            System.arraycopy(kCache[s], l * capacity[s] * kvw, k, l * cap * kvw, pos[s] * kvw);
            System.arraycopy(vCache[s], l * capacity[s] * kvw, v, l * cap * kvw, pos[s] * kvw);
        }
        kCache[s] = k;
        vCache[s] = v;
        capacity[s] = cap;
    }

    /**
     * One residual sub-layer on the n rows of x (pre-norm: x += branch(norm(source)), source being x but for a parallel
     * residual's MLP; post-norm: x = norm(x + branch(x)); output-norm: x += norm(branch(x))).
     */
    private void sublayer(BlockPlan.Layer lp, BlockPlan.Sublayer s, NormOp norm, int wOff, int bOff, float[] source, int n) {
        int d = cfg.dModel();
        switch (s.placement()) {
            case PRE -> {
                norm.forward(xn, 0, stat1, stat2, 0, source, 0, p, wOff, bOff, n, d);
                branch(lp, s.branch(), n);
                for (int i = 0; i < n * d; i++) x[i] += tmp[i];
            }
            case POST -> {
                System.arraycopy(x, 0, xn, 0, n * d); // the branch reads xn
                branch(lp, s.branch(), n);
                for (int i = 0; i < n * d; i++) x[i] += tmp[i];
                norm.forward(xn, 0, stat1, stat2, 0, x, 0, p, wOff, bOff, n, d);
                System.arraycopy(xn, 0, x, 0, n * d);
            }
            case OUTPUT -> {
                System.arraycopy(x, 0, xn, 0, n * d); // the branch reads xn
                branch(lp, s.branch(), n);
                norm.forward(xn, 0, stat1, stat2, 0, tmp, 0, p, wOff, bOff, n, d);
                for (int i = 0; i < n * d; i++) x[i] += xn[i];
            }
            default -> throw new UnsupportedOperationException("norm placement " + s.placement() + " has no incremental decoding");
        }
    }

    /** tmp = the branch applied to the rows xn (the norm's output with Pre-LN, the residual stream itself otherwise). */
    private void branch(BlockPlan.Layer lp, BlockPlan.Branch branch, int n) {
        ParamLayout.Block b = layout.block(lp.index());
        int d = cfg.dModel();
        switch (branch) {
            case ATTENTION -> attend(lp.index(), b, n);
            case MLP -> {
                int hid = cfg.intermediateSize(), in = lp.mlp().inWidth(hid);
                mv.forward(mlpIn, 0, in, p, b.mlpInW(), xn, 0, d, ParamLayout.ifPresent(p, b.mlpInB()), b.mlpInB(), n, d, in);
                for (int r = 0; r < n; r++) mlpAct[lp.index()].forward(mlpOut, r * hid, mlpIn, r * in, 1, hid);
                mv.forward(tmp, 0, d, p, b.mlpOutW(), mlpOut, 0, hid, ParamLayout.ifPresent(p, b.mlpOutB()), b.mlpOutB(), n, hid, d);
            }
            default -> throw new UnsupportedOperationException("branch " + branch);
        }
    }

    /** tmp = attn_out(attention of each normed row of xn over its slot's cache, with this position's keys and values appended). */
    private void attend(int l, ParamLayout.Block b, int n) {
        int d = cfg.dModel(), nh = cfg.nHead(), nkv = cfg.nKvHead(), hs = cfg.headSize(), aw = nh * hs;
        mv.forward(qkv, 0, w, p, b.qkvW(), xn, 0, d, ParamLayout.ifPresent(p, b.qkvB()), b.qkvB(), n, d, w);
        if (cfg.clipQkv() > 0) clamp.forward(qkv, 0, n * w, (float) cfg.clipQkv(), null, 0);
        for (int r = 0; r < n; r++) {
            int row = r * w, cache = rowCacheOff[r] = l * capacity[rowSlot[r]] * kvw;
            if (qkNorm != null && plan.layer(l).qkNorm()) qkNorm.forwardRow(qkv, row, qkStat, p, b.qNormW(), b.kNormW());
            if (rope != null) rope.rotateRow(qkv, row, rowPos[r], nh + nkv, hs);
            System.arraycopy(qkv, row + nh * hs, rowK[r], cache + rowPos[r] * kvw, kvw);
            System.arraycopy(qkv, row + (nh + nkv) * hs, rowV[r], cache + rowPos[r] * kvw, kvw);
        }
        decode.forward(n, qkv, 0, w, rowK, rowV, rowCacheOff, kvw, rowPos, nh, nkv, hs, att, 0, aw);
        mv.forward(tmp, 0, d, p, b.attnOutW(), att, 0, aw, ParamLayout.ifPresent(p, b.attnOutB()), b.attnOutB(), n, aw, d);
    }
}
