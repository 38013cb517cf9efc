import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Runs KernelBench of several builds in one JVM, alternating builds workload by workload, round by
 * round: on a shared host whose speed drifts by 10-20% within minutes, builds measured side by side
 * like this differ by a few percent where separate processes differ by the drift.
 * Usage: java KernelAb CLASSES_DIR ROUNDS JAR...
 */
public final class KernelAb {
    public static void main(String[] args) throws Exception {
        Path classes = Path.of(args[0]);
        int rounds = Integer.parseInt(args[1]), builds = args.length - 2;
        Method[] run = new Method[builds];
        String[] names = null;
        for (int b = 0; b < builds; b++) {
            URL[] urls = {Path.of(args[2 + b]).toUri().toURL(), classes.toUri().toURL()};
            Class<?> bench = new URLClassLoader(urls, ClassLoader.getPlatformClassLoader()).loadClass("KernelBench");
            run[b] = bench.getMethod("run", int.class);
            names = (String[]) bench.getField("NAMES").get(null);
        }
        int warmup = 5;
        double[][][] ms = new double[names.length][builds][rounds];
        boolean[] chosen = chosen(names.length);
        for (int r = -warmup; r < rounds; r++) {
            for (int w = 0; w < names.length; w++) {
                if (!chosen[w]) continue;
                for (int b = 0; b < builds; b++) {
                    double t = (double) run[b].invoke(null, w);
                    if (r >= 0) ms[w][b][r] = t;
                }
            }
        }
        System.out.printf(Locale.ROOT, "%d rounds after %d warm-up rounds; min / median ms, and the median against the first build's%n", rounds, warmup);
        for (int w = 0; w < names.length; w++) {
            if (!chosen[w]) continue;
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%2d %-50s", w, names[w]));
            double first = 0;
            for (int b = 0; b < builds; b++) {
                double[] v = ms[w][b].clone();
                Arrays.sort(v);
                double median = v[rounds / 2];
                if (b == 0) first = median;
                line.append(String.format(Locale.ROOT, "  %8.3f / %8.3f", v[0], median));
                if (b > 0) line.append(String.format(Locale.ROOT, " (%.3f)", median / first));
            }
            System.out.println(line);
        }
        System.exit(0);
    }

    /** The workloads KERNEL_AB_WORKLOADS names (comma-separated numbers, from 0), or all of them. */
    private static boolean[] chosen(int n) {
        boolean[] chosen = new boolean[n];
        String list = System.getenv("KERNEL_AB_WORKLOADS");
        if (list == null || list.isBlank()) {
            Arrays.fill(chosen, true);
            return chosen;
        }
        for (String w : list.split(",")) {
            int i;
            try {
                i = Integer.parseInt(w.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("KERNEL_AB_WORKLOADS=" + list + ": '" + w + "' is not a workload number");
            }
            if (i < 0 || i >= n) throw new IllegalArgumentException("KERNEL_AB_WORKLOADS: no workload " + i + " (0 to " + (n - 1) + ")");
            chosen[i] = true;
        }
        return chosen;
    }
}
