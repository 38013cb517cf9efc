package dev.crucible.eval;

/** A score with its standard error (of the mean over examples, as lm-evaluation-harness reports). */
public record Metric(String name, double value, double stderr, int n) {

    /** Mean of per-example values and the standard error of that mean (sample standard deviation / sqrt n). */
    public static Metric mean(String name, double[] xs) {
        int n = xs.length;
        if (n == 0) return new Metric(name, Double.NaN, Double.NaN, 0);
        double m = 0;
        for (double x : xs) m += x;
        m /= n;
        double var = 0;
        for (double x : xs) var += (x - m) * (x - m);
        double se = n > 1 ? Math.sqrt(var / (n - 1) / n) : Double.NaN;
        return new Metric(name, m, se, n);
    }

    /** Perplexity exp(−mean log-likelihood) with its standard error by the delta method. */
    public static Metric perplexity(String name, double[] logLikelihoods) {
        Metric ll = mean(name, logLikelihoods);
        double ppl = Math.exp(-ll.value());
        return new Metric(name, ppl, ppl * ll.stderr(), ll.n());
    }
}
