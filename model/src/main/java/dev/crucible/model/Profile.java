package dev.crucible.model;

import java.util.LinkedHashMap;
import java.util.Map;

/** Wall time per kind of operation in forward and backward, off unless enabled; allocation-free while running. */
public final class Profile {
    public enum Op { EMBEDDING, NORM, MATMUL, ROPE, ATTENTION, ACTIVATION, RESIDUAL, LOSS, LM_HEAD }

    private final long[] forward = new long[Op.values().length], backward = new long[Op.values().length];
    private boolean enabled;
    private long mark;

    public void enable(boolean on) {
        enabled = on;
    }

    void start() {
        if (enabled) mark = System.nanoTime();
    }

    void stop(Op op, boolean isBackward) {
        if (!enabled) return;
        long now = System.nanoTime();
        (isBackward ? backward : forward)[op.ordinal()] += now - mark;
        mark = now;
    }

    public void reset() {
        java.util.Arrays.fill(forward, 0);
        java.util.Arrays.fill(backward, 0);
    }

    /** Milliseconds per op: "forward.<op>" and "backward.<op>", ops with no time left out. */
    public Map<String, Double> millis() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (Op op : Op.values()) {
            if (forward[op.ordinal()] > 0) m.put("forward." + op.name().toLowerCase(java.util.Locale.ROOT), forward[op.ordinal()] / 1e6);
        }
        for (Op op : Op.values()) {
            if (backward[op.ordinal()] > 0) m.put("backward." + op.name().toLowerCase(java.util.Locale.ROOT), backward[op.ordinal()] / 1e6);
        }
        return m;
    }
}
