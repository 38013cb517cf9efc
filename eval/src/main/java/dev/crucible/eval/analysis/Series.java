package dev.crucible.eval.analysis;

import java.util.List;

/**
 * One metric of one task over the checkpoints of one run, in step order. chance: the score of
 * guessing, as the task declares it (results.jsonl carries it); NaN where there is none (losses,
 * perplexities) or it is not known.
 */
public record Series(String run, String task, String metric, double chance, List<Point> points) {

    /** A checkpoint's score; stderr is NaN when unknown. */
    public record Point(long step, long tokens, double value, double stderr) {}

    public double[] values() {
        return points.stream().mapToDouble(Point::value).toArray();
    }

    public Point first() {
        return points.getFirst();
    }

    public Point last() {
        return points.getLast();
    }

    /** The point at a step, or null. */
    public Point at(long step) {
        for (Point p : points) if (p.step() == step) return p;
        return null;
    }
}
