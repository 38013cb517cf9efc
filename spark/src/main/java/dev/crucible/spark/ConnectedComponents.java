package dev.crucible.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Connected components of a graph given as an edge list, by the large-star / small-star iteration
 * (Kiveris, Lattanzi, Mirrokni, Rastogi and Vassilvitskii, "Connected Components in MapReduce and
 * Beyond", SoCC 2014): both operations keep the components and move every node's edges towards the
 * smallest node it can see, so that after O(log² n) rounds each component is a star around its
 * smallest node. Nodes are documents' places in input order, so a component's root is its first
 * document: the one de-duplication keeps.
 */
final class ConnectedComponents {
    private ConnectedComponents() {}

    /** (node, root) for every node that is not the smallest of its component; nodes on no edge are their own roots. */
    static JavaPairRDD<Long, Long> roots(JavaPairRDD<Long, Long> edges) {
        JavaPairRDD<Long, Long> e = edges.filter(t -> !t._1().equals(t._2())).mapToPair(ConnectedComponents::downwards).distinct();
        e.persist(StorageLevel.MEMORY_AND_DISK());
        for (int round = 1; ; round++) {
            JavaPairRDD<Long, Long> next = smallStar(largeStar(e)).persist(StorageLevel.MEMORY_AND_DISK());
            boolean done = isStarForest(next); // computes next while e is still cached
            e.unpersist(false);
            e = next;
            if (done) return e;
            if (round == 200) throw new IllegalStateException("connected components did not converge in 200 rounds");
        }
    }

    /** (larger, smaller): every edge points down. */
    private static Tuple2<Long, Long> downwards(Tuple2<Long, Long> t) {
        return t._1() > t._2() ? t : new Tuple2<>(t._2(), t._1());
    }

    /** Each node u links every larger neighbour to the smallest of u and its neighbours. */
    private static JavaPairRDD<Long, Long> largeStar(JavaPairRDD<Long, Long> e) {
        return e.flatMapToPair(t -> List.of(t, new Tuple2<>(t._2(), t._1())).iterator()).groupByKey().flatMapToPair(g -> {
            long u = g._1(), m = u;
            for (long v : g._2()) m = Math.min(m, v);
            List<Tuple2<Long, Long>> out = new ArrayList<>();
            for (long v : g._2()) if (v > u) out.add(new Tuple2<>(v, m));
            return out.iterator();
        }).distinct();
    }

    /** Each node u links itself and every smaller neighbour to the smallest of them. */
    private static JavaPairRDD<Long, Long> smallStar(JavaPairRDD<Long, Long> e) {
        return e.mapToPair(ConnectedComponents::downwards).groupByKey().flatMapToPair(g -> {
            long u = g._1(), m = u;
            for (long v : g._2()) m = Math.min(m, v);
            List<Tuple2<Long, Long>> out = new ArrayList<>();
            for (long v : g._2()) if (v != m) out.add(new Tuple2<>(v, m));
            if (u != m) out.add(new Tuple2<>(u, m));
            return out.iterator();
        }).distinct();
    }

    /** Every node has one edge, and it goes to a node with none: each component is one star. */
    private static boolean isStarForest(JavaPairRDD<Long, Long> e) {
        long edges = e.count();
        if (e.keys().distinct().count() != edges) return false;
        return e.values().distinct().mapToPair(v -> new Tuple2<>(v, true)).join(e).isEmpty();
    }
}
