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
 * Where the per-element state of some parameter tensors lives: one compact buffer index per
 * parameter, tensors in buffer order, so that tensors next to each other in the parameters form one
 * range that a fused kernel updates in one pass. State tensors leave shaped and named as the HF
 * tensors of model.safetensors, with a suffix.
 */
final class ElementState {
    /** Parameters [start, end) whose state begins at stateStart. */
    record Range(int start, int end, int stateStart) {}

    private final ParamLayout layout;
    private final List<Range> ranges = new ArrayList<>();
    private final Map<ParamLayout.Tensor, Integer> at = new HashMap<>();
    private final int size;

    ElementState(ParamLayout layout, List<ParamLayout.Tensor> tensors) {
        this.layout = layout;
        int n = 0;
        for (ParamLayout.Tensor t : tensors) {
            at.put(t, n);
            Range last = ranges.isEmpty() ? null : ranges.getLast();
            if (last != null && last.end() == t.offset()) ranges.set(ranges.size() - 1, new Range(last.start(), t.end(), last.stateStart()));
            else ranges.add(new Range(t.offset(), t.end(), n));
            n += t.size();
        }
        this.size = n;
    }

    int size() {
        return size;
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

    /** Adam's two moments as state tensors: exp_avg and exp_avg_sq. */
    List<Safetensors.Source> moments(float[] m, float[] v) {
        List<Safetensors.Source> out = new ArrayList<>(sources(m, ".exp_avg"));
        out.addAll(sources(v, ".exp_avg_sq"));
        return out;
    }

    void loadMoments(Safetensors.TensorSource file, float[] m, float[] v) throws IOException {
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

    /** Copies the state of these parameters out of a buffer laid out as all the parameters are. */
    void gather(float[] flat, float[] buf) {
        for (Range r : ranges) System.arraycopy(flat, r.start(), buf, r.stateStart(), r.end() - r.start());
    }
}
