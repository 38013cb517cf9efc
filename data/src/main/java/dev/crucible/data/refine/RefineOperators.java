package dev.crucible.data.refine;

import dev.crucible.data.pipeline.Operator;
import dev.crucible.data.pipeline.OperatorProvider;
import dev.crucible.data.pipeline.Params;
import java.util.Map;
import java.util.function.Function;

/** The refining operators, registered with the recipe's operator names. */
public final class RefineOperators implements OperatorProvider {
    @Override
    public Map<String, Function<Params, Operator>> operators() {
        return Map.of("refine_programs", RefinePrograms::of);
    }
}
