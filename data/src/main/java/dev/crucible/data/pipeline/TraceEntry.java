package dev.crucible.data.pipeline;

/**
 * One sampled document that a step removed or changed: the rule and measured value, and the text
 * (for a change, the region around the first difference, before and after).
 */
public record TraceEntry(String step, String doc, String action, String rule, String detail, String before, String after,
                         java.util.Map<String, String> fields) implements java.io.Serializable {
    static final int EXCERPT = 600;

    public static TraceEntry removed(String step, Doc doc, String rule, String detail) {
        return new TraceEntry(step, doc.id(), "removed", rule, detail, excerpt(doc.text(), 0), null, doc.fields());
    }

    static TraceEntry changed(String step, Doc before, Doc after, String rule, String detail) {
        String a = before.text(), b = after.text();
        int i = 0, n = Math.min(a.length(), b.length());
        while (i < n && a.charAt(i) == b.charAt(i)) i++;
        int from = Math.max(0, i - 100);
        return new TraceEntry(step, before.id(), "changed", rule, detail, excerpt(a, from), excerpt(b, from), before.fields());
    }

    static String excerpt(String text, int from) {
        if (from > 0 && from < text.length() && Character.isLowSurrogate(text.charAt(from))) from--;
        int to = Math.min(text.length(), from + EXCERPT);
        if (to < text.length() && Character.isHighSurrogate(text.charAt(to - 1))) to--;
        return (from > 0 ? "…" : "") + text.substring(Math.min(from, text.length()), to) + (to < text.length() ? "…" : "");
    }
}
