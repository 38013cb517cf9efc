package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** OSP's EmbProj (spec §10): the projections' initialisation and their place in 4-bit evaluation. */
class EmbeddingProjectionTest {
    private static final ModelConfig CFG = ModelConfig.llamaBuilder(31, 8, 2, 2, 2, 24).embeddingProjection(true).build();

    @Test
    void projectionsStartOrthogonalAndDistinct() {
        ParamLayout layout = new ParamLayout(CFG);
        float[] p = new float[layout.size()];
        layout.initialize(p, 11);
        int d = CFG.dModel();
        for (int off : new int[] {layout.embedProj(), layout.headProj()}) {
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    double dot = 0;
                    for (int k = 0; k < d; k++) dot += (double) p[off + i * d + k] * p[off + j * d + k];
                    assertEquals(i == j ? 1 : 0, dot, 1e-6, "R·Rᵀ at (" + i + ", " + j + ")");
                }
            }
        }
        float[] r1 = Arrays.copyOfRange(p, layout.embedProj(), layout.embedProj() + d * d);
        float[] r2 = Arrays.copyOfRange(p, layout.headProj(), layout.headProj() + d * d);
        assertTrue(!Arrays.equals(r1, r2), "R1 and R2 are drawn from streams of their own");
        float[] again = new float[layout.size()];
        layout.initialize(again, 11);
        assertArrayEquals(p, again, "the same seed draws the same projections");
        assertEquals(ParamLayout.Role.HIDDEN_MATRIX, layout.tensor(ParamLayout.EMBED_PROJ).role(), "matrices the optimizer's hidden group trains (Muon in OSP)");
    }

    @Test
    void fourBitEvaluationLeavesTheProjectionsAsTheDeployedModelHasThem() {
        ParamLayout layout = new ParamLayout(CFG);
        float[] p = new float[layout.size()];
        layout.initialize(p, 3);
        float[] q = new WeightQuantizer(4, true).apply(layout, p);
        int d = CFG.dModel();
        for (int off : new int[] {layout.embedProj(), layout.headProj()}) {
            assertArrayEquals(Arrays.copyOfRange(p, off, off + d * d), Arrays.copyOfRange(q, off, off + d * d));
        }
        ParamLayout.Tensor hidden = layout.tensors().stream()
                .filter(t -> t.role() == ParamLayout.Role.HIDDEN_MATRIX && !layout.isEmbeddingProjection(t)).findFirst().orElseThrow();
        assertTrue(!Arrays.equals(Arrays.copyOfRange(p, hidden.offset(), hidden.end()), Arrays.copyOfRange(q, hidden.offset(), hidden.end())),
                "the hidden matrices are quantised");
    }
}
