package dev.crucible.data.llm;

import dev.crucible.data.pipeline.Operator;
import dev.crucible.data.pipeline.OperatorProvider;
import dev.crucible.data.pipeline.Params;
import java.util.Map;
import java.util.function.Function;

/** Operators that ask a completion endpoint, registered with the recipe's operator names. */
public final class LlmOperators implements OperatorProvider {
    @Override
    public Map<String, Function<Params, Operator>> operators() {
        return Map.of("rewrite", Rewrite::of);
    }
}
