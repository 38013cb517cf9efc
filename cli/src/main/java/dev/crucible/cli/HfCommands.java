package dev.crucible.cli;

import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.HfFormat;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import dev.crucible.model.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Moving models between Crucible and the Hugging Face ecosystem. */
final class HfCommands {
    private HfCommands() {}

    @Command(name = "import", mixinStandardHelpOptions = true, description = "Bring a model in from another format.", subcommands = ImportHf.class)
    static final class Import implements Runnable {
        @Override
        public void run() {
            new picocli.CommandLine(this).usage(System.out);
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true, description = "Write a model out in another format.", subcommands = ExportHf.class)
    static final class Export implements Runnable {
        @Override
        public void run() {
            new picocli.CommandLine(this).usage(System.out);
        }
    }

    @Command(name = "hf", mixinStandardHelpOptions = true,
            description = {"Import a Hugging Face GPT-2, Llama, Mistral, Qwen2, Qwen3, OLMo, OLMo 2, Gemma, GPT-NeoX or Phi model directory (config.json + model.safetensors, or shards with "
                    + "model.safetensors.index.json; else pytorch_model.bin as torch 1.6+ saves it, or its shards with pytorch_model.bin.index.json, read "
                    + "without running its pickle; F32, F16 or BF16) as a float32 model directory Crucible trains and evaluates. A Llama-family "
                    + "head_dim other than hidden_size / num_attention_heads (Qwen3-0.6B's) is read.",
                    "Continue pre-training from it with training.init_from: <out> in a run config."})
    static final class ImportHf implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "The Hugging Face model directory.")
        Path source;
        @Option(names = "--out", description = "Where to write it (default runs/imported/<name of DIR>).")
        Path out;

        @Override
        public Integer call() throws Exception {
            Path dest = out != null ? out : Path.of("runs", "imported", source.toAbsolutePath().normalize().getFileName().toString());
            if (Files.exists(dest.resolve("model.safetensors"))) throw new UserError(dest + " already holds a model; pass another --out");
            try (HfCheckpoint ck = HfCheckpoint.open(source)) {
                ModelConfig c = ck.config();
                ParamLayout layout = new ParamLayout(c);
                float[] params = new float[layout.size()];
                ck.load(layout, params);
                HfCheckpoint.write(dest, c, params, source);
                Map<Safetensors.DType, Integer> dtypes = new TreeMap<>();
                ck.dtypes().values().forEach(d -> dtypes.merge(d, 1, Integer::sum));
                System.out.printf(Locale.ROOT, "imported %s: %s style, %,d parameters, %d layers, d %d, vocab %d, context %d (stored as %s)%n",
                        source, c.style().id(), layout.size(), c.nLayer(), c.dModel(), c.vocabSize(), c.contextLength(), dtypes);
                System.out.println("wrote " + dest.toAbsolutePath() + " (float32); train from it with 'training: {init_from: " + dest + "}'");
            }
            return 0;
        }
    }

    @Command(name = "hf", mixinStandardHelpOptions = true,
            description = {"Export a checkpoint as a Hugging Face model directory (config.json, model.safetensors, generation_config.json, "
                    + "tokenizer files when present), without the optimizer and trainer state.",
                    "Recipe options transformers has no field for are folded into an equal model (LayerNorm Scaling into the "
                    + "norm gains, a Llama-style single-scale norm or 1 + w norm into a gain vector, embedding projections and an embedding "
                    + "multiplier into the embeddings and an untied head); a Llama-style model with GeGLU, 1 + w norms and the embedding "
                    + "times sqrt(d) as a float32 exports as Gemma (Pre-LN, no QK-norm, LayerNorm Scaling, clip_qkv or RoPE scaling, no biases "
                    + "but attention_bias's, d a multiple of the heads), a GPT-NeoX-style model whose parallel branches read one norm and whose "
                    + "head has a bias as Phi (LayerNorm, Pre-LN, no QK-norm or RoPE scaling), one with per-head QK-norm as Qwen3, one with biases on q, k and v alone as "
                    + "Qwen2, one with a LayerNorm that learns nothing as OLMo (Pre-LN, no QK-norm or LayerNorm Scaling, norm_eps 1e-5, no "
                    + "biases but attention_bias's; clip_qkv only there), one with output norms and whole-projection QK-norm as OLMo 2. Post-LN layers, other "
                    + "uses of output norms, whole-projection QK-norm or the parameterless LayerNorm, biases on q, k and v alone or on the "
                    + "MLP beside QK-norm or output norms, clip_qkv outside OLMo's blocks, one shared norm or a head bias outside Phi's block, "
                    + "logit_softcap, and GPT-2- or GPT-NeoX-style models with an RMSNorm, a parameterless LayerNorm or "
                    + "QK-norm, have no transformers architecture and are refused."})
    static final class ExportHf implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "CHECKPOINT", description = "A checkpoint directory (runs/<run>/checkpoints/step-NNNNNNN).")
        Path checkpoint;
        @Parameters(index = "1", paramLabel = "OUT", description = "The directory to write.")
        Path out;

        @Override
        public Integer call() throws Exception {
            if (Files.exists(out.resolve("model.safetensors"))) throw new UserError(out + " already holds a model; choose another directory");
            try (HfCheckpoint ck = HfCheckpoint.open(checkpoint)) {
                ParamLayout layout = new ParamLayout(ck.config());
                float[] params = new float[layout.size()];
                ck.load(layout, params);
                HfFormat.ForTransformers hf;
                try {
                    hf = HfFormat.forTransformers(ck.config(), params);
                } catch (IllegalArgumentException e) {
                    throw new UserError(checkpoint + ": " + e.getMessage());
                }
                HfCheckpoint.write(out, hf.config(), hf.params(), checkpoint);
            }
            System.out.println("wrote " + out.toAbsolutePath() + ": load it with transformers' AutoModelForCausalLM.from_pretrained");
            return 0;
        }
    }
}
