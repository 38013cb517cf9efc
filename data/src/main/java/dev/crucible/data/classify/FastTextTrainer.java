package dev.crucible.data.classify;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * fastText's supervised training (FastText::train with -thread 1): the dictionary from the training
 * lines (words with at least minCount occurrences, then labels; each line ends with "&lt;/s&gt;"),
 * input rows uniform in ±1/dim, output rows zero, then SGD over the lines in order, epoch times,
 * the learning rate falling linearly from lr to 0 with the tokens processed (updated every
 * lrUpdateRate tokens). One example's update: softmax over the labels (one-vs-all sigmoids with
 * {@code loss: ova}), the output rows moved by lr·(target − p)·hidden, and the hidden gradient,
 * divided by the number of features, added to every feature's input row. One thread, a seeded
 * generator and a fixed order: the same data and options give the same model bit for bit, on any
 * machine (fastText's own multi-threaded Hogwild updates do not). The lines are shuffled once with
 * the seed (fastText's users shuffle the file), then visited in that order every epoch.
 */
public final class FastTextTrainer {
    /** Training options, fastText's names; defaults are fastText's supervised ones except dim (64) and wordNgrams (2). */
    public record Options(int dim, double lr, int epoch, int minCount, int wordNgrams, int bucket, int minn, int maxn, boolean ova, long seed) {
        public static final Options DEFAULT = new Options(64, 0.1, 5, 1, 2, 2_000_000, 0, 0, false, 1);

        public Options {
            if (dim < 1 || epoch < 1 || minCount < 1 || wordNgrams < 1 || bucket < 0 || minn < 0 || maxn < minn || !(lr > 0)) {
                throw new IllegalArgumentException("options out of range: " + this);
            }
            if ((wordNgrams > 1 || maxn > 0) && bucket < 1) throw new IllegalArgumentException("word n-grams and character n-grams need buckets");
        }
    }

    /** One training example: its labels (e.g. __label__pos) and its text as one line. */
    public record Example(List<String> labels, String line) {}

    private FastTextTrainer() {}

    public static FastTextModel train(List<Example> examples, Options o) {
        List<Example> order = new ArrayList<>(examples);
        SplittableRandom rng = new SplittableRandom(o.seed());
        for (int i = order.size() - 1; i > 0; i--) java.util.Collections.swap(order, i, rng.nextInt(i + 1));

        Map<String, long[]> counts = new LinkedHashMap<>();
        long ntokens = 0;
        for (Example e : order) {
            for (String l : e.labels()) {
                if (!l.startsWith(FastTextDictionary.LABEL_PREFIX)) throw new IllegalArgumentException("label '" + l + "' does not start with __label__");
                counts.computeIfAbsent(l, k -> new long[1])[0]++;
                ntokens++;
            }
            for (String t : FastTextDictionary.tokens(e.line())) {
                ntokens++;
                // a "__label__..." token in the text is not a label of the example (fastText reads it as one: label noise)
                if (!t.startsWith(FastTextDictionary.LABEL_PREFIX)) counts.computeIfAbsent(t, k -> new long[1])[0]++;
            }
            counts.computeIfAbsent(FastTextDictionary.EOS, k -> new long[1])[0]++;
            ntokens++;
        }
        List<FastTextDictionary.Entry> entries = new ArrayList<>();
        counts.forEach((w, c) -> {
            byte type = (byte) (w.startsWith(FastTextDictionary.LABEL_PREFIX) ? 1 : 0);
            if (type == 1 || c[0] >= o.minCount()) entries.add(new FastTextDictionary.Entry(w, c[0], type));
        });
        // fastText's order: words before labels, each by count, most frequent first (ties: first seen)
        entries.sort((a, b) -> a.type() != b.type() ? Byte.compare(a.type(), b.type()) : Long.compare(b.count(), a.count()));
        int bucket = o.wordNgrams() <= 1 && o.maxn() == 0 ? 0 : o.bucket();
        FastTextDictionary dict = new FastTextDictionary(entries, ntokens, null, bucket, o.minn(), o.maxn(), o.wordNgrams());
        if (dict.nlabels() == 0) throw new IllegalArgumentException("no labelled examples");

        int dim = o.dim(), osz = dict.nlabels();
        long inRows = (long) dict.nwords() + bucket;
        if (inRows * dim > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("(words + buckets) x dim = " + inRows * dim + " floats is too large; lower bucket or dim");
        float[] in = new float[(int) (inRows * dim)];
        float a = 1f / dim;
        for (int i = 0; i < in.length; i++) in[i] = (float) (rng.nextDouble() * 2 * a - a);
        float[] out = new float[osz * dim];

        int[][] features = new int[order.size()][];
        int[][] labels = new int[order.size()][];
        int[] lineTokens = new int[order.size()];
        for (int i = 0; i < order.size(); i++) {
            Example e = order.get(i);
            features[i] = dict.features(e.line(), null);
            labels[i] = e.labels().stream().mapToInt(dict::labelIndex).filter(l -> l >= 0).distinct().toArray();
            lineTokens[i] = e.labels().size() + FastTextDictionary.tokens(e.line()).size() + 1;
        }
        long total = (long) o.epoch() * ntokens, tokenCount = 0, local = 0;
        float[] hidden = new float[dim], grad = new float[dim], p = new float[osz];
        final int lrUpdateRate = 100;
        for (int i = 0; tokenCount < total; i = (i + 1) % order.size()) {
            float lr = (float) (o.lr() * (1.0 - (double) tokenCount / total));
            local += lineTokens[i];
            int[] f = features[i];
            if (labels[i].length > 0 && f.length > 0) {
                Arrays.fill(hidden, 0);
                for (int r : f) axpy(hidden, in, r * dim, 1f, dim);
                for (int j = 0; j < dim; j++) hidden[j] *= 1f / f.length;
                Arrays.fill(grad, 0);
                if (o.ova()) {
                    for (int k = 0; k < osz; k++) {
                        float score = (float) (1 / (1 + Math.exp(-dot(out, k * dim, hidden, dim))));
                        float alpha = lr * ((contains(labels[i], k) ? 1f : 0f) - score);
                        axpy(grad, out, k * dim, alpha, dim);
                        for (int j = 0; j < dim; j++) out[k * dim + j] += alpha * hidden[j];
                    }
                } else {
                    int target = labels[i].length == 1 ? labels[i][0] : labels[i][rng.nextInt(labels[i].length)];
                    float max = Float.NEGATIVE_INFINITY, z = 0;
                    for (int k = 0; k < osz; k++) max = Math.max(max, p[k] = dot(out, k * dim, hidden, dim));
                    for (int k = 0; k < osz; k++) z += p[k] = (float) Math.exp(p[k] - max);
                    for (int k = 0; k < osz; k++) {
                        float alpha = lr * ((k == target ? 1f : 0f) - p[k] / z);
                        axpy(grad, out, k * dim, alpha, dim);
                        for (int j = 0; j < dim; j++) out[k * dim + j] += alpha * hidden[j];
                    }
                }
                float inv = 1f / f.length;
                for (int j = 0; j < dim; j++) grad[j] *= inv;
                for (int r : f) axpy(in, r * dim, grad, dim);
            }
            if (local > lrUpdateRate) {
                tokenCount += local;
                local = 0;
            }
        }
        var args = new FastTextModel.Args(dim, 5, o.epoch(), o.minCount(), 5, o.wordNgrams(), o.ova() ? FastTextModel.LOSS_OVA : FastTextModel.LOSS_SOFTMAX,
                FastTextModel.MODEL_SUP, bucket, o.minn(), o.maxn(), lrUpdateRate, 1e-4);
        return new FastTextModel(args, dict, FastTextMatrix.Dense.of(in, dim), FastTextMatrix.Dense.of(out, dim));
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) if (x == v) return true;
        return false;
    }

    private static float dot(float[] m, int off, float[] v, int n) {
        float s = 0;
        for (int j = 0; j < n; j++) s += m[off + j] * v[j];
        return s;
    }

    /** y += a · x[off..off+n) */
    private static void axpy(float[] y, float[] x, int off, float a, int n) {
        for (int j = 0; j < n; j++) y[j] += a * x[off + j];
    }

    /** m[off..off+n) += v */
    private static void axpy(float[] m, int off, float[] v, int n) {
        for (int j = 0; j < n; j++) m[off + j] += v[j];
    }
}
