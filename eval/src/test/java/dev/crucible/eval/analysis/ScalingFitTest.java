package dev.crucible.eval.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** L(N, D) = E + A/N^α + B/D^β fitted to synthetic runs drawn from a known law. */
class ScalingFitTest {
    private static List<ScalingFit.Point> grid(double e, double a, double alpha, double b, double beta, double noise, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<ScalingFit.Point> pts = new ArrayList<>();
        for (double n : new double[] {1e6, 3e6, 1e7, 3e7}) {
            for (double d : new double[] {1e7, 4e7, 1.6e8}) {
                pts.add(new ScalingFit.Point(n, d, e + a / Math.pow(n, alpha) + b / Math.pow(d, beta) + noise * rng.nextGaussian()));
            }
        }
        return pts;
    }

    /** Chinchilla's published law (E 1.69, A 406.4, α 0.34, B 410.7, β 0.28), noise-free: recovered. */
    @Test
    void recoversAKnownLaw() {
        ScalingFit.Law law = ScalingFit.fit(grid(1.69, 406.4, 0.34, 410.7, 0.28, 0, 1));
        assertEquals(0.34, law.alpha(), 2e-3);
        assertEquals(0.28, law.beta(), 2e-3);
        assertEquals(1.69, law.e(), 0.02);
        assertTrue(law.rmse() < 1e-5, "noise-free points are fitted exactly: " + law.rmse());
        assertEquals(1.69 + 406.4 / Math.pow(5e6, 0.34) + 410.7 / Math.pow(2e7, 0.28), law.predict(5e6, 2e7), 1e-3, "predicts between the points");
    }

    /** With noise of 0.01 nats the exponents stay close and the residuals are the noise's size. */
    @Test
    void noisyRunsGiveResidualsOfTheNoisesSize() {
        ScalingFit.Law law = ScalingFit.fit(grid(2.0, 300, 0.3, 200, 0.25, 0.01, 7));
        assertEquals(0.3, law.alpha(), 0.1);
        assertEquals(0.25, law.beta(), 0.1);
        assertTrue(law.rmse() > 0.003 && law.rmse() < 0.02, "rmse " + law.rmse());
        assertEquals(12, law.residuals().length);
    }

    @Test
    void tooFewRunsOrOneSizeAreRefused() {
        List<ScalingFit.Point> one = List.of(new ScalingFit.Point(1e6, 1e7, 5), new ScalingFit.Point(1e6, 2e7, 4.8), new ScalingFit.Point(1e6, 4e7, 4.6),
                new ScalingFit.Point(1e6, 8e7, 4.5), new ScalingFit.Point(1e6, 1.6e8, 4.4));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ScalingFit.fit(one)).getMessage().contains("2 model sizes"));
        assertThrows(IllegalArgumentException.class, () -> ScalingFit.fit(one.subList(0, 4)));
    }
}
