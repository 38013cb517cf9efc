package dev.crucible.tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** What the kernels run on: vector width, hardware FMA, cores. Detected once. */
public final class Cpu {
    private Cpu() {}

    public static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    /**
     * Whether the CPU fuses multiply-add in hardware. Without it the Vector API's fma falls back to
     * a path about 1000x slower, so kernels use mul+add instead.
     */
    public static final boolean HAS_FMA = detectFma();

    /** The cores this process may run on (its CPU affinity, which a launcher such as mpirun may have narrowed). */
    public static int cores() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** The machine's online CPUs, whatever this process's affinity (Linux's /sys list; elsewhere {@link #cores()}). */
    public static int machineCores() {
        try {
            int n = 0;
            for (String range : Files.readString(Path.of("/sys/devices/system/cpu/online")).trim().split(",")) {
                String[] ab = range.split("-");
                n += ab.length == 1 ? 1 : Integer.parseInt(ab[1]) - Integer.parseInt(ab[0]) + 1;
            }
            return Math.max(n, cores());
        } catch (IOException | RuntimeException e) {
            return cores();
        }
    }

    private static boolean detectFma() {
        String forced = System.getProperty("crucible.fma");
        if (forced != null) return Boolean.parseBoolean(forced);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (arch.contains("aarch64") || arch.contains("arm64")) return true; // NEON always has fmla
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) return (" " + line + " ").contains(" fma ");
            }
        } catch (IOException | SecurityException e) {
            // not Linux: measure instead
        }
        return fmaIsFast();
    }

    /** Times vector fma against mul+add; a software fallback is orders of magnitude slower. */
    private static boolean fmaIsFast() {
        float[] a = new float[SPECIES.length()];
        java.util.Arrays.fill(a, 1.0001f);
        FloatVector x = FloatVector.fromArray(SPECIES, a, 0), acc = FloatVector.zero(SPECIES);
        long t0 = System.nanoTime();
        for (int i = 0; i < 20_000; i++) acc = x.fma(x, acc);
        long fma = System.nanoTime() - t0;
        t0 = System.nanoTime();
        for (int i = 0; i < 20_000; i++) acc = x.mul(x).add(acc);
        long mulAdd = System.nanoTime() - t0;
        if (acc.reduceLanes(jdk.incubator.vector.VectorOperators.ADD) == 42) return false;
        return fma < 20 * mulAdd;
    }

    /** One line for the start-up log. */
    public static String describe(int threads) {
        return String.format(Locale.ROOT, "compute: %d-bit vectors (%d floats), FMA %s, %d threads of %d cores, GEMM tile %d x %d, attention tiles %d x %d, %s %s",
                SPECIES.vectorBitSize(), SPECIES.length(), HAS_FMA ? "yes" : "NO (using mul+add)", threads, cores(), Gemm.MR, Gemm.NR, Attention.BQ, Attention.BK,
                System.getProperty("os.arch"), Runtime.version());
    }

    /**
     * Refuses to run on scalar-width vectors: the kernels would silently be many times slower.
     * Overridable with -Dcrucible.allowScalar=true for debugging on exotic hardware.
     */
    public static void requireSimd() {
        if (SPECIES.length() < 4 && !Boolean.getBoolean("crucible.allowScalar")) {
            throw new IllegalStateException("The JVM offers only " + SPECIES.vectorBitSize()
                    + "-bit vectors here (is C2 disabled, or -XX:UseAVX=0?). Crucible's kernels need SIMD; "
                    + "pass -Dcrucible.allowScalar=true to run anyway, slowly.");
        }
    }
}
