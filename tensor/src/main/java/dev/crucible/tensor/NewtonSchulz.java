package dev.crucible.tensor;

/**
 * Orthogonalisation by Newton–Schulz iterations, every product on the packed {@link Gemm}: the
 * quintic iteration of Muon (Keller Jordan's coefficients, which push every singular value of the
 * normalised input to about 0.7–1.2 in five steps rather than converge), and the coupled iteration
 * for the inverse square root of a symmetric positive definite matrix (SWAN's whitening). The work
 * runs on the smaller side of a matrix, so a product of p×p by p×q matrices with p = min(rows, cols)
 * costs the bulk. Not thread-safe (scratch buffers are reused); results are bit-identical across runs.
 *
 * <p>For a rectangular matrix the quintic iteration runs in its Gram form (Dao, Amsel, Chen and Chen,
 * "Gram Newton–Schulz", 2026): every iterate is X_k = M_k·X₀ with M_k a polynomial in R₀ = X₀·X₀ᵀ, so
 * the steps act on p×p matrices only (R_{k+1} = R_k·Z_k², M_{k+1} = M_k·Z_k with
 * Z_k = a·I + b·R_k + c·R_k², all of them commuting) and X₀ is touched twice, for R₀ and for M·X₀. Five steps cost
 * 3·p²·q + 17·p³ flops (symmetric products at half price) against 15·p²·q + 5·p³, less whenever
 * q > p (about half for q = 4p). The square case keeps the standard form, where the two cost the
 * same. In float32, against the iteration in double: relative Frobenius error about 2e-6 on a
 * Gaussian matrix in both forms, and 1e-4 to 3e-4 for the Gram form (4e-6 standard) on
 * ill-conditioned ones (decaying spectra, low rank); far below the rounding of the bfloat16 that the
 * reference code iterates in (2^-8), so the restarts the paper needs in half precision are not taken.
 */
public final class NewtonSchulz {
    /** Muon's quintic coefficients: X ← a·X + (b·A + c·A²)·X with A = X·Xᵀ. */
    public static final float A = 3.4445f, B = -4.7750f, C = 2.0315f;
    /** Added to the Frobenius norm before dividing by it (Keller Jordan's muon.py). */
    public static final float NORM_EPS = 1e-7f;

    private final Gemm gemm;
    private final int worker;
    private float[] x = new float[0], gram = new float[0], poly = new float[0], prod = new float[0], z = new float[0], m = new float[0],
            scratch = new float[0];
    private final java.util.List<PackedMatrix> packedZ = new java.util.ArrayList<>();

    /** Products on the whole pool of gemm. */
    public NewtonSchulz(Gemm gemm) {
        this(gemm, -1);
    }

    /**
     * Products on one worker of gemm's pool (inside a task that worker runs, so that the workers can
     * orthogonalise different matrices at once, each with its own NewtonSchulz); worker -1: the whole
     * pool. The results are the same bits either way.
     */
    public NewtonSchulz(Gemm gemm, int worker) {
        this.gemm = gemm;
        this.worker = worker;
    }

    // Every p×p matrix passed to a product here is exactly symmetric, bit for bit (a symmetric product's
    // mirrored upper triangle, the identity, and elementwise combinations of such), so as a left operand
    // it is read through its transpose (strides 1, p): the same values, read where they lie on AVX-512
    // (Gemm.inPlace) and packed by one vector copy per k on AVX2, rather than by transposing MR rows.

    private void product(int m, int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow, int bCol, float[] c, int cOff, int ldc) {
        if (worker < 0) gemm.multiply(m, n, k, a, aOff, aRow, aCol, b, bOff, bRow, bCol, c, cOff, ldc, false);
        else gemm.multiplySerial(worker, m, n, k, a, aOff, aRow, aCol, b, bOff, bRow, bCol, c, cOff, ldc, false, Gemm.Triangle.NONE);
    }

    /** z (p×p) packed as a right operand, in a buffer kept per size (the matrices of a model come in a few sizes). */
    private PackedMatrix packZ(int p) {
        PackedMatrix zp = null;
        for (PackedMatrix candidate : packedZ) if (candidate.rows() == p) zp = candidate;
        if (zp == null) packedZ.add(zp = new PackedMatrix(p, p));
        if (worker < 0) gemm.pack(zp, z, 0, p, 1);
        else gemm.packSerial(worker, zp, z, 0, p, 1);
        return zp;
    }

    /** c = a·Z for symmetric a (p×p) that commutes with Z: a symmetric product, a read through its transpose. */
    private void timesZ(float[] a, PackedMatrix zp, float[] c, int p) {
        if (worker < 0) gemm.multiplySymmetric(a, 0, 1, p, zp, c, 0, p);
        else gemm.multiplySymmetricSerial(worker, a, 0, 1, p, zp, c, 0, p);
    }

    private void symmetric(int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow, int bCol, float[] c, int cOff, int ldc) {
        if (worker < 0) gemm.multiplySymmetric(n, k, a, aOff, aRow, aCol, b, bOff, bRow, bCol, c, cOff, ldc);
        else gemm.multiplySymmetricSerial(worker, n, k, a, aOff, aRow, aCol, b, bOff, bRow, bCol, c, cOff, ldc);
    }

    /**
     * out = NS5(g) for g of rows×cols at gOff (row-major, out at outOff likewise, not overlapping g):
     * g divided by its Frobenius norm + {@link #NORM_EPS}, then steps iterations of
     * X ← a·X + (b·X·Xᵀ + c·(X·Xᵀ)²)·X on the wide orientation of g (X = gᵀ when g is tall).
     */
    public void quintic(float[] g, int gOff, int rows, int cols, int steps, float[] out, int outOff) {
        quintic(g, gOff, rows, cols, Vec.sumOfSquares(g, gOff, rows * cols), steps, out, outOff);
    }

    /**
     * {@link #quintic(float[], int, int, int, int, float[], int)} given g's sum of squares ss, as
     * {@link Momentum#nesterov} returns it (out not overlapping g).
     */
    public void quintic(float[] g, int gOff, int rows, int cols, double ss, int steps, float[] out, int outOff) {
        int p = Math.min(rows, cols), q = Math.max(rows, cols);
        gram = grow(gram, p * p);
        poly = grow(poly, p * p);
        if (q > p && steps > 1) {
            gramForm(g, gOff, rows > cols, p, q, ss, steps, out, outOff);
            return;
        }
        float inv = (float) (1 / (Math.sqrt(ss) + NORM_EPS));
        boolean transpose = rows > cols;
        x = grow(x, p * q);
        prod = grow(prod, p * q);
        if (transpose) {
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) x[c * q + r] = g[gOff + r * cols + c] * inv;
        } else {
            for (int i = 0; i < p * q; i++) x[i] = g[gOff + i] * inv;
        }
        for (int s = 0; s < steps; s++) {
            symmetric(p, q, x, 0, q, 1, x, 0, 1, q, gram, 0, p); // A = X·Xᵀ
            symmetric(p, p, gram, 0, 1, p, gram, 0, p, 1, poly, 0, p); // A²
            for (int i = 0; i < p * p; i++) poly[i] = B * gram[i] + C * poly[i];
            product(p, q, p, poly, 0, 1, p, x, 0, q, 1, prod, 0, q); // (bA + cA²)·X
            for (int i = 0; i < p * q; i++) x[i] = A * x[i] + prod[i];
        }
        if (transpose) {
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) out[outOff + r * cols + c] = x[c * q + r];
        } else {
            System.arraycopy(x, 0, out, outOff, p * q);
        }
    }

    /**
     * The quintic iteration in the Gram form, in g's own layout (a tall g is used as Xᵀ through the
     * products' strides, never transposed): R₀ = X₀·X₀ᵀ, then per step
     * Z = a·I + b·R + c·R², M ← M·Z, R ← (R·Z)·Z, and out = M·X₀. R, Z and M are polynomials in R₀, so
     * they commute and every p×p product is symmetric (its lower triangle computed). X₀ = g/‖g‖ is
     * formed only where g·gᵀ could overflow or lose its small entries to underflow in float32 (‖g‖²
     * outside [2^-40, 2^100], far outside what gradients reach); otherwise the norm is applied to the
     * p×p matrices (R₀ = (g·gᵀ)/‖g‖², out = (M/‖g‖)·g), which saves a pass over the p×q matrix and its copy.
     */
    private void gramForm(float[] g, int gOff, boolean tall, int p, int q, double ss, int steps, float[] out, int outOff) {
        int pp = p * p;
        z = grow(z, pp);
        m = grow(m, pp);
        scratch = grow(scratch, pp);
        float[] r = gram;
        float inv = (float) (1 / (Math.sqrt(ss) + NORM_EPS));
        float[] x0 = g;
        int x0Off = gOff;
        boolean scaled = ss >= 0x1p-40 && ss <= 0x1p100;
        if (!scaled) {
            x = grow(x, p * q);
            for (int i = 0; i < p * q; i++) x[i] = g[gOff + i] * inv;
            x0 = x;
            x0Off = 0;
        }
        if (tall) { // X₀ is q×p: R = X₀ᵀ·X₀
            symmetric(p, q, x0, x0Off, 1, p, x0, x0Off, p, 1, r, 0, p);
        } else { // X₀ is p×q: R = X₀·X₀ᵀ
            symmetric(p, q, x0, x0Off, q, 1, x0, x0Off, 1, q, r, 0, p);
        }
        if (scaled) {
            float inv2 = inv * inv;
            for (int i = 0; i < pp; i++) r[i] *= inv2;
        }
        for (int s = 0; s < steps; s++) {
            symmetric(p, p, r, 0, 1, p, r, 0, p, 1, poly, 0, p); // R²
            for (int i = 0; i < pp; i++) z[i] = B * r[i] + C * poly[i];
            for (int i = 0; i < p; i++) z[i * p + i] += A;
            // Z is the right operand of every product left in this step (they commute): packed once for all of them
            PackedMatrix zp = packZ(p);
            if (s == 0) {
                System.arraycopy(z, 0, m, 0, pp);
            } else {
                timesZ(m, zp, scratch, p); // M·Z
                float[] swap = m;
                m = scratch;
                scratch = swap;
            }
            if (s < steps - 1) {
                timesZ(r, zp, scratch, p); // R·Z
                timesZ(scratch, zp, r, p); // R·Z²
            }
        }
        if (scaled) {
            for (int i = 0; i < pp; i++) m[i] *= inv;
        }
        if (tall) { // out (q×p) = X₀·M
            product(q, p, p, x0, x0Off, p, 1, m, 0, p, 1, out, outOff, p);
        } else { // out (p×q) = M·X₀
            product(p, q, p, m, 0, 1, p, x0, x0Off, q, 1, out, outOff, q);
        }
    }

    /**
     * z = (a / ‖a‖_F)^(-1/2) for a symmetric positive (semi)definite n×n matrix, by steps iterations of
     * the coupled Newton–Schulz iteration Y₀ = a/‖a‖_F, Z₀ = I, T = (3I − Z·Y)/2, Y ← Y·T, Z ← T·Z
     * (Higham's, which converges for every eigenvalue in (0, 1]; small ones take more steps). Returns
     * ‖a‖_F, so that a^(-1/2) = z / sqrt(returned). a must be symmetric bit for bit (a[i·n + j] ==
     * a[j·n + i]), as {@link Gemm#multiplySymmetric}'s products are: its products read it through its transpose.
     */
    public double inverseSqrt(float[] a, int n, int steps, float[] z) {
        double ss = Vec.sumOfSquares(a, 0, n * n);
        double norm = Math.sqrt(ss);
        x = grow(x, n * n);
        gram = grow(gram, n * n);
        poly = grow(poly, n * n);
        prod = grow(prod, n * n);
        float[] y = x, t = gram;
        float inv = norm > 0 ? (float) (1 / norm) : 0f;
        for (int i = 0; i < n * n; i++) y[i] = a[i] * inv;
        java.util.Arrays.fill(z, 0, n * n, 0f);
        for (int i = 0; i < n; i++) z[i * n + i] = 1f;
        // Y, Z and T are polynomials in a, so they commute and every product below is symmetric
        for (int s = 0; s < steps; s++) {
            symmetric(n, n, z, 0, 1, n, y, 0, n, 1, t, 0, n); // Z·Y
            for (int i = 0; i < n * n; i++) t[i] = -0.5f * t[i];
            for (int i = 0; i < n; i++) t[i * n + i] += 1.5f;
            symmetric(n, n, y, 0, 1, n, t, 0, n, 1, poly, 0, n); // Y·T
            symmetric(n, n, t, 0, 1, n, z, 0, n, 1, prod, 0, n); // T·Z
            System.arraycopy(poly, 0, y, 0, n * n);
            System.arraycopy(prod, 0, z, 0, n * n);
        }
        return norm;
    }

    static float[] grow(float[] a, int n) {
        return a.length >= n ? a : new float[n];
    }
}
