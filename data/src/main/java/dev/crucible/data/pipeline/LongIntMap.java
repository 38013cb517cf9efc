package dev.crucible.data.pipeline;

import java.util.Arrays;

/** An open-addressing map from long to non-negative int, for millions of dedup keys without boxing. */
final class LongIntMap {
    private long[] keys = new long[1 << 12];
    private int[] values = new int[1 << 12];
    private boolean[] used = new boolean[1 << 12];
    private int size;

    /** Stores value under key unless present; returns the earlier value, or -1 if it was absent. */
    int putIfAbsent(long key, int value) {
        if (2 * (size + 1) > keys.length) grow();
        int mask = keys.length - 1;
        for (int i = (int) Hashing.mix(key) & mask; ; i = (i + 1) & mask) {
            if (!used[i]) {
                used[i] = true;
                keys[i] = key;
                values[i] = value;
                size++;
                return -1;
            }
            if (keys[i] == key) return values[i];
        }
    }

    int size() {
        return size;
    }

    private void grow() {
        long[] k = keys;
        int[] v = values;
        boolean[] u = used;
        keys = new long[k.length * 2];
        values = new int[k.length * 2];
        used = new boolean[k.length * 2];
        size = 0;
        for (int i = 0; i < k.length; i++) if (u[i]) putIfAbsent(k[i], v[i]);
        Arrays.fill(u, false);
    }
}
