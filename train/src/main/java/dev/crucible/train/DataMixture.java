package dev.crucible.train;

import dev.crucible.tensor.Rng;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training stream as a mixture of sources (new data and replay of the old, in continual
 * pre-training): each row of every batch comes from a source drawn with probability proportional to
 * its weight, the draw a function of the seed and the row's index alone, and each source has its
 * own window order, epoch and position ({@link DataLoader}). What a resume needs is the number of
 * rows drawn and each source's cursor. A source of weight 0 is never drawn (it is there for its
 * validation: the old domain of a continuation without replay). A single source is drawn without
 * any random number, so a run with data.train alone is what it always was.
 */
public final class DataMixture {

    /** One source of the training stream. */
    public record Source(String name, double weight, DataLoader loader) {}

    /**
     * Where a source's stream stands, and the tokens its shards held then (-1: a checkpoint from before
     * that was recorded): a position means nothing in shards that changed, since the window order is a
     * permutation of their windows.
     */
    public record Cursor(long epoch, int position, long shardTokens) {}

    /** Rows drawn so far and each source's cursor, by name. */
    public record State(long rows, Map<String, Cursor> sources) {}

    private final List<Source> sources;
    private final double[] cumulative;
    private final long base;
    private final int b;
    private long rows;

    public DataMixture(List<Source> sources, int b, long seed) {
        if (sources.isEmpty()) throw new IllegalArgumentException("no data source");
        this.sources = List.copyOf(sources);
        this.b = b;
        double total = sources.stream().mapToDouble(Source::weight).sum();
        if (!(total > 0)) throw new IllegalArgumentException("sources: at least one needs a weight > 0");
        cumulative = new double[sources.size()];
        double c = 0;
        int last = 0;
        for (int i = 0; i < sources.size(); i++) {
            if (!(sources.get(i).weight() >= 0)) throw new IllegalArgumentException(sources.get(i).name() + ": weight must be >= 0");
            c += sources.get(i).weight() / total;
            cumulative[i] = c;
            if (sources.get(i).weight() > 0) last = i;
        }
        for (int i = last; i < cumulative.length; i++) cumulative[i] = 1; // no row may fall past the last drawn source by rounding
        base = Rng.derive(seed, "data-mixture").nextLong();
    }

    public List<Source> sources() {
        return sources;
    }

    /** The source row k of the stream comes from. */
    int sourceOf(long k) {
        if (sources.size() == 1) return 0;
        double u = (Rng.splitMix(base + k * 0x9E3779B97F4A7C15L) >>> 11) * 0x1.0p-53;
        int i = 0;
        while (u >= cumulative[i]) i++;
        return i;
    }

    /** Fills inputs and targets (B·T each) with the next B rows of the stream. */
    public void next(int[] inputs, int[] targets) {
        for (int row = 0; row < b; row++) sources.get(sourceOf(rows++)).loader().next(row, inputs, targets);
    }

    /** Passes over the next n rows of the stream without reading them (another replica's share of a step). */
    public void skip(long n) {
        for (long i = 0; i < n; i++) sources.get(sourceOf(rows++)).loader().skip();
    }

    public State state() {
        Map<String, Cursor> m = new LinkedHashMap<>();
        for (Source s : sources) m.put(s.name(), new Cursor(s.loader().epoch(), s.loader().position(), s.loader().shardTokens()));
        return new State(rows, m);
    }

    /** Restores a saved state: the same sources by name (a single source's cursor is taken whatever it was called). */
    public void seek(State st) {
        if (sources.size() == 1 && st.sources().size() == 1) {
            seek(sources.getFirst(), st.sources().values().iterator().next());
        } else {
            if (!st.sources().keySet().equals(state().sources().keySet())) {
                throw new IllegalArgumentException("the saved data state is for sources " + st.sources().keySet() + ", the run has " + state().sources().keySet());
            }
            for (Source s : sources) seek(s, st.sources().get(s.name()));
        }
        rows = st.rows();
    }

    private static void seek(Source s, Cursor c) {
        long now = s.loader().shardTokens();
        if (c.shardTokens() >= 0 && c.shardTokens() != now) {
            throw new IllegalArgumentException("data source '" + s.name() + "': its shards hold " + String.format(java.util.Locale.ROOT, "%,d", now)
                    + " tokens, " + String.format(java.util.Locale.ROOT, "%,d", c.shardTokens()) + " when the checkpoint was written: the saved position "
                    + "would point into another order of other windows, repeating some and skipping others. Put the shards back, or start a new run "
                    + "from the checkpoint's weights on the new data (training.init_from)");
        }
        s.loader().seek(c.epoch(), c.position());
    }

    /** Rows drawn so far. */
    public long rows() {
        return rows;
    }
}
