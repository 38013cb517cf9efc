package dev.crucible.eval.data;

import dev.crucible.data.pipeline.Operator;
import dev.crucible.data.pipeline.OperatorProvider;
import dev.crucible.data.pipeline.Params;
import java.util.Map;
import java.util.function.Function;

/** Data operators that run a language model, registered with the recipe's operator names. */
public final class ModelOperators implements OperatorProvider {
    @Override
    public Map<String, Function<Params, Operator>> operators() {
        return Map.of("perplexity_filter", PerplexityFilter::of);
    }
}
