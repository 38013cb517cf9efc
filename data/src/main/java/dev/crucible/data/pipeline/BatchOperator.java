package dev.crucible.data.pipeline;

import java.util.List;

/**
 * An operator that is cheaper on many documents at once (a model scoring a batch of documents in one
 * pass): the engine hands it every document of a batch still there at its step. Each outcome must be
 * the one apply would give for that document alone, so the output does not depend on how the input
 * was cut into batches.
 */
public interface BatchOperator extends Operator {
    /** The outcomes of the documents, in their order. */
    List<Outcome> applyAll(List<Doc> docs);

    @Override
    default Outcome apply(Doc doc) {
        return applyAll(List.of(doc)).getFirst();
    }
}
