package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.crucible.tensor.Check;
import dev.crucible.tensor.Rng;
import dev.crucible.tensor.WorkerPool;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole-model correctness: (1) the double-precision reference model's gradient equals central finite
 * differences of its loss for every parameter tensor; (2) the fast float model gives the same loss,
 * probabilities and every parameter gradient as the reference, in both styles.
 */
class ModelGradientTest {
    static final WorkerPool POOL = new WorkerPool(2);

    @AfterAll
    static void close() {
        POOL.close();
    }

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of("gpt2", ModelConfig.gpt2(13, 9, 2, 2, 8)),
                Arguments.of("llama", ModelConfig.llama(13, 9, 2, 4, 4, 16)),
                Arguments.of("qwen2", ModelConfig.llamaBuilder(13, 9, 2, 4, 2, 16).linearBias(ModelConfig.LinearBias.QKV).build()),
                Arguments.of("olmo", ModelConfig.llamaBuilder(13, 9, 2, 4, 2, 16).norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM).normEps(1e-5).build()),
                Arguments.of("olmo-clip_qkv", ModelConfig.llamaBuilder(13, 9, 2, 4, 2, 16).norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM).normEps(1e-5)
                        .clipQkv(0.8).build()),
                Arguments.of("gpt2-clip_qkv-qk_norm", ModelConfig.gpt2Builder(13, 9, 2, 2, 8).clipQkv(0.5).qkNorm(true).build()),
                Arguments.of("gpt2-nonparametric-post", ModelConfig.gpt2Builder(13, 9, 2, 2, 8).norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM)
                        .normPlacement(ModelConfig.NormPlacement.POST).build()),
                Arguments.of("llama-bias_all", ModelConfig.llamaBuilder(13, 9, 2, 2, 1, 8).linearBias(ModelConfig.LinearBias.ALL).build()),
                Arguments.of("gemma", ModelConfig.llamaBuilder(13, 9, 2, 4, 1, 16).glu(ModelConfig.Glu.GEGLU).norm(ModelConfig.Norm.OFFSET_RMSNORM)
                        .embeddingMultiplier(ModelConfig.gemmaEmbeddingMultiplier(16)).headDim(8).build()),
                Arguments.of("gpt2-offset_rmsnorm-multiplier-post", ModelConfig.gpt2Builder(13, 9, 2, 2, 8).norm(ModelConfig.Norm.OFFSET_RMSNORM)
                        .embeddingMultiplier(2.5).normPlacement(ModelConfig.NormPlacement.POST).build()),
                Arguments.of("phi", ModelConfig.gptNeoxBuilder(13, 9, 2, 2, 16).sharedNorm(true).headBias(true).rotaryFraction(0.5)
                        .gelu(ModelConfig.Gelu.TANH).build()),
                Arguments.of("gpt_neox-shared_norm-lns", ModelConfig.gptNeoxBuilder(13, 9, 3, 2, 16).sharedNorm(true).normScaling(ModelConfig.NormScaling.LAYER_INDEX)
                        .build()),
                Arguments.of("gpt2-head_bias", ModelConfig.gpt2Builder(13, 9, 2, 2, 8).headBias(true).build()),
                Arguments.of("llama-logit_softcap", ModelConfig.llamaBuilder(13, 9, 2, 4, 2, 16).logitSoftcap(0.2).build()),
                Arguments.of("llama-geglu", ModelConfig.llamaBuilder(13, 9, 2, 4, 2, 16).glu(ModelConfig.Glu.GEGLU).build()),
                Arguments.of("qwen3-head_dim", ModelConfig.llamaBuilder(13, 9, 2, 4, 2, 16).qkNorm(true).headDim(6).build()),
                Arguments.of("llama-head_dim-narrow", ModelConfig.llamaBuilder(13, 9, 2, 2, 1, 16).headDim(2).linearBias(ModelConfig.LinearBias.ATTENTION)
                        .build()),
                Arguments.of("olmo2-head_dim", ModelConfig.llamaBuilder(13, 9, 2, 4, 2, 16).normPlacement(ModelConfig.NormPlacement.OUTPUT)
                        .qkNorm(ModelConfig.QkNorm.WHOLE).headDim(6).build()),
                Arguments.of("llama-gqa-untied", ModelConfig.llamaBuilder(11, 7, 2, 4, 2, 16).intermediateSize(20).tieEmbeddings(false).normEps(1e-6).ropeTheta(500).build()),
                Arguments.of("gpt2-post", ModelConfig.gpt2Builder(13, 9, 2, 2, 8).normPlacement(ModelConfig.NormPlacement.POST).build()),
                Arguments.of("llama-mix", ModelConfig.llamaBuilder(13, 9, 4, 2, 1, 8).normPlacement(ModelConfig.NormPlacement.MIX).build()),
                Arguments.of("gpt2-lns", ModelConfig.gpt2Builder(13, 9, 3, 2, 8).normScaling(ModelConfig.NormScaling.LAYER_INDEX).build()),
                Arguments.of("llama-lns", ModelConfig.llamaBuilder(13, 9, 3, 2, 2, 8).normScaling(ModelConfig.NormScaling.LAYER_INDEX).build()),
                Arguments.of("gpt2-qk_norm", ModelConfig.gpt2Builder(13, 9, 2, 2, 8).qkNorm(true).build()),
                Arguments.of("llama-gqa-qk_norm", ModelConfig.llamaBuilder(13, 9, 2, 4, 2, 16).qkNorm(true).build()),
                Arguments.of("llama-single_scale", ModelConfig.llamaBuilder(13, 9, 2, 2, 2, 8).norm(ModelConfig.Norm.SINGLE_SCALE_RMSNORM).build()),
                Arguments.of("gpt2-rmsnorm", ModelConfig.gpt2Builder(13, 9, 2, 2, 8).norm(ModelConfig.Norm.RMSNORM).build()),
                Arguments.of("gpt2-dropout", ModelConfig.gpt2Builder(13, 9, 2, 2, 8).dropout(0.3).build()),
                Arguments.of("gpt2-embedding_projection", ModelConfig.gpt2Builder(13, 9, 2, 2, 8).embeddingProjection(true).build()),
                Arguments.of("llama-untied-embedding_projection", ModelConfig.llamaBuilder(13, 9, 2, 2, 2, 8).tieEmbeddings(false)
                        .embeddingProjection(true).build()),
                // OLMo 2's norm on each branch's output, x + norm(f(x)): with GQA and QK-norm, with dropout, in GPT-NeoX's sequential form
                Arguments.of("llama-output-qk_norm", ModelConfig.llamaBuilder(13, 9, 2, 4, 2, 16).normPlacement(ModelConfig.NormPlacement.OUTPUT).qkNorm(true).build()),
                Arguments.of("gpt2-output-dropout", ModelConfig.gpt2Builder(13, 9, 2, 2, 8).normPlacement(ModelConfig.NormPlacement.OUTPUT).dropout(0.3).build()),
                Arguments.of("gpt_neox-sequential-output", ModelConfig.gptNeoxBuilder(13, 9, 2, 2, 16).parallelResidual(false)
                        .normPlacement(ModelConfig.NormPlacement.OUTPUT).build()),
                // OLMo 2's blocks: output norms and QK-norm over each token's whole query and key projections (GQA: k's is narrower)
                Arguments.of("olmo2", ModelConfig.llamaBuilder(13, 9, 2, 4, 2, 16).normPlacement(ModelConfig.NormPlacement.OUTPUT)
                        .qkNorm(ModelConfig.QkNorm.WHOLE).tieEmbeddings(false).build()),
                Arguments.of("gpt2-qk_whole", ModelConfig.gpt2Builder(13, 9, 2, 2, 8).qkNorm(ModelConfig.QkNorm.WHOLE).build()),
                Arguments.of("llama-mix-dropout", ModelConfig.llamaBuilder(13, 9, 4, 2, 1, 8).normPlacement(ModelConfig.NormPlacement.MIX).dropout(0.3).build()),
                // GPT-NeoX (Pythia): parallel residual, RoPE on a quarter of each head (2 of 8), exact GELU, biases, untied
                Arguments.of("gpt_neox", ModelConfig.gptNeoxBuilder(13, 9, 2, 2, 16).build()),
                Arguments.of("gpt_neox-sequential-tied", ModelConfig.gptNeoxBuilder(13, 9, 2, 2, 16).parallelResidual(false).rotaryFraction(0.5)
                        .tieEmbeddings(true).build()),
                Arguments.of("gpt_neox-sequential-post", ModelConfig.gptNeoxBuilder(13, 9, 2, 2, 16).parallelResidual(false)
                        .normPlacement(ModelConfig.NormPlacement.POST).build()),
                Arguments.of("gpt_neox-lns-dropout", ModelConfig.gptNeoxBuilder(13, 9, 3, 2, 16).rotaryFraction(1).dropout(0.3)
                        .normScaling(ModelConfig.NormScaling.LAYER_INDEX).build()),
                Arguments.of("gpt2-exact_gelu", ModelConfig.gpt2Builder(13, 9, 2, 2, 8).gelu(ModelConfig.Gelu.EXACT).build()),
                // Llama 3.1's RoPE scaling with wavelengths 6.3, 19.9, 62.8 and 199 against 16 and 64: kept, smoothed twice, divided
                Arguments.of("llama-rope_llama3", ModelConfig.llamaBuilder(13, 9, 2, 2, 1, 16).ropeTheta(100)
                        .ropeScaling(new dev.crucible.tensor.Rope.Llama3Scaling(8, 1, 4, 64)).build()));
    }

    /** Larger-than-default init so that gradients are not vanishingly small in the check. */
    static float[] initParams(ModelConfig cfg, long seed) {
        ParamLayout layout = new ParamLayout(cfg);
        float[] p = new float[layout.size()];
        Rng rng = new Rng(seed);
        for (ParamLayout.Tensor t : layout.tensors()) {
            for (int i = t.offset(); i < t.end(); i++) {
                double base = t.init().kind() == ParamLayout.Init.Kind.ONES ? 1 : 0;
                p[i] = (float) (base + rng.nextGaussian() * (t.role().isMatrix() ? 0.3 : 0.1));
            }
        }
        return p;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void referenceGradientMatchesFiniteDifferences(String name, ModelConfig cfg) {
        int b = 2, t = cfg.contextLength() - 2;
        SplittableRandom rng = new SplittableRandom(7);
        int[] tokens = rng.ints(b * t, 0, cfg.vocabSize()).toArray(), targets = rng.ints(b * t, 0, cfg.vocabSize()).toArray();
        ReferenceModel ref = new ReferenceModel(cfg, initParams(cfg, 1));
        ref.dropout(5, 3, 1); // masks of (seed 5, step 3, micro-batch 1); nothing without model.dropout
        ref.run(tokens, targets, b, t, true);
        for (ParamLayout.Tensor tensor : ref.layout.tensors()) {
            double[] slice = java.util.Arrays.copyOfRange(ref.params, tensor.offset(), tensor.end());
            double[] grad = java.util.Arrays.copyOfRange(ref.grads, tensor.offset(), tensor.end());
            Check.gradient(name + " " + tensor.name(), slice, grad, () -> {
                System.arraycopy(slice, 0, ref.params, tensor.offset(), slice.length);
                return ref.run(tokens, targets, b, t, false);
            }, 12, rng, 1e-5);
            System.arraycopy(slice, 0, ref.params, tensor.offset(), slice.length);
        }
    }

    /**
     * A step's gradients written by its first backward ({@link Model#zeroGradNextBackward}, over gradients holding
     * NaN) are the bits of zeroGrad's and adding, over two micro-batches: no gradient is left unwritten.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void gradientsWrittenByTheFirstBackwardAreThoseAddedToZeros(String name, ModelConfig cfg) {
        int b = 2, t = cfg.contextLength();
        SplittableRandom rng = new SplittableRandom(9);
        int[][] tokens = {rng.ints(b * t, 0, cfg.vocabSize()).toArray(), rng.ints(b * t, 0, cfg.vocabSize()).toArray()};
        int[][] targets = {rng.ints(b * t, 0, cfg.vocabSize()).toArray(), rng.ints(b * t, 0, cfg.vocabSize()).toArray()};
        float[][] grads = new float[2][];
        for (int written = 0; written < 2; written++) {
            Model model = Model.forTraining(cfg, b, t, POOL);
            System.arraycopy(initParams(cfg, 3), 0, model.params, 0, model.params.length);
            if (written == 1) {
                java.util.Arrays.fill(model.grads, Float.NaN);
                model.zeroGradNextBackward();
            } else {
                model.zeroGrad();
            }
            for (int micro = 0; micro < 2; micro++) {
                model.armDropout(5, 3, micro);
                model.forward(tokens[micro], targets[micro], b, t);
                model.backward(1f / (2 * b * t));
            }
            grads[written] = model.grads;
        }
        for (ParamLayout.Tensor tensor : new ParamLayout(cfg).tensors()) {
            float[] added = java.util.Arrays.copyOfRange(grads[0], tensor.offset(), tensor.end());
            float[] written = java.util.Arrays.copyOfRange(grads[1], tensor.offset(), tensor.end());
            org.junit.jupiter.api.Assertions.assertArrayEquals(added, written, name + " gradient of " + tensor.name());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void fastModelMatchesReference(String name, ModelConfig cfg) {
        int b = 3, t = cfg.contextLength();
        SplittableRandom rng = new SplittableRandom(8);
        int[] tokens = rng.ints(b * t, 0, cfg.vocabSize()).toArray(), targets = rng.ints(b * t, 0, cfg.vocabSize()).toArray();
        float[] p = initParams(cfg, 2);
        Model model = Model.forTraining(cfg, b, t, POOL);
        System.arraycopy(p, 0, model.params, 0, p.length);
        ReferenceModel ref = new ReferenceModel(cfg, p);
        ref.dropout(5, 3, 1);
        double expected = ref.run(tokens, targets, b, t, true);
        model.zeroGrad();
        model.armDropout(5, 3, 1);
        float loss = model.forward(tokens, targets, b, t);
        assertEquals(expected, loss, 1e-5 * Math.max(1, expected), name + " loss");
        Check.close(name + " probabilities", ref.probs, model.probabilitiesDense(), 1e-6, 1e-4);
        model.backward(1f / (b * t));
        for (ParamLayout.Tensor tensor : model.layout().tensors()) {
            Check.close(name + " gradient of " + tensor.name(), ref.grads, tensor.offset(), model.grads, tensor.offset(),
                    tensor.size(), 2e-6, 2e-3);
        }
    }
}
