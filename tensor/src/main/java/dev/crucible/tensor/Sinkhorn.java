package dev.crucible.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * SinkGD's normalisation (Scetbon et al., 2025): a matrix's rows scaled to norm sqrt(cols), then its
 * columns to norm sqrt(rows), alternately, Sinkhorn-style. Serial and vectorised along rows; an
 * optimizer runs one matrix per worker. A zero row or column stays zero.
 */
public final class Sinkhorn {
    private Sinkhorn() {}

    /** iterations rounds, in place, on the rows×cols matrix at off; colScale: scratch of at least cols floats. */
    public static void normalize(float[] a, int off, int rows, int cols, int iterations, float[] colScale) {
        float rowTarget = (float) Math.sqrt(cols), colTarget = (float) Math.sqrt(rows);
        for (int it = 0; it < iterations; it++) {
            for (int r = 0; r < rows; r++) {
                int row = off + r * cols;
                float sq = Vec.dot(a, row, a, row, cols);
                if (sq > 0) Vec.scale(a, row, cols, (float) (rowTarget / Math.sqrt(sq)));
            }
            java.util.Arrays.fill(colScale, 0, cols, 0f);
            for (int r = 0; r < rows; r++) {
                int row = off + r * cols, c = 0, bound = Vec.S.loopBound(cols);
                for (; c < bound; c += Vec.L) {
                    FloatVector x = FloatVector.fromArray(Vec.S, a, row + c);
                    Vec.fma(x, x, FloatVector.fromArray(Vec.S, colScale, c)).intoArray(colScale, c);
                }
                for (; c < cols; c++) colScale[c] = Vec.fma(a[row + c], a[row + c], colScale[c]);
            }
            for (int c = 0; c < cols; c++) colScale[c] = colScale[c] > 0 ? (float) (colTarget / Math.sqrt(colScale[c])) : 0f;
            for (int r = 0; r < rows; r++) {
                int row = off + r * cols, c = 0, bound = Vec.S.loopBound(cols);
                for (; c < bound; c += Vec.L) {
                    FloatVector.fromArray(Vec.S, a, row + c).mul(FloatVector.fromArray(Vec.S, colScale, c)).intoArray(a, row + c);
                }
                for (; c < cols; c++) a[row + c] *= colScale[c];
            }
        }
    }
}
