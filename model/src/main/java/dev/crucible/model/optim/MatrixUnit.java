package dev.crucible.model.optim;

import dev.crucible.model.HfFormat;
import dev.crucible.model.ParamLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A matrix as a matrix optimizer (Muon, GaLore, SWAN, SinkGD) sees it: one HF tensor (Llama's q, k
 * and v projections apart, as transformers holds them; GPT-2's fused c_attn whole), rows × cols in
 * torch.nn.Linear's [out, in] orientation at offset in the flat parameters, whatever orientation HF
 * stores it in.
 */
record MatrixUnit(HfFormat.HfTensor hf, int offset, int rows, int cols) {
    String name() {
        return hf.hfName();
    }

    int size() {
        return rows * cols;
    }

    /** A state tensor of this matrix's shape, held [out, in], in HF's orientation of the parameter ([in, out] for GPT-2's Conv1D). */
    float[] toHf(float[] own) {
        return HfFormat.extract(hf, own, -hf.rowStart() * cols);
    }

    /** Inverse of {@link #toHf}. */
    void fromHf(float[] values, float[] own) {
        HfFormat.insert(hf, values, own, -hf.rowStart() * cols);
    }

    /** The decoupled step of the matrix optimizers: W ← W·decay − step·update, update held [out, in] from index 0. */
    void descend(float[] params, float[] update, float decay, float step) {
        for (int i = 0, q = offset; i < size(); i++, q++) params[q] = params[q] * decay - step * update[i];
    }

    static List<MatrixUnit> of(ParamLayout layout, List<ParamLayout.Tensor> tensors) {
        Set<ParamLayout.Tensor> mine = new HashSet<>(tensors);
        List<MatrixUnit> out = new ArrayList<>();
        for (HfFormat.HfTensor h : HfFormat.tensors(layout)) {
            if (!mine.contains(h.source())) continue;
            int cols = h.source().cols();
            out.add(new MatrixUnit(h, h.source().offset() + h.rowStart() * cols, h.rows(), cols));
        }
        return out;
    }
}
