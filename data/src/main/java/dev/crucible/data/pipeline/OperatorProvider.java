package dev.crucible.data.pipeline;

import java.util.Map;
import java.util.function.Function;

/**
 * Operators that live outside the pipeline package, found with {@link java.util.ServiceLoader}:
 * refining programs and classifiers in this module, model-based ones (perplexity) in a module that
 * can load a checkpoint. A recipe names them like any built-in operator.
 */
public interface OperatorProvider {
    /** Recipe name to factory; a factory reads its parameters from Params and fails with IllegalArgumentException. */
    Map<String, Function<Params, Operator>> operators();
}
