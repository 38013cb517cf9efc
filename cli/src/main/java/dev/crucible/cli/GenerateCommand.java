package dev.crucible.cli;

import dev.crucible.data.tokenizer.TextEncoding;
import dev.crucible.model.Generator;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import dev.crucible.model.Sampler;
import dev.crucible.tensor.WorkerPool;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Sample text from a model directory (a checkpoint, or an imported Hugging Face model), with a key/value cache.",
                "Text is tokenized with the directory's tokenizer.json (byte-level or SentencePiece-style BPE); models with a 256-token vocabulary and no "
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

    /** What a generation did: tokens produced, prompt tokens, and the prefill and decode times. */
    record Stats(int produced, int promptTokens, double prefillSeconds, double decodeSeconds) {}

    /**
     * Samples up to maxTokens tokens after the prompt (stopping at the end-of-sequence token or the
     * model's context) and writes their bytes to out as they come, after the prompt when echoPrompt. A
     * prompt that fills the context is refused (strict), before anything is written, or generates nothing.
     */
    static Stats generate(Path checkpoint, String prompt, int maxTokens, double temperature, int topK, double topP, long seed, WorkerPool pool,
                          java.io.OutputStream out, boolean strict, boolean echoPrompt) throws java.io.IOException {
        try (HfCheckpoint ck = HfCheckpoint.open(checkpoint)) {
            ModelConfig c = ck.config();
            TextEncoding codec = TextEncoding.forModel(checkpoint, c.vocabSize());
            ParamLayout layout = new ParamLayout(c);
            float[] params = new float[layout.size()];
            ck.load(layout, params);
            int[] in = codec.encodeWithSpecialTokens(prompt); // as transformers' tokenizer(prompt): a Llama's begin-of-sequence token first
            if (in.length == 0) in = new int[] {codec.documentStart()};
            if (in.length >= c.contextLength()) {
                if (strict) throw new UserError("the prompt has " + in.length + " tokens; the model's context is " + c.contextLength());
                return new Stats(0, in.length, 0, 0);
            }
            if (echoPrompt) out.write(prompt.getBytes(StandardCharsets.UTF_8));
            int total = Math.min(c.contextLength(), in.length + maxTokens);
            Generator g = new Generator(c, params, total, pool);
            Sampler sampler = new Sampler(c.vocabSize(), temperature, topK, topP, seed);
            java.util.Set<Integer> eos = ck.endOfSequence();
            long t0 = System.nanoTime();
            float[] logits = g.prefill(0, in, 0, in.length);
            long t1 = System.nanoTime();
            int produced = 0;
            while (true) {
                int next = sampler.sample(logits);
                if (eos.contains(next)) break;
                out.write(codec.bytes(next));
                out.flush();
                produced++;
                if (g.position() + 1 == total) break; // the sequence, with this token, is full: maxTokens written
                logits = g.next(next);
            }
            return new Stats(produced, in.length, (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
        }
    }

    /** The text sampled after the prompt (nucleus 0.95), for reports. */
    static String sample(Path checkpoint, String prompt, int maxTokens, double temperature, long seed, WorkerPool pool) throws java.io.IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        generate(checkpoint, prompt, maxTokens, temperature, 0, 0.95, seed, pool, out, false, false);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 1) throw new UserError("--max-tokens must be at least 1");
        try (WorkerPool pool = new WorkerPool(WorkerPool.threadsFor(threads))) {
            Stats st = generate(checkpoint, prompt, maxTokens, temperature, topK, topP, seed, pool, System.out, true, true);
            System.out.println();
            System.err.printf(Locale.ROOT, "%d tokens in %.2f s (%.0f tokens/s); prompt %d tokens in %.2f s%n", st.produced(), st.decodeSeconds(),
                    st.produced() / Math.max(st.decodeSeconds(), 1e-9), st.promptTokens(), st.prefillSeconds());
        }
        return 0;
    }
}
