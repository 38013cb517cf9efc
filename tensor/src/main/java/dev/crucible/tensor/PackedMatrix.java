package dev.crucible.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A right-hand operand B (k x n) packed once by {@link Gemm#pack}, in the layout every product packs
 * its B into: column blocks of {@link Gemm#NC} columns, each all of its KC-deep blocks in order, each
 * of those its NR-column panels. Off the heap and 64-byte aligned, as the packed B of a product.
 */
public final class PackedMatrix {
    final int k, n;
    final MemorySegment data;

    PackedMatrix(int k, int n) {
        this.k = k;
        this.n = n;
        long floats = floats(k, n);
        if (floats > Integer.MAX_VALUE) throw new IllegalArgumentException("a packed " + k + " x " + n + " matrix needs " + floats + " floats, more than 2^31");
        data = Arena.ofAuto().allocate(Math.max(4 * floats, 4), 64);
    }

    /** Its columns rounded up to whole panels. */
    private static long floats(int k, int n) {
        return (long) Gemm.roundUp(Math.max(n, 0), Gemm.NR) * Math.max(k, 0);
    }

    /** The bytes a packed k x n matrix takes. */
    public static long bytes(int k, int n) {
        return 4 * floats(k, n);
    }

    public int rows() {
        return k;
    }

    public int columns() {
        return n;
    }

    /** Bytes it holds (its columns rounded up to whole panels). */
    public long bytes() {
        return data.byteSize();
    }

    /** Where the column block starting at column j0 (a multiple of NC) begins, in floats. */
    int columnBlockOffset(int j0) {
        return j0 * k; // the blocks before it are whole panels (NC is a multiple of NR), k x NR floats each
    }
}
