package dev.crucible.model;

import dev.crucible.tensor.Elementwise;
import dev.crucible.tensor.Norms;

/**
 * A norm of the {@link BlockPlan} bound to its kernel, over (rows, C) rows of a buffer, with the gain
 * (and for LayerNorm the bias) read from the flat parameters; the non-parametric LayerNorm has neither, the offset RMSNorm's is 1 + w. Forward saves its row statistics;
 * backward writes or adds the input gradient into dinp ({@link Input}) and adds the gain and bias
 * gradients into the flat gradient buffer. With a scale other than 1 (LayerNorm Scaling) the output
 * is multiplied by it, and backward first multiplies dout by it, in place.
 */
final class NormOp {
    /** What backward does with dinp: overwrite it, or add to it (a residual's other path already left its gradient there). */
    enum Input { WRITE, ADD }

    private final BlockPlan.NormKind kind;
    private final Norms norms;
    private final Elementwise elementwise;
    private final float eps, scale;
    /**
     * Single-Scale RMSNorm: the scalar gain spread over a vector for the kernel, and the kernel's gain gradient before it is
     * summed; the non-parametric LayerNorm: a gain of ones and a bias of zeros for the kernel (so its output is the normalised
     * input exactly), whose gradients it drops into gainGrad.
     */
    private float[] gainVector = new float[0], gainGrad = new float[0], zeros = new float[0];

    NormOp(BlockPlan.NormKind kind, Norms norms, Elementwise elementwise, double eps, float scale) {
        this.kind = kind;
        this.norms = norms;
        this.elementwise = elementwise;
        this.eps = (float) eps;
        this.scale = scale;
    }

    private float[] zeros(int c) {
        if (zeros.length < c) zeros = new float[c];
        return zeros;
    }

    /** Gemma's gain, 1 + w, for the kernel: the sum rounded to float32 as GemmaRMSNorm's (1.0 + weight.float()) is. */
    private float[] offset(float[] p, int wOff, int c) {
        if (gainVector.length < c) gainVector = new float[c];
        for (int i = 0; i < c; i++) gainVector[i] = 1f + p[wOff + i];
        return gainVector;
    }

    private float[] spread(float gain, int c) {
        if (gainVector.length < c) gainVector = new float[c];
        java.util.Arrays.fill(gainVector, 0, c, gain);
        return gainVector;
    }

    /** mean is unused by RMSNorm. */
    void forward(float[] out, int outOff, float[] mean, float[] rstd, int statOff, float[] inp, int inpOff, float[] p, int wOff, int bOff,
                 int rows, int c) {
        switch (kind) {
            case LAYER_NORM -> norms.layerNormForward(out, outOff, mean, rstd, statOff, inp, inpOff, p, wOff, p, bOff, rows, c, eps);
            case RMS_NORM -> norms.rmsNormForward(out, outOff, rstd, statOff, inp, inpOff, p, wOff, rows, c, eps);
            case SINGLE_SCALE_RMS_NORM -> norms.rmsNormForward(out, outOff, rstd, statOff, inp, inpOff, spread(p[wOff], c), 0, rows, c, eps);
            case NONPARAMETRIC_LAYER_NORM -> norms.layerNormForward(out, outOff, mean, rstd, statOff, inp, inpOff, spread(1f, c), 0, zeros(c), 0, rows, c, eps);
            case OFFSET_RMS_NORM -> norms.rmsNormForward(out, outOff, rstd, statOff, inp, inpOff, offset(p, wOff, c), 0, rows, c, eps);
            default -> throw new UnsupportedOperationException("no forward for norm " + kind);
        }
        if (scale != 1f) elementwise.scale(out, outOff, rows * c, scale);
    }

    void backward(float[] dinp, Input mode, float[] grads, int wOff, int bOff, float[] dout, float[] inp, int inpOff, float[] p, float[] mean,
                  float[] rstd, int statOff, int rows, int c) {
        boolean add = mode == Input.ADD;
        if (scale != 1f) elementwise.scale(dout, 0, rows * c, scale);
        switch (kind) {
            case LAYER_NORM -> norms.layerNormBackward(dinp, 0, add, grads, wOff, grads, bOff, dout, 0, inp, inpOff, p, wOff, mean, rstd, statOff, rows, c);
            case RMS_NORM -> norms.rmsNormBackward(dinp, 0, add, grads, wOff, dout, 0, inp, inpOff, p, wOff, rstd, statOff, rows, c);
            case SINGLE_SCALE_RMS_NORM -> {
                if (gainGrad.length < c) gainGrad = new float[c];
                java.util.Arrays.fill(gainGrad, 0, c, 0f);
                norms.rmsNormBackward(dinp, 0, add, gainGrad, 0, dout, 0, inp, inpOff, spread(p[wOff], c), 0, rstd, statOff, rows, c);
                double sum = 0; // d(scalar gain) = Σ over the vector of the per-element gain gradients, in a fixed order
                for (int i = 0; i < c; i++) sum += gainGrad[i];
                grads[wOff] += (float) sum;
            }
            case NONPARAMETRIC_LAYER_NORM -> {
                // the kernel sums the gain's and bias's gradients in the same pass as the input's: a few percent of a norm's
                // backward, spent on values nothing reads, rather than a second kernel
                if (gainGrad.length < 2 * c) gainGrad = new float[2 * c];
                norms.layerNormBackward(dinp, 0, add, gainGrad, 0, gainGrad, c, dout, 0, inp, inpOff, spread(1f, c), 0, mean, rstd, statOff, rows, c);
            }
            // d(1 + w)/dw = 1: the gain's gradient is w's
            case OFFSET_RMS_NORM -> norms.rmsNormBackward(dinp, 0, add, grads, wOff, dout, 0, inp, inpOff, offset(p, wOff, c), 0, rstd, statOff, rows, c);
            default -> throw new UnsupportedOperationException("no backward for norm " + kind);
        }
    }
}
