package dev.crucible.data.pipeline;

import java.io.IOException;
import java.io.PrintStream;

/**
 * Another engine that runs recipes (found with {@link java.util.ServiceLoader}, so that the core
 * never links against it): the same steps, the same output, summary and trace as {@link RecipeRun}.
 */
public interface DataEngine {
    /** The name --engine selects, e.g. "spark". */
    String name();

    /**
     * Runs the recipe whose YAML text is recipeText (recipe is that text parsed, with any override
     * of the output applied); master: where to run (the engine's own syntax), null for its default.
     */
    RecipeRun.Summary run(Recipe recipe, String recipeText, String master, PrintStream log) throws IOException;
}
