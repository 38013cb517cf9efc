package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * Fully connected layer in the three training forms, weights stored [OC, C] (PyTorch Linear layout).
 * out[BT,OC] = inp[BT,C] · W[OC,C]ᵀ + bias; backward accumulates into dinp, dW and dbias.
 */
public final class Linear {
    private final Gemm gemm;
    private final WorkerPool pool;

    public Linear(Gemm gemm) {
        this.gemm = gemm;
        this.pool = gemm.pool();
    }

    /** out[BT,OC] = inp[BT,C] · W[OC,C]ᵀ (+ bias[OC] when bias != null). */
    public void forward(float[] out, int outOff, float[] inp, int inpOff, float[] w, int wOff, float[] bias, int biasOff,
                        int bt, int c, int oc) {
        forward(out, outOff, oc, inp, inpOff, w, wOff, bias, biasOff, bt, c, oc);
    }

    /** As {@link #forward}, with output rows ldOut floats apart (ldOut ≥ OC; a multiple of 16 keeps rows cache-line aligned). */
    public void forward(float[] out, int outOff, int ldOut, float[] inp, int inpOff, float[] w, int wOff, float[] bias, int biasOff,
                        int bt, int c, int oc) {
        gemm.multiply(bt, oc, c, inp, inpOff, c, 1, w, wOff, 1, c, out, outOff, ldOut, bias, biasOff);
    }

    /** W[OC,C] at wOff packed as the right operand Wᵀ of {@link #forward}, once for many forward passes (a copy). */
    public PackedMatrix pack(float[] w, int wOff, int c, int oc) {
        return gemm.pack(c, oc, w, wOff, 1, c);
    }

    /** As {@link #forward}, with W packed beforehand by {@link #pack}: the same bits. */
    public void forward(float[] out, int outOff, int ldOut, float[] inp, int inpOff, PackedMatrix w, float[] bias, int biasOff, int bt) {
        gemm.multiply(bt, inp, inpOff, w.rows(), 1, w, out, outOff, ldOut, bias, biasOff);
    }

    /**
     * dinp[BT,C] (+)= dout[BT,OC] · W[OC,C] (skipped when dinp is null; overwritten unless
     * accumulateInput); dW[OC,C] (+)= doutᵀ · inp (overwritten unless accumulateWeights: the same bits as
     * adding to zeros, without writing the zeros first or reading them back); dbias[OC] += column sums of
     * dout (when dbias != null).
     */
    public void backward(float[] dinp, int dinpOff, boolean accumulateInput, float[] dw, int dwOff, boolean accumulateWeights, float[] dbias,
                         int dbiasOff, float[] dout, int doutOff, float[] inp, int inpOff, float[] w, int wOff, int bt, int c,
                         int oc) {
        backward(dinp, dinpOff, accumulateInput, dw, dwOff, accumulateWeights, dbias, dbiasOff, dout, doutOff, oc, inp, inpOff, w, wOff, bt, c, oc);
    }

    /** As {@link #backward}, with dout rows ldDout floats apart. */
    public void backward(float[] dinp, int dinpOff, boolean accumulateInput, float[] dw, int dwOff, boolean accumulateWeights, float[] dbias,
                         int dbiasOff, float[] dout, int doutOff, int ldDout, float[] inp, int inpOff, float[] w, int wOff, int bt,
                         int c, int oc) {
        if (dinp != null) gemm.multiply(bt, c, oc, dout, doutOff, ldDout, 1, w, wOff, c, 1, dinp, dinpOff, c, accumulateInput);
        gemm.multiply(oc, c, bt, dout, doutOff, 1, ldDout, inp, inpOff, c, 1, dw, dwOff, c, accumulateWeights);
        if (dbias != null) biasBackward(dbias, dbiasOff, dout, doutOff, ldDout, bt, oc);
    }

    /** dbias[j] += sum over rows of dout[r, j]; each column chunk sums its rows in order. */
    private void biasBackward(float[] dbias, int dbOff, float[] dout, int doutOff, int ld, int bt, int oc) {
        int colChunks = Math.max(1, Math.min(4 * pool.size(), oc / (4 * Vec.L)));
        pool.forRange(oc, colChunks, (s, e, ch, wk) -> columnSums(dbias, dbOff, dout, doutOff, ld, bt, s, e));
    }

    /**
     * dbias[j] += sum over rows of dout[r, j] for columns [s, e), each column's rows added in order from zero. Four
     * vectors of columns at a time, in one pass down the rows: a pass per vector read each row's strip four times
     * over, 1.5-3x as long (2,048 rows of 384-1,536 columns, a scratch loop on Zen 5), for the same sums.
     */
    private static void columnSums(float[] dbias, int dbOff, float[] dout, int doutOff, int ld, int bt, int s, int e) {
        final int L = Vec.L;
        int j = s;
        for (; j + 4 * L <= e; j += 4 * L) {
            FloatVector a0 = FloatVector.zero(Vec.S), a1 = a0, a2 = a0, a3 = a0;
            for (int r = 0, o = doutOff + j; r < bt; r++, o += ld) {
                a0 = a0.add(FloatVector.fromArray(Vec.S, dout, o));
                a1 = a1.add(FloatVector.fromArray(Vec.S, dout, o + L));
                a2 = a2.add(FloatVector.fromArray(Vec.S, dout, o + 2 * L));
                a3 = a3.add(FloatVector.fromArray(Vec.S, dout, o + 3 * L));
            }
            int b = dbOff + j;
            a0.add(FloatVector.fromArray(Vec.S, dbias, b)).intoArray(dbias, b);
            a1.add(FloatVector.fromArray(Vec.S, dbias, b + L)).intoArray(dbias, b + L);
            a2.add(FloatVector.fromArray(Vec.S, dbias, b + 2 * L)).intoArray(dbias, b + 2 * L);
            a3.add(FloatVector.fromArray(Vec.S, dbias, b + 3 * L)).intoArray(dbias, b + 3 * L);
        }
        for (; j + L <= e; j += L) {
            FloatVector acc = FloatVector.zero(Vec.S);
            for (int r = 0; r < bt; r++) acc = acc.add(FloatVector.fromArray(Vec.S, dout, doutOff + r * ld + j));
            acc.add(FloatVector.fromArray(Vec.S, dbias, dbOff + j)).intoArray(dbias, dbOff + j);
        }
        for (; j < e; j++) {
            float acc = 0f;
            for (int r = 0; r < bt; r++) acc += dout[doutOff + r * ld + j];
            dbias[dbOff + j] += acc;
        }
    }
}
