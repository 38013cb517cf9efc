package dev.crucible.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

/** Large-star / small-star against a union-find on graphs whose components need many rounds: long paths, stars, random edges. */
class ConnectedComponentsTest {
    @Test
    void rootsAreEachComponentsSmallestNode() {
        SplittableRandom rng = new SplittableRandom(3);
        List<Tuple2<Long, Long>> edges = new ArrayList<>();
        for (long i = 1000; i < 1300; i++) edges.add(new Tuple2<>(i + 1, i)); // a path of 301 nodes
        for (long i = 2001; i < 2100; i++) edges.add(new Tuple2<>(2000L, i)); // a star around its smallest
        for (long i = 3100; i > 3000; i--) edges.add(new Tuple2<>(i, i - 1)); // a path listed backwards
        for (int k = 0; k < 400; k++) edges.add(new Tuple2<>(5000L + rng.nextInt(600), 5000L + rng.nextInt(600))); // random, self-loops too
        Map<Long, Long> expected = unionFind(edges);
        Map<Long, Long> got = new TreeMap<>(ConnectedComponents.roots(TestSpark.context().parallelizePairs(edges, 4)).collectAsMap());
        assertEquals(expected, got);
    }

    /** (node, smallest node of its component) for every node that is not that smallest node. */
    static Map<Long, Long> unionFind(List<Tuple2<Long, Long>> edges) {
        Map<Long, Long> parent = new TreeMap<>();
        for (Tuple2<Long, Long> e : edges) {
            long a = find(parent, e._1()), b = find(parent, e._2());
            if (a != b) parent.put(Math.max(a, b), Math.min(a, b));
        }
        Map<Long, Long> out = new TreeMap<>();
        for (Long n : parent.keySet()) {
            long r = find(parent, n);
            if (r != n) out.put(n, r);
        }
        return out;
    }

    static long find(Map<Long, Long> parent, long n) {
        parent.putIfAbsent(n, n);
        while (parent.get(n) != n) n = parent.get(n);
        return n;
    }
}
