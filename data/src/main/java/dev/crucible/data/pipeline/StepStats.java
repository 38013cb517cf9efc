package dev.crucible.data.pipeline;

import java.util.Map;
import java.util.TreeMap;

/** What one recipe step did, over the whole run: documents and bytes in and out, time, rules that fired. */
public final class StepStats implements java.io.Serializable {
    public final String label;
    public long docsIn, docsOut, bytesIn, bytesOut, changed, removed, nanos;
    public final Map<String, Long> rules = new TreeMap<>();

    public StepStats(String label) {
        this.label = label;
    }

    public void add(StepStats o) {
        docsIn += o.docsIn;
        docsOut += o.docsOut;
        bytesIn += o.bytesIn;
        bytesOut += o.bytesOut;
        changed += o.changed;
        removed += o.removed;
        nanos += o.nanos;
        o.rules.forEach((k, v) -> rules.merge(k, v, Long::sum));
    }
}
