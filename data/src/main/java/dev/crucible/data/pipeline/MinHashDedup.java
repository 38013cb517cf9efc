package dev.crucible.data.pipeline;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * minhash_dedup: near-duplicate removal by MinHash over word n-gram shingles with LSH banding
 * (datatrove's defaults: 5-grams, 14 bands of 8 hashes). Text is simplified first (lower case,
 * accents and punctuation removed, whitespace collapsed). Two documents are duplicates when all
 * hashes of any one band agree, which for Jaccard similarity s happens with probability
 * 1 - (1 - s^rows)^bands (about 0.92 at s = 0.8 and 0.01 at s = 0.5 with the defaults).
 */
record MinHashDedup(int ngram, int bands, int rows, long[] seeds) implements Dedup {
    static MinHashDedup of(Params p) {
        int n = p.integer("n_grams", 5), bands = p.integer("num_buckets", 14), rows = p.integer("hashes_per_bucket", 8);
        if (n < 1 || bands < 1 || rows < 1) throw new IllegalArgumentException("n_grams, num_buckets and hashes_per_bucket must be at least 1");
        long seed = p.integer("seed", 1);
        long[] seeds = new long[bands * rows];
        for (int i = 0; i < seeds.length; i++) seeds[i] = Hashing.mix(seed * 0x9E3779B97F4A7C15L + i);
        return new MinHashDedup(n, bands, rows, seeds);
    }

    @Override
    public String name() {
        return "minhash_dedup";
    }

    static String simplify(String text) {
        String t = Normalizer.normalize(text.toLowerCase(Locale.ROOT), Normalizer.Form.NFD);
        StringBuilder sb = new StringBuilder(t.length());
        boolean space = true;
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            int type = Character.getType(c);
            if (type == Character.NON_SPACING_MARK) continue;
            if (Character.isLetterOrDigit(c) || Character.isSurrogate(c)) {
                sb.append(c);
                space = false;
            } else if (!space) {
                sb.append(' ');
                space = true;
            }
        }
        int e = sb.length();
        if (e > 0 && sb.charAt(e - 1) == ' ') sb.setLength(e - 1);
        return sb.toString();
    }

    /** The signature: for each of bands x rows hash functions, the minimum over the shingles. */
    long[] signature(String text) {
        String s = simplify(text);
        if (s.isEmpty()) return null;
        List<String> words = List.of(s.split(" "));
        int shingles = Math.max(1, words.size() - ngram + 1);
        long[] shingleHash = new long[shingles];
        for (int i = 0; i < shingles; i++) shingleHash[i] = Hashing.hash(String.join(" ", words.subList(i, Math.min(words.size(), i + ngram))), 0x5EED);
        long[] sig = new long[seeds.length];
        java.util.Arrays.fill(sig, Long.MAX_VALUE);
        for (long h : shingleHash) {
            for (int k = 0; k < seeds.length; k++) {
                long v = Hashing.mix(h ^ seeds[k]);
                if (v < sig[k]) sig[k] = v;
            }
        }
        return sig;
    }

    @Override
    public long[] keys(Doc doc) {
        long[] sig = signature(doc.text());
        if (sig == null) return new long[0];
        long[] keys = new long[bands];
        for (int b = 0; b < bands; b++) {
            long h = Hashing.mix(0xBA4D + b);
            for (int r = 0; r < rows; r++) h = Hashing.mix(h ^ sig[b * rows + r]) + r;
            keys[b] = h;
        }
        return keys;
    }
}
