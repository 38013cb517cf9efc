package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.crucible.tensor.WorkerPool;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** PaLM's z-loss: value and gradient against the formula in double, by central differences. */
class CrossEntropyLossTest {

    /** Σ_r scale · (logZ_r − x_{r,t} + z · logZ_r²), in double. */
    static double objective(double[] x, int[] tgt, int rows, int vocab, double z, double scale) {
        double total = 0;
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < vocab; j++) max = Math.max(max, x[r * vocab + j]);
            for (int j = 0; j < vocab; j++) sum += Math.exp(x[r * vocab + j] - max);
            double logZ = max + Math.log(sum);
            total += scale * (logZ - x[r * vocab + tgt[r]] + z * logZ * logZ);
        }
        return total;
    }

    @Test
    void zLossGradientMatchesFiniteDifferences() {
        int rows = 5, vocab = 37;
        double z = 0.05, scale = 1.0 / rows;
        SplittableRandom rng = new SplittableRandom(3);
        double[] x = new double[rows * vocab];
        for (int i = 0; i < x.length; i++) x[i] = 3 * rng.nextGaussian() + 2; // logZ far from 0, so the z-term matters
        int[] tgt = rng.ints(rows, 0, vocab).toArray();
        float[] data = new float[rows * vocab];
        for (int i = 0; i < x.length; i++) data[i] = (float) x[i];
        for (int i = 0; i < x.length; i++) x[i] = data[i]; // the same values in both precisions
        try (WorkerPool pool = new WorkerPool(2)) {
            CrossEntropyLoss loss = new CrossEntropyLoss(pool, rows, z);
            Logits logits = new Logits(data, vocab, rows, vocab);
            Batch batch = new Batch(new int[rows], tgt, 1, rows);
            float ce = loss.forward(logits, batch);
            double withZ = objective(x, tgt, rows, vocab, z, scale), without = objective(x, tgt, rows, vocab, 0, scale);
            assertEquals(without, ce, 1e-5, "forward returns the cross-entropy alone");
            assertEquals(withZ - without, loss.auxiliary(), 1e-5 * Math.abs(withZ - without), "the mean z-term");
            loss.backward(logits, batch, (float) scale);
            for (int i = 0; i < x.length; i += 3) {
                double h = 1e-5, keep = x[i];
                x[i] = keep + h;
                double up = objective(x, tgt, rows, vocab, z, scale);
                x[i] = keep - h;
                double down = objective(x, tgt, rows, vocab, z, scale);
                x[i] = keep;
                assertEquals((up - down) / (2 * h), data[i], 1e-5, "d/dlogit " + i);
            }
        }
    }
}
