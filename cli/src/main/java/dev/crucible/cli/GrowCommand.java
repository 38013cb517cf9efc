package dev.crucible.cli;

import dev.crucible.model.Growth;
import dev.crucible.model.HfCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `crucible grow`: a model directory with its layer stack repeated (G_stack), to train from or to inspect. */
@Command(name = "grow", mixinStandardHelpOptions = true,
        description = {"Grow a model by depth (G_stack, Du et al. 2024): layer i of the result is a copy of layer i mod L of DIR, so the whole "
                + "stack repeats --factor times (6 layers x4: 0-5, 0-5, 0-5, 0-5); embeddings, final norm and head are copied. Writes a model "
                + "directory (config.json, model.safetensors, the tokenizer files of DIR).",
                "Train it with training.init_from: <out>, or let a run grow at its start with training.grow_from: {checkpoint: DIR, factor: N}."})
final class GrowCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "The model directory to grow (a checkpoint, or an imported Hugging Face model).")
    Path source;
    @Option(names = "--factor", defaultValue = "4", description = "Copies of the layer stack (default ${DEFAULT-VALUE}).")
    int factor;
    @Option(names = "--out", required = true, description = "Directory for the grown model.")
    Path out;
    @Option(names = "--target-tokens", paramLabel = "D", description = "Also print when the paper's formula would grow, for the grown model trained on D tokens "
            + "(fitted on 410M-7B models; it extrapolates badly below).")
    Double targetTokens;

    @Override
    public Integer call() throws Exception {
        if (Files.exists(out.resolve("model.safetensors"))) throw new UserError(out + " already holds a model; pass another --out");
        Growth.Grown g = Growth.stack(source, factor);
        HfCheckpoint.write(out, g.config(), g.params(), source);
        System.out.printf(Locale.ROOT, "grew %s: %d layers x%d = %d layers (%s)%n", source, g.source().nLayer(), factor, g.config().nLayer(),
                Growth.copiesActAsSources(g.source(), factor) ? "each copy computes what its source layer does"
                        : "its layers compute per their index (Mix-LN or LayerNorm Scaling), so the copies at new indices compute differently");
        if (targetTokens != null) {
            long params = new dev.crucible.model.ParamLayout(g.config()).size();
            double d = Growth.paperGrowthTokens(params, targetTokens);
            System.out.printf(Locale.ROOT, "the paper's timing for %,d parameters on %.3g tokens: train the small model for %.3g tokens (%.1f%% of the budget)%s%n",
                    params, targetTokens, d, 100 * d / targetTokens, params < 410e6 || params > 7e9 ? "; outside the 410M-7B the formula was fitted on: "
                            + "grow at a stated fraction of the budget (10-25%) instead" : "");
        }
        System.out.println("wrote " + out.toAbsolutePath() + "; train from it with 'training: {init_from: " + out + "}'");
        return 0;
    }
}
