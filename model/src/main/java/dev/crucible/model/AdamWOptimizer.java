package dev.crucible.model;

import dev.crucible.tensor.AdamW;
import dev.crucible.tensor.WorkerPool;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (decoupled weight decay, as PyTorch's) with settings per parameter role. By default weight
 * decay applies to the hidden matrices and an untied head, never to embeddings, norm gains and
 * biases. Tensors with equal settings that lie next to each other in the flat buffer form one range,
 * and each range is one fused update. State: exp_avg and exp_avg_sq per Hugging Face tensor, shaped
 * as the tensor is in model.safetensors.
 */
public final class AdamWOptimizer implements Optimizer {
    public static final String NAME = "adamw";

    /** lr: the group's learning rate at the schedule's peak. */
    public record Settings(double lr, double beta1, double beta2, double eps, double weightDecay) {
        public Settings {
            if (!(lr > 0)) throw new IllegalArgumentException("lr: must be positive, got " + lr);
            if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1: must be in [0, 1), got " + beta1);
            if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2: must be in [0, 1), got " + beta2);
            if (!(eps > 0)) throw new IllegalArgumentException("eps: must be positive, got " + eps);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight_decay: must be >= 0, got " + weightDecay);
        }
    }

    /** The usual grouping: weight decay on the hidden matrices and the head, none elsewhere. */
    public static Map<ParamLayout.Role, Settings> defaultGroups(Settings base) {
        Map<ParamLayout.Role, Settings> m = new EnumMap<>(ParamLayout.Role.class);
        for (ParamLayout.Role r : ParamLayout.Role.values()) {
            boolean decay = r == ParamLayout.Role.HIDDEN_MATRIX || r == ParamLayout.Role.HEAD;
            m.put(r, decay ? base : new Settings(base.lr(), base.beta1(), base.beta2(), base.eps(), 0));
        }
        return m;
    }

    private record Range(int start, int end, Settings s) {}

    private final ParamLayout layout;
    private final double baseLr;
    private final List<Range> ranges = new ArrayList<>();
    private final AdamW kernel;
    public final float[] m, v;
    private long step;

    /** groups: settings for every role; baseLr: the rate the schedule is given (a group's rate is scaled by schedule / baseLr). */
    public AdamWOptimizer(ParamLayout layout, Map<ParamLayout.Role, Settings> groups, double baseLr, WorkerPool pool) {
        this.layout = layout;
        this.baseLr = baseLr;
        this.kernel = new AdamW(pool);
        this.m = new float[layout.size()];
        this.v = new float[layout.size()];
        for (ParamLayout.Tensor t : layout.tensors()) {
            Settings s = groups.get(t.role());
            if (s == null) throw new IllegalArgumentException("no AdamW settings for parameters of role " + t.role().id());
            Range last = ranges.isEmpty() ? null : ranges.getLast();
            if (last != null && last.end() == t.offset() && last.s().equals(s)) ranges.set(ranges.size() - 1, new Range(last.start(), t.end(), s));
            else ranges.add(new Range(t.offset(), t.end(), s));
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void step(float[] params, float[] grads, float gradScale, double lr) {
        step++;
        for (Range r : ranges) {
            Settings s = r.s();
            double groupLr = s.lr() == baseLr ? lr : s.lr() * (lr / baseLr);
            kernel.update(params, grads, m, v, r.start(), r.end(), (float) groupLr, (float) s.beta1(), (float) s.beta2(), (float) s.eps(),
                    (float) s.weightDecay(), gradScale, step);
        }
    }

    @Override
    public long stepCount() {
        return step;
    }

    @Override
    public List<Safetensors.Source> state() {
        List<Safetensors.Source> out = new ArrayList<>(HfFormat.sources(layout, m, ".exp_avg"));
        out.addAll(HfFormat.sources(layout, v, ".exp_avg_sq"));
        out.sort(java.util.Comparator.comparing(Safetensors.Source::name));
        return out;
    }

    @Override
    public void load(Safetensors.TensorSource state, long stepCount) throws IOException {
        HfFormat.loadSuffixed(state, layout, m, ".exp_avg");
        HfFormat.loadSuffixed(state, layout, v, ".exp_avg_sq");
        this.step = stepCount;
    }

    /**
     * Moments saved by Crucible before state was kept per tensor: two flat buffers in the parameter
     * layout of the same config, which this layout still is.
     */
    public void loadFlat(float[] expAvg, float[] expAvgSq, long stepCount) {
        if (expAvg.length != m.length || expAvgSq.length != v.length) {
            throw new IllegalArgumentException("optimizer state for " + expAvg.length + " parameters, the model has " + m.length);
        }
        System.arraycopy(expAvg, 0, m, 0, m.length);
        System.arraycopy(expAvgSq, 0, v, 0, v.length);
        this.step = stepCount;
    }
}
