import dev.crucible.tensor.Activations;
import dev.crucible.tensor.Attention;
import dev.crucible.tensor.DecodeAttention;
import dev.crucible.tensor.Gemm;
import dev.crucible.tensor.Linear;
import dev.crucible.tensor.NewtonSchulz;
import dev.crucible.tensor.PackedMatrix;
import dev.crucible.tensor.WorkerPool;
import java.util.Random;

/**
 * The workloads of bench/kernel_ab.sh, on tiny's shapes (d 384, 2,048 tokens, MLP 1,536, QKV 1,152) and
 * gpt2-small's 256-row ones (d 768, QKV 2,304).
 * Compiled against one build's tensor jar and loaded once per build, each in its own class loader,
 * so that every build runs its own classes in the same JVM. Each call of a workload returns its
 * milliseconds.
 */
public final class KernelBench {
    static final WorkerPool POOL = new WorkerPool(2);
    static final Gemm GEMM = new Gemm(POOL);
    static final int T = 2048, D = 384, QKV = 1152, MLP = 1536, SCORED = 544, ROWS = 256, D2 = 768, QKV2 = 2304;
    static final float[] X = random(T * MLP), W = random(MLP * D), Y = new float[T * MLP], SYM = symmetric(D), C = new float[MLP * MLP];
    static final int[][] MUON = {{QKV, D}, {D, D}, {MLP, D}, {D, MLP}};
    static final float[][] G = {random(QKV * D), random(D * D), random(MLP * D), random(D * MLP)}, OUT = {new float[QKV * D], new float[D * D], new float[MLP * D], new float[D * MLP]};
    static final NewtonSchulz[] NS = {new NewtonSchulz(GEMM, 0), new NewtonSchulz(GEMM, 1)};
    // decoding's attention over the cache: tiny's 6 layers (6 heads of 64), one sequence of 256 positions
    static final int LAYERS = 6, HEADS = 6, HS = 64, MAX_T = 256;
    static final float[][][] KCACHE = caches(1), VCACHE = caches(2);
    static final float[] QUERY = random(HEADS * HS), ATTENDED = new float[HEADS * HS];
    static final DecodeAttention DECODE = new DecodeAttention(POOL, MAX_T);
    // training's attention, one layer of tiny: 8 sequences of 256 positions, 6 heads of 64, forward then backward
    static final int BATCH = 8, SHORT_ROWS = 160;
    static final Attention ATTENTION = new Attention(GEMM);
    static final Linear LINEAR = new Linear(GEMM);
    static final Activations ACT = new Activations(POOL);
    static final float[] BIAS = random(QKV, 5), BIASGRAD = new float[MLP], DW1 = new float[MLP];
    static final float[] QKV_ACT = random(BATCH * MAX_T * 3 * HEADS * HS, 3), DOUT = random(BATCH * MAX_T * HEADS * HS, 4), DQKV = new float[QKV_ACT.length],
            AOUT = new float[DOUT.length], LSE = new float[BATCH * HEADS * MAX_T];

    public static final String[] NAMES = {"forward X·Wᵀ 2048x1152x384", "backward dY·W 2048x384x1152", "weight grad dYᵀ·X 1152x384x2048",
            "scoring X·Wᵀ 544x1152x384", "symmetric 384³ on one worker", "Newton–Schulz, tiny's 24 matrices on two workers",
            "gpt2-small X·Wᵀ 256x2304x768", "gpt2-small dY·W 256x768x2304", "gpt2-small dYᵀ·X 2304x768x256",
            "decoding's attention, tiny, 256 positions x 6 layers", "training's attention, tiny, one layer forward + backward",
            "layer with bias X·Wᵀ + b 2048x1152x384", "scoring's attention, tiny, one layer: 160 rows of 12 positions",
            "training's attention, tiny's heads at 2 x 4,096 positions, one layer forward + backward",
            "bias gradient, 2,048 rows x 1,536 columns (mlp_in's; with a dW of one column)",
            "384³ on one worker, B packed beforehand: the micro-kernel's rate", "384³'s lower triangle on one worker, B packed beforehand, no mirror",
            "384³'s lower triangle and its mirror on one worker, B packed beforehand", "Newton–Schulz, tiny's 24 matrices on one worker alone",
            "GELU (tanh form) forward + backward, tiny's MLP activation, 2,048 x 1,536"};

    public static double run(int workload) {
        long t0 = System.nanoTime();
        switch (workload) {
            case 0 -> GEMM.multiply(T, QKV, D, X, 0, D, 1, W, 0, 1, D, Y, 0, QKV, false);
            case 1 -> GEMM.multiply(T, D, QKV, X, 0, QKV, 1, W, 0, D, 1, Y, 0, D, false);
            case 2 -> GEMM.multiply(QKV, D, T, X, 0, 1, QKV, X, 0, D, 1, Y, 0, D, false); // dY and X: two views of X
            case 3 -> GEMM.multiply(SCORED, QKV, D, X, 0, D, 1, W, 0, 1, D, Y, 0, QKV, false);
            case 4 -> POOL.run(1, (t, w) -> { for (int r = 0; r < 10; r++) GEMM.multiplySymmetricSerial(w, D, D, SYM, 0, 1, D, SYM, 0, D, 1, C, 0, D); });
            case 5 -> POOL.run(2, (t, w) -> { // task t takes every other matrix, on the scratch of the worker that runs it
                for (int i = t; i < 24; i += 2) NS[w].quintic(G[i % 4], 0, MUON[i % 4][0], MUON[i % 4][1], 5, OUT[i % 4], 0);
            });
            case 6 -> GEMM.multiply(ROWS, QKV2, D2, X, 0, D2, 1, X, 0, 1, D2, Y, 0, QKV2, false); // X and W: two views of X
            case 7 -> GEMM.multiply(ROWS, D2, QKV2, X, 0, QKV2, 1, X, 0, D2, 1, Y, 0, D2, false);
            case 8 -> GEMM.multiply(QKV2, D2, ROWS, X, 0, 1, QKV2, X, 0, D2, 1, Y, 0, D2, false);
            case 9 -> {
                int[] pos = new int[1], off = new int[1];
                for (int t = 0; t < MAX_T; t++) {
                    pos[0] = t;
                    for (int l = 0; l < LAYERS; l++) {
                        DECODE.forward(1, QUERY, 0, HEADS * HS, KCACHE[l], VCACHE[l], off, HEADS * HS, pos, HEADS, HEADS, HS, ATTENDED, 0, HEADS * HS);
                    }
                }
            }
            case 10 -> {
                ATTENTION.forward(AOUT, 0, LSE, 0, QKV_ACT, 0, BATCH, MAX_T, HEADS, HEADS, HS);
                ATTENTION.backward(DQKV, 0, DOUT, 0, AOUT, 0, QKV_ACT, 0, LSE, 0, BATCH, MAX_T, HEADS, HEADS, HS);
            }
            case 11 -> LINEAR.forward(Y, 0, X, 0, W, 0, BIAS, 0, T, D, QKV);
            case 12 -> ATTENTION.forward(AOUT, 0, LSE, 0, QKV_ACT, 0, SHORT_ROWS, 12, HEADS, HEADS, HS); // BLiMP's requests, packed as scoring packs them
            case 13 -> {
                int b = LongContext.BATCH, t = LongContext.T;
                ATTENTION.forward(LongContext.OUT, 0, LongContext.LSE, 0, LongContext.QKV, 0, b, t, HEADS, HEADS, HS);
                ATTENTION.backward(LongContext.DQKV, 0, LongContext.DOUT, 0, LongContext.OUT, 0, LongContext.QKV, 0, LongContext.LSE, 0, b, t, HEADS, HEADS, HS);
            }
            case 14 -> LINEAR.backward(null, 0, false, DW1, 0, false, BIASGRAD, 0, X, 0, W, 0, W, 0, T, 1, MLP); // mlp_in's bias gradient (and a 1-column dW)
            // workload 4's product taken apart: what packing B, the mirror and the tiles the diagonal crosses each cost
            case 15, 16, 17 -> {
                PackedMatrix b = Packed.SYM; // packed on this thread the first time (Gemm.pack runs on the whole pool, not inside its task)
                POOL.run(1, (t, w) -> {
                    for (int r = 0; r < 10; r++) {
                        if (workload == 17) GEMM.multiplySymmetricSerial(w, SYM, 0, 1, D, b, C, 0, D);
                        else GEMM.multiplySerial(w, D, SYM, 0, 1, D, b, C, 0, D, false, workload == 15 ? Gemm.Triangle.NONE : Gemm.Triangle.C_LOWER);
                    }
                });
            }
            case 18 -> POOL.run(1, (t, w) -> { // workload 5 on one worker, the other idle: what the two cost each other
                for (int i = 0; i < 24; i++) NS[w].quintic(G[i % 4], 0, MUON[i % 4][0], MUON[i % 4][1], 5, OUT[i % 4], 0);
            });
            case 19 -> { // X as the pre-activation and as the gradient coming back; Y the output, then the gradient going in
                ACT.geluForward(Y, 0, X, 0, T * MLP);
                ACT.geluBackward(Y, 0, X, 0, X, 0, T * MLP);
            }
            default -> throw new IllegalArgumentException("no workload " + workload);
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    /** Workloads 15-17's right operand, packed when they first run (Gemm.pack and PackedMatrix: from 3210be3 on; the other workloads run on older revisions). */
    private static final class Packed {
        static final PackedMatrix SYM = GEMM.pack(D, D, KernelBench.SYM, 0, D, 1);
    }

    /** The long-context workload's activations (about 100 MB), allocated when it first runs. */
    private static final class LongContext {
        static final int BATCH = 2, T = 4096;
        static final float[] QKV = random(BATCH * T * 3 * HEADS * HS, 6), DOUT = random(BATCH * T * HEADS * HS, 7), DQKV = new float[QKV.length],
                OUT = new float[DOUT.length], LSE = new float[BATCH * HEADS * T];
    }

    private static float[] random(int n) {
        return random(n, n);
    }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    private static float[][][] caches(int seed) {
        float[][][] c = new float[LAYERS][1][];
        for (int l = 0; l < LAYERS; l++) c[l][0] = random(MAX_T * HEADS * HS, 10L * l + seed);
        return c;
    }

    private static float[] symmetric(int n) {
        Random r = new Random(n);
        float[] a = new float[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = (float) r.nextGaussian();
        return a;
    }
}
