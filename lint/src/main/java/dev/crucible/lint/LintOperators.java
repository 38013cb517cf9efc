package dev.crucible.lint;

import dev.crucible.data.pipeline.Operator;
import dev.crucible.data.pipeline.OperatorProvider;
import dev.crucible.data.pipeline.Params;
import java.util.Map;
import java.util.function.Function;

/** The code-style operators, registered with the recipe's operator names. */
public final class LintOperators implements OperatorProvider {
    @Override
    public Map<String, Function<Params, Operator>> operators() {
        return Map.of("java_style_filter", JavaStyleFilter::of);
    }
}
