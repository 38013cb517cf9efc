package dev.crucible.eval.data;

import dev.crucible.data.pipeline.Doc;

import dev.crucible.data.pipeline.Params;
import dev.crucible.data.tokenizer.TextEncoding;
import dev.crucible.eval.LogLikelihood;
import dev.crucible.eval.RollingPerplexity;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.Model;
import dev.crucible.model.ModelConfig;
import dev.crucible.tensor.WorkerPool;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * perplexity_filter: scores each document with a language model (a Crucible checkpoint, a run
 * directory (its latest checkpoint), or any imported HF model directory: GPT-2 or Llama style, with
 * its tokenizer.json) and keeps those whose
 * value lies in [min, max], CCNet-style. The value is bits per byte (default; it compares across
 * tokenizers) or the token perplexity, computed as lm-evaluation-harness's rolling log-likelihood
 * (every token predicted once, in windows of the model's context); {@code max_tokens} scores only a
 * document's first tokens. It goes into the metadata ({@code score_key}, the metric's name) and the
 * trace. The model is inference-only and runs on all cores; the pipeline hands it a batch of
 * documents at a time (its threads take turns), whose windows are scored together in rows of
 * {@code batch}; a document's score does not depend on the batch it came in, nor on the thread count.
 *
 * <pre>
 * - perplexity_filter: {model: runs/ref/checkpoints/step-02000, max: 2.0}              # bits per byte
 * - perplexity_filter: {model: gpt2-import, metric: perplexity, min: 5, max: 500, max_tokens: 512}
 * </pre>
 */
public final class PerplexityFilter implements dev.crucible.data.pipeline.BatchOperator {
    private final Model model;
    private final LogLikelihood scorer;
    private final TextEncoding enc;
    private final boolean bitsPerByte;
    private final double min, max;
    private final int maxTokens;
    private final String key, source;
    private final java.util.Map<String, Object> pinned;

    private PerplexityFilter(Path dir, boolean resolved, int batch, boolean bitsPerByte, double min, double max, int maxTokens, String key)
            throws IOException {
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            ModelConfig c = ck.config();
            WorkerPool pool = new WorkerPool(Runtime.getRuntime().availableProcessors());
            try {
                model = Model.forInference(c, batch, c.contextLength(), pool);
                ck.load(model.layout(), model.params);
                model.packWeights();
                enc = TextEncoding.forModel(dir, c.vocabSize());
            } catch (IOException | RuntimeException e) { // the pool's threads would outlive a model that never loaded
                pool.close();
                throw e;
            }
        }
        scorer = new LogLikelihood(model);
        this.bitsPerByte = bitsPerByte;
        this.min = min;
        this.max = max;
        this.maxTokens = maxTokens;
        this.key = key;
        this.source = dir.toString();
        this.pinned = resolved ? java.util.Map.of("model", source) : java.util.Map.of();
    }

    static PerplexityFilter of(Params p) {
        String dir = p.string("model", null);
        if (dir == null) throw new IllegalArgumentException("'model' is required: a checkpoint or HF model directory");
        String metric = p.string("metric", "bits_per_byte");
        if (!metric.equals("bits_per_byte") && !metric.equals("perplexity")) throw new IllegalArgumentException("parameter 'metric' must be bits_per_byte or perplexity, got '" + metric + "'");
        double min = p.number("min", 0), max = p.number("max", Double.POSITIVE_INFINITY);
        if (!(min >= 0) || !(max >= min)) throw new IllegalArgumentException("need 0 <= min <= max, got min " + min + ", max " + max);
        int maxTokens = p.integer("max_tokens", 0), batch = p.integer("batch", 8);
        if (maxTokens < 0 || batch < 1) throw new IllegalArgumentException("max_tokens must be >= 0 and batch >= 1");
        String key = p.string("score_key", metric);
        try {
            Path model = checkpoint(Path.of(dir));
            return new PerplexityFilter(model, !model.equals(Path.of(dir)), batch, metric.equals("bits_per_byte"), min, max, maxTokens, key);
        } catch (IOException e) {
            throw new IllegalArgumentException(dir + ": cannot load the model (" + e.getMessage() + ")");
        }
    }

    /** A model directory as it is, or a run directory's latest checkpoint. */
    static Path checkpoint(Path dir) throws IOException {
        if (java.nio.file.Files.isRegularFile(dir.resolve("config.json")) || !java.nio.file.Files.isDirectory(dir.resolve("checkpoints"))) return dir;
        List<Path> all = dev.crucible.train.Checkpoints.list(dir);
        if (all.isEmpty()) throw new IOException(dir + " is a run without checkpoints");
        return all.getLast();
    }

    @Override
    public String name() {
        return "perplexity_filter";
    }

    /** A run directory's checkpoint as it resolved here: another process parsing the recipe later might find a newer one. */
    @Override
    public java.util.Map<String, Object> pinned() {
        return pinned;
    }

    /** Bits per byte or token perplexity of a text (NaN when it has no tokens). */
    public double measure(String text) {
        return measureAll(List.of(text))[0];
    }

    /**
     * The values of many texts, their windows scored together in batches of the model's rows (a
     * text's value does not depend on the others: every row is scored on its own).
     */
    public synchronized double[] measureAll(List<String> texts) {
        int n = texts.size();
        List<int[]> tokens = new java.util.ArrayList<>(n);
        List<int[]> nonEmpty = new java.util.ArrayList<>(n);
        long[] bytes = new long[n];
        for (int d = 0; d < n; d++) {
            String text = texts.get(d);
            int[] t = enc.encodeOnce(text); // documents, each seen once: not worth a place in the process's cache
            boolean cut = maxTokens > 0 && t.length > maxTokens;
            if (cut) t = java.util.Arrays.copyOf(t, maxTokens);
            // the text's own bytes, as the eval task counts them; a prefix's, by its tokens' bytes
            if (cut) for (int id : t) bytes[d] += enc.bytes(id).length;
            else bytes[d] = text.getBytes(StandardCharsets.UTF_8).length;
            tokens.add(t);
            if (t.length > 0) nonEmpty.add(t);
        }
        double[] ll = nonEmpty.isEmpty() ? new double[0] : RollingPerplexity.logLikelihoods(scorer, enc.documentStart(), nonEmpty);
        double[] out = new double[n];
        for (int d = 0, j = 0; d < n; d++) {
            int[] t = tokens.get(d);
            if (t.length == 0) {
                out[d] = Double.NaN;
                continue;
            }
            double l = ll[j++];
            out[d] = bitsPerByte ? -l / (bytes[d] * Math.log(2)) : Math.exp(-l / t.length);
        }
        return out;
    }

    @Override
    public List<Outcome> applyAll(List<Doc> docs) {
        double[] v = measureAll(docs.stream().map(Doc::text).toList());
        List<Outcome> out = new java.util.ArrayList<>(docs.size());
        for (int d = 0; d < docs.size(); d++) out.add(outcome(docs.get(d), v[d]));
        return out;
    }

    private Outcome outcome(Doc doc, double v) {
        if (Double.isNaN(v)) return Outcome.remove("no_tokens", "nothing to score");
        String s = String.format(Locale.ROOT, "%.4f", v);
        if (v > max) return Outcome.remove("too_high", String.format(Locale.ROOT, "%s %s > max %.4f", key, s, max));
        if (v < min) return Outcome.remove("too_low", String.format(Locale.ROOT, "%s %s < min %.4f", key, s, min));
        return Outcome.keep(doc.withMeta(key, s));
    }

    @Override
    public String toString() {
        return "perplexity_filter(" + source + ")";
    }
}
