package dev.crucible.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where every parameter tensor lives in the one flat parameter buffer. Matrices come first, then
 * embeddings, then vectors (norm weights and biases), so that "decay matrices only" and "decay
 * matrices and embeddings" are each one contiguous range for the fused optimizer.
 */
public final class ParamLayout {

    public enum Kind { MATRIX, EMBEDDING, VECTOR }

    public enum Init { NORMAL, ONES, ZEROS }

    /** A [rows, cols] tensor (vectors have rows = 1) at offset in the flat buffer. */
    public record Tensor(String name, int rows, int cols, int offset, Kind kind, Init init, double std) {
        public int size() {
            return rows * cols;
        }

        public int end() {
            return offset + size();
        }

        public int[] shape() {
            return kind == Kind.VECTOR ? new int[] {cols} : new int[] {rows, cols};
        }
    }

    /** Offsets of one block's tensors; bias offsets are -1 for Llama style. */
    public record Block(int attnNormW, int attnNormB, int qkvW, int qkvB, int attnOutW, int attnOutB, int mlpNormW,
                        int mlpNormB, int mlpInW, int mlpInB, int mlpOutW, int mlpOutB) {}

    private final ModelConfig config;
    private final List<Tensor> tensors;
    private final Map<String, Tensor> byName = new LinkedHashMap<>();
    private final Block[] blocks;
    private final int wte, wpe, lmHead, finalNormW, finalNormB, size, matrixEnd, embeddingEnd;

    public ParamLayout(ModelConfig c) {
        this.config = c;
        int d = c.dModel(), hs = c.headSize(), qkvRows = (c.nHead() + 2 * c.nKvHead()) * hs;
        double std = 0.02, residualStd = 0.02 / Math.sqrt(2.0 * c.nLayer());
        boolean bias = !c.llama();
        List<Tensor> mats = new ArrayList<>(), embs = new ArrayList<>(), vecs = new ArrayList<>();
        for (int l = 0; l < c.nLayer(); l++) {
            String p = "layers." + l + ".";
            mats.add(new Tensor(p + "attn.qkv.weight", qkvRows, d, 0, Kind.MATRIX, Init.NORMAL, std));
            mats.add(new Tensor(p + "attn.out.weight", d, c.nHead() * hs, 0, Kind.MATRIX, Init.NORMAL, residualStd));
            mats.add(new Tensor(p + "mlp.in.weight", c.mlpInWidth(), d, 0, Kind.MATRIX, Init.NORMAL, std));
            mats.add(new Tensor(p + "mlp.out.weight", d, c.hiddenSize(), 0, Kind.MATRIX, Init.NORMAL, residualStd));
            vecs.add(new Tensor(p + "attn_norm.weight", 1, d, 0, Kind.VECTOR, Init.ONES, 0));
            vecs.add(new Tensor(p + "mlp_norm.weight", 1, d, 0, Kind.VECTOR, Init.ONES, 0));
            if (bias) {
                vecs.add(new Tensor(p + "attn_norm.bias", 1, d, 0, Kind.VECTOR, Init.ZEROS, 0));
                vecs.add(new Tensor(p + "attn.qkv.bias", 1, qkvRows, 0, Kind.VECTOR, Init.ZEROS, 0));
                vecs.add(new Tensor(p + "attn.out.bias", 1, d, 0, Kind.VECTOR, Init.ZEROS, 0));
                vecs.add(new Tensor(p + "mlp_norm.bias", 1, d, 0, Kind.VECTOR, Init.ZEROS, 0));
                vecs.add(new Tensor(p + "mlp.in.bias", 1, c.mlpInWidth(), 0, Kind.VECTOR, Init.ZEROS, 0));
                vecs.add(new Tensor(p + "mlp.out.bias", 1, d, 0, Kind.VECTOR, Init.ZEROS, 0));
            }
        }
        if (!c.tieEmbeddings()) mats.add(new Tensor("lm_head.weight", c.vocabSize(), d, 0, Kind.MATRIX, Init.NORMAL, std));
        embs.add(new Tensor("wte.weight", c.vocabSize(), d, 0, Kind.EMBEDDING, Init.NORMAL, std));
        if (!c.llama()) embs.add(new Tensor("wpe.weight", c.contextLength(), d, 0, Kind.EMBEDDING, Init.NORMAL, std));
        vecs.add(new Tensor("final_norm.weight", 1, d, 0, Kind.VECTOR, Init.ONES, 0));
        if (bias) vecs.add(new Tensor("final_norm.bias", 1, d, 0, Kind.VECTOR, Init.ZEROS, 0));

        List<Tensor> all = new ArrayList<>();
        long off = 0;
        int[] ends = new int[3];
        List<List<Tensor>> groups = List.of(mats, embs, vecs);
        for (int g = 0; g < groups.size(); g++) {
            List<Tensor> group = groups.get(g);
            for (Tensor t : group) {
                Tensor placed = new Tensor(t.name(), t.rows(), t.cols(), (int) off, t.kind(), t.init(), t.std());
                all.add(placed);
                byName.put(placed.name(), placed);
                off += placed.size();
                if (off > Integer.MAX_VALUE - 16) {
                    throw new IllegalArgumentException("model has more than 2^31 parameters; not supported by the flat float buffer");
                }
            }
            ends[g] = (int) off;
        }
        this.matrixEnd = ends[0];
        this.embeddingEnd = ends[1];
        this.tensors = Collections.unmodifiableList(all);
        this.size = (int) off;
        this.wte = at("wte.weight");
        this.wpe = c.llama() ? -1 : at("wpe.weight");
        this.lmHead = c.tieEmbeddings() ? wte : at("lm_head.weight");
        this.finalNormW = at("final_norm.weight");
        this.finalNormB = bias ? at("final_norm.bias") : -1;
        this.blocks = new Block[c.nLayer()];
        for (int l = 0; l < c.nLayer(); l++) {
            String p = "layers." + l + ".";
            blocks[l] = new Block(at(p + "attn_norm.weight"), bias ? at(p + "attn_norm.bias") : -1, at(p + "attn.qkv.weight"),
                    bias ? at(p + "attn.qkv.bias") : -1, at(p + "attn.out.weight"), bias ? at(p + "attn.out.bias") : -1,
                    at(p + "mlp_norm.weight"), bias ? at(p + "mlp_norm.bias") : -1, at(p + "mlp.in.weight"),
                    bias ? at(p + "mlp.in.bias") : -1, at(p + "mlp.out.weight"), bias ? at(p + "mlp.out.bias") : -1);
        }
    }

    private int at(String name) {
        return byName.get(name).offset();
    }

    public ModelConfig config() {
        return config;
    }

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

    /** End of the matrices: [0, matrixEnd) is every weight matrix. */
    public int matrixEnd() {
        return matrixEnd;
    }

    /** End of the embeddings: [matrixEnd, embeddingEnd) are the token (and position) embeddings. */
    public int embeddingEnd() {
        return embeddingEnd;
    }

    public Block block(int l) {
        return blocks[l];
    }

    public int wte() {
        return wte;
    }

    public int wpe() {
        return wpe;
    }

    public int lmHead() {
        return lmHead;
    }

    public int finalNormW() {
        return finalNormW;
    }

    public int finalNormB() {
        return finalNormB;
    }

    /** Parameters that count for FLOPs: all but the position embedding (nanoGPT/PaLM convention). */
    public long nonEmbeddingPositionParams() {
        return size - (wpe >= 0 ? (long) config.contextLength() * config.dModel() : 0);
    }

    /** Training FLOPs per token: 6·N + 12·L·d·T (PaLM appendix B; the peer benchmark uses the same). */
    public double flopsPerToken(int seqLen) {
        return 6.0 * nonEmbeddingPositionParams() + 12.0 * config.nLayer() * config.dModel() * seqLen;
    }

    /** Fills params with the GPT-2 initialisation; each tensor draws from its own stream derived from seed and name. */
    public void initialize(float[] params, long seed) {
        for (Tensor t : tensors) {
            switch (t.init()) {
                case ONES -> java.util.Arrays.fill(params, t.offset(), t.end(), 1f);
                case ZEROS -> java.util.Arrays.fill(params, t.offset(), t.end(), 0f);
                case NORMAL -> {
                    dev.crucible.tensor.Rng rng = dev.crucible.tensor.Rng.derive(seed, t.name());
                    for (int i = t.offset(); i < t.end(); i++) params[i] = (float) (rng.nextGaussian() * t.std());
                }
            }
        }
    }
}
