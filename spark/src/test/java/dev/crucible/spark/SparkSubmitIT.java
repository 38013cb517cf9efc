package dev.crucible.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.data.pipeline.Recipe;
import dev.crucible.data.pipeline.RecipeRun;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar under spark-submit (Spark's SparkSubmit, which bin/spark-submit runs, with
 * Spark's own jars as a cluster's installation would provide them): the recipe file's output equals
 * the local engine's. Runs after package (failsafe), on target/crucible-spark-all.jar.
 */
class SparkSubmitIT {
    @TempDir
    Path dir;

    @Test
    void theShadedJarRunsARecipeUnderSparkSubmit() throws Exception {
        Path jar = Path.of("target/crucible-spark-all.jar").toAbsolutePath(), sparkJars = Path.of("target/lib").toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), jar + " (mvn package builds it)");
        Path corpus = dir.resolve("corpus");
        SparkRecipeRunTest.plantedCorpus(corpus);
        Path recipe = dir.resolve("recipe.yaml");
        Files.writeString(recipe, SparkRecipeRunTest.recipe(corpus, dir.resolve("unused"), "skip"));
        RecipeRun.run(Recipe.load(recipe).withOutputDir(dir.resolve("local")), null);
        assertFalse(Files.exists(dir.resolve("unused")));

        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String flag : System.getProperty("spark.jvm.flags", "").split(" ")) if (!flag.isBlank()) cmd.add(flag);
        // only Spark's jars and the shaded one: what a cluster's installation and spark-submit give the driver
        cmd.addAll(List.of("-cp", sparkJars + File.separator + "*", "org.apache.spark.deploy.SparkSubmit",
                "--class", "dev.crucible.spark.SparkMain", "--master", "local[2]", "--conf", "spark.ui.enabled=false",
                jar.toString(), recipe.toString(), dir.resolve("submitted").toUri().toString())); // the output as an address
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "spark-submit did not finish");
        String log = Files.readString(dir.resolve("log"), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), log);
        assertTrue(log.contains("documents") && log.contains("out in"), log);
        SparkRecipeRunTest.assertSameOutput(dir.resolve("local"), dir.resolve("submitted"));
    }
}
