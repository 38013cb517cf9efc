package dev.crucible.model.optim;

import dev.crucible.model.ParamLayout;
import dev.crucible.tensor.WorkerPool;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which optimizer updates which parameters, with which settings: a run config's optimizer section
 * (a name and keys) and its groups (per role: another name and/or other keys). Each role runs the
 * section's optimizer with the section's keys over its defaults if that optimizer takes the role
 * (matrix optimizers take the hidden matrices), else AdamW at AdamW's defaults; a group for the role
 * changes the optimizer and/or overrides keys. Weight decay applies only to hidden matrices and the
 * head unless a group sets it. Every key must be one the role's optimizer reads, and in range.
 */
public final class OptimizerRecipe {
    private final Algorithm algorithm;
    private final double baseLr;
    private final Map<ParamLayout.Role, Hyperparameters> byRole = new EnumMap<>(ParamLayout.Role.class);
    /** For each role, where its rank came from (the config key), for errors against a model. */
    private final Map<ParamLayout.Role, String> rankKey = new EnumMap<>(ParamLayout.Role.class);

    private OptimizerRecipe(Algorithm algorithm, double baseLr) {
        this.algorithm = algorithm;
        this.baseLr = baseLr;
    }

    /** Errors are IllegalArgumentExceptions whose messages start with the dotted key ("groups.head.lr: ..."). */
    public static OptimizerRecipe of(Hyperparameters section, Map<String, Hyperparameters> groups) {
        Algorithm alg = Algorithm.of(section.name() != null ? section.name() : Algorithm.ADAMW.id());
        alg.checkKeys(section);
        Hyperparameters full = alg.defaults(section).overlay(section).withName(alg.id());
        OptimizerRecipe r = new OptimizerRecipe(alg, full.lr());
        Map<String, Hyperparameters> given = new TreeMap<>(groups);
        for (String id : given.keySet()) role(id);
        for (ParamLayout.Role role : ParamLayout.Role.values()) {
            Hyperparameters g = given.getOrDefault(role.id(), Hyperparameters.named(null));
            String prefix = "groups." + role.id() + ".";
            Algorithm a;
            try {
                a = g.name() != null ? Algorithm.of(g.name()) : alg.takesByDefault(role) ? alg : Algorithm.ADAMW;
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(prefix + "name: " + e.getMessage(), e);
            }
            if (a.needsMatrices() && !role.isMatrix()) {
                throw new IllegalArgumentException(prefix + "name: " + a.id() + " updates whole matrices; " + role.id()
                        + " parameters are vectors (use adamw or spam)");
            }
            try {
                a.checkKeys(g);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(prefix + e.getMessage(), e);
            }
            Hyperparameters base = a == alg ? full : a.defaults(g);
            if (role != ParamLayout.Role.HIDDEN_MATRIX && role != ParamLayout.Role.HEAD) base = base.withWeightDecay(0);
            Hyperparameters settings = base.overlay(g).withName(a.id());
            try {
                a.checkSettings(settings);
            } catch (IllegalArgumentException e) { // name the key where it was written: the group's, else the section's
                String key = e.getMessage().substring(0, e.getMessage().indexOf(':'));
                throw new IllegalArgumentException((g.given().containsKey(key) ? prefix : "") + e.getMessage(), e);
            }
            r.byRole.put(role, settings);
            r.rankKey.put(role, g.rank() != null ? prefix + "rank" : "rank");
        }
        if (r.byRole.values().stream().noneMatch(h -> h.name().equals(alg.id()))) {
            throw new IllegalArgumentException("name: " + alg.id() + " would update no parameters: every role's group names another optimizer");
        }
        return r;
    }

    /** A recipe of AdamW alone, with these settings for every role but weight decay only on hidden matrices and the head. */
    public static OptimizerRecipe adamW(double lr, double beta1, double beta2, double eps, double weightDecay) {
        return of(Hyperparameters.adamW(lr, beta1, beta2, eps, weightDecay), Map.of());
    }

    private static ParamLayout.Role role(String id) {
        for (ParamLayout.Role r : ParamLayout.Role.values()) if (r.id().equals(id)) return r;
        throw new IllegalArgumentException("groups." + id + ": unknown parameter role (roles: hidden_matrix, embedding, head, norm, bias)");
    }

    /** The optimizer's name: the section's (what optimizer.safetensors records). */
    public String name() {
        return algorithm.id();
    }

    /** The rate the schedule scales (the section's lr); a group's rate follows it in proportion. */
    public double baseLr() {
        return baseLr;
    }

    /** Complete settings (name included) for each role. */
    public Map<ParamLayout.Role, Hyperparameters> byRole() {
        return java.util.Collections.unmodifiableMap(byRole);
    }

    /**
     * Refuses settings this model cannot take, naming the key: a GaLore rank above the smaller side of
     * every matrix it would project (above some of them, it is capped there, as the reference's
     * slicing of the SVD caps it; with grouped-query attention k_proj and v_proj are narrower).
     */
    public void checkAgainst(ParamLayout layout) {
        for (ParamLayout.Role role : ParamLayout.Role.values()) {
            Hyperparameters h = byRole.get(role);
            if (Algorithm.of(h.name()) != Algorithm.GALORE || h.rank() == null) continue;
            MatrixUnit widest = null;
            for (MatrixUnit u : MatrixUnit.of(layout, layout.tensors().stream().filter(t -> t.role() == role).toList())) {
                if (widest == null || Math.min(u.rows(), u.cols()) > Math.min(widest.rows(), widest.cols())) widest = u;
            }
            if (widest != null && h.rank() > Math.min(widest.rows(), widest.cols())) {
                throw new IllegalArgumentException(rankKey.get(role) + ": " + h.rank() + " is above the smaller side of every matrix it would project (the "
                        + "largest: " + widest.name() + ", " + widest.rows() + "x" + widest.cols() + "); GaLore's rank is at most min(out, in)");
            }
        }
    }

    /**
     * The optimizer over a model's parameters: one rule per distinct (optimizer, settings), over the
     * tensors of the roles that share them.
     */
    public GroupedOptimizer create(ParamLayout layout, WorkerPool pool) {
        checkAgainst(layout);
        Algorithm.Kernels k = new Algorithm.Kernels(pool);
        Map<Hyperparameters, List<ParamLayout.Tensor>> shared = new LinkedHashMap<>();
        for (ParamLayout.Tensor t : layout.tensors()) shared.computeIfAbsent(byRole.get(t.role()), h -> new ArrayList<>()).add(t);
        List<UpdateRule> rules = new ArrayList<>();
        shared.forEach((h, tensors) -> rules.add(Algorithm.of(h.name()).rule(layout, tensors, h, k)));
        return new GroupedOptimizer(name(), baseLr, rules, pool);
    }
}
