package dev.crucible.cli;

import dev.crucible.data.tokenizer.TextEncoding;
import dev.crucible.model.Generator;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import dev.crucible.model.Sampler;
import dev.crucible.tensor.Cpu;
import dev.crucible.tensor.WorkerPool;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Sample text from a model directory (a checkpoint, or an imported Hugging Face model), with a key/value cache.",
                "Text is tokenized with the directory's tokenizer.json (byte-level BPE); models with a 256-token vocabulary and no "
                        + "tokenizer (as the demo trains) read and write raw UTF-8 bytes."})
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "Model directory (config.json + model.safetensors).")
    Path checkpoint;
    @Option(names = "--prompt", defaultValue = "", description = "Text to continue (default: empty).")
    String prompt;
    @Option(names = "--max-tokens", defaultValue = "200", description = "Tokens to generate (default ${DEFAULT-VALUE}).")
    int maxTokens;
    @Option(names = "--temperature", defaultValue = "0.8", description = "Softmax temperature; 0 = greedy (default ${DEFAULT-VALUE}).")
    double temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "Sample among the k likeliest tokens; 0 = off (default ${DEFAULT-VALUE}).")
    int topK;
    @Option(names = "--top-p", defaultValue = "0.95", description = "Sample from the smallest set of tokens with this much probability (default ${DEFAULT-VALUE}).")
    double topP;
    @Option(names = "--seed", defaultValue = "1", description = "Seed: the same seed gives the same text (default ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--threads", defaultValue = "0", description = "Worker threads (0 = all cores).")
    int threads;

    /** Samples maxTokens tokens after the prompt (stops early at the end-of-sequence token); the text without the prompt. */
    static String sample(Path checkpoint, String prompt, int maxTokens, double temperature, long seed, WorkerPool pool) throws java.io.IOException {
        try (HfCheckpoint ck = HfCheckpoint.open(checkpoint)) {
            ModelConfig c = ck.config();
            TextEncoding codec = TextEncoding.forModel(checkpoint, c.vocabSize());
            ParamLayout layout = new ParamLayout(c);
            float[] params = new float[layout.size()];
            ck.load(layout, params);
            int[] in = codec.encode(prompt);
            if (in.length == 0) in = new int[] {codec.documentStart()};
            int total = Math.min(c.contextLength(), in.length + maxTokens);
            if (in.length >= total) return "";
            Generator g = new Generator(c, params, total, pool);
            Sampler sampler = new Sampler(c.vocabSize(), temperature, 0, 0.95, seed);
            Integer eos = ck.configJson().hasNonNull("eos_token_id") ? ck.configJson().get("eos_token_id").asInt() : null;
            float[] logits = null;
            for (int tok : in) logits = g.next(tok);
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            while (true) {
                int next = sampler.sample(logits);
                if (eos != null && next == eos) break;
                out.writeBytes(codec.bytes(next));
                if (g.position() == total) break;
                logits = g.next(next);
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 1) throw new UserError("--max-tokens must be at least 1");
        try (HfCheckpoint ck = HfCheckpoint.open(checkpoint); WorkerPool pool = new WorkerPool(threads > 0 ? threads : Cpu.cores())) {
            ModelConfig c = ck.config();
            TextEncoding codec = TextEncoding.forModel(checkpoint, c.vocabSize());
            ParamLayout layout = new ParamLayout(c);
            float[] params = new float[layout.size()];
            ck.load(layout, params);
            int[] in = codec.encode(prompt);
            if (in.length == 0) in = new int[] {codec.documentStart()};
            if (in.length >= c.contextLength()) throw new UserError("the prompt has " + in.length + " tokens; the model's context is " + c.contextLength());
            int total = Math.min(c.contextLength(), in.length + maxTokens);
            Generator g = new Generator(c, params, total, pool);
            Sampler sampler = new Sampler(c.vocabSize(), temperature, topK, topP, seed);
            Integer eos = ck.configJson().hasNonNull("eos_token_id") ? ck.configJson().get("eos_token_id").asInt() : null;
            long t0 = System.nanoTime();
            float[] logits = null;
            for (int tok : in) logits = g.next(tok);
            long t1 = System.nanoTime();
            System.out.write(prompt.getBytes(StandardCharsets.UTF_8));
            int produced = 0;
            while (true) {
                int next = sampler.sample(logits);
                if (eos != null && next == eos) break;
                System.out.write(codec.bytes(next));
                System.out.flush();
                produced++;
                if (g.position() == total) break;
                logits = g.next(next);
            }
            long t2 = System.nanoTime();
            System.out.println();
            System.err.printf(Locale.ROOT, "%d tokens in %.2f s (%.0f tokens/s); prompt %d tokens in %.2f s%n", produced, (t2 - t1) / 1e9,
                    produced / Math.max((t2 - t1) / 1e9, 1e-9), in.length, (t1 - t0) / 1e9);
        }
        return 0;
    }
}
