package dev.crucible.data.classify;

import dev.crucible.data.pipeline.Operator;
import dev.crucible.data.pipeline.OperatorProvider;
import dev.crucible.data.pipeline.Params;
import java.util.Map;
import java.util.function.Function;

/** The classifier operators, registered with the recipe's operator names. */
public final class ClassifyOperators implements OperatorProvider {
    @Override
    public Map<String, Function<Params, Operator>> operators() {
        return Map.of("quality_classifier_filter", QualityClassifierFilter::of);
    }
}
