package dev.crucible.data.pipeline;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The n-gram measures of Gopher's repetition filter over one document's words, without a string or a list per
 * n-gram (joining them was most of the filter's time). The top n-gram joins its words by spaces and no word holds
 * white space, so two are equal exactly when their words are: they are compared by word ids. A duplicated n-gram
 * joins its words without a separator, so "ab"+"c" equals "a"+"bc": they are compared by a polynomial hash of their
 * characters (the hash of a concatenation is a function of its characters alone, whatever the word boundaries),
 * and every match of hashes is confirmed on the characters. Lengths are Python's len, in code points.
 */
final class WordNgrams {
    private static final long CHAR_BASE = 0x100000001B3L; // odd, so no power of it is 0 mod 2^64
    private static final long MIX = 0x9E3779B97F4A7C15L;

    private final List<String> words;
    private final int[] ids; // equal words, equal ids
    private final long[] hash; // polynomial hash of a word's chars, mod 2^64
    private final long[] power; // CHAR_BASE^(the word's chars)
    private final int[] codePoints, chars;

    WordNgrams(List<String> words) {
        this.words = words;
        int w = words.size();
        ids = new int[w];
        hash = new long[w];
        power = new long[w];
        codePoints = new int[w];
        chars = new int[w];
        Map<String, Integer> idOf = new HashMap<>();
        for (int j = 0; j < w; j++) {
            String s = words.get(j);
            Integer id = idOf.get(s);
            if (id == null) idOf.put(s, id = idOf.size());
            ids[j] = id;
            long h = 0, p = 1;
            for (int k = 0; k < s.length(); k++) {
                h = h * CHAR_BASE + s.charAt(k);
                p *= CHAR_BASE;
            }
            hash[j] = h;
            power[j] = p;
            chars[j] = s.length();
            codePoints[j] = s.codePointCount(0, s.length());
        }
    }

    /**
     * datatrove's find_top_duplicate on the n-grams (words joined by spaces): the most frequent one's length times its
     * count, the first seen among equally frequent ones (Counter.most_common(1)); an n-gram seen once counts too, so a
     * short document whose every n-gram is new can still be removed, as datatrove removes it. 0 without n-grams.
     */
    long topChars(int n) {
        int m = words.size() - n + 1;
        if (m <= 0) return 0;
        int mask = tableSize(m) - 1;
        int[] first = new int[mask + 1]; // a slot's n-gram by its first position; -1: empty
        Arrays.fill(first, -1);
        int[] count = new int[m]; // by first position
        for (int i = 0; i < m; i++) {
            long h = 0;
            for (int j = i; j < i + n; j++) h = (h + ids[j] + 1) * MIX;
            int s = slot(h, mask);
            while (first[s] >= 0 && !sameWords(first[s], i, n)) s = (s + 1) & mask;
            if (first[s] < 0) first[s] = i;
            count[first[s]]++;
        }
        int best = 0, at = -1;
        for (int i = 0; i < m; i++) {
            if (count[i] > best) { // strictly: the first seen keeps a tie
                best = count[i];
                at = i;
            }
        }
        return (long) (codePoints(at, n) + n - 1) * best;
    }

    /**
     * datatrove's find_all_duplicate: n words joined without a separator, each that repeats an earlier one counted by
     * its length and skipped past (so words that join to the same string repeat each other, as in datatrove).
     */
    long duplicatedChars(int n) {
        int w = words.size();
        if (w < n) return 0;
        int mask = tableSize(w - n + 1) - 1;
        long[] key = new long[mask + 1];
        int[] at = new int[mask + 1]; // a slot's n-gram by the position it was first seen at; -1: empty
        Arrays.fill(at, -1);
        long total = 0;
        int i = 0;
        while (i + n <= w) {
            long h = 0;
            for (int j = i; j < i + n; j++) h = h * power[j] + hash[j];
            int s = slot(h, mask);
            boolean seen = false;
            while (at[s] >= 0) {
                if (key[s] == h && sameChars(at[s], i, n)) {
                    seen = true;
                    break;
                }
                s = (s + 1) & mask;
            }
            if (seen) {
                total += codePoints(i, n);
                i += n;
            } else {
                key[s] = h;
                at[s] = i;
                i++;
            }
        }
        return total;
    }

    private static int tableSize(int entries) {
        return Math.max(16, Integer.highestOneBit(Math.max(1, 2 * entries - 1)) << 1);
    }

    private static int slot(long h, int mask) {
        return (int) (((h ^ (h >>> 29)) * MIX) >>> 32) & mask;
    }

    private int codePoints(int from, int n) {
        int c = 0;
        for (int j = from; j < from + n; j++) c += codePoints[j];
        return c;
    }

    private boolean sameWords(int a, int b, int n) {
        for (int k = 0; k < n; k++) if (ids[a + k] != ids[b + k]) return false;
        return true;
    }

    /** Whether words [a, a+n) and [b, b+n) join without a separator to the same string. */
    private boolean sameChars(int a, int b, int n) {
        int la = 0, lb = 0;
        for (int k = 0; k < n; k++) {
            la += chars[a + k];
            lb += chars[b + k];
        }
        if (la != lb) return false;
        int wa = a, wb = b, ca = 0, cb = 0;
        String sa = words.get(wa), sb = words.get(wb);
        for (int left = la; left > 0; left--) {
            while (ca == sa.length()) {
                sa = words.get(++wa);
                ca = 0;
            }
            while (cb == sb.length()) {
                sb = words.get(++wb);
                cb = 0;
            }
            if (sa.charAt(ca++) != sb.charAt(cb++)) return false;
        }
        return true;
    }
}
