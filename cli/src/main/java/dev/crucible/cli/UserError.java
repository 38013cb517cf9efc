package dev.crucible.cli;

/** A failure caused by the user's input, reported as one line without a stack trace. */
public final class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }
}
