package dev.crucible.eval;

import dev.crucible.data.tokenizer.TextEncoding;
import java.util.List;

/** A downstream task: examples scored by log-likelihood into metrics with standard errors. */
public interface Task {
    String name();

    /** The capability group the task belongs to (e.g. a BLiMP field, "lambada"). */
    String group();

    /** Examples available (before any limit). */
    int size();

    /** Metrics over the first `limit` examples (all when limit <= 0). */
    default List<Metric> evaluate(LogLikelihood scorer, TextEncoding encoding, int limit) {
        return evaluate(scorer, encoding, limit, null);
    }

    /** As above, handing each example's record to samples ({@link Samples}'s shape) when it is not null. */
    List<Metric> evaluate(LogLikelihood scorer, TextEncoding encoding, int limit, Samples.Sink samples);

    /** The score of a model that guesses (for normalised scores): 0.5 for minimal pairs, 0 for exact match; NaN when there is none. */
    double chance(String metric);

    /** This task on at most its first n examples, whatever limit the caller gives. */
    default Task limitedTo(int n) {
        Task inner = this;
        return new Task() {
            public String name() {
                return inner.name();
            }

            public String group() {
                return inner.group();
            }

            public int size() {
                return Math.min(n, inner.size());
            }

            public List<Metric> evaluate(LogLikelihood scorer, TextEncoding encoding, int limit, Samples.Sink samples) {
                return inner.evaluate(scorer, encoding, limit > 0 ? Math.min(limit, n) : n, samples);
            }

            public double chance(String metric) {
                return inner.chance(metric);
            }
        };
    }
}
