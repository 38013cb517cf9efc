package dev.crucible.eval.analysis;

import java.util.Locale;
import java.util.Set;

/**
 * Whether a larger value of a metric is better. Every orientation in the analysis (groups, early
 * indicators, best checkpoint, verdicts) comes from here, so a metric is never read upside down by one
 * part and the right way up by another. Metrics neither Crucible nor lm-evaluation-harness is known
 * to report are UNKNOWN: the analysis leaves them out of what needs an orientation and says so,
 * rather than guessing.
 */
public enum MetricDirection {
    HIGHER_IS_BETTER, LOWER_IS_BETTER, UNKNOWN;

    private static final Set<String> HIGHER = Set.of("acc", "acc_norm", "acc_bytes", "acc_mutual_info", "exact_match", "em", "f1",
            "mcc", "bleu", "chrf", "rouge1", "rouge2", "rougel", "rougelsum", "contains", "gold_logprob", "target_logprob",
            "induction_gain", "likelihood");
    private static final Set<String> LOWER = Set.of("perplexity", "ppl", "word_perplexity", "byte_perplexity", "bits_per_byte",
            "bpb", "val_bpb", "brier", "brier_score", "ter", "loss", "loss_late_minus_early", "val_loss");

    /** The direction of a metric name, with any lm-evaluation-harness filter suffix (",none") ignored. */
    public static MetricDirection of(String metric) {
        String m = metric.toLowerCase(Locale.ROOT);
        int comma = m.indexOf(',');
        if (comma >= 0) m = m.substring(0, comma);
        if (HIGHER.contains(m) || m.startsWith("pass@")) return HIGHER_IS_BETTER;
        if (LOWER.contains(m) || m.endsWith("_perplexity") || m.endsWith("_loss")) return LOWER_IS_BETTER;
        return UNKNOWN;
    }

    public static boolean lowerIsBetter(String metric) {
        return of(metric) == LOWER_IS_BETTER;
    }

    public static boolean known(String metric) {
        return of(metric) != UNKNOWN;
    }
}
