package dev.crucible.data.pipeline;

/**
 * sample_filter: keeps a fixed fraction of documents, chosen by a hash of the document id and the
 * seed, so the same documents are kept on every run and on any number of threads (for trying a
 * recipe on part of a corpus).
 */
record SampleFilter(double fraction, long seed) implements Operator {
    static SampleFilter of(Params p) {
        double f = p.number("fraction", 0.1);
        if (!(f > 0 && f <= 1)) throw new IllegalArgumentException("parameter 'fraction' must be in (0, 1], got " + f);
        return new SampleFilter(f, p.integer("seed", 0));
    }

    @Override
    public String name() {
        return "sample_filter";
    }

    @Override
    public Outcome apply(Doc doc) {
        double u = (Hashing.hash(doc.id(), seed) >>> 11) * 0x1.0p-53;
        return u < fraction ? Outcome.keep(doc) : Outcome.remove("not_sampled", String.format(java.util.Locale.ROOT, "not in the %.3g sample", fraction));
    }
}
