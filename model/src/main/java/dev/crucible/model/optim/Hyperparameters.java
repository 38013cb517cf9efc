package dev.crucible.model.optim;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An optimizer's name and settings, any of them unset: what a run config's optimizer section or one
 * of its groups says, and (complete) what one group of parameters runs with. Each key is checked for
 * its range here; which keys an optimizer has, and their defaults, is {@link Algorithm}'s.
 *
 * <p>Keys: lr (the rate at the schedule's peak); beta1, beta2, eps (Adam's moments); weight_decay
 * (decoupled: W ← W·(1 − lr·wd)); momentum (Muon's β); ns_steps (Newton–Schulz steps of Muon and of
 * SWAN's whitening); shape_scale (Muon's update scale: keller = sqrt(max(1, out/in)), moonlight =
 * 0.2·sqrt(max(out, in))); rank, update_gap, scale (GaLore's r, T and α); theta, reset_interval,
 * reset_warmup, clip_delay (SPAM's θ, ΔT, N and A); iterations (SinkGD's L).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Hyperparameters(String name, Double lr, Double beta1, Double beta2, Double eps, Double weightDecay, Double momentum,
                              Integer nsSteps, String shapeScale, Integer rank, Integer updateGap, Double scale, Double theta,
                              Integer resetInterval, Integer resetWarmup, Integer clipDelay, Integer iterations) {

    public static final String KELLER = "keller", MOONLIGHT = "moonlight";

    public Hyperparameters {
        if (lr != null && !(lr > 0)) throw new IllegalArgumentException("lr: must be positive, got " + lr);
        if (beta1 != null && !(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1: must be in [0, 1), got " + beta1);
        if (beta2 != null && !(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2: must be in [0, 1), got " + beta2);
        if (eps != null && !(eps > 0)) throw new IllegalArgumentException("eps: must be positive, got " + eps);
        if (weightDecay != null && !(weightDecay >= 0)) throw new IllegalArgumentException("weight_decay: must be >= 0, got " + weightDecay);
        if (momentum != null && !(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum: must be in [0, 1), got " + momentum);
        if (nsSteps != null && nsSteps < 1) throw new IllegalArgumentException("ns_steps: must be >= 1, got " + nsSteps);
        if (shapeScale != null && !shapeScale.equals(KELLER) && !shapeScale.equals(MOONLIGHT)) {
            throw new IllegalArgumentException("shape_scale: must be keller (sqrt(max(1, out/in))) or moonlight (0.2·sqrt(max(out, in))), got '"
                    + shapeScale + "'");
        }
        if (rank != null && rank < 1) throw new IllegalArgumentException("rank: must be >= 1, got " + rank);
        if (updateGap != null && updateGap < 1) throw new IllegalArgumentException("update_gap: must be >= 1, got " + updateGap);
        if (scale != null && !(scale > 0)) throw new IllegalArgumentException("scale: must be positive, got " + scale);
        if (theta != null && !(theta >= 0)) throw new IllegalArgumentException("theta: must be >= 0 (0 = no spike clipping), got " + theta);
        if (resetInterval != null && resetInterval < 1) throw new IllegalArgumentException("reset_interval: must be >= 1, got " + resetInterval);
        if (resetWarmup != null && resetWarmup < 0) throw new IllegalArgumentException("reset_warmup: must be >= 0, got " + resetWarmup);
        if (clipDelay != null && clipDelay < 0) throw new IllegalArgumentException("clip_delay: must be >= 0, got " + clipDelay);
        if (iterations != null && iterations < 1) throw new IllegalArgumentException("iterations: must be >= 1, got " + iterations);
    }

    /** Only a name. */
    public static Hyperparameters named(String name) {
        return new Hyperparameters(name, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** AdamW with these settings. */
    public static Hyperparameters adamW(double lr, double beta1, double beta2, double eps, double weightDecay) {
        return new Hyperparameters(Algorithm.ADAMW.id(), lr, beta1, beta2, eps, weightDecay, null, null, null, null, null, null, null,
                null, null, null, null);
    }

    /** The keys that are set, by their config names (snake_case), name excluded, in declaration order. */
    public Map<String, Object> given() {
        Map<String, Object> m = new LinkedHashMap<>();
        put(m, "lr", lr);
        put(m, "beta1", beta1);
        put(m, "beta2", beta2);
        put(m, "eps", eps);
        put(m, "weight_decay", weightDecay);
        put(m, "momentum", momentum);
        put(m, "ns_steps", nsSteps);
        put(m, "shape_scale", shapeScale);
        put(m, "rank", rank);
        put(m, "update_gap", updateGap);
        put(m, "scale", scale);
        put(m, "theta", theta);
        put(m, "reset_interval", resetInterval);
        put(m, "reset_warmup", resetWarmup);
        put(m, "clip_delay", clipDelay);
        put(m, "iterations", iterations);
        return m;
    }

    private static void put(Map<String, Object> m, String k, Object v) {
        if (v != null) m.put(k, v);
    }

    /** These settings with every key that over sets replaced by its value (over's name too, when set). */
    public Hyperparameters overlay(Hyperparameters over) {
        return new Hyperparameters(or(over.name, name), or(over.lr, lr), or(over.beta1, beta1), or(over.beta2, beta2), or(over.eps, eps),
                or(over.weightDecay, weightDecay), or(over.momentum, momentum), or(over.nsSteps, nsSteps), or(over.shapeScale, shapeScale),
                or(over.rank, rank), or(over.updateGap, updateGap), or(over.scale, scale), or(over.theta, theta),
                or(over.resetInterval, resetInterval), or(over.resetWarmup, resetWarmup), or(over.clipDelay, clipDelay),
                or(over.iterations, iterations));
    }

    private static <T> T or(T a, T b) {
        return a != null ? a : b;
    }

    public Hyperparameters withName(String v) {
        return overlay(named(v));
    }

    public Hyperparameters withWeightDecay(double v) {
        return new Hyperparameters(name, lr, beta1, beta2, eps, v, momentum, nsSteps, shapeScale, rank, updateGap, scale, theta,
                resetInterval, resetWarmup, clipDelay, iterations);
    }
}
