package dev.crucible.train;

import java.util.Locale;

/**
 * Learning rate per optimizer step (0-based): linear warmup, then cosine, warmup-stable-decay,
 * constant, or one of the two continual-pre-training schedules of Ibrahim et al. 2024 ("Simple and
 * Scalable Strategies to Continually Pre-train Large Language Models"): {@code rewarm} (linear
 * re-warming to the peak, cosine re-decay reaching min_lr_ratio · peak exactly at the last step) and
 * {@code infinite} (warm-up, cosine cool-down to const_lr_ratio · peak over cooldown steps, a constant
 * phase, and an exponential anneal to min_lr_ratio · peak over the last anneal steps: both phases in
 * steps, so a run extended by raising its steps only lengthens the constant phase). rewarm is the
 * cosine schedule counted as the paper counts updates (1-based), so its last step reaches the minimum.
 */
public record LrSchedule(Kind kind, double peak, int warmup, double minRatio, double decayFraction, double constRatio,
                         int cooldown, int anneal, int steps) {

    public enum Kind {
        COSINE, WSD, CONSTANT, REWARM, INFINITE;

        public static Kind parse(String s) {
            for (Kind k : values()) if (k.name().equalsIgnoreCase(s)) return k;
            throw new IllegalArgumentException("kind: unknown schedule '" + s + "' (cosine, wsd, constant, rewarm or infinite)");
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static LrSchedule of(RunConfig c) {
        return of(c.schedule(), c.optimizer().lr(), c.training().steps());
    }

    static LrSchedule of(RunConfig.Schedule s, double peak, int steps) {
        s = s.phasesFor(steps);
        return new LrSchedule(Kind.parse(s.kind()), peak, s.warmupSteps(), s.minLrRatio(), s.decayFraction(), s.constLrRatio(),
                s.cooldownSteps() == null ? 0 : s.cooldownSteps(), s.annealSteps() == null ? 0 : s.annealSteps(), steps);
    }

    int decaySteps() {
        return Math.max(1, (int) Math.round(decayFraction * steps));
    }

    public double at(int step) {
        if (step < warmup) return peak * (step + 1) / warmup;
        double min = peak * minRatio;
        return switch (kind) {
            case CONSTANT -> peak;
            case COSINE -> {
                double span = Math.max(1, steps - warmup);
                double progress = Math.min(1, (step - warmup) / span);
                yield cosine(peak, min, progress);
            }
            case WSD -> {
                int decayStart = Math.max(warmup, steps - decaySteps());
                if (step < decayStart) yield peak;
                double progress = Math.min(1, (double) (step - decayStart + 1) / (steps - decayStart));
                yield peak - (peak - min) * progress;
            }
            // counted as the paper counts updates (1-based): the k-th update has k = step + 1, warm-up ends at k = W with the peak, the last update has min
            case REWARM -> cosine(peak, min, Math.min(1, (double) (step + 1 - warmup) / Math.max(1, steps - warmup)));
            case INFINITE -> {
                int k = step + 1, cooldownEnd = warmup + cooldown, annealStart = steps - anneal;
                double constant = peak * constRatio;
                if (k <= cooldownEnd) yield cosine(peak, constant, (double) (k - warmup) / cooldown);
                if (k <= annealStart) yield constant;
                yield constant * Math.pow(minRatio / constRatio, Math.min(1, (double) (k - annealStart) / (steps - annealStart)));
            }
        };
    }

    /** From hi at progress 0 to lo at progress 1 along half a cosine. */
    private static double cosine(double hi, double lo, double progress) {
        return lo + 0.5 * (1 + Math.cos(Math.PI * progress)) * (hi - lo);
    }

    /**
     * A schedule that runs but not as its settings read, or null: warmup as long as the run (the rate
     * rises to the last step and never decays; nanoGPT's get_lr does the same), or a wsd decay that
     * the warmup shortens. Refusing these would refuse every short run left at the default warmup.
     */
    public String caution() {
        if (kind == Kind.INFINITE) return null; // misfit refuses its overlaps
        if (warmup >= steps) {
            return String.format(Locale.ROOT, "warmup_steps %d is not below training.steps %d: the rate rises for the whole run and never reaches its "
                    + "peak%s", warmup, steps, kind == Kind.CONSTANT ? "" : " or decays");
        }
        if (kind == Kind.WSD && warmup > steps - decaySteps()) {
            return String.format(Locale.ROOT, "the decay starts when warmup_steps %d end, so it lasts %d steps, not decay_fraction's %d", warmup,
                    steps - warmup, decaySteps());
        }
        return null;
    }

    /** Whether the phases fit in the steps; a message naming the keys otherwise, else null. */
    String misfit() {
        if (kind != Kind.INFINITE) return null;
        if (anneal < 1) return "anneal_steps: the infinite schedule needs at least 1, got " + anneal;
        if (warmup + cooldown > steps - anneal) {
            return String.format(Locale.ROOT, "warmup_steps %d + cooldown_steps %d + anneal_steps %d exceed training.steps %d", warmup, cooldown, anneal, steps);
        }
        if (!(minRatio > 0)) return "min_lr_ratio: the infinite schedule anneals exponentially, so it must be > 0, got " + minRatio;
        if (minRatio > constRatio) return "min_lr_ratio " + minRatio + " is above const_lr_ratio " + constRatio + ": the final anneal would raise the rate";
        return null;
    }
}
