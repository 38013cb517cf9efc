package dev.crucible.data.pipeline;

/**
 * One step of a recipe: a plain function of a document with no hidden state, so the same recipe
 * can run on one machine or, later, on a cluster engine. A mapper returns a changed document, a
 * filter keeps or removes it; either way the outcome names the rule that fired (counted in the
 * summary) and a detail with the measured value (shown in the trace).
 */
public interface Operator {
    /** The recipe name, e.g. "text_length_filter". */
    String name();

    /**
     * Parameters as this operator resolved them from the file system when it was made (a run directory's
     * latest checkpoint, say), so that a copy made elsewhere from the recipe's text (a Spark executor's) is
     * the same operator though the files changed meanwhile; empty when the recipe's parameters say it all.
     */
    default java.util.Map<String, Object> pinned() {
        return java.util.Map.of();
    }

    Outcome apply(Doc doc);

    /** What an operator did to one document: kept as is, changed, or removed (doc null). */
    record Outcome(Doc doc, String rule, String detail) {
        public static Outcome keep(Doc doc) {
            return new Outcome(doc, null, null);
        }

        public static Outcome changed(Doc doc, String rule, String detail) {
            return new Outcome(doc, rule, detail);
        }

        public static Outcome remove(String rule, String detail) {
            return new Outcome(null, rule, detail);
        }

        public boolean removed() {
            return doc == null;
        }
    }
}
