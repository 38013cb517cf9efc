package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LayerStatsTest {
    /** The spec's test: the uncentred numerator over the unbiased variance gives exactly 1 for [0, 0, 0, 4] (centred: −0.667, then 0). */
    @Test
    void kurtosisAsTheOspScriptComputesIt() {
        assertEquals(1.0, LayerStats.excessKurtosis(new float[] {0, 0, 0, 4}, 1, 4), 0);
        // a flat row has negative excess kurtosis, which ReLU makes 0; rows are averaged
        assertEquals(0.5, LayerStats.excessKurtosis(new float[] {1, 1, -1, -1, 0, 0, 0, 4}, 2, 4), 0);
    }

    @Test
    void angularDistanceIsTheAngleOverPi() {
        float[] a = {1, 0, 0, 1}, same = {2, 0, 0, 3}, opposite = {-1, 0, 0, -1}, orthogonal = {0, 1, 1, 0};
        assertEquals(0, LayerStats.angularDistance(a, new float[] {3, 0, 0, 3}, 1, 4), 1e-12);
        assertEquals(1, LayerStats.angularDistance(a, opposite, 1, 4), 1e-12);
        assertEquals(0.5, LayerStats.angularDistance(a, orthogonal, 1, 4), 1e-12);
        assertEquals(Math.acos(5 / Math.sqrt(2 * 13)) / Math.PI, LayerStats.angularDistance(a, same, 1, 4), 1e-12);
        assertEquals(0.75, LayerStats.angularDistance(new float[] {1, 0, 1, 0}, new float[] {-1, 0, 0, 1}, 2, 2), 1e-12, "rows are averaged");
    }
}
