package dev.crucible.eval.analysis;

import dev.crucible.eval.Blimp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * BLiMP's 67 paradigms summarised per checkpoint: the mean accuracy over paradigms, of all of them
 * (task "blimp") or of one phenomenon's (task "blimp:PHENOMENON"), with the standard error of the
 * mean of independent paradigm scores. Paradigms BLiMP does not have count only towards the overall mean.
 */
public final class BlimpMeans {
    private BlimpMeans() {}

    /** The mean over every paradigm in series, or null when there are none. */
    public static Series overall(String run, List<Series> series) {
        return mean(run, series, null);
    }

    /** One mean series per phenomenon the run was evaluated on, in alphabetical order. */
    public static List<Series> phenomena(String run, List<Series> series) {
        List<Series> out = new ArrayList<>();
        for (String ph : new TreeSet<>(Blimp.PHENOMENON_OF_PARADIGM.values())) {
            Series s = mean(run, series, ph);
            if (s != null) out.add(s);
        }
        return out;
    }

    /** What a summary shows one by one: BLiMP as its overall mean and its phenomena's (not 67 paradigms), then every other series. */
    public static List<Series> summarised(String run, List<Series> series) {
        List<Series> out = new ArrayList<>();
        Series b = overall(run, series);
        if (b != null) out.add(b);
        out.addAll(phenomena(run, series));
        for (Series s : series) if (!isParadigm(s)) out.add(s);
        return out;
    }

    public static boolean isParadigm(Series s) {
        return s.task().startsWith("blimp_");
    }

    private static Series mean(String run, List<Series> series, String phenomenon) {
        Map<Long, double[]> acc = new TreeMap<>(); // step -> {sum, sumSe2, n, tokens}
        for (Series s : series) {
            if (!isParadigm(s) || !s.metric().equals("acc")) continue;
            if (phenomenon != null && !phenomenon.equals(Blimp.phenomenon(s.task()))) continue;
            for (Series.Point p : s.points()) {
                double[] a = acc.computeIfAbsent(p.step(), k -> new double[4]);
                a[0] += p.value();
                a[1] += Double.isNaN(p.stderr()) ? 0 : p.stderr() * p.stderr();
                a[2]++;
                a[3] = p.tokens();
            }
        }
        if (acc.isEmpty()) return null;
        List<Series.Point> pts = new ArrayList<>();
        acc.forEach((step, a) -> pts.add(new Series.Point(step, (long) a[3], a[0] / a[2], Math.sqrt(a[1]) / a[2])));
        return new Series(run, phenomenon == null ? "blimp" : "blimp:" + phenomenon, "acc", 0.5, pts);
    }
}
