package dev.crucible.model.optim;

import dev.crucible.model.ParamLayout;
import dev.crucible.tensor.Gemm;
import dev.crucible.tensor.NewtonSchulz;
import dev.crucible.tensor.WorkerPool;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The optimizers a recipe can name: their keys, their defaults (each paper's, or its reference
 * code's, where it gives one), whether they need matrices, and the rule each builds. A matrix
 * optimizer takes the hidden matrices by default and leaves the other roles to AdamW.
 */
public enum Algorithm {
    ADAMW(false, Set.of("lr", "beta1", "beta2", "eps", "weight_decay"),
            new Hyperparameters(null, 6e-4, 0.9, 0.95, 1e-8, 0.1, null, null, null, null, null, null, null, null, null, null, null)),
    /** SPAM's constructor and README: θ 5000, ΔT 500, N 150, A 20, β (0.9, 0.999), ε 1e-6, no decay, lr 8e-4 (130M). */
    SPAM(false, Set.of("lr", "beta1", "beta2", "eps", "weight_decay", "theta", "reset_interval", "reset_warmup", "clip_delay"),
            new Hyperparameters(null, 8e-4, 0.9, 0.999, 1e-6, 0.0, null, null, null, null, null, null, 5000.0, 500, 150, 20, null)),
    /** GaLore's README and code: lr 0.01, α 0.25, T 200, transformers' AdamW (β (0.9, 0.999), ε 1e-6), no decay; rank d_model/4 unless given. */
    GALORE(true, Set.of("lr", "beta1", "beta2", "eps", "weight_decay", "rank", "update_gap", "scale"),
            new Hyperparameters(null, 0.01, 0.9, 0.999, 1e-6, 0.0, null, null, null, null, 200, 0.25, null, null, null, null, null)),
    /** SWAN: stateless; 10 whitening steps; the lr (unpublished here) starts from AdamW's, the output's RMS being about 1. */
    SWAN(true, Set.of("lr", "weight_decay", "ns_steps"),
            new Hyperparameters(null, 1e-3, null, null, null, 0.0, null, 10, null, null, null, null, null, null, null, null, null)),
    /** SinkGD: stateless; L = 5 rounds; lr from AdamW's, like SWAN. */
    SINKGD(true, Set.of("lr", "weight_decay", "iterations"),
            new Hyperparameters(null, 1e-3, null, null, null, 0.0, null, null, null, null, null, null, null, null, null, null, 5)),
    /**
     * Keller Jordan's muon.py: lr 0.02, momentum 0.95, 5 Newton–Schulz steps, no decay, his shape scale;
     * with shape_scale moonlight, Moonlight's lr 1e-3 and weight decay 0.1 (its scale matches AdamW's update RMS).
     */
    MUON(true, Set.of("lr", "momentum", "weight_decay", "ns_steps", "shape_scale"),
            new Hyperparameters(null, 0.02, null, null, null, 0.0, 0.95, 5, Hyperparameters.KELLER, null, null, null, null, null, null,
                    null, null));

    private final boolean matrices;
    private final Set<String> keys;
    private final Hyperparameters defaults;

    Algorithm(boolean matrices, Set<String> keys, Hyperparameters defaults) {
        this.matrices = matrices;
        this.keys = keys;
        this.defaults = defaults.withName(name().toLowerCase(Locale.ROOT));
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Algorithm of(String id) {
        for (Algorithm a : values()) if (a.id().equals(id)) return a;
        throw new IllegalArgumentException("unknown optimizer '" + id + "' (known: adamw, spam, galore, swan, sinkgd, muon)");
    }

    /** Whether it acts on whole matrices (so only on roles whose tensors are matrices). */
    public boolean needsMatrices() {
        return matrices;
    }

    /** The keys it reads besides name, sorted. */
    public List<String> keys() {
        return keys.stream().sorted().toList();
    }

    public Hyperparameters defaults() {
        return defaults;
    }

    /** The defaults for settings that choose among variants (Muon's Moonlight form has its own lr and weight decay). */
    public Hyperparameters defaults(Hyperparameters given) {
        if (this == MUON && Hyperparameters.MOONLIGHT.equals(given.shapeScale())) {
            return defaults.overlay(new Hyperparameters(null, 1e-3, null, null, null, 0.1, null, null, null, null, null, null, null, null,
                    null, null, null));
        }
        return defaults;
    }

    /** Refuses complete settings whose keys contradict each other (the message starts "key: "). */
    void checkSettings(Hyperparameters h) {
        if (this != SPAM) return;
        if (h.theta() > 0 && h.clipDelay() < 2) {
            throw new IllegalArgumentException("clip_delay: must be >= 2 with theta > 0, got " + h.clipDelay()
                    + ": step 1 would clip every gradient to sqrt(theta·v) with v = 0, and training would not start");
        }
        if (h.resetWarmup() >= h.resetInterval()) {
            throw new IllegalArgumentException("reset_warmup: must be below reset_interval (" + h.resetInterval() + "), got " + h.resetWarmup()
                    + ": the update would never return to its full scale between resets");
        }
    }

    /** Whether, named as a recipe's optimizer, it takes parameters of this role when no group says otherwise. */
    boolean takesByDefault(ParamLayout.Role role) {
        return !matrices || role == ParamLayout.Role.HIDDEN_MATRIX;
    }

    /** Refuses a key it does not read, naming the key (the message starts "key: "). */
    void checkKeys(Hyperparameters h) {
        for (String k : h.given().keySet()) {
            if (!keys.contains(k)) throw new IllegalArgumentException(k + ": not a setting of " + id() + " (its keys: " + String.join(", ", keys()) + ")");
        }
    }

    /** Kernels the rules of one optimizer share, made when a rule first needs them (AdamW alone needs no GEMM's buffers). */
    static final class Kernels {
        private final WorkerPool pool;
        private Gemm gemm;
        private NewtonSchulz ns;

        Kernels(WorkerPool pool) {
            this.pool = pool;
        }

        WorkerPool pool() {
            return pool;
        }

        Gemm gemm() {
            if (gemm == null) gemm = new Gemm(pool);
            return gemm;
        }

        NewtonSchulz ns() {
            if (ns == null) ns = new NewtonSchulz(gemm());
            return ns;
        }

        /** One Newton–Schulz per worker, running its products on that worker alone: for rules that orthogonalise several matrices at once. */
        NewtonSchulz[] nsPerWorker() {
            NewtonSchulz[] out = new NewtonSchulz[pool.size()];
            for (int w = 0; w < out.length; w++) out[w] = new NewtonSchulz(gemm(), w);
            return out;
        }
    }

    UpdateRule rule(ParamLayout layout, List<ParamLayout.Tensor> tensors, Hyperparameters h, Kernels k) {
        return switch (this) {
            case ADAMW -> new AdamWRule(layout, tensors, h, k.pool());
            case SPAM -> new SpamRule(layout, tensors, h, k.pool());
            case GALORE -> new GaLoreRule(MatrixUnit.of(layout, tensors), h, layout.config().dModel(), k.gemm());
            case SWAN -> new SwanRule(MatrixUnit.of(layout, tensors), h, k.gemm(), k.ns());
            case SINKGD -> new SinkGdRule(MatrixUnit.of(layout, tensors), h, k.pool());
            case MUON -> new MuonRule(MatrixUnit.of(layout, tensors), h, k.nsPerWorker(), k.ns(), k.pool());
        };
    }
}
