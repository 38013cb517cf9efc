package dev.crucible.train;

import java.util.Locale;

/** Learning rate per optimizer step (0-based): linear warmup, then cosine, warmup-stable-decay or constant. */
public record LrSchedule(Kind kind, double peak, int warmup, double minRatio, double decayFraction, int steps) {

    public enum Kind {
        COSINE, WSD, CONSTANT;

        public static Kind parse(String s) {
            for (Kind k : values()) if (k.name().equalsIgnoreCase(s)) return k;
            throw new IllegalArgumentException("kind: unknown schedule '" + s + "' (cosine, wsd or constant)");
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static LrSchedule of(RunConfig c) {
        return new LrSchedule(Kind.parse(c.schedule().kind()), c.optimizer().lr(), c.schedule().warmupSteps(),
                c.schedule().minLrRatio(), c.schedule().decayFraction(), c.training().steps());
    }

    public double at(int step) {
        if (step < warmup) return peak * (step + 1) / warmup;
        double min = peak * minRatio;
        return switch (kind) {
            case CONSTANT -> peak;
            case COSINE -> {
                double span = Math.max(1, steps - warmup);
                double progress = Math.min(1, (step - warmup) / span);
                yield min + 0.5 * (1 + Math.cos(Math.PI * progress)) * (peak - min);
            }
            case WSD -> {
                int decaySteps = Math.max(1, (int) Math.round(decayFraction * steps));
                int decayStart = Math.max(warmup, steps - decaySteps);
                if (step < decayStart) yield peak;
                double progress = Math.min(1, (double) (step - decayStart + 1) / (steps - decayStart));
                yield peak - (peak - min) * progress;
            }
        };
    }
}
