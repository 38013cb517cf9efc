package dev.crucible.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** The one Spark context a JVM may hold, shared by the test classes: local[2], no UI; Spark's shutdown hook stops it. */
final class TestSpark {
    private TestSpark() {}

    private static JavaSparkContext sc;

    static synchronized JavaSparkContext context() {
        if (sc == null) {
            sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("crucible-test").set("spark.ui.enabled", "false"));
            sc.setLogLevel("ERROR");
        }
        return sc;
    }
}
