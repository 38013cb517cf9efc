package dev.crucible.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One persistent pool of worker threads for all kernels. The calling thread takes part as worker 0,
 * so a pool of size n starts n-1 threads. Idle workers spin for a few microseconds (kernels are
 * issued back to back) and then park, so they never compete with other work for the cores.
 *
 * <p>Tasks are handed out dynamically, which is safe for determinism because every kernel gives
 * each task its own output region and reduces partial results in a fixed order afterwards.
 */
public final class WorkerPool implements AutoCloseable {

    /** A unit of parallel work: task index in [0, count) and the id of the worker running it. */
    @FunctionalInterface
    public interface Task {
        void run(int index, int worker);
    }

    private static final int SPINS = 4_000;

    private final int size;
    private final Worker[] workers;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile int generation;
    private volatile boolean closed;
    private Task task;
    private int count;
    private Thread caller;
    private boolean running;

    /** The thread count a user's setting asks for: 0 (or less) means one per core. */
    public static int threadsFor(int requested) {
        return requested > 0 ? requested : Cpu.cores();
    }

    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.size = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
    }

    /** Number of workers, the calling thread included. */
    public int size() {
        return size;
    }

    /** Runs task(i, worker) for every i in [0, count) and returns when all are done. */
    public void run(int count, Task task) {
        if (count <= 0) return;
        // Nested use (a task that itself calls run) runs inline on the current worker; a worker must not
        // wait for the pool's lock, which the thread that started the job holds.
        if (Thread.currentThread() instanceof Worker w) {
            for (int i = 0; i < count; i++) task.run(i, w.id);
            return;
        }
        synchronized (this) {
            runOnPool(count, task);
        }
    }

    /**
     * Nanoseconds the calling thread has spent, since the pool was made, waiting at the ends of jobs for
     * other workers to finish their last tasks: the imbalance of the pool's jobs as the caller sees it
     * (a worker's own waits for the next job are not counted).
     */
    public long callerWaitNanos() {
        return callerWaitNanos;
    }

    private long callerWaitNanos;

    /** Whether the calling thread is inside a task of this pool (where run and forRange execute inline). */
    public boolean insideTask() {
        return Thread.currentThread() instanceof Worker || (running && caller == Thread.currentThread());
    }

    private void runOnPool(int count, Task task) {
        if (closed) throw new IllegalStateException("worker pool is closed");
        if (size == 1 || count == 1 || running) {
            for (int i = 0; i < count; i++) task.run(i, 0);
            return;
        }
        this.task = task;
        this.count = count;
        this.caller = Thread.currentThread();
        next.set(0);
        pending.set(workers.length);
        failure.set(null);
        running = true;
        try {
            generation++; // volatile write publishes the fields above
            for (Worker w : workers) LockSupport.unpark(w);
            work(0);
            int spins = 0;
            long idleFrom = System.nanoTime();
            while (pending.get() != 0) {
                if (spins++ < SPINS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            callerWaitNanos += System.nanoTime() - idleFrom;
        } finally {
            running = false;
            this.task = null;
        }
        Throwable t = failure.get();
        if (t != null) {
            if (t instanceof RuntimeException re) throw re;
            if (t instanceof Error e) throw e;
            throw new RuntimeException(t);
        }
    }

    /**
     * Splits [0, n) into exactly min(chunks, n) contiguous ranges, the same split whatever the pool
     * size, and runs body(start, end, chunk, worker) on each. Reductions write one partial per chunk
     * and sum the partials in chunk order, which keeps them deterministic.
     */
    public void forRange(int n, int chunks, RangeTask body) {
        if (n <= 0) return;
        int c = Math.max(1, Math.min(chunks, n));
        if (Thread.currentThread() instanceof Worker w) {
            for (int i = 0; i < c; i++) runChunk(body, n, c, i, w.id);
            return;
        }
        synchronized (this) {
            if (running) { // nested inside a task on the calling thread: inline, leaving the outer job's fields alone
                for (int i = 0; i < c; i++) runChunk(body, n, c, i, 0);
                return;
            }
            rangeBody = body;
            rangeN = n;
            rangeChunks = c;
            try {
                runOnPool(c, rangeTask);
            } finally {
                rangeBody = null;
            }
        }
    }

    // forRange's job, read by one task made once, so that a call allocates no closure
    private RangeTask rangeBody;
    private int rangeN, rangeChunks;
    private final Task rangeTask = (i, w) -> runChunk(rangeBody, rangeN, rangeChunks, i, w);

    private static void runChunk(RangeTask body, int n, int c, int i, int worker) {
        int start = (int) ((long) n * i / c), end = (int) ((long) n * (i + 1) / c);
        if (end > start) body.run(start, end, i, worker);
    }

    /** A contiguous range [start, end) of work items, the chunk's index and the worker running it. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int start, int end, int chunk, int worker);
    }

    /** A chunk count for elementwise work (no reductions): several per worker for balance. */
    public int chunksFor(long work, long minPerChunk) {
        long byWork = Math.max(1, work / Math.max(1, minPerChunk));
        return (int) Math.min(byWork, 4L * size);
    }

    private void work(int id) {
        final Task t = task;
        final int n = count;
        int i;
        while ((i = next.getAndIncrement()) < n) {
            try {
                t.run(i, id);
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) LockSupport.unpark(w);
    }

    private final class Worker extends Thread {
        final int id;

        Worker(int id) {
            super("crucible-worker-" + id);
            this.id = id;
            setDaemon(true);
        }

        @Override
        public void run() {
            int seen = 0;
            while (true) {
                int spins = 0;
                int g;
                while ((g = generation) == seen) {
                    if (closed) return;
                    if (spins++ < SPINS) Thread.onSpinWait();
                    else LockSupport.park(WorkerPool.this);
                }
                seen = g;
                if (closed) return;
                work(id);
                if (pending.decrementAndGet() == 0) LockSupport.unpark(caller);
            }
        }
    }
}
