package dev.crucible.train.parallel;

import java.util.Map;

/**
 * The processes of a data-parallel run, each holding a replica of the model: rank 0 to size - 1, of
 * which localSize share this machine. What training needs of them: sums over every replica (the
 * gradient all-reduce), rank 0's values sent to all, a barrier, and an abort that takes every
 * process down (a replica that fails must not leave the others waiting in a collective). One process
 * alone is {@link #single()}; under mpirun, {@link #fromEnvironment} joins the job through MPI.
 */
public interface Replicas extends AutoCloseable {

    int rank();

    int size();

    /** Replicas on this machine (they share its cores). */
    int localSize();

    /** Rank 0 writes the run's files and prints; the others compute. */
    default boolean writes() {
        return rank() == 0;
    }

    /** Replaces a with the element-wise sum of every replica's a, the same on all of them. */
    void sum(float[] a);

    void sum(double[] a);

    /** Replaces a with rank 0's a. */
    void broadcast(float[] a);

    /** Rank 0's v. */
    int broadcast(int v);

    void barrier();

    /** Ends every replica's process with this exit code (a failure on one replica takes the job down). */
    void abort(int code);

    @Override
    void close();

    /** A run of one process. */
    static Replicas single() {
        return Single.INSTANCE;
    }

    /**
     * The replicas of the job this process was started in: under mpirun (Open MPI's
     * OMPI_COMM_WORLD_SIZE, or PMI_SIZE as MPICH's Hydra and Slurm set it) with more than one process,
     * MPI through {@link Mpi}; otherwise {@link #single()}.
     */
    static Replicas fromEnvironment(Map<String, String> env) {
        String var = env.containsKey("OMPI_COMM_WORLD_SIZE") ? "OMPI_COMM_WORLD_SIZE" : env.containsKey("PMI_SIZE") ? "PMI_SIZE" : null;
        if (var == null) return single();
        int size;
        try {
            size = Integer.parseInt(env.get(var).trim());
        } catch (NumberFormatException e) {
            throw new IllegalStateException(var + "=" + env.get(var) + " is not a process count", e);
        }
        if (size <= 1) return single();
        return Mpi.init(env, var + "=" + size, size);
    }

    /** The one process of a run that is not data-parallel: sums and broadcasts leave values as they are. */
    final class Single implements Replicas {
        private static final Single INSTANCE = new Single();

        private Single() {}

        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int size() {
            return 1;
        }

        @Override
        public int localSize() {
            return 1;
        }

        @Override
        public void sum(float[] a) {}

        @Override
        public void sum(double[] a) {}

        @Override
        public void broadcast(float[] a) {}

        @Override
        public int broadcast(int v) {
            return v;
        }

        @Override
        public void barrier() {}

        @Override
        public void abort(int code) {
            System.exit(code);
        }

        @Override
        public void close() {}
    }
}
