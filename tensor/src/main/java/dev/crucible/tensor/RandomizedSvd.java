package dev.crucible.tensor;

/**
 * The leading singular vectors of a matrix by the randomised range finder with power iterations
 * (Halko, Martinsson and Tropp, 2011, Algorithms 4.4 and 5.1): Y = G·Ω for a Gaussian Ω with
 * r + oversampling columns, q rounds of Y ← G·(Gᵀ·Y) with re-orthonormalisation in between
 * (Gram–Schmidt twice, in float), Q an orthonormal basis of Y, and the exact SVD of the small
 * B = Qᵀ·G (through the eigenvectors of B·Bᵀ, in double). The error of the r-th vector shrinks as
 * (σ_{l+1}/σ_r)^(2q+1), l = r + oversampling, so for the gradients of language models (fast-decaying
 * spectra) two power iterations give the subspace that a full SVD gives, to float precision where
 * the spectrum has a gap; the tests hold it to a reference SVD. Products run on the packed
 * {@link Gemm}; Ω comes from the given seed, so the result is reproducible. Signs follow one
 * convention (each right singular vector's largest entry is positive; its left vector flips with
 * it), because an optimizer that carries state across projections (GaLore) depends on them.
 */
public final class RandomizedSvd {
    public static final int OVERSAMPLING = 10, POWER_ITERATIONS = 2;

    private final Gemm gemm;

    public RandomizedSvd(Gemm gemm) {
        this.gemm = gemm;
    }

    /** u: m×r (left singular vectors as columns), s: r values, largest first, vt: r×n (right singular vectors as rows). */
    public record Result(int m, int n, int r, float[] u, double[] s, float[] vt) {}

    /** The top r singular triplets of g (m×n at gOff, row-major). */
    public Result top(float[] g, int gOff, int m, int n, int r, long seed) {
        if (r < 1 || r > Math.min(m, n)) throw new IllegalArgumentException("rank " + r + " for a " + m + "x" + n + " matrix");
        int l = Math.min(r + OVERSAMPLING, Math.min(m, n));
        float[] omega = new float[n * l], y = new float[m * l], z = new float[n * l];
        Rng rng = new Rng(seed);
        for (int i = 0; i < omega.length; i++) omega[i] = (float) rng.nextGaussian();
        gemm.multiply(m, l, n, g, gOff, n, 1, omega, 0, l, 1, y, 0, l, false); // Y = G·Ω
        orthonormalizeColumns(y, m, l);
        for (int it = 0; it < POWER_ITERATIONS; it++) {
            gemm.multiply(n, l, m, g, gOff, 1, n, y, 0, l, 1, z, 0, l, false); // Z = Gᵀ·Q
            orthonormalizeColumns(z, n, l);
            gemm.multiply(m, l, n, g, gOff, n, 1, z, 0, l, 1, y, 0, l, false); // Y = G·Z
            orthonormalizeColumns(y, m, l);
        }
        float[] b = new float[l * n];
        gemm.multiply(l, n, m, y, 0, 1, l, g, gOff, n, 1, b, 0, n, false); // B = Qᵀ·G
        double[] bbt = new double[l * l];
        for (int i = 0; i < l; i++) {
            for (int j = 0; j <= i; j++) {
                double acc = 0;
                for (int k = 0; k < n; k++) acc += (double) b[i * n + k] * b[j * n + k];
                bbt[i * l + j] = bbt[j * l + i] = acc;
            }
        }
        SymmetricEigen.Result e = SymmetricEigen.of(bbt, l);
        double[] s = new double[r];
        float[] w = new float[l * r], wt = new float[r * l];
        for (int c = 0; c < r; c++) {
            s[c] = Math.sqrt(Math.max(0, e.values()[c]));
            for (int k = 0; k < l; k++) {
                w[k * r + c] = (float) e.vectors()[k * l + c];
                wt[c * l + k] = s[c] == 0 ? 0f : (float) (e.vectors()[k * l + c] / s[c]); // a zero singular value: its right vector left zero
            }
        }
        float[] u = new float[m * r], vt = new float[r * n];
        gemm.multiply(m, r, l, y, 0, l, 1, w, 0, r, 1, u, 0, r, false); // U = Q·W
        gemm.multiply(r, n, l, wt, 0, l, 1, b, 0, n, 1, vt, 0, n, false); // Vᵀ = Σ⁻¹·Wᵀ·B
        for (int c = 0; c < r; c++) {
            int big = 0;
            for (int j = 0; j < n; j++) if (Math.abs(vt[c * n + j]) > Math.abs(vt[c * n + big])) big = j;
            if (vt[c * n + big] < 0) { // the sign convention: each right vector's largest entry is positive
                for (int j = 0; j < n; j++) vt[c * n + j] = -vt[c * n + j];
                for (int i = 0; i < m; i++) u[i * r + c] = -u[i * r + c];
            }
        }
        return new Result(m, n, r, u, s, vt);
    }

    /**
     * Modified Gram–Schmidt, twice ("twice is enough": orthogonal to float rounding), on the l columns
     * of a rows×l matrix, each column held contiguous so that the dot products and updates run on
     * vectors.
     */
    static void orthonormalizeColumns(float[] a, int rows, int l) {
        float[][] q = new float[l][rows];
        for (int i = 0; i < rows; i++) for (int c = 0; c < l; c++) q[c][i] = a[i * l + c];
        for (int c = 0; c < l; c++) {
            float[] col = q[c];
            for (int pass = 0; pass < 2; pass++) {
                for (int p = 0; p < c; p++) Vec.axpy(-Vec.dot(col, 0, q[p], 0, rows), q[p], 0, col, 0, rows);
            }
            double norm = Math.sqrt(Vec.dot(col, 0, col, 0, rows));
            float inv = norm > 0 ? (float) (1 / norm) : 0f;
            for (int i = 0; i < rows; i++) col[i] *= inv;
        }
        for (int i = 0; i < rows; i++) for (int c = 0; c < l; c++) a[i * l + c] = q[c][i];
    }
}
