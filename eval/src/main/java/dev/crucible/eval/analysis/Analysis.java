package dev.crucible.eval.analysis;

import java.util.Arrays;
import java.util.Locale;

/**
 * What a checkpoint series shows, in numbers and in words: the normalised score, when a capability
 * emerges, where it peaks and whether it then declines significantly, and how metrics move
 * together (Spearman rank correlation).
 */
public final class Analysis {
    private Analysis() {}

    /** Standard errors apart that count as a real difference (one-sided ~98%). */
    public static final double Z = 2.0;
    /** The one-sided level of {@link #Z}: P(N(0, 1) > 2). */
    static final double ALPHA = 0.02275013194817921;

    /** (score − chance) / (max − chance): 0 at chance, 1 at a perfect score. */
    public static double normalised(double value, double chance, double max) {
        return (value - chance) / (max - chance);
    }

    /**
     * The first checkpoint whose score exceeds the baseline by Z standard errors and stays so at the
     * next checkpoint (one lucky evaluation is not emergence). The baseline is the chance level, or
     * the first checkpoint's score when that is higher: an untrained model may beat nominal chance
     * through dataset biases (PIQA: 0.526), and progress is what counts. Returns -1 when it never emerges.
     */
    public static long emergence(Series s, double chance) {
        Series.Point base = s.first();
        double baseValue = Math.max(chance, base.value());
        double baseSe = base.value() >= chance && !Double.isNaN(base.stderr()) ? base.stderr() : 0;
        var pts = s.points();
        for (int i = 1; i < pts.size(); i++) {
            if (above(pts.get(i), baseValue, baseSe) && (i + 1 == pts.size() || above(pts.get(i + 1), baseValue, baseSe))) return pts.get(i).step();
        }
        return -1;
    }

    private static boolean above(Series.Point p, double base, double baseSe) {
        double se = Math.sqrt(sq(p.stderr()) + sq(baseSe));
        return se > 0 ? p.value() - base > Z * se : p.value() > base;
    }

    private static double sq(double x) {
        return Double.isNaN(x) ? 0 : x * x;
    }

    /**
     * The best checkpoint and how far the last one falls below it, in standard errors of the difference;
     * the decline is significant above threshold ({@link #threshold}, over the checkpoints that could be the peak).
     */
    public record Peak(long step, double value, double finalValue, double declineZ, double threshold) {
        public boolean significantDecline() {
            return declineZ > threshold;
        }
    }

    /** Peak of a higher-is-better metric. */
    public static Peak peak(Series s) {
        Series.Point best = s.first();
        for (Series.Point p : s.points()) if (p.value() > best.value()) best = p;
        Series.Point last = s.last();
        double se = Math.sqrt(sq(best.stderr()) + sq(last.stderr()));
        double z = se > 0 ? (best.value() - last.value()) / se : (best.value() > last.value() ? Double.POSITIVE_INFINITY : 0);
        return new Peak(best.step(), best.value(), last.value(), z, threshold(s.points().size() - 1));
    }

    /**
     * The z that one of comparisons differences must pass to count, Bonferroni's: {@link #Z} for a
     * single one, more for the largest of several, which keeps the chance of a false finding at most
     * {@link #ALPHA} (conservatively where the differences share noise). A decline from the peak is one
     * of these: the peak is picked for being highest, so its distance to the last checkpoint is the
     * largest of the checkpoints' before it, and against Z alone a flat series of noisy evaluations
     * read as declining in 7% of runs of 5 checkpoints and 27% of runs of 40 (a simulation), where 2.3%
     * was meant.
     */
    public static double threshold(int comparisons) {
        return comparisons <= 1 ? Z : Normal.quantile(1 - ALPHA / comparisons);
    }

    /**
     * Spearman's rank correlation (average ranks for ties); NaN when either side is constant or holds a
     * NaN (scipy's spearmanr propagates it; ranking it would place it above every number).
     */
    public static double spearman(double[] a, double[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("series of different lengths: " + a.length + " vs " + b.length);
        for (int i = 0; i < a.length; i++) if (Double.isNaN(a[i]) || Double.isNaN(b[i])) return Double.NaN;
        return pearson(ranks(a), ranks(b));
    }

    /** Pearson's r; NaN when either side is constant. */
    static double pearson(double[] ra, double[] rb) {
        double ma = Arrays.stream(ra).average().orElse(0), mb = Arrays.stream(rb).average().orElse(0);
        double num = 0, da = 0, db = 0;
        for (int i = 0; i < ra.length; i++) {
            num += (ra[i] - ma) * (rb[i] - mb);
            da += (ra[i] - ma) * (ra[i] - ma);
            db += (rb[i] - mb) * (rb[i] - mb);
        }
        return da == 0 || db == 0 ? Double.NaN : num / Math.sqrt(da * db);
    }

    static double[] ranks(double[] x) {
        Integer[] idx = new Integer[x.length];
        for (int i = 0; i < x.length; i++) idx[i] = i;
        Arrays.sort(idx, (p, q) -> Double.compare(x[p], x[q]));
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; ) {
            int j = i;
            while (j + 1 < x.length && x[idx[j + 1]] == x[idx[i]]) j++;
            double avg = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) r[idx[k]] = avg;
            i = j + 1;
        }
        return r;
    }

    /** One sentence on a higher-is-better series: emergence, peak, decline. */
    public static String verdict(Series s, double chance) {
        long e = emergence(s, chance);
        Peak p = peak(s);
        if (e < 0) {
            return String.format(Locale.ROOT, "stays at its starting level (%.3f; chance %.3f) through step %d", s.first().value(), chance, s.last().step());
        }
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "rises above its starting level from step %d", e));
        if (p.significantDecline()) {
            sb.append(String.format(Locale.ROOT, ", peaks at step %d (%.3f), then falls to %.3f by step %d (%.1f standard errors below the peak)",
                    p.step(), p.value(), p.finalValue(), s.last().step(), p.declineZ()));
        } else {
            sb.append(String.format(Locale.ROOT, " and ends at %.3f (best %.3f at step %d)", p.finalValue(), p.value(), p.step()));
        }
        return sb.toString();
    }

    /**
     * Chance levels of lm-evaluation-harness tasks by name (accuracy metrics); NaN when unknown. Only
     * for result files that do not carry the level: published lm-evaluation-harness results, and
     * results.jsonl tables written before their rows did.
     */
    public static double chance(String task, String metric) {
        if (!metric.startsWith("acc")) return Double.NaN;
        if (task.startsWith("blimp")) return 0.5;
        if (task.startsWith("hendrycksTest") || task.startsWith("mmlu")) return 0.25;
        return switch (task) {
            case "piqa", "winogrande", "wsc", "boolq", "copa" -> 0.5;
            case "arc_easy", "arc_challenge", "sciq", "logiqa", "hellaswag", "openbookqa" -> 0.25;
            case "lambada_openai", "lambada_standard", "lambada" -> 0.0;
            default -> Double.NaN;
        };
    }
}
