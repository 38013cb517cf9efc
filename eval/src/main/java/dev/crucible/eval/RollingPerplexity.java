package dev.crucible.eval;

import dev.crucible.data.PythonText;
import dev.crucible.data.tokenizer.TextEncoding;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Rolling log-likelihood of whole documents, as lm-evaluation-harness's wikitext task: each document's
 * tokens are predicted exactly once, in windows of the model's length (see {@link #logLikelihoods}),
 * and the document totals give bits per byte, byte perplexity and word perplexity. Those normalise by
 * bytes and words (the harness's len(re.split(r"\s+", doc))), not tokens, so models with different
 * tokenizers compare.
 */
public final class RollingPerplexity implements Task {
    private final String name;
    private final List<String> documents;

    public RollingPerplexity(String name, List<String> documents) {
        if (documents.isEmpty()) throw new IllegalArgumentException(name + ": no documents");
        this.name = name;
        this.documents = documents;
    }

    /** Non-blank lines of a text file as documents (LLM360's WikiText sample keeps one paragraph per line). */
    public static RollingPerplexity loadLines(String name, Path file) throws IOException {
        List<String> docs = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) if (!line.isBlank()) docs.add(line);
        if (docs.isEmpty()) throw new IOException(file + ": no documents");
        return new RollingPerplexity(name, docs);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String group() {
        return "language_modeling";
    }

    @Override
    public int size() {
        return documents.size();
    }

    @Override
    public double chance(String metric) {
        return Double.NaN; // no guessing baseline for perplexities
    }

    /**
     * Each document's log-likelihood (natural log): its tokens predicted exactly once, in windows of
     * the model's length, as the harness's get_rolling_token_windows with a context of one token and
     * make_disjoint_window cut them. The first window is predicted after the document-start token;
     * each full window after it sees only the last token of the window before, and a last, shorter
     * one of r tokens sees the window − r + 1 tokens before it, so that the model sees a full window.
     */
    public static double[] logLikelihoods(LogLikelihood scorer, int documentStart, List<int[]> documents) {
        int window = scorer.window();
        List<LogLikelihood.Request> reqs = new ArrayList<>();
        List<Integer> owners = new ArrayList<>(); // which document each window belongs to
        for (int d = 0; d < documents.size(); d++) {
            for (LogLikelihood.Request r : windows(documents.get(d), documentStart, window)) {
                reqs.add(r);
                owners.add(d);
            }
        }
        LogLikelihood.Score[] s = scorer.score(reqs);
        double[] ll = new double[documents.size()];
        for (int i = 0; i < s.length; i++) ll[owners.get(i)] += s[i].logProb();
        return ll;
    }

    /** One document's windows, as {@link #logLikelihoods} scores them. */
    static List<LogLikelihood.Request> windows(int[] t, int documentStart, int window) {
        List<LogLikelihood.Request> out = new ArrayList<>();
        for (int start = 0; start < t.length; start += window) {
            int end = Math.min(t.length, start + window);
            int[] ctx = start == 0 ? new int[] {documentStart} : java.util.Arrays.copyOfRange(t, end - window - 1, start);
            out.add(new LogLikelihood.Request(ctx, java.util.Arrays.copyOfRange(t, start, end)));
        }
        return out;
    }

    @Override
    public List<Metric> evaluate(LogLikelihood scorer, TextEncoding enc, int limit, Samples.Sink samples) {
        int n = limit > 0 ? Math.min(limit, documents.size()) : documents.size();
        double[] ll = logLikelihoods(scorer, enc.documentStart(), documents.subList(0, n).stream().map(enc::encode).toList());
        double totalLl = 0, bytes = 0, words = 0;
        double[] bpbPerDoc = new double[n];
        for (int d = 0; d < n; d++) {
            String doc = documents.get(d);
            int b = doc.getBytes(StandardCharsets.UTF_8).length;
            totalLl += ll[d];
            bytes += b;
            words += PythonText.words(doc);
            bpbPerDoc[d] = -ll[d] / (b * Math.log(2));
            if (samples != null) {
                samples.add(Samples.rolling(d, Samples.doc("page", doc), doc, ll[d], Samples.metrics("bits_per_byte", bpbPerDoc[d], "log_likelihood", ll[d], "bytes", b)));
            }
        }
        // Corpus-level values (total log-likelihood over total bytes/words), stderr from the spread of per-document bits per byte.
        Metric perDoc = Metric.mean("bits_per_byte", bpbPerDoc);
        double bpb = -totalLl / (bytes * Math.log(2));
        return List.of(new Metric("bits_per_byte", bpb, perDoc.stderr(), n),
                new Metric("byte_perplexity", Math.pow(2, bpb), Math.pow(2, bpb) * Math.log(2) * perDoc.stderr(), n),
                new Metric("word_perplexity", Math.exp(-totalLl / words), Double.NaN, n));
    }
}
