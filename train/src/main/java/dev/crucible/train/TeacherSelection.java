package dev.crucible.train;

import dev.crucible.model.Batch;
import dev.crucible.model.Model;
import dev.crucible.model.TrainStep;
import java.util.Arrays;

/**
 * SALT_DS (Rawat et al. 2024): during distillation the student trains only on sequences the small
 * teacher finds "challenging yet learnable": rows of the training stream whose mean token loss under
 * the teacher lies between two quantiles of that loss. The quantiles are estimated once from a sample
 * of rows drawn from the stream with a seed of their own; each row the stream yields is scored and
 * kept or passed over (with the rest of the candidate batch once the batch is full), so the stream,
 * and a resumed run's position in it, stays a function of the seed. The price: a teacher forward per
 * candidate batch, besides the one distillation runs on the batch kept.
 */
final class TeacherSelection implements TrainStep.BatchSource {
    private final Model teacher;
    private final DataMixture stream;
    private final int b, t;
    private final double low, high;
    private final int[] inputs, targets;
    private final int[] keptIn, keptTg;
    private long drawn, kept, scoringNanos;

    /** lowQ, highQ: the band's quantiles; sample: rows of the sampling stream (a mixture like the training one, another seed). */
    TeacherSelection(Model teacher, DataMixture stream, DataMixture sampling, int b, int t, double lowQ, double highQ, int sample) {
        this.teacher = teacher;
        this.stream = stream;
        this.b = b;
        this.t = t;
        this.inputs = new int[b * t];
        this.targets = new int[b * t];
        this.keptIn = new int[b * t];
        this.keptTg = new int[b * t];
        double[] scores = new double[(sample + b - 1) / b * b];
        for (int i = 0; i < scores.length; i += b) {
            sampling.next(inputs, targets);
            double[] s = score();
            System.arraycopy(s, 0, scores, i, b);
        }
        Arrays.sort(scores);
        this.low = quantile(scores, lowQ);
        this.high = quantile(scores, highQ);
    }

    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int i = (int) Math.floor(pos);
        return i + 1 < sorted.length ? sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
    }

    /** The teacher's mean token loss of each row of inputs/targets. */
    private double[] score() {
        long t0 = System.nanoTime();
        teacher.forward(inputs, targets, b, t);
        scoringNanos += System.nanoTime() - t0;
        float[] losses = teacher.losses();
        double[] out = new double[b];
        for (int r = 0; r < b; r++) {
            double sum = 0;
            for (int i = 0; i < t; i++) sum += losses[r * t + i];
            out[r] = sum / t;
        }
        return out;
    }

    @Override
    public void next(Batch batch) {
        int filled = 0;
        for (int candidates = 0; filled < b; candidates++) {
            if (candidates == 1000) {
                throw new IllegalStateException("training.distill.select: 1,000 candidate batches drawn and " + filled + " of " + b
                        + " rows kept: the teacher's loss band [" + low + ", " + high + "] no longer matches the stream; widen low/high");
            }
            stream.next(inputs, targets);
            double[] s = score();
            for (int r = 0; r < b && filled < b; r++) {
                drawn++;
                if (s[r] < low || s[r] > high) continue;
                System.arraycopy(inputs, r * t, keptIn, filled * t, t);
                System.arraycopy(targets, r * t, keptTg, filled * t, t);
                filled++;
                kept++;
            }
        }
        System.arraycopy(keptIn, 0, batch.inputs(), 0, b * t);
        System.arraycopy(keptTg, 0, batch.targets(), 0, b * t);
    }

    double low() {
        return low;
    }

    double high() {
        return high;
    }

    /** Time the teacher spent scoring candidates (the sample included). */
    long scoringNanos() {
        return scoringNanos;
    }

    /** Rows drawn from the stream and rows kept, since this selection was made (this process). */
    long[] counts() {
        return new long[] {drawn, kept};
    }
}
