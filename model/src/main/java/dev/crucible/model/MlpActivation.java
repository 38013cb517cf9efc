package dev.crucible.model;

import dev.crucible.tensor.Activations;

/** The MLP activation of the {@link BlockPlan} bound to its kernel: (rows, inWidth) projections to (rows, hidden). */
final class MlpActivation {
    private final BlockPlan.Mlp kind;
    private final Activations act;

    MlpActivation(BlockPlan.Mlp kind, Activations act) {
        this.kind = kind;
        this.act = act;
    }

    void forward(float[] out, int outOff, float[] inp, int inpOff, int rows, int hidden) {
        switch (kind) {
            case GELU -> act.geluForward(out, outOff, inp, inpOff, rows * hidden);
            case GELU_EXACT -> act.geluExactForward(out, outOff, inp, inpOff, rows * hidden);
            case SWIGLU -> act.swigluForward(out, outOff, inp, inpOff, rows, hidden);
            case GEGLU -> act.gegluForward(out, outOff, inp, inpOff, rows, hidden);
            default -> throw new UnsupportedOperationException("no forward for MLP " + kind);
        }
    }

    /** dinp (rows, inWidth) is overwritten. */
    void backward(float[] dinp, int dinpOff, float[] inp, int inpOff, float[] dout, int doutOff, int rows, int hidden) {
        switch (kind) {
            case GELU -> act.geluBackward(dinp, dinpOff, inp, inpOff, dout, doutOff, rows * hidden);
            case GELU_EXACT -> act.geluExactBackward(dinp, dinpOff, inp, inpOff, dout, doutOff, rows * hidden);
            case SWIGLU -> act.swigluBackward(dinp, dinpOff, inp, inpOff, dout, doutOff, rows, hidden);
            case GEGLU -> act.gegluBackward(dinp, dinpOff, inp, inpOff, dout, doutOff, rows, hidden);
            default -> throw new UnsupportedOperationException("no backward for MLP " + kind);
        }
    }
}
