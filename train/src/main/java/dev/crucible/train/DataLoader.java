package dev.crucible.train;

import dev.crucible.data.ShardSet;
import dev.crucible.data.TokenShard;
import dev.crucible.tensor.Rng;

/**
 * Batches of (input, next-token target) windows from a shard set. The token stream of each shard is
 * cut into non-overlapping windows of T+1 tokens (stride T); training visits them in a random order
 * that is reshuffled every epoch from the seed, so the sequence of batches is a function of the seed
 * alone and its position (epoch, index) is all there is to save for resuming.
 */
public final class DataLoader {
    private final ShardSet set;
    private final int b, t;
    private final long[] windowStart; // cumulative window counts per shard
    private final int windows;
    private final long seed;
    private final boolean shuffle;
    private final int[] order;
    private final int[] window;
    private long epoch;
    private int position;

    public DataLoader(ShardSet set, int b, int t, long seed, boolean shuffle) {
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
        windows = (int) total;
        order = new int[windows];
        window = new int[t + 1];
        reorder();
    }

    public int windows() {
        return windows;
    }

    /** Tokens that one pass over every window trains on. */
    public long tokensPerEpoch() {
        return (long) windows * t;
    }

    private void reorder() {
        for (int i = 0; i < windows; i++) order[i] = i;
        if (shuffle) Rng.derive(seed, "data-order-epoch-" + epoch).shuffle(order, windows);
    }

    /** Fills inputs and targets (B·T each) with the next B windows. */
    public void next(int[] inputs, int[] targets) {
        for (int row = 0; row < b; row++) {
            if (position == windows) {
                epoch++;
                position = 0;
                reorder();
            }
            read(order[position++], row, inputs, targets);
        }
    }

    /** Fills row `row` of inputs and targets with window w (0 <= w < windows()). */
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

    /** Restores a saved position (same shards, seed and shapes). */
    public void seek(long epoch, int position) {
        if (position < 0 || position > windows) throw new IllegalArgumentException("data position " + position + " outside [0, " + windows + "]");
        this.epoch = epoch;
        this.position = position;
        reorder();
    }
}
