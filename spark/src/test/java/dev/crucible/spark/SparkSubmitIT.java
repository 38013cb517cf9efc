package dev.crucible.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.data.pipeline.Recipe;
import dev.crucible.data.pipeline.RecipeRun;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
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
        Path corpus = dir.resolve("corpus");
        SparkRecipeRunTest.plantedCorpus(corpus);
        Path recipe = dir.resolve("recipe.yaml");
        Files.writeString(recipe, SparkRecipeRunTest.recipe(corpus, dir.resolve("unused"), "skip"));
        RecipeRun.run(Recipe.load(recipe).withOutputDir(dir.resolve("local")), null);
        assertFalse(Files.exists(dir.resolve("unused")));

        submit(recipe, dir.resolve("submitted"), "log");
        SparkRecipeRunTest.assertSameOutput(dir.resolve("local"), dir.resolve("submitted"));
    }

    /**
     * A model-based operator from the eval module (perplexity_filter, on a small byte-level model of
     * random weights) is in the jar and decides on the executors what it decides locally: the same
     * bits per byte on every document, the same documents over the threshold removed.
     */
    @Test
    void theShadedJarRunsAModelBasedOperator() throws Exception {
        Path model = dir.resolve("model");
        ModelConfig config = ModelConfig.gpt2(256, 32, 2, 2, 32);
        ParamLayout layout = new ParamLayout(config);
        float[] params = new float[layout.size()];
        layout.initialize(params, 3);
        HfCheckpoint.write(model, config, params, null);
        Path corpus = dir.resolve("corpus");
        SparkRecipeRunTest.plantedCorpus(corpus);
        // a first local run scores every document; the threshold then removes about half
        String recipeText = """
                inputs: [%s/c.jsonl]
                output: {dir: %s, compression: gzip, shard_docs: 5}
                ops:
                  - perplexity_filter: {model: %s, max: %s}
                """;
        Path scoring = dir.resolve("scoring.yaml");
        Files.writeString(scoring, recipeText.formatted(corpus, dir.resolve("unused"), model, 1_000_000));
        RecipeRun.run(Recipe.load(scoring).withOutputDir(dir.resolve("scores")), null);
        List<Double> scores = new ArrayList<>();
        for (String shard : SparkRecipeRunTest.shards(dir.resolve("scores")).values()) {
            for (String line : shard.split("\n")) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"bits_per_byte\":\"([0-9.]+)\"").matcher(line);
                assertTrue(m.find(), "every document scored: " + line);
                scores.add(Double.parseDouble(m.group(1)));
            }
        }
        java.util.Collections.sort(scores);
        double median = scores.get(scores.size() / 2);
        Path recipe = dir.resolve("recipe.yaml");
        Files.writeString(recipe, recipeText.formatted(corpus, dir.resolve("unused"), model, median));
        RecipeRun.Summary local = RecipeRun.run(Recipe.load(recipe).withOutputDir(dir.resolve("local")), null);
        assertTrue(local.docsOut() > 0 && local.docsOut() < scores.size(), local.docsOut() + " of " + scores.size() + " kept");
        submit(recipe, dir.resolve("submitted"), "log-model", "--add-modules", "jdk.incubator.vector"); // on a cluster: spark.{driver,executor}.extraJavaOptions
        SparkRecipeRunTest.assertSameOutput(dir.resolve("local"), dir.resolve("submitted"));
    }

    /**
     * The lint module's java_style_filter is in the jar, Checkstyle running on its own ANTLR and Guava
     * (relocated) under Spark's: the same scores and the same documents removed as locally.
     */
    @Test
    void theShadedJarRunsTheJavaStyleFilter() throws Exception {
        Path corpus = dir.resolve("corpus");
        Files.createDirectories(corpus);
        String tidy = """
                package demo;

                /** A point on a line. */
                public final class Point {
                  private final int x;

                  /** Makes one at x. */
                  public Point(int x) {
                    this.x = x;
                  }

                  /** Where it is. */
                  public int x() {
                    return x;
                  }
                }
                """;
        String crammed = """
                package demo;
                public class Crammed { public int   f(int a){ int b=a;if(a>0){b=a*2;}  return b;}
                public static void main(String[] args){System.out.println("x");} }
                """;
        String prose = "Prose is not checked: the filter's where clause keeps it away from Checkstyle, and it stays. ".repeat(3);
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        Files.writeString(corpus.resolve("code.jsonl"), json.writeValueAsString(java.util.Map.of("id", "tidy", "text", tidy)) + "\n"
                + json.writeValueAsString(java.util.Map.of("id", "crammed", "text", crammed)) + "\n");
        Files.writeString(corpus.resolve("prose.jsonl"), json.writeValueAsString(java.util.Map.of("id", "prose", "text", prose)) + "\n");
        Path recipe = dir.resolve("recipe.yaml");
        Files.writeString(recipe, """
                inputs:
                  - {path: %s/code.jsonl, meta: {domain: code}}
                  - {path: %s/prose.jsonl, meta: {domain: prose}}
                output: {dir: %s, compression: gzip}
                ops:
                  - java_style_filter: {min_score: 7.0, where: {domain: code}}
                """.formatted(corpus, corpus, dir.resolve("unused")));
        RecipeRun.Summary local = RecipeRun.run(Recipe.load(recipe).withOutputDir(dir.resolve("local")), null);
        assertEquals(2, local.docsOut(), "the crammed file scores under 7");
        String kept = String.join("", SparkRecipeRunTest.shards(dir.resolve("local")).values());
        assertTrue(kept.contains("\"tidy\"") && kept.contains("style_score") && !kept.contains("\"crammed\""), kept);
        submit(recipe, dir.resolve("submitted"), "log-lint");
        SparkRecipeRunTest.assertSameOutput(dir.resolve("local"), dir.resolve("submitted"));
    }

    /** spark-submit with only Spark's jars and the shaded one on the driver's class path, as a cluster's installation gives it. */
    private void submit(Path recipe, Path out, String logName, String... jvmFlags) throws Exception {
        Path jar = Path.of("target/crucible-spark-all.jar").toAbsolutePath(), sparkJars = Path.of("target/lib").toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), jar + " (mvn package builds it)");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String flag : System.getProperty("spark.jvm.flags", "").split(" ")) if (!flag.isBlank()) cmd.add(flag);
        cmd.addAll(List.of(jvmFlags));
        cmd.addAll(List.of("-cp", sparkJars + File.separator + "*", "org.apache.spark.deploy.SparkSubmit",
                "--class", "dev.crucible.spark.SparkMain", "--master", "local[2]", "--conf", "spark.ui.enabled=false",
                jar.toString(), recipe.toString(), out.toUri().toString())); // the output as an address
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(logName).toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "spark-submit did not finish");
        String log = Files.readString(dir.resolve(logName), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), log);
        assertTrue(log.contains("documents") && log.contains("out in"), log);
    }
}
