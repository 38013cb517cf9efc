package dev.crucible.tensor;

/**
 * Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations in double precision
 * (accurate to rounding for every eigenvalue; O(n³) per sweep, for the l×l cores of a randomised
 * SVD, not for full-size matrices).
 */
public final class SymmetricEigen {
    private SymmetricEigen() {}

    /** Eigenvalues, largest first, and eigenvectors as the columns of vectors (n×n, row-major), in the same order. */
    public record Result(double[] values, double[] vectors) {}

    public static Result of(double[] a, int n) {
        double[] s = a.clone(), v = new double[n * n]; // v holds the eigenvectors as rows, so that rotations run along rows
        for (int i = 0; i < n; i++) v[i * n + i] = 1;
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0, diag = 0;
            for (int i = 0; i < n; i++) {
                diag += s[i * n + i] * s[i * n + i];
                for (int j = i + 1; j < n; j++) off += s[i * n + j] * s[i * n + j];
            }
            if (off <= 1e-30 * diag || off == 0) break;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = s[p * n + q];
                    if (apq == 0) continue;
                    double theta = (s[q * n + q] - s[p * n + p]) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1), sn = t * c;
                    for (int k = 0; k < n; k++) { // columns p, q
                        double skp = s[k * n + p], skq = s[k * n + q];
                        s[k * n + p] = c * skp - sn * skq;
                        s[k * n + q] = sn * skp + c * skq;
                    }
                    for (int k = 0; k < n; k++) { // rows p, q
                        double spk = s[p * n + k], sqk = s[q * n + k];
                        s[p * n + k] = c * spk - sn * sqk;
                        s[q * n + k] = sn * spk + c * sqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vpk = v[p * n + k], vqk = v[q * n + k];
                        v[p * n + k] = c * vpk - sn * vqk;
                        v[q * n + k] = sn * vpk + c * vqk;
                    }
                }
            }
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        final double[] d = s;
        java.util.Arrays.sort(order, (i, j) -> Double.compare(d[j * n + j], d[i * n + i]));
        double[] values = new double[n], vectors = new double[n * n];
        for (int c = 0; c < n; c++) {
            int src = order[c];
            values[c] = s[src * n + src];
            for (int r = 0; r < n; r++) vectors[r * n + c] = v[src * n + r];
        }
        return new Result(values, vectors);
    }
}
