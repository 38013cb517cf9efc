package dev.crucible.train.parallel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * MPI_COMM_WORLD as {@link Replicas}, through the MPI library's C interface called with the JDK's
 * foreign-function API (no JNI, no Java MPI binding). The library is CRUCIBLE_MPI_LIBRARY (a file or
 * a name), else the first that loads of libmpi.so.40 (Open MPI 3-5), libmpich.so.12 and libmpi.so.12
 * (MPICH and its ABI: Intel MPI, MVAPICH) and libmpi.so, Open MPI's first when Open MPI's mpirun
 * started the process and MPICH's first otherwise; a library that sees another job size than the
 * launcher's (a singleton of the wrong MPI) is refused. The two ABIs differ only in how handles are
 * passed ({@link Abi}). Sums go through one native buffer, reused, with
 * MPI_IN_PLACE; every call's return code is checked, though the default error handler
 * (MPI_ERRORS_ARE_FATAL) ends the job first. MPI_Init gives MPI_THREAD_SINGLE: the trainer calls
 * MPI from its one training thread (the methods are synchronized only as a guard).
 */
final class Mpi implements Replicas {
    /** The libraries tried, in order, by the launcher that started this process. */
    private static final List<String> OPEN_MPI_FIRST = List.of("libmpi.so.40", "libmpi.so.12", "libmpich.so.12", "libmpi.so");
    private static final List<String> MPICH_FIRST = List.of("libmpich.so.12", "libmpi.so.12", "libmpi.so", "libmpi.so.40");
    private static final Linker LINKER = Linker.nativeLinker();

    /**
     * Where Open MPI and MPICH differ: Open MPI's communicators, datatypes and operations are pointers
     * to objects the library exports (MPI_COMM_WORLD is &ompi_mpi_comm_world), MPICH's are int
     * constants from its mpi.h; MPI_IN_PLACE is (void *) 1 in one and (void *) -1 in the other.
     */
    private record Abi(String name, MemoryLayout handle, Object world, Object floatType, Object doubleType, Object intType, Object sum,
                       MemorySegment inPlace) {
        static Abi of(SymbolLookup lib, String file) {
            if (lib.find("ompi_mpi_comm_world").isPresent()) {
                return new Abi("Open MPI", ADDRESS, symbol(lib, file, "ompi_mpi_comm_world"), symbol(lib, file, "ompi_mpi_float"),
                        symbol(lib, file, "ompi_mpi_double"), symbol(lib, file, "ompi_mpi_int"), symbol(lib, file, "ompi_mpi_op_sum"), MemorySegment.ofAddress(1));
            }
            if (lib.find("MPIR_Process").isPresent() || lib.find("MPIR_Err_return_comm").isPresent()) {
                return new Abi("MPICH", JAVA_INT, 0x44000000, 0x4c00040a, 0x4c00080b, 0x4c000405, 0x58000003, MemorySegment.ofAddress(-1L));
            }
            throw new IllegalStateException(file + " is an MPI library of neither Open MPI's ABI nor MPICH's; set CRUCIBLE_MPI_LIBRARY to one that is");
        }

        private static MemorySegment symbol(SymbolLookup lib, String file, String name) {
            return lib.find(name).orElseThrow(() -> new IllegalStateException("the MPI library " + file + " has no symbol " + name));
        }
    }

    private final Arena arena = Arena.ofShared();
    private final Abi abi;
    private final String library;
    private final MethodHandle allreduce, bcast, barrier, abort, finalize;
    private final int rank, size, localSize;
    private MemorySegment buffer = MemorySegment.NULL;
    private Arena bufferArena;
    private boolean closed;

    private Mpi(SymbolLookup lib, String library, Map<String, String> env) throws Throwable {
        this.library = library;
        this.abi = Abi.of(lib, library);
        MemoryLayout h = abi.handle();
        MethodHandle init = function(lib, library, "MPI_Init", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        MethodHandle initialized = function(lib, library, "MPI_Initialized", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle commRank = function(lib, library, "MPI_Comm_rank", FunctionDescriptor.of(JAVA_INT, h, ADDRESS));
        MethodHandle commSize = function(lib, library, "MPI_Comm_size", FunctionDescriptor.of(JAVA_INT, h, ADDRESS));
        allreduce = function(lib, library, "MPI_Allreduce", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, h, h, h));
        bcast = function(lib, library, "MPI_Bcast", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, h, JAVA_INT, h));
        barrier = function(lib, library, "MPI_Barrier", FunctionDescriptor.of(JAVA_INT, h));
        abort = function(lib, library, "MPI_Abort", FunctionDescriptor.of(JAVA_INT, h, JAVA_INT));
        finalize = function(lib, library, "MPI_Finalize", FunctionDescriptor.of(JAVA_INT));
        MemorySegment out = arena.allocate(JAVA_INT);
        check("MPI_Initialized", (int) initialized.invokeWithArguments(out));
        if (out.get(JAVA_INT, 0) == 0) check("MPI_Init", (int) init.invokeWithArguments(MemorySegment.NULL, MemorySegment.NULL));
        check("MPI_Comm_rank", (int) commRank.invokeWithArguments(abi.world(), out));
        rank = out.get(JAVA_INT, 0);
        check("MPI_Comm_size", (int) commSize.invokeWithArguments(abi.world(), out));
        size = out.get(JAVA_INT, 0);
        String local = env.getOrDefault("OMPI_COMM_WORLD_LOCAL_SIZE", env.get("MPI_LOCALNRANKS"));
        int l = 1;
        try {
            if (local != null) l = Math.max(1, Integer.parseInt(local.trim()));
        } catch (NumberFormatException e) {
            l = 1;
        }
        localSize = l;
    }

    /** Joins the MPI job this process was started in; launched: what said it was (for messages). */
    static Mpi init(Map<String, String> env, String launched, int expectedSize) {
        List<String> tried = new ArrayList<>();
        String configured = env.get("CRUCIBLE_MPI_LIBRARY");
        List<String> candidates = configured != null && !configured.isBlank() ? List.of(configured)
                : env.containsKey("OMPI_COMM_WORLD_SIZE") ? OPEN_MPI_FIRST : MPICH_FIRST;
        keepTheJvmsSignalHandlers(env);
        for (String name : candidates) {
            SymbolLookup lib;
            try {
                lib = name.contains("/") ? SymbolLookup.libraryLookup(Path.of(name), Arena.global()) : SymbolLookup.libraryLookup(name, Arena.global());
            } catch (IllegalArgumentException e) {
                tried.add(name + (name.contains("/") || configured != null ? " (" + e.getMessage() + ")" : ""));
                continue;
            }
            Mpi mpi;
            try {
                mpi = new Mpi(lib, name, env);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException("MPI (" + name + "): " + e, e);
            }
            if (mpi.size != expectedSize) {
                throw new IllegalStateException("the MPI library " + name + " (" + mpi.abi.name() + ") sees a job of " + mpi.size + " process(es), but mpirun "
                        + "started " + expectedSize + " (" + launched + "): it is not the MPI of this mpirun; set CRUCIBLE_MPI_LIBRARY to that one's libmpi");
            }
            return mpi;
        }
        throw new IllegalStateException("this process runs under mpirun (" + launched + ") but no MPI library could be loaded (tried "
                + String.join(", ", tried) + (configured != null && !configured.isBlank() ? ", from CRUCIBLE_MPI_LIBRARY" : "; set CRUCIBLE_MPI_LIBRARY to its path")
                + "). Install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin) or MPICH, the one whose mpirun started this");
    }

    /**
     * The JVM catches SIGSEGV on purpose (null checks in compiled code, safepoints); UCX, the transport
     * under MPICH and some Open MPI builds, replaces the handlers of ILL, SEGV, BUS and FPE with its
     * crash reporter when its library loads and so kills the JVM at its first null check.
     * UCX_ERROR_SIGNALS empty keeps the JVM's (set here, before the MPI library loads, unless the user
     * set it). The launcher also preloads the JDK's libjsig under mpirun, which chains any library's
     * handlers behind the JVM's.
     */
    private static void keepTheJvmsSignalHandlers(Map<String, String> env) {
        if (env.containsKey("UCX_ERROR_SIGNALS")) return;
        try (Arena a = Arena.ofConfined()) {
            MethodHandle setenv = LINKER.downcallHandle(LINKER.defaultLookup().find("setenv").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
            if ((int) setenv.invokeExact(a.allocateFrom("UCX_ERROR_SIGNALS"), a.allocateFrom(""), 1) != 0) {
                throw new IllegalStateException("setenv(UCX_ERROR_SIGNALS) failed");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private static MethodHandle function(SymbolLookup lib, String file, String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(lib.find(name).orElseThrow(() -> new IllegalStateException("the MPI library " + file + " has no function " + name)), d);
    }

    private void check(String what, int code) {
        if (code != 0) throw new IllegalStateException(what + " failed with MPI error " + code + " (rank " + rank + ", " + abi.name() + ", " + library + ")");
    }

    /** The native buffer of at least `bytes`, grown as needed (the outgrown one freed). */
    private MemorySegment buffer(long bytes) {
        if (buffer.byteSize() < bytes) {
            if (bufferArena != null) bufferArena.close();
            bufferArena = Arena.ofShared();
            buffer = bufferArena.allocate(bytes, 64);
        }
        return buffer;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int localSize() {
        return localSize;
    }

    /** The library, its ABI and the job's shape, for the run's log. */
    @Override
    public String toString() {
        return String.format("MPI (%s, %s): rank %d of %d, %d on this machine", abi.name(), library, rank, size, localSize);
    }

    @Override
    public synchronized void sum(float[] a) {
        MemorySegment b = buffer((long) a.length * Float.BYTES);
        MemorySegment.copy(a, 0, b, JAVA_FLOAT, 0, a.length);
        call("MPI_Allreduce", allreduce, abi.inPlace(), b, a.length, abi.floatType(), abi.sum(), abi.world());
        MemorySegment.copy(b, JAVA_FLOAT, 0, a, 0, a.length);
    }

    @Override
    public synchronized void sum(double[] a) {
        MemorySegment b = buffer((long) a.length * Double.BYTES);
        MemorySegment.copy(a, 0, b, JAVA_DOUBLE, 0, a.length);
        call("MPI_Allreduce", allreduce, abi.inPlace(), b, a.length, abi.doubleType(), abi.sum(), abi.world());
        MemorySegment.copy(b, JAVA_DOUBLE, 0, a, 0, a.length);
    }

    @Override
    public synchronized void broadcast(float[] a) {
        MemorySegment b = buffer((long) a.length * Float.BYTES);
        MemorySegment.copy(a, 0, b, JAVA_FLOAT, 0, a.length);
        call("MPI_Bcast", bcast, b, a.length, abi.floatType(), 0, abi.world());
        MemorySegment.copy(b, JAVA_FLOAT, 0, a, 0, a.length);
    }

    @Override
    public synchronized int broadcast(int v) {
        MemorySegment b = buffer(Integer.BYTES);
        b.set(JAVA_INT, 0, v);
        call("MPI_Bcast", bcast, b, 1, abi.intType(), 0, abi.world());
        return b.get(JAVA_INT, 0);
    }

    @Override
    public synchronized void barrier() {
        call("MPI_Barrier", barrier, abi.world());
    }

    @Override
    public void abort(int code) {
        System.out.flush();
        System.err.flush();
        try {
            abort.invokeWithArguments(abi.world(), code);
        } catch (Throwable e) {
            System.err.println("MPI_Abort: " + e);
        } finally {
            Runtime.getRuntime().halt(code); // MPI_Abort does not return; should a library return or fail, this process ends all the same
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        call("MPI_Finalize", finalize);
        arena.close();
        if (bufferArena != null) bufferArena.close();
    }

    private void call(String name, MethodHandle h, Object... args) {
        int code;
        try {
            code = (int) h.invokeWithArguments(args);
        } catch (Throwable e) {
            throw new IllegalStateException(name + ": " + e, e);
        }
        check(name, code);
    }
}
