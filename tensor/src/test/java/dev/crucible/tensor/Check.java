package dev.crucible.tensor;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;

/** Test helpers: random data, float↔double copies, tolerant comparisons and finite differences. */
public final class Check {
    private Check() {}

    public static float[] randomFloats(SplittableRandom rng, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
        return a;
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    public static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    /** |actual − expected| ≤ atol + rtol·|expected| element by element, naming the first offender. */
    public static void close(String what, double[] expected, float[] actual, double atol, double rtol) {
        close(what, expected, 0, actual, 0, expected.length, atol, rtol);
    }

    public static void close(String what, double[] expected, int eOff, float[] actual, int aOff, int n, double atol,
                             double rtol) {
        for (int i = 0; i < n; i++) {
            double e = expected[eOff + i], a = actual[aOff + i];
            if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
                fail(String.format("%s: element %d of %d differs: expected %.9g, got %.9g (atol %.1g, rtol %.1g)", what, i, n,
                        e, a, atol, rtol));
            }
        }
    }

    public static void close(String what, double[] expected, double[] actual, double atol, double rtol) {
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) {
                fail(String.format("%s: element %d of %d differs: expected %.12g, got %.12g", what, i, expected.length,
                        expected[i], actual[i]));
            }
        }
    }

    /** A scalar function of an array, for finite differences. */
    @FunctionalInterface
    public interface Objective {
        double eval();
    }

    /**
     * Central finite differences of f with respect to up to {@code samples} entries of x (all when
     * x is small), compared with the analytic gradient.
     */
    public static void gradient(String what, double[] x, double[] analytic, Objective f, int samples, SplittableRandom rng,
                                double tol) {
        int n = x.length;
        for (int s = 0; s < Math.min(samples, n); s++) {
            int i = n <= samples ? s : rng.nextInt(n);
            double orig = x[i], h = 1e-6 * Math.max(1, Math.abs(orig));
            x[i] = orig + h;
            double up = f.eval();
            x[i] = orig - h;
            double down = f.eval();
            x[i] = orig;
            double numeric = (up - down) / (2 * h);
            double err = Math.abs(numeric - analytic[i]) / Math.max(1e-3, Math.abs(numeric) + Math.abs(analytic[i]));
            if (!(err <= tol)) {
                fail(String.format("%s: gradient of element %d: finite difference %.10g, analytic %.10g (rel err %.2g)", what,
                        i, numeric, analytic[i], err));
            }
        }
    }

    /** Σ out·weights: a generic scalar loss whose gradient with respect to out is the weights. */
    public static double weighted(double[] out, double[] weights) {
        double s = 0;
        for (int i = 0; i < out.length; i++) s += out[i] * weights[i];
        return s;
    }
}
