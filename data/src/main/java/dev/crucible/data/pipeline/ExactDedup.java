package dev.crucible.data.pipeline;

/** exact_dedup: documents with identical text (a 128-bit hash of it: two keys) keep only the first. */
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
        // Both halves must match: one combined key from two independent 64-bit hashes.
        long a = Hashing.hash(doc.text(), 0x51AB1E), b = Hashing.hash(doc.text(), 0xC0FFEE);
        return new long[] {Hashing.mix(a ^ Long.rotateLeft(b, 17))};
    }
}
