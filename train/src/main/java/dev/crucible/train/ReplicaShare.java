package dev.crucible.train;

import dev.crucible.model.Batch;
import dev.crucible.model.TrainStep;

/**
 * One replica's share of every step's rows in data-parallel training: of the step's replicas ·
 * accumulation micro-batches, rank r takes the contiguous r·accumulation to (r+1)·accumulation - 1,
 * and passes over the other replicas' rows without reading them. The stream then stands at the same
 * place on every replica after a step, where the single process's would, so the data order, the
 * checkpoint's data state and a resume do not depend on the number of replicas.
 */
final class ReplicaShare implements TrainStep.BatchSource {
    private final DataMixture mixture;
    private final long before, after;
    private final int accumulation;
    private int micro;

    ReplicaShare(DataMixture mixture, int rank, int replicas, int accumulation, int microBatch) {
        this.mixture = mixture;
        this.accumulation = accumulation;
        this.before = (long) rank * accumulation * microBatch;
        this.after = (long) (replicas - rank - 1) * accumulation * microBatch;
    }

    @Override
    public void next(Batch batch) {
        if (micro == 0) mixture.skip(before);
        mixture.next(batch.inputs(), batch.targets());
        if (++micro == accumulation) {
            mixture.skip(after);
            micro = 0;
        }
    }
}
