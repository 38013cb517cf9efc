package dev.crucible.model;

import dev.crucible.tensor.Attention;
import dev.crucible.tensor.DecodeAttention;
import dev.crucible.tensor.MatVec;
import dev.crucible.tensor.Rope;
import dev.crucible.tensor.WorkerPool;

/**
 * Incremental decoding with a key/value cache: each call to {@link #next} runs one token through the
 * model, appends its keys and values to the cache, and returns the next-token logits. It walks the
 * same {@link BlockPlan} with the same norm and activation kernels and RoPE tables as training; a
 * test holds its logits equal to the full-sequence forward pass at every position.
 */
public final class Generator {
    private final ModelConfig cfg;
    private final ParamLayout layout;
    private final BlockPlan plan;
    private final float[] p;
    private final MatVec mv;
    private final DecodeAttention decode;
    private final NormOp[] attnNorm, mlpNorm;
    private final NormOp finalNorm;
    private final MlpActivation[] mlpAct;
    private final Rope rope;
    private final QkNorm qkNorm;
    private final float[] qkStat;
    private final int maxT, w, kvw;
    private final float[] kCache, vCache; // [layer][maxT][nkv·hs]
    private final float[] x, xn, qkv, att, tmp, mlpIn, mlpOut, logits, stat1, stat2;
    private int pos;

    public Generator(ModelConfig cfg, float[] params, int maxT, WorkerPool pool) {
        if (maxT > cfg.contextLength()) throw new IllegalArgumentException("maximum length " + maxT + " exceeds the context length " + cfg.contextLength());
        this.cfg = cfg;
        this.layout = new ParamLayout(cfg);
        if (params.length != layout.size()) throw new IllegalArgumentException("parameter buffer has " + params.length + " values, the config needs " + layout.size());
        this.plan = layout.plan();
        this.p = params;
        this.mv = new MatVec(pool);
        this.decode = new DecodeAttention(pool, maxT);
        PlanKernels k = PlanKernels.of(plan, cfg, pool);
        attnNorm = k.attnNorm();
        mlpNorm = k.mlpNorm();
        mlpAct = k.mlp();
        finalNorm = k.finalNorm();
        rope = k.rope();
        qkNorm = cfg.qkNorm() ? new QkNorm(new dev.crucible.tensor.Norms(pool), cfg.nHead(), cfg.nKvHead(), cfg.headSize(), cfg.normEps()) : null;
        qkStat = new float[cfg.nHead() + cfg.nKvHead()];
        int maxIn = k.maxInWidth();
        this.maxT = maxT;
        int d = cfg.dModel(), hs = cfg.headSize();
        w = Attention.qkvWidth(cfg.nHead(), cfg.nKvHead(), hs);
        kvw = cfg.nKvHead() * hs;
        kCache = new float[cfg.nLayer() * maxT * kvw];
        vCache = new float[cfg.nLayer() * maxT * kvw];
        x = new float[d];
        xn = new float[d];
        qkv = new float[w];
        att = new float[cfg.nHead() * hs];
        tmp = new float[d];
        mlpIn = new float[maxIn];
        mlpOut = new float[cfg.intermediateSize()];
        logits = new float[cfg.vocabSize()];
        stat1 = new float[1];
        stat2 = new float[1];
    }

    /** Forgets the cached sequence. */
    public void reset() {
        pos = 0;
    }

    public int position() {
        return pos;
    }

    /** Feeds one token at the next position; returns the logits of the token after it (a buffer reused by the next call). */
    public float[] next(int token) {
        if (pos >= maxT) throw new IllegalStateException("sequence is full (" + maxT + " tokens)");
        if (token < 0 || token >= cfg.vocabSize()) throw new IllegalArgumentException("token " + token + " outside vocabulary of " + cfg.vocabSize());
        int d = cfg.dModel();
        System.arraycopy(p, layout.wte() + token * d, x, 0, d);
        if (plan.positions() == BlockPlan.Positions.LEARNED) for (int i = 0; i < d; i++) x[i] += p[layout.wpe() + pos * d + i];
        if (cfg.embeddingProjection()) { // x0 = R1 · embedding
            System.arraycopy(x, 0, tmp, 0, d);
            mv.forward(x, 0, p, layout.embedProj(), tmp, 0, null, 0, d, d);
        }
        for (BlockPlan.Layer lp : plan.layers()) {
            ParamLayout.Block b = layout.block(lp.index());
            sublayer(lp, lp.attention(), attnNorm[lp.index()], b.attnNormW(), b.attnNormB());
            sublayer(lp, lp.mlpSublayer(), mlpNorm[lp.index()], b.mlpNormW(), b.mlpNormB());
        }
        finalNorm.forward(xn, 0, stat1, stat2, 0, x, 0, p, layout.finalNormW(), layout.finalNormB(), 1, d);
        float[] headIn = xn;
        if (cfg.embeddingProjection()) {
            mv.forward(tmp, 0, p, layout.headProj(), xn, 0, null, 0, d, d);
            headIn = tmp;
        }
        mv.forward(logits, 0, p, layout.lmHead(), headIn, 0, null, 0, d, cfg.vocabSize());
        pos++;
        return logits;
    }

    /** One residual sub-layer on the row x (pre-norm: x += branch(norm(x)); post-norm: x = norm(x + branch(x))). */
    private void sublayer(BlockPlan.Layer lp, BlockPlan.Sublayer s, NormOp norm, int wOff, int bOff) {
        int d = cfg.dModel();
        switch (s.placement()) {
            case PRE -> {
                norm.forward(xn, 0, stat1, stat2, 0, x, 0, p, wOff, bOff, 1, d);
                branch(lp, s.branch());
                for (int i = 0; i < d; i++) x[i] += tmp[i];
            }
            case POST -> {
                System.arraycopy(x, 0, xn, 0, d); // the branch reads xn
                branch(lp, s.branch());
                for (int i = 0; i < d; i++) x[i] += tmp[i];
                norm.forward(xn, 0, stat1, stat2, 0, x, 0, p, wOff, bOff, 1, d);
                System.arraycopy(xn, 0, x, 0, d);
            }
            default -> throw new UnsupportedOperationException("norm placement " + s.placement() + " has no incremental decoding");
        }
    }

    /** tmp = the branch applied to the normed row xn. */
    private void branch(BlockPlan.Layer lp, BlockPlan.Branch branch) {
        ParamLayout.Block b = layout.block(lp.index());
        float[] bias = lp.linearBias() ? p : null;
        switch (branch) {
            case ATTENTION -> attend(lp.index(), b, bias);
            case MLP -> {
                int d = cfg.dModel(), hid = cfg.intermediateSize();
                mv.forward(mlpIn, 0, p, b.mlpInW(), xn, 0, bias, b.mlpInB(), d, lp.mlp().inWidth(hid));
                mlpAct[lp.index()].forward(mlpOut, 0, mlpIn, 0, 1, hid);
                mv.forward(tmp, 0, p, b.mlpOutW(), mlpOut, 0, bias, b.mlpOutB(), hid, d);
            }
            default -> throw new UnsupportedOperationException("branch " + branch);
        }
    }

    /** tmp = attn_out(attention of the normed row xn over the cache, with this position's keys and values appended). */
    private void attend(int l, ParamLayout.Block b, float[] bias) {
        int d = cfg.dModel(), nh = cfg.nHead(), nkv = cfg.nKvHead(), hs = cfg.headSize();
        mv.forward(qkv, 0, p, b.qkvW(), xn, 0, bias, b.qkvB(), d, w);
        if (qkNorm != null && plan.layer(l).qkNorm()) qkNorm.forwardRow(qkv, 0, qkStat, p, b.qNormW(), b.kNormW());
        if (rope != null) rope.rotateRow(qkv, 0, pos, nh + nkv, hs);
        int cache = (l * maxT) * kvw;
        System.arraycopy(qkv, nh * hs, kCache, cache + pos * kvw, kvw);
        System.arraycopy(qkv, (nh + nkv) * hs, vCache, cache + pos * kvw, kvw);
        decode.forward(qkv, 0, kCache, vCache, cache, kvw, pos, nh, nkv, hs, att, 0);
        mv.forward(tmp, 0, p, b.attnOutW(), att, 0, bias, b.attnOutB(), nh * hs, d);
    }
}
