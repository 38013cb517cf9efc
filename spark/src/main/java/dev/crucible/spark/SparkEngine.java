package dev.crucible.spark;

import dev.crucible.data.pipeline.DataEngine;
import dev.crucible.data.pipeline.Recipe;
import dev.crucible.data.pipeline.RecipeRun;
import java.io.IOException;
import java.io.PrintStream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * {@code crucible data run RECIPE --engine spark [--master M]}: starts a Spark context (local[*]
 * unless told otherwise; under spark-submit the master and settings come from it) and runs the
 * recipe on it.
 */
public final class SparkEngine implements DataEngine {
    @Override
    public String name() {
        return "spark";
    }

    @Override
    public RecipeRun.Summary run(Recipe recipe, String recipeText, String master, PrintStream log) throws IOException {
        SparkConf conf = new SparkConf().setAppName("crucible data run " + recipe.source());
        if (master != null) conf.setMaster(master);
        else if (!conf.contains("spark.master")) conf.setMaster("local[*]");
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            sc.setLogLevel("WARN");
            if (log != null) log.printf("spark: master %s, default parallelism %d%n", sc.master(), sc.defaultParallelism());
            return SparkRecipeRun.run(recipe, recipeText, sc, log);
        }
    }
}
