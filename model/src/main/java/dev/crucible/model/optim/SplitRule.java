package dev.crucible.model.optim;

/**
 * A rule whose step splits into independent parts (whole matrices, ranges of elements) that any worker
 * may run, in any order and at the same time, with the same bits. {@link GroupedOptimizer} runs every
 * such rule's parts in one job on the pool, so that a worker done with its share of one rule's parts
 * takes up another's instead of waiting for the other workers at the end of each: Muon's last matrices
 * left one worker idle for 1-3 ms per step while the other finished, time that AdamW's
 * parts (the embeddings', norms' and biases') now fill.
 */
interface SplitRule extends UpdateRule {
    /** The step's parts; 0 where this rule runs its step whole, on the whole pool ({@link #step}). */
    int parts();

    /** Short memory-bound passes, which the job hands out after the others' parts so that they fill the workers' ends. */
    boolean elementwise();

    /** Fixes a step's arguments (as {@link #step} takes them) for the parts that follow; on the calling thread, before the job. */
    void prepare(float[] params, float[] grads, float gradScale, double lr, double baseLr, long t);

    /** Part i of the prepared step, on worker w inside the pool's job (the pool's own loops run inline there). */
    void part(int i, int worker);
}
