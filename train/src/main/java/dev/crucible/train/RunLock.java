package dev.crucible.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;

/**
 * An exclusive hold on a run directory while a trainer writes to it, so that a second trainer (a
 * `train --resume` while the first still runs) is refused instead of interleaving its metrics and
 * checkpoints. An OS file lock on run/.lock: it goes away with the process, however it ends, so a
 * killed run never leaves a stale lock. The file holds the holder's process id for the message.
 * Within one JVM, held runs are also kept in a set and a second hold is refused without opening the
 * file: closing any channel of a locked file can release the JVM's lock on it.
 */
final class RunLock implements AutoCloseable {
    static final String FILE = ".lock";
    private static final Set<Path> HELD = new HashSet<>();
    private final Path run;
    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(Path run, FileChannel channel, FileLock lock) {
        this.run = run;
        this.channel = channel;
        this.lock = lock;
    }

    static RunLock acquire(Path runDir) throws IOException {
        Files.createDirectories(runDir);
        Path run = runDir.toRealPath();
        synchronized (HELD) {
            if (!HELD.add(run)) throw inUse(run, Long.toString(ProcessHandle.current().pid()));
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(run.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock = ch.tryLock();
            if (lock == null) {
                ByteBuffer b = ByteBuffer.allocate(32);
                ch.read(b, 0);
                throw inUse(run, new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip());
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)), 0);
            ch.force(false);
            return new RunLock(run, ch, lock);
        } catch (IOException | RuntimeException e) {
            if (ch != null) ch.close();
            synchronized (HELD) {
                HELD.remove(run);
            }
            throw e;
        }
    }

    private static IOException inUse(Path run, String holder) {
        return new IOException(run + " is in use by another trainer (" + (holder.isEmpty() ? "process unknown" : "process " + holder)
                + "); wait for it to finish or stop it before training this run again");
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
            channel.close();
        } finally {
            synchronized (HELD) {
                HELD.remove(run);
            }
        }
    }
}
