package dev.crucible.model.optim;

import dev.crucible.model.HfFormat;
import dev.crucible.model.Safetensors;
import dev.crucible.tensor.Momentum;
import dev.crucible.tensor.NewtonSchulz;
import dev.crucible.tensor.WorkerPool;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Muon (Keller Jordan's muon.py; Moonlight's toy_train.py): Nesterov momentum, orthogonalised by
 * ns_steps quintic Newton–Schulz steps, scaled by the matrix's shape. Keller's form keeps
 * m = β·m + (1−β)·g and applies u = (1−β)·g + β·m with scale sqrt(max(1, out/in)); Moonlight's keeps
 * m = β·m + g, u = g + β·m, with scale 0.2·sqrt(max(out, in)) so that the update's RMS matches
 * AdamW's. Newton–Schulz normalises u, so the two forms differ only in that scale. Weight decay is
 * decoupled: W ← W·(1 − lr·wd) − lr·scale·NS(u). State momentum_buffer per matrix.
 */
final class MuonRule implements SplitRule {
    private final Hyperparameters h;
    private final List<MatrixUnit> units;
    private final NewtonSchulz[] ns; // one per worker, or one on the whole pool
    private final WorkerPool pool;
    private final boolean perWorker;
    private final boolean keller;
    final float[][] momentum;
    private final float[][] u, o; // per Newton–Schulz
    private final int[] order; // units by Newton–Schulz cost, largest first
    private final WorkerPool.RangeTask partsJob = SplitRule.job(this);
    // the prepared step
    private float[] params, grads;
    private float gradScale, beta, gain, decay;
    private double rate;

    /**
     * perWorker: one Newton–Schulz per worker, each bound to its worker; whole: one on the whole pool.
     * Whole matrices per worker pay when there are enough of them to keep every worker busy and none
     * outweighs a worker's share; otherwise (few matrices, or one dominant) each matrix runs on the
     * whole pool, and no worker keeps buffers of its own.
     */
    MuonRule(List<MatrixUnit> units, Hyperparameters h, NewtonSchulz[] perWorker, NewtonSchulz whole, WorkerPool pool) {
        this.h = h;
        this.units = units;
        this.pool = pool;
        this.keller = h.shapeScale().equals(Hyperparameters.KELLER);
        this.momentum = new float[units.size()][];
        for (int i = 0; i < units.size(); i++) momentum[i] = new float[units.get(i).size()];
        order = java.util.stream.IntStream.range(0, units.size()).boxed()
                .sorted(java.util.Comparator.comparingDouble((Integer k) -> -cost(units.get(k)))).mapToInt(Integer::intValue).toArray();
        double total = units.stream().mapToDouble(MuonRule::cost).sum(), largest = order.length == 0 ? 0 : cost(units.get(order[0]));
        int workers = pool.size();
        this.perWorker = workers > 1 && units.size() >= 2 * workers && largest <= total / workers;
        this.ns = this.perWorker ? perWorker : new NewtonSchulz[] {whole};
        u = new float[ns.length][0];
        o = new float[ns.length][0];
    }

    /** Newton–Schulz's flops for a matrix, as NewtonSchulz counts them (Gram form when it is not square). */
    private static double cost(MatrixUnit mu) {
        double p = Math.min(mu.rows(), mu.cols()), q = Math.max(mu.rows(), mu.cols());
        return q > p ? 3 * p * p * q + 17 * p * p * p : 20 * p * p * p;
    }

    /** The update's scale for an out × in matrix. */
    static double shapeScale(boolean keller, int out, int in) {
        return keller ? Math.sqrt(Math.max(1.0, (double) out / in)) : 0.2 * Math.sqrt(Math.max(out, in));
    }

    /**
     * Each matrix's update is independent of the others': the workers take whole matrices, largest
     * first, each orthogonalising on its own GEMM (inline on that worker). Small products split over
     * workers spend a large part of their time waiting on each other; whole matrices do not. Every
     * product gives the same bits on one worker as on several, so the step is the same as serial.
     */
    @Override
    public void step(float[] params, float[] grads, float gradScale, double lr, double baseLr, long t) {
        prepare(params, grads, gradScale, lr, baseLr, t);
        if (perWorker) pool.forRange(order.length, order.length, partsJob);
        else for (int i = 0; i < order.length; i++) part(i, 0); // on this thread, each product on the whole pool (ns[0] is bound to no worker)
    }

    /** Whole matrices per worker, when {@link #MuonRule} chose them; otherwise each matrix runs on the whole pool, in {@link #step}. */
    @Override
    public int parts() {
        return perWorker ? order.length : 0;
    }

    @Override
    public boolean elementwise() {
        return false;
    }

    @Override
    public void prepare(float[] params, float[] grads, float gradScale, double lr, double baseLr, long t) {
        this.params = params;
        this.grads = grads;
        this.gradScale = gradScale;
        this.rate = UpdateRule.rate(h.lr(), lr, baseLr);
        this.beta = h.momentum().floatValue();
        this.gain = keller ? 1 - beta : 1f;
        this.decay = (float) (1 - rate * h.weightDecay());
    }

    /** The i-th matrix by cost: momentum, Newton–Schulz on worker w's scratch, the step. */
    @Override
    public void part(int i, int w) {
        int k = order[i];
        MatrixUnit mu = units.get(k);
        float[] mom = momentum[k];
        int n = mu.size();
        if (u[w].length < n) {
            u[w] = new float[n];
            o[w] = new float[n];
        }
        float[] uw = u[w], ow = o[w];
        double ss = Momentum.nesterov(grads, mu.offset(), gradScale, gain, beta, mom, uw, n);
        ns[w].quintic(uw, 0, mu.rows(), mu.cols(), ss, h.nsSteps(), ow, 0);
        // the update whole, then one rounding of each weight (added by the GEMM, a weight would take one per KC block)
        float step = (float) (rate * shapeScale(keller, mu.rows(), mu.cols()));
        mu.descend(params, ow, decay, step);
    }

    @Override
    public List<Safetensors.Source> state() {
        List<Safetensors.Source> out = new ArrayList<>();
        for (int k = 0; k < units.size(); k++) {
            MatrixUnit mu = units.get(k);
            float[] mom = momentum[k];
            out.add(new Safetensors.Source(mu.name() + ".momentum_buffer", mu.hf().shape(), () -> mu.toHf(mom)));
        }
        return out;
    }

    @Override
    public void load(Safetensors.TensorSource file) throws IOException {
        for (int k = 0; k < units.size(); k++) {
            MatrixUnit mu = units.get(k);
            mu.fromHf(HfFormat.read(file, mu.name() + ".momentum_buffer", mu.hf().shape()), momentum[k]);
        }
    }
}
