package dev.crucible.data.pipeline;

/**
 * exact_dedup: documents with identical text keep only the first. The key is a 64-bit hash of the
 * text: two different texts collide with probability about n^2 / 2^65 (3e-8 for a million documents).
 */
record ExactDedup() implements Dedup {
    static ExactDedup of(Params p) {
        return new ExactDedup();
    }

    @Override
    public String name() {
        return "exact_dedup";
    }

    @Override
    public long[] keys(Doc doc) {
        return new long[] {Hashing.hash(doc.text(), 0x51AB1E)};
    }
}
