package dev.crucible.model;

import dev.crucible.tensor.Norms;

/**
 * A norm of the {@link BlockPlan} bound to its kernel, over (rows, C) rows of a buffer, with the gain
 * (and for LayerNorm the bias) read from the flat parameters. Forward saves its row statistics;
 * backward adds the input gradient into dinp (a pre-norm block's skip gradient is already there)
 * and the gain and bias gradients into the flat gradient buffer.
 */
final class NormOp {
    private final BlockPlan.NormKind kind;
    private final Norms norms;
    private final float eps;

    NormOp(BlockPlan.NormKind kind, Norms norms, double eps) {
        this.kind = kind;
        this.norms = norms;
        this.eps = (float) eps;
    }

    /** mean is unused by RMSNorm. */
    void forward(float[] out, int outOff, float[] mean, float[] rstd, int statOff, float[] inp, int inpOff, float[] p, int wOff, int bOff,
                 int rows, int c) {
        switch (kind) {
            case LAYER_NORM -> norms.layerNormForward(out, outOff, mean, rstd, statOff, inp, inpOff, p, wOff, p, bOff, rows, c, eps);
            case RMS_NORM -> norms.rmsNormForward(out, outOff, rstd, statOff, inp, inpOff, p, wOff, rows, c, eps);
        }
    }

    void backward(float[] dinp, float[] grads, int wOff, int bOff, float[] dout, float[] inp, int inpOff, float[] p, float[] mean,
                  float[] rstd, int statOff, int rows, int c) {
        switch (kind) {
            case LAYER_NORM -> norms.layerNormBackward(dinp, 0, grads, wOff, grads, bOff, dout, 0, inp, inpOff, p, wOff, mean, rstd, statOff, rows, c);
            case RMS_NORM -> norms.rmsNormBackward(dinp, 0, grads, wOff, dout, 0, inp, inpOff, p, wOff, rstd, statOff, rows, c);
        }
    }
}
