package dev.crucible.data.tokenizer;

import java.util.Arrays;
import java.util.Map;

/**
 * The merge table of a BPE (byte-level or on characters) as a primitive map from a pair of adjacent token ids to the
 * merged token and its rank, so that BPE on a piece runs on int ids with one probe per pair instead
 * of building and hashing byte strings.
 */
final class PairMerges {
    private final long[] keys, values;
    private final int mask;

    private PairMerges(int capacity) {
        keys = new long[capacity];
        values = new long[capacity];
        Arrays.fill(keys, -1);
        mask = capacity - 1;
    }

    /** Every split of every mergeable token into two tokens. */
    static PairMerges build(byte[][] tokenBytes, Map<String, Integer> ids, Map<String, Integer> ranks) {
        int pairs = 0;
        for (byte[] t : tokenBytes) if (t != null) pairs += Math.max(0, t.length - 1);
        PairMerges m = new PairMerges(Integer.highestOneBit(Math.max(16, pairs * 2)) * 2);
        for (Map.Entry<String, Integer> e : ranks.entrySet()) {
            String s = e.getKey();
            Integer merged = ids.get(s);
            if (merged == null) continue;
            for (int k = 1; k < s.length(); k++) {
                Integer a = ids.get(s.substring(0, k)), b = ids.get(s.substring(k));
                if (a != null && b != null) m.put(key(a, b), (long) e.getValue() << 32 | merged);
            }
        }
        return m;
    }

    /** The pairs tokenizer.json lists ({left, right, merged} ids), ranked by their place in the list, as Hugging Face tokenizers ranks them. */
    static PairMerges of(int[][] list) {
        PairMerges m = new PairMerges(Integer.highestOneBit(Math.max(16, list.length * 2)) * 2);
        for (int r = 0; r < list.length; r++) m.put(key(list[r][0], list[r][1]), (long) r << 32 | list[r][2]);
        return m;
    }

    static long key(int a, int b) {
        return (long) a << 32 | (b & 0xFFFFFFFFL);
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }

    private void put(long key, long value) {
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            if (keys[i] == -1 || keys[i] == key) {
                keys[i] = key;
                values[i] = value;
                return;
            }
        }
    }

    /** rank << 32 | merged id, or -1 when the pair does not merge. */
    long get(int a, int b) {
        long key = key(a, b);
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == key) return values[i];
            if (k == -1) return -1;
        }
    }
}
