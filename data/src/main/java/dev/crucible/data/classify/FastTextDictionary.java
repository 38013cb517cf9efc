package dev.crucible.data.classify;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * fastText's dictionary (src/dictionary.cc): words and labels with counts, and the feature ids of a
 * line as fastText computes them, so that a model trained here and one trained by fastText mean the
 * same thing: the ids of known words (or their character n-grams, when maxn > 0), then the hashed
 * word n-grams of every token of the line (known or not) in buckets after the words. A line ends with
 * the end-of-sentence token "&lt;/s&gt;", as fastText adds at each newline. Hashes are FNV-1a over UTF-8 bytes
 * with fastText's sign-extended bytes (the quirk its released models were trained with).
 */
public final class FastTextDictionary {
    public static final String EOS = "</s>", LABEL_PREFIX = "__label__";

    /** One entry: a word or a label (type 1), with its count in the training data. */
    public record Entry(String word, long count, byte type) {}

    final List<Entry> entries;
    final int nwords, nlabels;
    final long ntokens;
    /** Pruned models (quantised with cutoff) map bucket ids to rows; null when not pruned. */
    final Map<Integer, Integer> pruneIndex;
    private final Map<String, Integer> ids = new HashMap<>();
    private final int bucket, minn, maxn, wordNgrams;

    FastTextDictionary(List<Entry> entries, long ntokens, Map<Integer, Integer> pruneIndex, int bucket, int minn, int maxn, int wordNgrams) {
        this.entries = List.copyOf(entries);
        int w = 0, l = 0;
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            if (e.type == 0) {
                if (l > 0) throw new IllegalArgumentException("words must come before labels");
                w++;
            } else {
                l++;
            }
            ids.put(e.word, i);
        }
        this.nwords = w;
        this.nlabels = l;
        this.ntokens = ntokens;
        this.pruneIndex = pruneIndex;
        this.bucket = bucket;
        this.minn = minn;
        this.maxn = maxn;
        this.wordNgrams = wordNgrams;
    }

    public int nwords() {
        return nwords;
    }

    public int nlabels() {
        return nlabels;
    }

    public String label(int i) {
        return entries.get(nwords + i).word;
    }

    /** The index of a label among the labels, or -1. */
    public int labelIndex(String label) {
        Integer id = ids.get(label);
        return id == null || id < nwords ? -1 : id - nwords;
    }

    /** fastText's hash: FNV-1a 32-bit, each byte sign-extended as released models were trained. */
    public static int hash(byte[] utf8) {
        int h = 0x811C9DC5;
        for (byte b : utf8) {
            h ^= b; // int8 → uint32 sign extension, as fastText's hash
            h *= 16777619;
        }
        return h;
    }

    /**
     * The feature rows of one line (text without newlines, as fastText's predict wants it), labels
     * (tokens starting with __label__ that the dictionary knows) appended to labelsOut when given.
     */
    public int[] features(String line, List<Integer> labelsOut) {
        List<String> tokens = tokens(line);
        tokens.add(EOS);
        int[] out = new int[16];
        int n = 0;
        int[] hashes = new int[tokens.size()];
        int nh = 0;
        for (String token : tokens) {
            byte[] bytes = token.getBytes(StandardCharsets.UTF_8);
            int h = hash(bytes);
            Integer id = ids.get(token);
            boolean label = id != null ? entries.get(id).type == 1 : token.startsWith(LABEL_PREFIX);
            if (!label) {
                if (id == null) {
                    if (!token.equals(EOS) && maxn > 0) {
                        for (int s : subwords(bytes)) out = push(out, n++, s);
                    }
                } else if (maxn <= 0) {
                    out = push(out, n++, id);
                } else {
                    out = push(out, n++, id);
                    if (!token.equals(EOS)) for (int s : subwords(bytes)) out = push(out, n++, s);
                }
                hashes[nh++] = h;
            } else if (id != null && labelsOut != null) {
                labelsOut.add(id - nwords);
            }
        }
        for (int i = 0; i < nh; i++) {
            long h = hashes[i]; // int32 → uint64, sign-extended as in fastText
            for (int j = i + 1; j < nh && j < i + wordNgrams; j++) {
                h = h * 116049371L + hashes[j];
                int row = bucketRow((int) Long.remainderUnsigned(h, bucket));
                if (row >= 0) out = push(out, n++, row);
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** Character n-grams of "&lt;word&gt;" (UTF-8 aware, minn..maxn characters), as bucket rows. */
    private List<Integer> subwords(byte[] word) {
        byte[] w = new byte[word.length + 2];
        w[0] = '<';
        System.arraycopy(word, 0, w, 1, word.length);
        w[w.length - 1] = '>';
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < w.length; i++) {
            if ((w[i] & 0xC0) == 0x80) continue;
            int j = i;
            for (int n = 1; j < w.length && n <= maxn; n++) {
                j++;
                while (j < w.length && (w[j] & 0xC0) == 0x80) j++;
                if (n >= minn && !(n == 1 && (i == 0 || j == w.length))) {
                    int row = bucketRow(Integer.remainderUnsigned(hash(java.util.Arrays.copyOfRange(w, i, j)), bucket));
                    if (row >= 0) out.add(row);
                }
            }
        }
        return out;
    }

    private int bucketRow(int id) {
        if (pruneIndex == null) return nwords + id;
        Integer r = pruneIndex.get(id);
        return r == null ? -1 : nwords + r;
    }

    private static int[] push(int[] a, int n, int v) {
        if (n == a.length) a = java.util.Arrays.copyOf(a, 2 * n);
        a[n] = v;
        return a;
    }

    /** Whitespace-separated tokens, whitespace being fastText's: space, \n, \r, \t, \v, \f and \0. */
    static List<String> tokens(String line) {
        List<String> out = new ArrayList<>();
        int n = line.length(), i = 0;
        while (i < n) {
            while (i < n && isSpace(line.charAt(i))) i++;
            int s = i;
            while (i < n && !isSpace(line.charAt(i))) i++;
            if (i > s) out.add(line.substring(s, i));
        }
        return out;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0x0B || c == '\f' || c == 0;
    }
}
