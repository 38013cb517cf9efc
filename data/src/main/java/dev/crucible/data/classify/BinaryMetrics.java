package dev.crucible.data.classify;

import java.util.Arrays;
import java.util.Locale;

/**
 * How well scores separate positives from negatives: precision and recall at a threshold, and the
 * area under the ROC curve (the probability that a random positive scores above a random negative,
 * ties counting one half: the Mann-Whitney statistic over mid-ranks).
 */
public record BinaryMetrics(int positives, int negatives, double threshold, double precision, double recall, double accuracy, double auc) {
    public static BinaryMetrics of(double[] positive, double[] negative, double threshold) {
        int tp = 0, fp = 0;
        for (double s : positive) if (s >= threshold) tp++;
        for (double s : negative) if (s >= threshold) fp++;
        int n = positive.length + negative.length;
        double[] all = new double[n];
        boolean[] pos = new boolean[n];
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) {
            all[i] = i < positive.length ? positive[i] : negative[i - positive.length];
            pos[i] = i < positive.length;
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Double.compare(all[a], all[b]));
        double rankSum = 0;
        for (int i = 0; i < n; ) {
            int j = i;
            while (j < n && all[idx[j]] == all[idx[i]]) j++;
            double mid = (i + 1 + j) / 2.0; // ranks i+1 .. j share their mean
            for (int k = i; k < j; k++) if (pos[idx[k]]) rankSum += mid;
            i = j;
        }
        double auc = positive.length == 0 || negative.length == 0 ? Double.NaN
                : (rankSum - positive.length * (positive.length + 1) / 2.0) / ((double) positive.length * negative.length);
        int tn = negative.length - fp;
        return new BinaryMetrics(positive.length, negative.length, threshold, tp + fp == 0 ? Double.NaN : (double) tp / (tp + fp),
                positive.length == 0 ? Double.NaN : (double) tp / positive.length, n == 0 ? Double.NaN : (double) (tp + tn) / n, auc);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d positives, %d negatives: AUC %.4f; at score >= %.2f precision %.4f, recall %.4f, accuracy %.4f",
                positives, negatives, auc, threshold, precision, recall, accuracy);
    }
}
