package dev.crucible.eval.analysis;

import java.util.Comparator;

/**
 * Holm's step-down adjustment of p-values for a family of tests (statsmodels' multipletests, method
 * "holm"): the family-wise chance of any false "significant" stays at most α, where testing each at α
 * alone lets it grow with the family (ten metrics of a variant that changes nothing: 40%).
 */
public final class Holm {
    private Holm() {}

    /** The adjusted p-values, in the given order; a NaN (no test) stays NaN and is not counted in the family. */
    public static double[] adjust(double[] p) {
        int m = 0;
        for (double x : p) if (!Double.isNaN(x)) m++;
        Integer[] order = new Integer[m];
        for (int i = 0, k = 0; i < p.length; i++) if (!Double.isNaN(p[i])) order[k++] = i;
        java.util.Arrays.sort(order, Comparator.comparingDouble(i -> p[i]));
        double[] out = new double[p.length];
        java.util.Arrays.fill(out, Double.NaN);
        double running = 0;
        for (int r = 0; r < m; r++) {
            running = Math.max(running, Math.min(1, (m - r) * p[order[r]]));
            out[order[r]] = running;
        }
        return out;
    }
}
