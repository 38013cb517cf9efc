package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WeightQuantizerTest {
    /** The spec's test: without the clip search, [−3.5, 1.25, 0.5, 3.5] gives [−3.5, 1.0, 0.5, 3.5] (2.5 rounds to 2). */
    @Test
    void roundToNearestEvenPerRow() {
        float[] w = {-3.5f, 1.25f, 0.5f, 3.5f};
        new WeightQuantizer(4, false).quantizeRow(w, 0, 4);
        assertArrayEquals(new float[] {-3.5f, 1.0f, 0.5f, 3.5f}, w);
    }

    /** With one outlier the clip search shrinks the scale: the row's error (norm 2.4) is smaller than without it. */
    @Test
    void clipSearchLowersTheErrorAndLeavesNormsAndHeadAlone() {
        float[] row = new float[64];
        for (int i = 0; i < row.length; i++) row[i] = (float) Math.sin(i * 0.7) * 0.1f;
        row[5] = 1.0f; // an outlier
        float[] plain = row.clone(), searched = row.clone();
        new WeightQuantizer(4, false).quantizeRow(plain, 0, row.length);
        new WeightQuantizer(4, true).quantizeRow(searched, 0, row.length);
        assertTrue(error(row, searched) < error(row, plain), error(row, searched) + " vs " + error(row, plain));
        ModelConfig c = ModelConfig.llamaBuilder(30, 8, 1, 2, 1, 8).tieEmbeddings(false).build();
        ParamLayout layout = new ParamLayout(c);
        float[] p = new float[layout.size()];
        layout.initialize(p, 3);
        float[] q = new WeightQuantizer(4, true).apply(layout, p);
        for (ParamLayout.Tensor t : layout.tensors()) {
            boolean changed = false;
            for (int i = t.offset(); i < t.end(); i++) changed |= p[i] != q[i];
            assertEquals(t.role() == ParamLayout.Role.HIDDEN_MATRIX, changed, t.name());
        }
    }

    private static double error(float[] a, float[] b) {
        double e = 0;
        for (int i = 0; i < a.length; i++) e += Math.pow(Math.abs(a[i] - b[i]), 2.4);
        return e;
    }
}
