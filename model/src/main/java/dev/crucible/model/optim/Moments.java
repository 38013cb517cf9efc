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
 * range, cut into parts that the workers update one fused pass each. The moments leave shaped and named as the HF
 * tensors of model.safetensors, with the suffixes .exp_avg and .exp_avg_sq.
 */
final class Moments {
    /** Parameters [start, end) whose state begins at stateStart. */
    record Range(int start, int end, int stateStart) {}

    private final ParamLayout layout;
    private final List<Range> ranges = new ArrayList<>();
    private final Map<ParamLayout.Tensor, Integer> at = new HashMap<>();
    /** Parts [partStart[i], partEnd[i]) of the ranges, state at partState[i], for the workers to take one at a time. */
    private final int[] partStart, partEnd, partState;
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
        int parts = 0;
        for (Range r : ranges) parts += Math.ceilDiv(r.end() - r.start(), PART);
        partStart = new int[parts];
        partEnd = new int[parts];
        partState = new int[parts];
        int i = 0;
        for (Range r : ranges) {
            for (int s = r.start(), e; s < r.end(); s = e, i++) {
                e = s + Math.min(PART, r.end() - s); // not s + PART, which a range ending near Integer.MAX_VALUE would overflow
                partStart[i] = s;
                partEnd[i] = e;
                partState[i] = r.stateStart() + (s - r.start());
            }
        }
    }

    /**
     * Elements per part: a pass over one (its parameters, gradients and moments, 3.5 MB) takes about a
     * tenth of a millisecond, against which taking it (an atomic increment) is nothing, and the last
     * ones still even out the workers' ends. Parts of 2^15 elements were no faster for AdamW alone and
     * perhaps slower (more streams for the prefetchers to pick up). A multiple of every vector length,
     * so that within a range only the last part has a scalar tail.
     */
    static final int PART = 1 << 17;

    /** The ranges cut into parts of at most {@link #PART} elements, in order. */
    int parts() {
        return partStart.length;
    }

    int partStart(int i) {
        return partStart[i];
    }

    int partEnd(int i) {
        return partEnd[i];
    }

    /** Where part i's state begins in m and v. */
    int partState(int i) {
        return partState[i];
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
