package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.crucible.tensor.Check;
import dev.crucible.tensor.WorkerPool;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Layer 2 of correctness: an independent PyTorch implementation (torch_reference.py, plain torch
 * ops on the HF-named tensors we export) computes the same probabilities, loss and every weight
 * gradient, at 29 tokens (inside one attention tile) and at 200 (across four). Runs when /usr/bin/python3 has torch (.ci/run installs Debian's python3-torch).
 * Tolerances: probabilities 1e-6 + 1e-4 relative, loss 1e-5 relative, gradients 1e-6 + 2e-3
 * relative (float32 against float32, different summation orders).
 */
public class TorchParityTest {
    public static final String PYTHON = System.getProperty("crucible.python", "/usr/bin/python3");

    public static boolean torchAvailable() {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import torch").redirectErrorStream(true).start();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of("gpt2", ModelConfig.gpt2(50, 24, 2, 4, 32)),
                Arguments.of("llama-z_loss", ModelConfig.llama(50, 24, 2, 4, 2, 32)),
                Arguments.of("llama-gqa", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).intermediateSize(48).tieEmbeddings(true).normEps(1e-6).ropeTheta(10000).build()),
                Arguments.of("llama-untied", ModelConfig.llamaBuilder(40, 16, 2, 2, 2, 16).intermediateSize(40).tieEmbeddings(false).normEps(1e-5).ropeTheta(500).build()),
                Arguments.of("gpt2-post", ModelConfig.gpt2Builder(50, 24, 2, 4, 32).normPlacement(ModelConfig.NormPlacement.POST).build()),
                Arguments.of("llama-mix", ModelConfig.llamaBuilder(50, 24, 4, 4, 2, 32).normPlacement(ModelConfig.NormPlacement.MIX).build()),
                Arguments.of("llama-output", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).normPlacement(ModelConfig.NormPlacement.OUTPUT).build()),
                // OLMo 2 (exported as Olmo2ForCausalLM's names and config), and whole-projection QK-norm on Pre-LN blocks of each style
                Arguments.of("olmo2", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).normPlacement(ModelConfig.NormPlacement.OUTPUT)
                        .qkNorm(ModelConfig.QkNorm.WHOLE).tieEmbeddings(false).normEps(1e-5).build()),
                Arguments.of("llama-qk_whole", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).qkNorm(ModelConfig.QkNorm.WHOLE).build()),
                Arguments.of("gpt2-qk_whole", ModelConfig.gpt2Builder(50, 24, 2, 4, 32).qkNorm(ModelConfig.QkNorm.WHOLE).build()),
                Arguments.of("gpt_neox-qk_whole", ModelConfig.gptNeoxBuilder(50, 24, 2, 4, 32).qkNorm(ModelConfig.QkNorm.WHOLE).build()),
                Arguments.of("gpt2-output", ModelConfig.gpt2Builder(50, 24, 2, 4, 32).normPlacement(ModelConfig.NormPlacement.OUTPUT).build()),
                Arguments.of("gpt_neox-sequential-output", ModelConfig.gptNeoxBuilder(50, 24, 2, 4, 32).parallelResidual(false)
                        .normPlacement(ModelConfig.NormPlacement.OUTPUT).build()),
                Arguments.of("gpt2-lns", ModelConfig.gpt2Builder(50, 24, 3, 4, 32).normScaling(ModelConfig.NormScaling.LAYER_INDEX).build()),
                Arguments.of("llama-lns", ModelConfig.llamaBuilder(50, 24, 3, 4, 2, 32).normScaling(ModelConfig.NormScaling.LAYER_INDEX).build()),
                Arguments.of("gpt2-qk_norm", ModelConfig.gpt2Builder(50, 24, 2, 4, 32).qkNorm(true).build()),
                Arguments.of("llama-qk_norm", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).qkNorm(true).build()),
                Arguments.of("llama-single_scale", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).norm(ModelConfig.Norm.SINGLE_SCALE_RMSNORM).build()),
                Arguments.of("gpt2-single_scale", ModelConfig.gpt2Builder(50, 24, 2, 4, 32).norm(ModelConfig.Norm.SINGLE_SCALE_RMSNORM).build()),
                Arguments.of("gpt2-embedding_projection", ModelConfig.gpt2Builder(50, 24, 2, 4, 32).embeddingProjection(true).build()),
                Arguments.of("llama-embedding_projection", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).embeddingProjection(true).build()),
                // GPT-NeoX (Pythia's architecture): parallel residual, RoPE on 2 of 8 dimensions of each head, exact GELU, untied
                Arguments.of("gpt_neox", ModelConfig.gptNeoxBuilder(50, 24, 2, 4, 32).build()),
                Arguments.of("gpt_neox-sequential-tanh", ModelConfig.gptNeoxBuilder(50, 24, 2, 2, 32).parallelResidual(false).rotaryFraction(0.5)
                        .gelu(ModelConfig.Gelu.TANH).tieEmbeddings(true).build()),
                Arguments.of("gpt_neox-lns", ModelConfig.gptNeoxBuilder(50, 24, 3, 4, 32).normScaling(ModelConfig.NormScaling.LAYER_INDEX).build()),
                Arguments.of("gpt_neox-qk_norm", ModelConfig.gptNeoxBuilder(50, 24, 2, 4, 32).qkNorm(true).build()),
                // Llama 3.1's RoPE scaling on GPT-NeoX's partial rotary (transformers scales the rotated dimensions' frequencies)
                Arguments.of("gpt_neox-rope_llama3", ModelConfig.gptNeoxBuilder(50, 24, 2, 2, 64).rotaryFraction(0.5).ropeTheta(100)
                        .ropeScaling(new dev.crucible.tensor.Rope.Llama3Scaling(8, 1, 4, 64)).build()),
                Arguments.of("llama-rope_llama3", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 64).ropeTheta(100)
                        .ropeScaling(new dev.crucible.tensor.Rope.Llama3Scaling(8, 1, 4, 64)).build()),
                // Qwen2 (biases on q, k and v, exported as Qwen2ForCausalLM), Llama's attention_bias and mlp_bias, and Qwen3's attention_bias
                Arguments.of("qwen2", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).linearBias(ModelConfig.LinearBias.QKV).ropeTheta(1e6).build()),
                Arguments.of("llama-bias_all", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).linearBias(ModelConfig.LinearBias.ALL).tieEmbeddings(false).build()),
                Arguments.of("llama-bias_mlp", ModelConfig.llamaBuilder(50, 24, 2, 4, 4, 32).linearBias(ModelConfig.LinearBias.MLP).build()),
                Arguments.of("qwen3-attention_bias", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).qkNorm(true).linearBias(ModelConfig.LinearBias.ATTENTION).build()),
                Arguments.of("olmo2-qkv_bias", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).normPlacement(ModelConfig.NormPlacement.OUTPUT)
                        .qkNorm(ModelConfig.QkNorm.WHOLE).linearBias(ModelConfig.LinearBias.QKV).build()),
                // the first OLMo (a LayerNorm that learns nothing, exported as OlmoForCausalLM), and that norm in the other styles
                Arguments.of("olmo", ModelConfig.llamaBuilder(50, 24, 2, 4, 4, 32).norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM).normEps(1e-5)
                        .tieEmbeddings(false).build()),
                Arguments.of("olmo-clip_qkv", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM).normEps(1e-5)
                        .clipQkv(1.0).build()),
                Arguments.of("llama-clip_qkv-qk_norm", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).clipQkv(1.0).qkNorm(true).build()),
                Arguments.of("olmo-embedding_projection", ModelConfig.llamaBuilder(50, 24, 2, 4, 4, 32).norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM)
                        .normEps(1e-5).embeddingProjection(true).build()),
                Arguments.of("llama-nonparametric-qk_norm", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM)
                        .qkNorm(true).build()),
                Arguments.of("gpt2-nonparametric", ModelConfig.gpt2Builder(50, 24, 2, 4, 32).norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM).build()),
                Arguments.of("gpt_neox-nonparametric", ModelConfig.gptNeoxBuilder(50, 24, 2, 4, 32).norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM).build()),
                // heads wider than d / heads (Qwen3-0.6B's 16 x 128 on 1024) and narrower, with biases; OLMo 2's whole-projection QK-norm over them
                Arguments.of("qwen3-head_dim", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).qkNorm(true).headDim(16).build()),
                Arguments.of("llama-head_dim-bias_all", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).headDim(4).linearBias(ModelConfig.LinearBias.ALL).build()),
                Arguments.of("olmo2-head_dim", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).normPlacement(ModelConfig.NormPlacement.OUTPUT)
                        .qkNorm(ModelConfig.QkNorm.WHOLE).headDim(12).build()),
                // GeGLU (GELU's tanh form on the gate, exported as hidden_act gelu_pytorch_tanh), in Llama's and Qwen3's blocks
                Arguments.of("llama-geglu", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).glu(ModelConfig.Glu.GEGLU).build()),
                Arguments.of("qwen3-geglu-head_dim", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).glu(ModelConfig.Glu.GEGLU).qkNorm(true).headDim(16).build()),
                // Gemma (exported as GemmaForCausalLM: GeGLU, 1 + w norms, the embedding times √d, one key/value head 16 wide), and
                // its norm and an embedding multiplier elsewhere (Crucible's own)
                Arguments.of("gemma", ModelConfig.llamaBuilder(50, 24, 2, 4, 1, 32).glu(ModelConfig.Glu.GEGLU).norm(ModelConfig.Norm.OFFSET_RMSNORM)
                        .embeddingMultiplier(ModelConfig.gemmaEmbeddingMultiplier(32)).headDim(16).build()),
                Arguments.of("gemma-untied-attention_bias", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).glu(ModelConfig.Glu.GEGLU)
                        .norm(ModelConfig.Norm.OFFSET_RMSNORM).embeddingMultiplier(ModelConfig.gemmaEmbeddingMultiplier(32)).tieEmbeddings(false)
                        .linearBias(ModelConfig.LinearBias.ATTENTION).build()),
                Arguments.of("llama-offset_rmsnorm-multiplier", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).norm(ModelConfig.Norm.OFFSET_RMSNORM)
                        .embeddingMultiplier(3).build()),
                Arguments.of("gpt2-offset_rmsnorm-multiplier", ModelConfig.gpt2Builder(50, 24, 2, 4, 32).norm(ModelConfig.Norm.OFFSET_RMSNORM)
                        .embeddingMultiplier(2).build()),
                // Phi (exported as PhiForCausalLM: one LayerNorm read by both parallel branches, q, k and v apart, a bias on the head),
                // and each of the two elsewhere (Crucible's own)
                Arguments.of("phi", ModelConfig.gptNeoxBuilder(50, 24, 2, 4, 32).sharedNorm(true).headBias(true).rotaryFraction(0.5)
                        .gelu(ModelConfig.Gelu.TANH).build()),
                Arguments.of("phi-tied-exact_gelu", ModelConfig.gptNeoxBuilder(50, 24, 2, 4, 32).sharedNorm(true).headBias(true).tieEmbeddings(true).build()),
                Arguments.of("gpt_neox-shared_norm", ModelConfig.gptNeoxBuilder(50, 24, 2, 4, 32).sharedNorm(true).build()),
                Arguments.of("gpt2-head_bias", ModelConfig.gpt2Builder(50, 24, 2, 4, 32).headBias(true).build()),
                Arguments.of("llama-head_bias-untied", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).headBias(true).tieEmbeddings(false).build()),
                // logits capped as c·tanh(logits/c), the cap small enough to bend these small models' logits
                Arguments.of("gpt2-logit_softcap", ModelConfig.gpt2Builder(50, 24, 2, 4, 32).logitSoftcap(0.5).build()),
                Arguments.of("llama-logit_softcap-head_bias", ModelConfig.llamaBuilder(50, 24, 2, 4, 2, 32).logitSoftcap(0.3).headBias(true).build()),
                Arguments.of("gpt2-exact_gelu", ModelConfig.gpt2Builder(50, 24, 2, 4, 32).gelu(ModelConfig.Gelu.EXACT).build()),
                // 200 tokens: three full attention tiles and a partial one, queries against keys of earlier tiles
                Arguments.of("gpt2-long", ModelConfig.gpt2(50, 203, 2, 4, 32)),
                Arguments.of("llama-gqa-long", ModelConfig.llamaBuilder(50, 203, 2, 6, 2, 48).intermediateSize(64).build()),
                Arguments.of("gpt_neox-long", ModelConfig.gptNeoxBuilder(50, 203, 2, 4, 64).build()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void torchAgrees(String name, ModelConfig cfg, @TempDir Path dir) throws Exception {
        assumeTrue(torchAvailable(), PYTHON + " with torch not found: install Debian's python3-torch to run this check");
        int b = 3, t = cfg.contextLength() - 3;
        SplittableRandom rng = new SplittableRandom(11);
        int[] tok = rng.ints(b * t, 0, cfg.vocabSize()).toArray(), tgt = rng.ints(b * t, 0, cfg.vocabSize()).toArray();
        try (WorkerPool pool = new WorkerPool(2)) {
            Model model = Model.forTraining(cfg, b, t, pool);
            float[] p = ModelGradientTest.initParams(cfg, 5);
            System.arraycopy(p, 0, model.params, 0, p.length);
            model.zeroGrad();
            double zLoss = name.endsWith("z_loss") ? 0.01 : 0;
            CrossEntropyLoss ce = new CrossEntropyLoss(pool, b * t, zLoss);
            Batch batch = new Batch(tok, tgt, b, t);
            float loss = ce.forward(model.forwardLogits(tok, b, t), batch);
            float[] probs = model.probabilitiesDense();
            ce.backward(model.logits(), batch, 1f / (b * t));
            model.backwardFromLogits();

            HfCheckpoint.write(dir, cfg, model.params, null); // an exported model directory, read through its config.json
            float[] tokF = new float[tok.length], tgtF = new float[tgt.length];
            for (int i = 0; i < tok.length; i++) {
                tokF[i] = tok[i];
                tgtF[i] = tgt[i];
            }
            List<Safetensors.Source> batchTensors = new java.util.ArrayList<>(List.of(
                    new Safetensors.Source("tokens", new int[] {b, t}, () -> tokF),
                    new Safetensors.Source("targets", new int[] {b, t}, () -> tgtF)));
            if (zLoss > 0) batchTensors.add(new Safetensors.Source("z_loss", new int[] {1}, () -> new float[] {(float) zLoss}));
            Safetensors.write(dir.resolve("batch.safetensors"), batchTensors, Map.of());
            Path script = dir.resolve("torch_reference.py");
            try (InputStream in = TorchParityTest.class.getResourceAsStream("torch_reference.py")) {
                Files.copy(in, script);
            }
            Process proc = new ProcessBuilder(PYTHON, script.toString(), dir.toString()).redirectErrorStream(true).start();
            String output = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, proc.waitFor(), "torch_reference.py failed:\n" + output);

            try (Safetensors.Reader out = Safetensors.open(dir.resolve("torch_out.safetensors"))) {
                assertEquals(out.floats("loss")[0], loss, 1e-5 * loss, name + " loss (torch said: " + output.trim() + ")");
                Check.close(name + " probabilities", toDouble(out.floats("probs")), probs, 1e-6, 1e-4);
                for (HfFormat.HfTensor h : HfFormat.tensors(model.layout())) {
                    float[] ours = HfFormat.extract(h, model.grads);
                    Check.close(name + " gradient of " + h.hfName(), toDouble(out.floats("grad." + h.hfName())), ours, 1e-6, 2e-3);
                }
            }
        }
    }

    private static double[] toDouble(float[] a) {
        return Check.toDouble(a);
    }
}
