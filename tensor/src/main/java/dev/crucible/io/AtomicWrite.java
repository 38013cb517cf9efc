package dev.crucible.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Writes a file so that a reader, or a process killed mid-write, sees either the old file or the
 * whole new one: the content goes to a temporary sibling (name + ".tmp"), which is then renamed
 * over the target in one atomic step. Every file Crucible writes on its own goes through here; files
 * written inside a directory that is itself renamed into place when complete (a checkpoint, a
 * recipe's output, a shard set) need not.
 */
public final class AtomicWrite {
    private AtomicWrite() {}

    /** Writes the content of a file at the path it is given. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path file) throws IOException;
    }

    /** The temporary sibling a write of target goes through. */
    public static Path temporary(Path target) {
        return target.resolveSibling(target.getFileName() + ".tmp");
    }

    public static void write(Path target, Content content) throws IOException {
        Path tmp = temporary(target);
        try {
            content.writeTo(tmp);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    public static void writeString(Path target, String text) throws IOException {
        write(target, tmp -> Files.writeString(tmp, text, StandardCharsets.UTF_8));
    }

    public static void writeBytes(Path target, byte[] bytes) throws IOException {
        write(target, tmp -> Files.write(tmp, bytes));
    }

    public static void writeLines(Path target, List<String> lines) throws IOException {
        write(target, tmp -> Files.write(tmp, lines, StandardCharsets.UTF_8));
    }
}
