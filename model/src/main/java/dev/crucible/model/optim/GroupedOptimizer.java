package dev.crucible.model.optim;

import dev.crucible.model.Safetensors;
import dev.crucible.tensor.WorkerPool;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * An {@link OptimizerRecipe} at work: its rules, each over its tensors, stepped together. The parts of
 * the rules that split ({@link SplitRule}) run in one job on the pool, the element-wise ones' last;
 * the other rules step alone, each on the whole pool. Rules own disjoint tensors, so the order
 * changes no bit.
 */
public final class GroupedOptimizer implements Optimizer {
    private final String name;
    private final double baseLr;
    private final List<UpdateRule> rules;
    private final WorkerPool pool;
    private final List<UpdateRule> alone = new ArrayList<>();
    private final SplitRule[] split;
    private final int[] firstPart; // split[r]'s parts are the job's [firstPart[r], firstPart[r + 1])
    private final WorkerPool.RangeTask partsJob = this::runParts;
    private long step;

    GroupedOptimizer(String name, double baseLr, List<UpdateRule> rules, WorkerPool pool) {
        this.name = name;
        this.baseLr = baseLr;
        this.rules = List.copyOf(rules);
        this.pool = pool;
        List<SplitRule> joint = new ArrayList<>();
        for (UpdateRule r : rules) {
            if (r instanceof SplitRule s && s.parts() > 0) joint.add(s);
            else alone.add(r);
        }
        joint.sort(Comparator.comparing(SplitRule::elementwise)); // stable: the recipe's order otherwise
        split = joint.toArray(SplitRule[]::new);
        firstPart = new int[split.length + 1];
        for (int r = 0; r < split.length; r++) firstPart[r + 1] = firstPart[r] + split[r].parts();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void step(float[] params, float[] grads, float gradScale, double lr) {
        step++;
        for (UpdateRule r : alone) r.step(params, grads, gradScale, lr, baseLr, step);
        for (SplitRule r : split) r.prepare(params, grads, gradScale, lr, baseLr, step);
        int n = firstPart[split.length];
        pool.forRange(n, n, partsJob);
    }

    private void runParts(int s, int e, int chunk, int w) {
        int r = 0;
        for (int i = s; i < e; i++) {
            while (i >= firstPart[r + 1]) r++;
            split[r].part(i - firstPart[r], w);
        }
    }

    @Override
    public long stepCount() {
        return step;
    }

    @Override
    public List<Safetensors.Source> state() {
        List<Safetensors.Source> out = new ArrayList<>();
        for (UpdateRule r : rules) out.addAll(r.state());
        out.sort(Comparator.comparing(Safetensors.Source::name));
        return out;
    }

    /** Bytes of optimizer state (float32), what a checkpoint's optimizer.safetensors holds besides its header. */
    public long stateBytes() {
        long n = 0;
        for (Safetensors.Source s : state()) {
            long e = 1;
            for (int d : s.shape()) e *= d;
            n += e;
        }
        return 4 * n;
    }

    @Override
    public void load(Safetensors.TensorSource file, long stepCount) throws IOException {
        for (UpdateRule r : rules) r.load(file);
        Set<String> mine = new HashSet<>();
        for (Safetensors.Source s : state()) mine.add(s.name());
        for (String n : file.entries().keySet()) {
            if (!mine.contains(n)) {
                throw new IOException(file.where() + ": tensor '" + n + "' is not state of this optimizer (" + name
                        + " with the config's groups); was the run started with other optimizer groups?");
            }
        }
        this.step = stepCount;
    }

    /**
     * AdamW moments saved by Crucible before state was kept per tensor: two buffers laid out as all
     * the parameters; every rule must be AdamW's.
     */
    public void loadFlat(float[] expAvg, float[] expAvgSq, long stepCount) {
        int total = 0;
        for (UpdateRule r : rules) {
            if (!(r instanceof AdamWRule a)) throw new IllegalArgumentException("flat optimizer state is AdamW's; this optimizer is " + name);
            total += a.moments.m.length;
        }
        if (expAvg.length != total || expAvgSq.length != total) {
            throw new IllegalArgumentException("optimizer state for " + expAvg.length + " parameters, the model has " + total);
        }
        for (UpdateRule r : rules) ((AdamWRule) r).moments.loadFlat(expAvg, expAvgSq);
        this.step = stepCount;
    }
}
