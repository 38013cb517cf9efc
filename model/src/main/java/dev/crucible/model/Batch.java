package dev.crucible.model;

/** A training micro-batch: b sequences of t input tokens and their next tokens, row-major (b·t each). */
public record Batch(int[] inputs, int[] targets, int b, int t) {
    public Batch {
        if (inputs.length < b * t || targets.length < b * t) {
            throw new IllegalArgumentException("batch " + b + "x" + t + " needs " + b * t + " tokens, got " + inputs.length + " inputs and "
                    + targets.length + " targets");
        }
    }

    public static Batch allocate(int b, int t) {
        return new Batch(new int[b * t], new int[b * t], b, t);
    }

    public int tokens() {
        return b * t;
    }
}
