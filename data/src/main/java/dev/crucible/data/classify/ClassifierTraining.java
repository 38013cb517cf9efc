package dev.crucible.data.classify;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A binary quality classifier from positive and negative documents: a seeded share of each class
 * held out, a fastText model trained on the rest ({@link FastTextTrainer}), and the held-out
 * documents scored (P(positive)) for precision, recall and AUC. Used by
 * {@code crucible data classifier train} and its benchmark.
 */
public final class ClassifierTraining {
    private ClassifierTraining() {}

    /** The model, its held-out metrics, and how long training and scoring took. */
    public record Result(FastTextModel model, BinaryMetrics heldOut, int trainDocs, int heldOutDocs, double trainSeconds, double scoreSeconds,
                         double prepareSeconds) {}

    public static Result run(List<String> positive, List<String> negative, ClassifierText text, FastTextTrainer.Options options, double holdout,
                             String positiveLabel, String negativeLabel) {
        if (positive.isEmpty() || negative.isEmpty()) throw new IllegalArgumentException("need positive and negative documents");
        if (!(holdout >= 0 && holdout < 1)) throw new IllegalArgumentException("the held-out share must be in [0, 1)");
        SplittableRandom rng = new SplittableRandom(options.seed() ^ 0x5EEDL);
        List<String> posTest = new ArrayList<>(), negTest = new ArrayList<>();
        List<FastTextTrainer.Example> train = new ArrayList<>();
        long t0 = System.nanoTime();
        split(positive, holdout, rng, "__label__" + positiveLabel, text, train, posTest);
        split(negative, holdout, rng, "__label__" + negativeLabel, text, train, negTest);
        long t1 = System.nanoTime();
        FastTextModel model = FastTextTrainer.train(train, options);
        long t2 = System.nanoTime();
        int label = model.dictionary().labelIndex("__label__" + positiveLabel);
        if (label < 0 || model.dictionary().labelIndex("__label__" + negativeLabel) < 0) {
            throw new IllegalArgumentException("the held-out share left a class without training documents; lower the held-out share or give more documents");
        }
        double[] ps = score(model, label, posTest), ns = score(model, label, negTest);
        long t3 = System.nanoTime();
        BinaryMetrics m = posTest.isEmpty() || negTest.isEmpty() ? null : BinaryMetrics.of(ps, ns, 0.5);
        return new Result(model, m, train.size(), posTest.size() + negTest.size(), (t2 - t1) / 1e9, (t3 - t2) / 1e9, (t1 - t0) / 1e9);
    }

    /** P(label) of each line (already preprocessed); 0 for a line with no features. */
    public static double[] score(FastTextModel model, int label, List<String> lines) {
        double[] out = new double[lines.size()];
        for (int i = 0; i < out.length; i++) {
            double[] p = model.predict(lines.get(i));
            out[i] = p == null ? 0 : p[label];
        }
        return out;
    }

    private static void split(List<String> docs, double holdout, SplittableRandom rng, String label, ClassifierText text,
                              List<FastTextTrainer.Example> train, List<String> test) {
        int[] order = new int[docs.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        for (int i = order.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int nTest = (int) Math.round(holdout * docs.size());
        for (int k = 0; k < order.length; k++) {
            String line = text.line(docs.get(order[k]));
            if (k < nTest) test.add(line);
            else train.add(new FastTextTrainer.Example(List.of(label), line));
        }
    }
}
