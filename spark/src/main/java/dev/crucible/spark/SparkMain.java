package dev.crucible.spark;

import dev.crucible.data.pipeline.Recipe;
import dev.crucible.data.pipeline.RecipeRun;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The entry point for spark-submit: {@code spark-submit --class dev.crucible.spark.SparkMain
 * crucible-spark-all.jar RECIPE [OUTPUT]} (OUTPUT: a directory or an address such as s3a://...); the master and resources are spark-submit's.
 */
public final class SparkMain {
    private SparkMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: spark-submit --class dev.crucible.spark.SparkMain crucible-spark-all.jar RECIPE [OUTPUT_DIR]");
            System.exit(2);
        }
        Path file = Path.of(args[0]);
        Recipe recipe;
        try {
            recipe = Recipe.load(file);
        } catch (Recipe.RecipeException e) {
            System.err.println("crucible: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (args.length == 2) recipe = recipe.withOutput(args[1]);
        RecipeRun.Summary s = new SparkEngine().run(recipe, Files.readString(file), null, System.out);
        System.out.print(RecipeRun.table(s));
    }
}
