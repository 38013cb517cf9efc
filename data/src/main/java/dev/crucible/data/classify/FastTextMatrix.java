package dev.crucible.data.classify;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A fastText weight matrix: dense (rows of floats, in memory or mapped from a .bin file, which may be
 * larger than the heap) or product-quantised (.ftz: each row a code per sub-vector into 256
 * centroids, optionally times a quantised norm). Only the two operations a classifier needs.
 */
sealed interface FastTextMatrix permits FastTextMatrix.Dense, FastTextMatrix.Quantized {
    ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    long rows();

    int cols();

    /** acc += scale · row i. */
    void addRow(float[] acc, int i, float scale);

    /** row i · v. */
    float dot(int i, float[] v);

    /** Row-major floats, little-endian (a heap array or a region of a mapped file). */
    record Dense(MemorySegment data, long rows, int cols) implements FastTextMatrix {
        static Dense of(float[] values, int cols) {
            return new Dense(MemorySegment.ofArray(values), values.length / cols, cols);
        }

        @Override
        public void addRow(float[] acc, int i, float scale) {
            long base = (long) i * cols;
            for (int j = 0; j < cols; j++) acc[j] += scale * data.getAtIndex(FLOAT, base + j);
        }

        @Override
        public float dot(int i, float[] v) {
            long base = (long) i * cols;
            float s = 0;
            for (int j = 0; j < cols; j++) s += data.getAtIndex(FLOAT, base + j) * v[j];
            return s;
        }

        float get(long i, int j) {
            return data.getAtIndex(FLOAT, i * cols + j);
        }
    }

    /** fastText's ProductQuantizer with 8-bit codes (ksub 256). */
    record ProductQuantizer(int dim, int nsubq, int dsub, int lastdsub, float[] centroids) {
        int centroid(int m, int code) {
            return m == nsubq - 1 ? m * 256 * dsub + code * lastdsub : (m * 256 + code) * dsub;
        }
    }

    record Quantized(long rows, int cols, byte[] codes, ProductQuantizer pq, byte[] normCodes, ProductQuantizer npq) implements FastTextMatrix {
        private float norm(int i) {
            return normCodes == null ? 1f : npq.centroids()[npq.centroid(0, normCodes[i] & 0xFF)];
        }

        @Override
        public void addRow(float[] acc, int i, float scale) {
            float a = scale * norm(i);
            int base = pq.nsubq() * i;
            for (int m = 0; m < pq.nsubq(); m++) {
                int c = pq.centroid(m, codes[base + m] & 0xFF), d = m == pq.nsubq() - 1 ? pq.lastdsub() : pq.dsub();
                for (int n = 0; n < d; n++) acc[m * pq.dsub() + n] += a * pq.centroids()[c + n];
            }
        }

        @Override
        public float dot(int i, float[] v) {
            float s = 0;
            int base = pq.nsubq() * i;
            for (int m = 0; m < pq.nsubq(); m++) {
                int c = pq.centroid(m, codes[base + m] & 0xFF), d = m == pq.nsubq() - 1 ? pq.lastdsub() : pq.dsub();
                for (int n = 0; n < d; n++) s += v[m * pq.dsub() + n] * pq.centroids()[c + n];
            }
            return s * norm(i);
        }
    }
}
