package dev.crucible.model;

import dev.crucible.tensor.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every parameter tensor of a model, by its Hugging Face name, with its role and its place in the
 * one flat parameter buffer. Fused projections (q/k/v; gate/up) expose their row blocks as
 * {@link View}s that an optimizer can treat as matrices of their own. Hidden matrices come first,
 * then the head, the embeddings and the vectors, so that tensors sharing optimizer settings form
 * contiguous ranges (the optimizer then runs one fused update per range), and the order, hence
 * every fixed-order reduction over the buffer, stays what it has always been.
 */
public final class ParamLayout {

    /** What a tensor is for; optimizers group parameters by role. */
    public enum Role {
        HIDDEN_MATRIX, EMBEDDING, HEAD, NORM, BIAS;

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        public boolean isMatrix() {
            return this == HIDDEN_MATRIX || this == EMBEDDING || this == HEAD;
        }
    }

    /**
     * How a tensor starts: ones, zeros, or N(0, std²) drawn from a random stream of its own, derived
     * from the run's seed and a key that names the tensor's place in the model independently of the
     * style (so that the same seed gives the same draws whatever the tensors are called).
     */
    public record Init(Kind kind, double std, String stream) {
        public enum Kind { NORMAL, ONES, ZEROS, ORTHOGONAL }

        static final Init ONES = new Init(Kind.ONES, 0, null), ZEROS = new Init(Kind.ZEROS, 0, null);

        static Init normal(double std, String stream) {
            return new Init(Kind.NORMAL, std, stream);
        }

        static Init orthogonal(String stream) {
            return new Init(Kind.ORTHOGONAL, 0, stream);
        }
    }

    /**
     * How a tensor leaves in Hugging Face's format: as it is, transposed ([in, out] Conv1D), as its views, or (a fused
     * [q; k; v] projection or its bias) with its rows grouped by head, as GPT-NeoX stores query_key_value.
     */
    public enum Export { WHOLE, TRANSPOSED, VIEWS, BY_HEAD }

    /** Rows [rowStart, rowStart + rows) of a matrix, with a name of its own. */
    public record View(String name, int rowStart, int rows) {}

    /** A [rows, cols] tensor at offset in the flat buffer (vectors have rows = 1). */
    public record Tensor(String name, int rows, int cols, int offset, Role role, Init init, Export export, List<View> views) {
        public int size() {
            return rows * cols;
        }

        public int end() {
            return offset + size();
        }

        public int[] shape() {
            return role.isMatrix() ? new int[] {rows, cols} : new int[] {cols};
        }

        Tensor at(int off) {
            return new Tensor(name, rows, cols, off, role, init, export, views);
        }
    }

    /**
     * Offsets of one block's tensors; -1 where the plan has no such tensor (a projection without a bias, a norm that
     * learns nothing, QK-norm gains without it). A fused projection's bias starts at its offset whether it is one vector or its parts' side by side.
     * With a shared norm (Phi's) the MLP's norm offsets are the attention's: one tensor, read by both branches.
     */
    public record Block(int attnNormW, int attnNormB, int qkvW, int qkvB, int attnOutW, int attnOutB, int mlpNormW,
                        int mlpNormB, int mlpInW, int mlpInB, int mlpOutW, int mlpOutB, int qNormW, int kNormW) {}

    /** The embedding projections' names (not Hugging Face's: no architecture there has them; export folds them away). */
    public static final String EMBED_PROJ = "crucible.embed_proj.weight", HEAD_PROJ = "crucible.head_proj.weight";

    private final ModelConfig config;
    private final BlockPlan plan;
    private final List<Tensor> tensors;
    private final Map<String, Tensor> byName = new LinkedHashMap<>();
    private final Block[] blocks;
    private final List<List<Tensor>> byLayer = new ArrayList<>();
    private final int wte, wpe, lmHead, lmHeadB, finalNormW, finalNormB, size, embedProj, headProj;

    public ParamLayout(ModelConfig c) {
        this.config = c;
        this.plan = c.plan();
        HfNames hf = HfNames.of(c);
        int d = c.dModel(), hs = c.headSize(), q = c.nHead() * hs, kv = c.nKvHead() * hs, qkvRows = q + 2 * kv;
        double std = 0.02, residualStd = 0.02 / Math.sqrt(2.0 * c.nLayer());
        Export linear = hf.transposeLinears() ? Export.TRANSPOSED : Export.WHOLE;
        Export fused = hf.exportFusedParts() ? Export.VIEWS : linear, qkvExport = hf.qkvByHead() ? Export.BY_HEAD : fused;
        List<Tensor> mats = new ArrayList<>(), head = new ArrayList<>(), embs = new ArrayList<>(), vecs = new ArrayList<>();
        for (BlockPlan.Layer lp : plan.layers()) {
            int l = lp.index(), inWidth = lp.mlp().inWidth(c.intermediateSize());
            List<View> qkvViews = List.of(new View(hf.part(l, hf.qkv(), "self_attn.q_proj", "q"), 0, q),
                    new View(hf.part(l, hf.qkv(), "self_attn.k_proj", "k"), q, kv),
                    new View(hf.part(l, hf.qkv(), "self_attn.v_proj", "v"), q + kv, kv));
            List<View> inViews = lp.mlp().gated()
                    ? List.of(new View(hf.part(l, hf.mlpIn(), "mlp.gate_proj", "gate"), 0, c.intermediateSize()),
                            new View(hf.part(l, hf.mlpIn(), "mlp.up_proj", "up"), c.intermediateSize(), c.intermediateSize()))
                    : List.of();
            String key = "layers." + l + ".";
            mats.add(matrix(hf.layer(l, hf.qkv()), qkvRows, d, Init.normal(std, key + "attn.qkv.weight"), qkvExport, qkvViews));
            mats.add(matrix(hf.layer(l, hf.attnOut()), d, q, Init.normal(residualStd, key + "attn.out.weight"), linear, List.of()));
            mats.add(matrix(hf.layer(l, hf.mlpIn()), inWidth, d, Init.normal(std, key + "mlp.in.weight"), inViews.isEmpty() ? linear : fused, inViews));
            mats.add(matrix(hf.layer(l, hf.mlpOut()), d, c.intermediateSize(), Init.normal(residualStd, key + "mlp.out.weight"), linear, List.of()));
            if (lp.attention().norm().gainSize(d) > 0) vecs.add(vector(hf.layer(l, hf.attnNorm()) + ".weight", lp.attention().norm().gainSize(d), Role.NORM, gainInit(lp.attention().norm())));
            boolean mlpNorm = !c.sharedNorm(); // a shared norm is the attention's: the MLP sub-layer reads its tensors
            if (mlpNorm && lp.mlpSublayer().norm().gainSize(d) > 0) vecs.add(vector(hf.layer(l, hf.mlpNorm()) + ".weight", lp.mlpSublayer().norm().gainSize(d), Role.NORM, gainInit(lp.mlpSublayer().norm())));
            if (lp.attention().norm().hasBias()) vecs.add(vector(hf.layer(l, hf.attnNorm()) + ".bias", d, Role.BIAS, Init.ZEROS));
            // a fused projection's bias is one vector, or (Llama's names) one per part, side by side as the projection adds them
            if (lp.bias().qkv()) {
                if (hf.exportFusedParts()) {
                    for (View v : qkvViews) vecs.add(vector(biasName(v), v.rows(), Role.BIAS, Init.ZEROS));
                } else {
                    vecs.add(new Tensor(hf.layer(l, hf.qkv()) + ".bias", 1, qkvRows, 0, Role.BIAS, Init.ZEROS, hf.qkvByHead() ? Export.BY_HEAD : Export.WHOLE, List.of()));
                }
            }
            if (lp.bias().attnOut()) vecs.add(vector(hf.layer(l, hf.attnOut()) + ".bias", d, Role.BIAS, Init.ZEROS));
            if (mlpNorm && lp.mlpSublayer().norm().hasBias()) vecs.add(vector(hf.layer(l, hf.mlpNorm()) + ".bias", d, Role.BIAS, Init.ZEROS));
            if (lp.bias().mlp()) {
                if (hf.exportFusedParts() && !inViews.isEmpty()) {
                    for (View v : inViews) vecs.add(vector(biasName(v), v.rows(), Role.BIAS, Init.ZEROS));
                } else {
                    vecs.add(vector(hf.layer(l, hf.mlpIn()) + ".bias", inWidth, Role.BIAS, Init.ZEROS));
                }
                vecs.add(vector(hf.layer(l, hf.mlpOut()) + ".bias", d, Role.BIAS, Init.ZEROS));
            }
            if (lp.qkNorm()) { // a gain of head size shared by the heads, or one over each whole projection
                boolean whole = c.qkNorm() == ModelConfig.QkNorm.WHOLE;
                vecs.add(vector(hf.layer(l, hf.qNorm()) + ".weight", whole ? q : hs, Role.NORM, Init.ONES));
                vecs.add(vector(hf.layer(l, hf.kNorm()) + ".weight", whole ? kv : hs, Role.NORM, Init.ONES));
            }
        }
        if (c.embeddingProjection()) { // OSP's EmbProj: R1 after the embedding, R2 before the head (names of Crucible's own)
            mats.add(new Tensor(EMBED_PROJ, d, d, 0, Role.HIDDEN_MATRIX, Init.orthogonal("embed_proj.weight"), Export.WHOLE, List.of()));
            mats.add(new Tensor(HEAD_PROJ, d, d, 0, Role.HIDDEN_MATRIX, Init.orthogonal("head_proj.weight"), Export.WHOLE, List.of()));
        }
        if (!c.tieEmbeddings()) {
            head.add(new Tensor(hf.head() + ".weight", c.vocabSize(), d, 0, Role.HEAD, Init.normal(std, "lm_head.weight"), Export.WHOLE, List.of()));
        }
        embs.add(new Tensor(hf.embed() + ".weight", c.vocabSize(), d, 0, Role.EMBEDDING, Init.normal(std, "wte.weight"), Export.WHOLE, List.of()));
        if (plan.positions() == BlockPlan.Positions.LEARNED) {
            embs.add(new Tensor(hf.positions() + ".weight", c.contextLength(), d, 0, Role.EMBEDDING, Init.normal(std, "wpe.weight"),
                    Export.WHOLE, List.of()));
        }
        if (plan.finalNorm().gainSize(d) > 0) vecs.add(vector(hf.finalNorm() + ".weight", plan.finalNorm().gainSize(d), Role.NORM, gainInit(plan.finalNorm())));
        if (plan.finalNorm().hasBias()) vecs.add(vector(hf.finalNorm() + ".bias", d, Role.BIAS, Init.ZEROS));
        if (c.headBias()) vecs.add(vector(hf.head() + ".bias", c.vocabSize(), Role.BIAS, Init.ZEROS));

        List<Tensor> all = new ArrayList<>();
        long total = 0;
        for (List<Tensor> group : List.of(mats, head, embs, vecs)) for (Tensor t : group) total += (long) t.rows() * t.cols();
        if (total > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("model has " + total + " parameters, more than 2^31 - 17, the most one flat float buffer (a Java array) holds");
        }
        long off = 0;
        for (List<Tensor> group : List.of(mats, head, embs, vecs)) {
            for (Tensor t : group) {
                Tensor placed = t.at((int) off);
                all.add(placed);
                byName.put(placed.name(), placed);
                off += placed.size();
            }
        }
        this.tensors = Collections.unmodifiableList(all);
        this.size = (int) off;
        for (int l = 0; l < c.nLayer(); l++) byLayer.add(new ArrayList<>());
        for (Tensor t : all) {
            if (!t.name().startsWith(hf.layerPrefix())) continue;
            String rest = t.name().substring(hf.layerPrefix().length());
            byLayer.get(Integer.parseInt(rest.substring(0, rest.indexOf('.')))).add(t);
        }
        this.wte = at(hf.embed() + ".weight");
        this.wpe = hf.positions() != null && byName.containsKey(hf.positions() + ".weight") ? at(hf.positions() + ".weight") : -1;
        this.lmHead = c.tieEmbeddings() ? wte : at(hf.head() + ".weight");
        this.lmHeadB = opt(hf.head() + ".bias");
        this.finalNormW = opt(hf.finalNorm() + ".weight");
        this.finalNormB = plan.finalNorm().hasBias() ? at(hf.finalNorm() + ".bias") : -1;
        this.embedProj = opt(EMBED_PROJ);
        this.headProj = opt(HEAD_PROJ);
        this.blocks = new Block[c.nLayer()];
        for (int l = 0; l < c.nLayer(); l++) {
            blocks[l] = new Block(opt(hf.layer(l, hf.attnNorm()) + ".weight"), opt(hf.layer(l, hf.attnNorm()) + ".bias"),
                    at(hf.layer(l, hf.qkv()) + ".weight"), fusedBias(hf.layer(l, hf.qkv())),
                    at(hf.layer(l, hf.attnOut()) + ".weight"), opt(hf.layer(l, hf.attnOut()) + ".bias"),
                    opt(hf.layer(l, hf.mlpNorm(c)) + ".weight"), opt(hf.layer(l, hf.mlpNorm(c)) + ".bias"),
                    at(hf.layer(l, hf.mlpIn()) + ".weight"), fusedBias(hf.layer(l, hf.mlpIn())),
                    at(hf.layer(l, hf.mlpOut()) + ".weight"), opt(hf.layer(l, hf.mlpOut()) + ".bias"),
                    opt(hf.layer(l, hf.qNorm()) + ".weight"), opt(hf.layer(l, hf.kNorm()) + ".weight"));
        }
    }

    private static Tensor matrix(String module, int rows, int cols, Init init, Export export, List<View> views) {
        return new Tensor(module + ".weight", rows, cols, 0, Role.HIDDEN_MATRIX, init, export, views);
    }

    /** The bias of a fused projection's part, named as its own module's (Llama's names: "….q_proj.weight" has "….q_proj.bias"). */
    private static String biasName(View part) {
        if (!part.name().endsWith(".weight")) throw new IllegalArgumentException(part.name() + " names no module of its own to hold a bias");
        return part.name().substring(0, part.name().length() - ".weight".length()) + ".bias";
    }

    /**
     * Where the bias of the fused projection module starts: its own, or its first part's, the parts' biases lying side by
     * side as the projection adds them (checked); -1 when it has none.
     */
    private int fusedBias(String module) {
        int whole = opt(module + ".bias");
        Tensor w = tensor(module + ".weight");
        if (whole >= 0 || w.views().isEmpty()) return whole;
        int start = opt(biasName(w.views().getFirst()));
        for (View v : w.views()) {
            if (start >= 0 && opt(biasName(v)) != start + v.rowStart()) {
                throw new IllegalStateException(biasName(v) + " does not follow the earlier parts' biases of " + module);
            }
        }
        return start;
    }

    /** buffer (the parameters, or their gradients) where a tensor at offset lies in it; null for one the model lacks (offset -1), as a kernel takes an absent bias. */
    static float[] ifPresent(float[] buffer, int offset) {
        return offset >= 0 ? buffer : null;
    }

    /** A norm's gain starts as the identity: ones, or zeros where the gain applied is 1 + w. */
    private static Init gainInit(BlockPlan.NormKind kind) {
        return kind.offsetGain() ? Init.ZEROS : Init.ONES;
    }

    private static Tensor vector(String name, int n, Role role, Init init) {
        return new Tensor(name, 1, n, 0, role, init, Export.WHOLE, List.of());
    }

    private int at(String name) {
        return tensor(name).offset();
    }

    private int opt(String name) {
        Tensor t = byName.get(name);
        return t == null ? -1 : t.offset();
    }

    public ModelConfig config() {
        return config;
    }

    public BlockPlan plan() {
        return plan;
    }

    /** Every tensor, in buffer order. */
    public List<Tensor> tensors() {
        return tensors;
    }

    public Tensor tensor(String name) {
        Tensor t = byName.get(name);
        if (t == null) throw new IllegalArgumentException("no parameter tensor named " + name);
        return t;
    }

    public int size() {
        return size;
    }

    public Block block(int l) {
        return blocks[l];
    }

    /** The tensors of transformer layer l (norms, projections, biases). */
    public List<Tensor> layerTensors(int l) {
        return Collections.unmodifiableList(byLayer.get(l));
    }

    public int wte() {
        return wte;
    }

    /** Offset of the learned position embedding, -1 when positions are rotary. */
    public int wpe() {
        return wpe;
    }

    public int lmHead() {
        return lmHead;
    }

    /** The LM head's bias (Phi's), or -1. */
    public int lmHeadB() {
        return lmHeadB;
    }

    /** Offset of the projection after the embedding ([d, d], out × in), -1 without embedding projections. */
    public int embedProj() {
        return embedProj;
    }

    /** Offset of the projection before the head, -1 without embedding projections. */
    public int headProj() {
        return headProj;
    }

    /** Whether t is an embedding projection: export folds it into the embedding or the head, so it is deployed as they are. */
    public boolean isEmbeddingProjection(Tensor t) {
        return t.offset() == embedProj || t.offset() == headProj;
    }

    public int finalNormW() {
        return finalNormW;
    }

    public int finalNormB() {
        return finalNormB;
    }

    /**
     * Parameters that a token multiplies (the N of 6·N): all but the learned position embedding and, when the head is
     * untied, the input embedding, which a token only indexes (nanoGPT's and PaLM's count, whose models tie them: the
     * head's matrix is the embedding). Counting an untied input embedding too would overstate the FLOPs of Pythia's
     * 70M by a third. They are also the weights a decoded token reads whole.
     */
    public long matmulParams() {
        long positions = wpe >= 0 ? (long) config.contextLength() * config.dModel() : 0;
        return size - positions - (config.tieEmbeddings() ? 0 : (long) config.vocabSize() * config.dModel());
    }

    /**
     * Training FLOPs per token at training sequence length seqLen: 6·N + 12·L·H·Q·T with H·Q the attention's
     * width, heads times head size, which is d unless head_dim is set (PaLM appendix B; the peer benchmark uses the
     * same). The one definition behind the MFU, the cumulative "flops" in trainer_state.json and metrics.jsonl, and
     * the compute axis of reports.
     */
    public double flopsPerToken(int seqLen) {
        return 6.0 * matmulParams() + 12.0 * config.nLayer() * config.attentionWidth() * seqLen;
    }

    /** Fills params with the GPT-2 initialisation. */
    public void initialize(float[] params, long seed) {
        for (Tensor t : tensors) {
            switch (t.init().kind()) {
                case ONES -> Arrays.fill(params, t.offset(), t.end(), 1f);
                case ZEROS -> Arrays.fill(params, t.offset(), t.end(), 0f);
                case NORMAL -> {
                    Rng rng = Rng.derive(seed, t.init().stream());
                    for (int i = t.offset(); i < t.end(); i++) params[i] = (float) (rng.nextGaussian() * t.init().std());
                }
                case ORTHOGONAL -> orthogonal(params, t, Rng.derive(seed, t.init().stream()));
            }
        }
    }

    /** A random orthogonal matrix: Gaussian rows made orthonormal by modified Gram-Schmidt, in double. */
    private static void orthogonal(float[] params, Tensor t, Rng rng) {
        int n = t.rows(), m = t.cols();
        double[][] a = new double[n][m];
        for (double[] row : a) for (int j = 0; j < m; j++) row[j] = rng.nextGaussian();
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < i; k++) {
                double dot = 0;
                for (int j = 0; j < m; j++) dot += a[i][j] * a[k][j];
                for (int j = 0; j < m; j++) a[i][j] -= dot * a[k][j];
            }
            double norm = 0;
            for (int j = 0; j < m; j++) norm += a[i][j] * a[i][j];
            norm = Math.sqrt(norm);
            for (int j = 0; j < m; j++) params[t.offset() + i * m + j] = (float) (a[i][j] /= norm);
        }
    }
}
