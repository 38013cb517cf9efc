package dev.crucible.train;

import dev.crucible.data.ShardSet;
import dev.crucible.data.TokenShard;
import dev.crucible.tensor.Rng;

/**
 * Windows of (input, next-token target) from a shard set. The token stream of each shard is cut into
 * non-overlapping windows of T+1 tokens (stride T); training visits them in a random order that is
 * reshuffled every epoch from the seed, so the sequence of windows is a function of the seed alone
 * and its position (epoch, index) is all there is to save for resuming. With a limit on unique tokens
 * (a token crisis, "To Repeat or Not To Repeat"; several epochs over a subset, the stability-gap
 * paper's remedy) only a seeded random subset of the windows is ever visited, epoch after epoch.
 */
public final class DataLoader {
    private final ShardSet set;
    private final int b, t;
    private final long[] windowStart; // cumulative window counts per shard
    private final int windows;
    private final long seed;
    private final boolean shuffle;
    private final int[] subset; // the windows visited, or null for all
    private final int[] order;
    private final int[] window;
    private long epoch;
    private int position;

    public DataLoader(ShardSet set, int b, int t, long seed, boolean shuffle) {
        this(set, b, t, seed, shuffle, 0);
    }

    /** maxUniqueTokens: visit only floor(maxUniqueTokens / T) windows, a seeded random subset (0 = all). */
    public DataLoader(ShardSet set, int b, int t, long seed, boolean shuffle, long maxUniqueTokens) {
        this(set, b, t, seed, seed, shuffle, maxUniqueTokens);
    }

    /** As above, the subset drawn with subsetSeed and the order with seed (another order over the same subset). */
    public DataLoader(ShardSet set, int b, int t, long seed, long subsetSeed, boolean shuffle, long maxUniqueTokens) {
        this.set = set;
        this.b = b;
        this.t = t;
        this.seed = seed;
        this.shuffle = shuffle;
        windowStart = new long[set.shards().size() + 1];
        for (int i = 0; i < set.shards().size(); i++) {
            long n = set.shards().get(i).size();
            windowStart[i + 1] = windowStart[i] + (n > t ? (n - 1) / t : 0);
        }
        long total = windowStart[set.shards().size()];
        if (total < 1) {
            throw new IllegalArgumentException("token shards '" + set.spec() + "' hold " + set.totalTokens()
                    + " tokens: not one window of seq_len + 1 = " + (t + 1) + " tokens in any shard");
        }
        if (total > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("too many windows (" + total + "); use a longer seq_len");
        if (maxUniqueTokens < 0) throw new IllegalArgumentException("max_unique_tokens: must be >= 0 (0 = all), got " + maxUniqueTokens);
        if (maxUniqueTokens > 0 && maxUniqueTokens / t < 1) {
            throw new IllegalArgumentException("max_unique_tokens: " + maxUniqueTokens + " is less than one window of seq_len " + t + " tokens");
        }
        if (maxUniqueTokens > 0 && maxUniqueTokens / t < total) {
            int[] all = new int[(int) total];
            for (int i = 0; i < all.length; i++) all[i] = i;
            Rng.derive(subsetSeed, "data-unique-subset").shuffle(all, all.length);
            subset = java.util.Arrays.copyOf(all, (int) (maxUniqueTokens / t));
            java.util.Arrays.sort(subset);
        } else {
            subset = null;
        }
        windows = subset != null ? subset.length : (int) total;
        order = new int[windows];
        window = new int[t + 1];
        reorder();
    }

    /** Whether only a subset of the windows is visited (a limit on unique tokens below the shards' own). */
    public boolean limited() {
        return subset != null;
    }

    /** Windows per epoch (the subset's, with a limit on unique tokens). */
    public int windows() {
        return windows;
    }

    /** Tokens that one pass over every window trains on. */
    public long tokensPerEpoch() {
        return (long) windows * t;
    }

    private void reorder() {
        for (int i = 0; i < windows; i++) order[i] = subset != null ? subset[i] : i;
        if (shuffle) Rng.derive(seed, "data-order-epoch-" + epoch).shuffle(order, windows);
    }

    /** Fills inputs and targets (B·T each) with the next B windows. */
    public void next(int[] inputs, int[] targets) {
        for (int row = 0; row < b; row++) next(row, inputs, targets);
    }

    /** Fills row `row` of inputs and targets with the next window. */
    public void next(int row, int[] inputs, int[] targets) {
        read(advance(), row, inputs, targets);
    }

    /** Passes over the next window without reading it. */
    public void skip() {
        advance();
    }

    /** The next window's index, a new epoch's order drawn when the last one is spent. */
    private int advance() {
        if (position == windows) {
            epoch++;
            position = 0;
            reorder();
        }
        return order[position++];
    }

    /** Fills row `row` of inputs and targets with window w of the shard set (0 <= w < all windows, the subset's or not). */
    public void read(int w, int row, int[] inputs, int[] targets) {
        int shard = 0;
        while (windowStart[shard + 1] <= w) shard++;
        TokenShard s = set.shards().get(shard);
        s.read((w - windowStart[shard]) * (long) t, window, 0, t + 1);
        System.arraycopy(window, 0, inputs, row * t, t);
        System.arraycopy(window, 1, targets, row * t, t);
    }

    public long epoch() {
        return epoch;
    }

    public int position() {
        return position;
    }

    /** Passes over the (visited) windows so far, fractional. */
    public double epochs() {
        return epoch + (double) position / windows;
    }

    /** Tokens in the shards this loader reads (all of them, whatever subset it visits). */
    public long shardTokens() {
        return set.totalTokens();
    }

    /** Restores a saved position (same shards, seed and shapes). */
    public void seek(long epoch, int position) {
        if (position < 0 || position > windows) throw new IllegalArgumentException("data position " + position + " outside [0, " + windows + "]");
        this.epoch = epoch;
        this.position = position;
        reorder();
    }
}
