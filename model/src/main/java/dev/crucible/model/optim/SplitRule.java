package dev.crucible.model.optim;

import dev.crucible.tensor.WorkerPool;

/**
 * A rule whose step splits into independent parts (whole matrices, ranges of elements) that any worker
 * may run, in any order and at the same time, with the same bits. {@link GroupedOptimizer} runs every
 * such rule's parts in one job on the pool, so that a worker done with its share of one rule's parts
 * takes up another's instead of waiting for the other workers at the end of each: Muon's last matrices
 * left one worker waiting 1-2 ms per step while the other finished, a wait that AdamW's parts
 * (the embeddings', norms' and biases') now partly fill.
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

    /** A pool job that runs rule's parts [start, end) on the worker that takes them. */
    static WorkerPool.RangeTask job(SplitRule rule) {
        return (start, end, chunk, worker) -> {
            for (int i = start; i < end; i++) rule.part(i, worker);
        };
    }
}
