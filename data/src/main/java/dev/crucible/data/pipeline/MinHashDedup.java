package dev.crucible.data.pipeline;

import java.util.List;

/**
 * minhash_dedup: near-duplicate removal by MinHash over word n-gram shingles with LSH banding, as
 * datatrove's MinhashDedupSignature takes them (5-grams, 14 bands of 8 hashes): the text simplified
 * by simplify_text (lower case, numbers to 0, punctuation removed, whitespace collapsed, accents
 * removed), split into words by word_tokenize, one shingle per run of n_grams words. A document
 * with fewer words than that has no shingles, so no signature, and is never a duplicate (datatrove
 * writes no signature for it). Two documents are duplicates when all hashes of any one band agree,
 * which for Jaccard similarity s happens with probability 1 - (1 - s^rows)^bands: with 14 x 8,
 * 0.924 at s = 0.8, 0.053 at s = 0.5 and 0.0009 at s = 0.3. The hash functions are Crucible's own,
 * so signatures are not datatrove's bit for bit; the shingle sets, and so the probabilities, are.
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

    /** The signature: for each of bands x rows hash functions, the minimum over the shingles; null without shingles. */
    long[] signature(String text) {
        List<String> words = DatatroveText.words(DatatroveText.simplify(text));
        int shingles = words.size() - ngram + 1;
        if (shingles < 1) return null; // datatrove's ngrams() yields nothing: no signature
        long[] shingleHash = new long[shingles];
        for (int i = 0; i < shingles; i++) shingleHash[i] = Hashing.hash(String.join(" ", words.subList(i, i + ngram)), 0x5EED);
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
