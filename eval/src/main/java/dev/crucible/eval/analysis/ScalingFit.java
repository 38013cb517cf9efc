package dev.crucible.eval.analysis;

import java.util.List;

/**
 * A fit of final loss to model size and data, L(N, D) = E + A/N^α + B/D^β (Hoffmann et al. 2022's
 * form), by least squares on the losses. For fixed exponents the model is linear in E, A and B, so
 * those are solved exactly and only (α, β) are searched: a grid over (0, 2]², then a shrinking
 * local search around the best point. Deterministic; with as many points as parameters the fit
 * passes through them (five points at least; the residuals mean something only with several more).
 * E, A and B are not constrained: a negative one says the runs do not follow the law (or too few do).
 */
public final class ScalingFit {
    /** One run: non-embedding parameters, training tokens, final loss. */
    public record Point(double n, double d, double loss) {}

    /** The fitted law, the residual of each point (observed − fitted) and their root mean square. */
    public record Law(double e, double a, double alpha, double b, double beta, double[] residuals, double rmse) {
        public double predict(double n, double d) {
            return e + a / Math.pow(n, alpha) + b / Math.pow(d, beta);
        }
    }

    private ScalingFit() {}

    public static Law fit(List<Point> points) {
        if (points.size() < 5) throw new IllegalArgumentException("a fit of 5 parameters needs at least 5 runs, got " + points.size());
        long sizes = points.stream().mapToDouble(Point::n).distinct().count(), budgets = points.stream().mapToDouble(Point::d).distinct().count();
        if (sizes < 2 || budgets < 2) throw new IllegalArgumentException("the runs need at least 2 model sizes and 2 token budgets, got " + sizes + " and " + budgets);
        double bestA = 0, bestB = 0, bestErr = Double.POSITIVE_INFINITY;
        for (int i = 1; i <= 100; i++) {
            for (int j = 1; j <= 100; j++) {
                double al = 0.02 * i, be = 0.02 * j;
                double err = error(points, al, be);
                if (err < bestErr) {
                    bestErr = err;
                    bestA = al;
                    bestB = be;
                }
            }
        }
        for (double step = 0.01; step > 1e-7; step /= 2) { // pattern search around the grid's best
            boolean moved = true;
            while (moved) {
                moved = false;
                for (double[] dir : new double[][] {{1, 0}, {-1, 0}, {0, 1}, {0, -1}}) {
                    double al = bestA + dir[0] * step, be = bestB + dir[1] * step;
                    if (al <= 0 || be <= 0) continue;
                    double err = error(points, al, be);
                    if (err < bestErr) {
                        bestErr = err;
                        bestA = al;
                        bestB = be;
                        moved = true;
                    }
                }
            }
        }
        double[] c = linear(points, bestA, bestB);
        double[] res = new double[points.size()];
        double ss = 0;
        for (int i = 0; i < res.length; i++) {
            Point p = points.get(i);
            res[i] = p.loss() - (c[0] + c[1] / Math.pow(p.n(), bestA) + c[2] / Math.pow(p.d(), bestB));
            ss += res[i] * res[i];
        }
        return new Law(c[0], c[1], bestA, c[2], bestB, res, Math.sqrt(ss / res.length));
    }

    private static double error(List<Point> points, double alpha, double beta) {
        double[] c = linear(points, alpha, beta);
        if (c == null) return Double.POSITIVE_INFINITY;
        double ss = 0;
        for (Point p : points) {
            double r = p.loss() - (c[0] + c[1] / Math.pow(p.n(), alpha) + c[2] / Math.pow(p.d(), beta));
            ss += r * r;
        }
        return ss;
    }

    /** E, A, B by least squares for fixed exponents (normal equations of three unknowns, in double), or null when singular. */
    static double[] linear(List<Point> points, double alpha, double beta) {
        double[][] m = new double[3][4];
        for (Point p : points) {
            double[] x = {1, Math.pow(p.n(), -alpha), Math.pow(p.d(), -beta)};
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) m[i][j] += x[i] * x[j];
                m[i][3] += x[i] * p.loss();
            }
        }
        for (int col = 0; col < 3; col++) { // Gauss-Jordan with partial pivoting
            int piv = col;
            for (int r = col + 1; r < 3; r++) if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) piv = r;
            if (Math.abs(m[piv][col]) < 1e-300) return null;
            double[] t = m[col];
            m[col] = m[piv];
            m[piv] = t;
            for (int r = 0; r < 3; r++) {
                if (r == col) continue;
                double f = m[r][col] / m[col][col];
                for (int k = col; k < 4; k++) m[r][k] -= f * m[col][k];
            }
        }
        return new double[] {m[0][3] / m[0][0], m[1][3] / m[1][1], m[2][3] / m[2][2]};
    }
}
