package dev.crucible.data.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Trains a byte-level BPE: documents are split by the pre-tokenizer regex, distinct pieces are
 * counted, and starting from the 256 byte tokens the most frequent adjacent pair is merged into a
 * new token until the vocabulary is full. Pair counts are kept incrementally with an index from
 * pair to the words containing it, and the best pair comes from a max-heap with lazy deletion, so
 * a merge costs time proportional to the words it touches. Ties go to the smaller pair of ids, so
 * training is deterministic. Token ids: bytes 0-255, merges in order, then the special tokens.
 */
public final class BpeTrainer {
    private final PreTokenizer split;
    private final String pattern;
    private final Map<String, Long> pieces = new HashMap<>();

    public BpeTrainer(String pattern) {
        this.pattern = pattern;
        this.split = PreTokenizer.of(pattern, false);
    }

    /** Counts the pieces of one document (call for every document of the training sample), cut as the trained tokenizer will cut them. */
    public void add(String document) {
        split.split(document, 0, document.length(), false, true, false, (s, a, b) -> pieces.merge(s.substring(a, b), 1L, Long::sum));
    }

    public int distinctPieces() {
        return pieces.size();
    }

    /** Merges until vocabSize tokens (specials included) exist or no pair occurs twice. */
    public BpeTokenizer train(int vocabSize, List<String> specials) {
        if (vocabSize < 256 + specials.size()) throw new IllegalArgumentException("vocab size " + vocabSize + " is below the 256 byte tokens plus " + specials.size() + " special tokens");
        // Words as symbol sequences with counts; symbol = token id.
        int nw = pieces.size();
        int[][] words = new int[nw][];
        long[] counts = new long[nw];
        int w = 0;
        for (var e : pieces.entrySet().stream().sorted(Map.Entry.comparingByKey()).toList()) {
            byte[] b = e.getKey().getBytes(StandardCharsets.UTF_8);
            int[] syms = new int[b.length];
            for (int i = 0; i < b.length; i++) syms[i] = b[i] & 0xFF;
            words[w] = syms;
            counts[w++] = e.getValue();
        }
        List<byte[]> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) tokens.add(new byte[] {(byte) b});
        Map<String, Integer> ranks = new HashMap<>(), byBytes = new HashMap<>();
        for (int b = 0; b < 256; b++) byBytes.put(BpeTokenizer.key(tokens.get(b)), b);

        Map<Long, Long> pairCount = new HashMap<>();
        Map<Long, IntSet> where = new HashMap<>();
        for (int i = 0; i < nw; i++) {
            int[] s = words[i];
            for (int j = 0; j + 1 < s.length; j++) {
                long p = pair(s[j], s[j + 1]);
                pairCount.merge(p, counts[i], Long::sum);
                where.computeIfAbsent(p, k -> new IntSet()).add(i);
            }
        }
        PriorityQueue<long[]> heap = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Long.compare(b[0], a[0]) : Long.compare(a[1], b[1]));
        pairCount.forEach((p, c) -> heap.add(new long[] {c, p}));
        int target = vocabSize - specials.size();
        int rank = 0;
        while (tokens.size() < target && !heap.isEmpty()) {
            long[] top = heap.poll();
            long p = top[1];
            Long current = pairCount.get(p);
            if (current == null || current != top[0]) continue; // stale entry
            if (current < 2) break;
            int a = (int) (p >>> 32), b = (int) p;
            byte[] merged = concat(tokens.get(a), tokens.get(b));
            String key = BpeTokenizer.key(merged);
            Integer id = byBytes.get(key);
            if (id == null) {
                id = tokens.size();
                tokens.add(merged);
                byBytes.put(key, id);
            }
            ranks.putIfAbsent(key, rank++);
            Map<Long, Long> delta = new HashMap<>();
            IntSet ws = where.remove(p);
            pairCount.remove(p);
            for (int i : ws.toArray()) {
                int[] s = words[i];
                int[] out = new int[s.length];
                int n = 0;
                long c = counts[i];
                for (int j = 0; j < s.length; j++) {
                    if (j + 1 < s.length && s[j] == a && s[j + 1] == b) {
                        if (n > 0) {
                            delta.merge(pair(out[n - 1], a), -c, Long::sum);
                            delta.merge(pair(out[n - 1], id), c, Long::sum);
                        }
                        if (j + 2 < s.length) {
                            delta.merge(pair(b, s[j + 2]), -c, Long::sum);
                            delta.merge(pair(id, s[j + 2]), c, Long::sum);
                        }
                        out[n++] = id;
                        j++;
                    } else {
                        out[n++] = s[j];
                    }
                }
                words[i] = Arrays.copyOf(out, n);
                for (int j = 0; j + 1 < n; j++) {
                    long q = pair(words[i][j], words[i][j + 1]);
                    if (q != p) where.computeIfAbsent(q, k -> new IntSet()).add(i);
                }
            }
            for (var e : delta.entrySet()) {
                if (e.getValue() == 0 || e.getKey() == p) continue;
                long c = pairCount.merge(e.getKey(), e.getValue(), Long::sum);
                if (c <= 0) pairCount.remove(e.getKey());
                else heap.add(new long[] {c, e.getKey()});
            }
        }
        int n = tokens.size() + specials.size();
        byte[][] tb = new byte[n][];
        for (int i = 0; i < tokens.size(); i++) tb[i] = tokens.get(i);
        Map<String, Integer> sp = new LinkedHashMap<>();
        for (int i = 0; i < specials.size(); i++) {
            sp.put(specials.get(i), tokens.size() + i);
            tb[tokens.size() + i] = specials.get(i).getBytes(StandardCharsets.UTF_8);
        }
        // Merge priority by the merged token's rank, offset so byte tokens never shadow merges.
        return new BpeTokenizer(pattern, tb, ranks, sp, false);
    }

    private static long pair(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    private static byte[] concat(byte[] x, byte[] y) {
        byte[] r = Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, r, x.length, y.length);
        return r;
    }

    /** A small set of word indices (insertion-ordered, no duplicates), cheaper than HashSet<Integer>. */
    static final class IntSet {
        private int[] a = new int[4];
        private int n;
        private java.util.BitSet seen;

        void add(int v) {
            if (n < 16) {
                for (int i = 0; i < n; i++) if (a[i] == v) return;
            } else {
                if (seen == null) {
                    seen = new java.util.BitSet();
                    for (int i = 0; i < n; i++) seen.set(a[i]);
                }
                if (seen.get(v)) return;
                seen.set(v);
            }
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
