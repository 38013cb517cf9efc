package dev.crucible.model.optim;

import dev.crucible.model.HfFormat;
import dev.crucible.model.ParamLayout;
import dev.crucible.model.Safetensors;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam's two moments (exp_avg m, exp_avg_sq v) for some parameter tensors: one compact index per
 * parameter, tensors in buffer order, so that tensors next to each other in the parameters form one
 * range that a fused kernel updates in one pass. The moments leave shaped and named as the HF
 * tensors of model.safetensors, with the suffixes .exp_avg and .exp_avg_sq.
 */
final class Moments {
    /** Parameters [start, end) whose state begins at stateStart. */
    record Range(int start, int end, int stateStart) {}

    private final ParamLayout layout;
    private final List<Range> ranges = new ArrayList<>();
    private final Map<ParamLayout.Tensor, Integer> at = new HashMap<>();
    final float[] m, v;

    Moments(ParamLayout layout, List<ParamLayout.Tensor> tensors) {
        this.layout = layout;
        int n = 0;
        for (ParamLayout.Tensor t : tensors) {
            at.put(t, n);
            Range last = ranges.isEmpty() ? null : ranges.getLast();
            if (last != null && last.end() == t.offset()) ranges.set(ranges.size() - 1, new Range(last.start(), t.end(), last.stateStart()));
            else ranges.add(new Range(t.offset(), t.end(), n));
            n += t.size();
        }
        this.m = new float[n];
        this.v = new float[n];
    }

    List<Range> ranges() {
        return ranges;
    }

    /** The HF tensors of these parameters. */
    List<HfFormat.HfTensor> hfTensors() {
        List<HfFormat.HfTensor> out = new ArrayList<>();
        for (HfFormat.HfTensor h : HfFormat.tensors(layout)) if (at.containsKey(h.source())) out.add(h);
        return out;
    }

    /** Zeroes both moments (SPAM's reset). */
    void reset() {
        java.util.Arrays.fill(m, 0f);
        java.util.Arrays.fill(v, 0f);
    }

    List<Safetensors.Source> state() {
        List<Safetensors.Source> out = new ArrayList<>(sources(m, ".exp_avg"));
        out.addAll(sources(v, ".exp_avg_sq"));
        return out;
    }

    void load(Safetensors.TensorSource file) throws IOException {
        load(file, m, ".exp_avg");
        load(file, v, ".exp_avg_sq");
    }

    private List<Safetensors.Source> sources(float[] buf, String suffix) {
        List<Safetensors.Source> out = new ArrayList<>();
        for (HfFormat.HfTensor h : hfTensors()) {
            int base = at.get(h.source());
            out.add(new Safetensors.Source(h.hfName() + suffix, h.shape(), () -> HfFormat.extract(h, buf, base)));
        }
        return out;
    }

    private void load(Safetensors.TensorSource file, float[] buf, String suffix) throws IOException {
        for (HfFormat.HfTensor h : hfTensors()) HfFormat.insert(h, HfFormat.read(file, h.hfName() + suffix, h.shape()), buf, at.get(h.source()));
    }

    /** Moments from two buffers laid out as all the parameters are (checkpoints from before state was kept per tensor). */
    void loadFlat(float[] expAvg, float[] expAvgSq) {
        for (Range r : ranges) {
            System.arraycopy(expAvg, r.start(), m, r.stateStart(), r.end() - r.start());
            System.arraycopy(expAvgSq, r.start(), v, r.stateStart(), r.end() - r.start());
        }
    }
}
