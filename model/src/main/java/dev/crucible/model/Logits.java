package dev.crucible.model;

/**
 * The logits of a forward pass: rows × vocab floats, rows ld floats apart, in a buffer the model
 * owns. A {@link Loss} may overwrite them (with probabilities, then with their gradient).
 */
public record Logits(float[] data, int ld, int rows, int vocab) {}
