package dev.crucible.data.pipeline;

/**
 * A de-duplication stage, split the way a cluster engine would run it: {@link #keys} is a plain
 * function of one document (the map side), and documents that share any key are duplicates (the
 * keyed shuffle). Of each group of documents connected by shared keys, the first in input order is
 * kept and the others are removed.
 */
public interface Dedup {
    String name();

    /** The keys under which this document meets its duplicates; none: it is nobody's duplicate. */
    long[] keys(Doc doc);
}
