package dev.crucible.data.classify;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A supervised fastText model in fastText's own file format (.bin, and .ftz when quantised), so a
 * classifier trained here opens in fastText and a published one (DCLM's, Ultra-FineWeb's, a
 * language identifier) is used as it is: hidden = the average of the input rows of a line's
 * features ({@link FastTextDictionary}), label probabilities by the model's loss (softmax; one-vs-all
 * or negative sampling: independent sigmoids; hierarchical softmax: the product along the label's
 * path in the Huffman tree of label counts). Probabilities are exact: fastText's predict reports
 * log(p + 1e-5), so its printed probabilities are p + 1e-5. Immutable and thread-safe.
 */
public final class FastTextModel {
    static final int MAGIC = 793712314, VERSION = 12;
    public static final int LOSS_HS = 1, LOSS_NS = 2, LOSS_SOFTMAX = 3, LOSS_OVA = 4, MODEL_SUP = 3;

    /** fastText's Args as stored in the file (the training options and the feature settings). */
    public record Args(int dim, int ws, int epoch, int minCount, int neg, int wordNgrams, int loss, int model, int bucket, int minn, int maxn,
                       int lrUpdateRate, double t) {}

    final Args args;
    final FastTextDictionary dict;
    final FastTextMatrix input, output;
    private final int[][] hsPaths;
    private final boolean[][] hsCodes;

    FastTextModel(Args args, FastTextDictionary dict, FastTextMatrix input, FastTextMatrix output) {
        if (args.model() != MODEL_SUP) throw new IllegalArgumentException("not a supervised (classifier) model: fastText model type " + args.model());
        if (dict.nlabels() == 0) throw new IllegalArgumentException("the model has no labels");
        if (input.cols() != args.dim() || output.cols() != args.dim()) throw new IllegalArgumentException("matrix widths do not match dim " + args.dim());
        if (input.rows() < dict.nwords()) throw new IllegalArgumentException("input matrix has fewer rows than words");
        long outRows = args.loss() == LOSS_HS ? dict.nlabels() - 1 : dict.nlabels(); // hierarchical softmax: one row per inner node (fastText stores one more)
        if (output.rows() < outRows) throw new IllegalArgumentException("output matrix has " + output.rows() + " rows, expected " + outRows);
        this.args = args;
        this.dict = dict;
        this.input = input;
        this.output = output;
        if (args.loss() == LOSS_HS) {
            int osz = dict.nlabels();
            long[] counts = new long[osz];
            for (int i = 0; i < osz; i++) counts[i] = dict.entries.get(dict.nwords() + i).count();
            hsPaths = new int[osz][];
            hsCodes = new boolean[osz][];
            huffman(counts, hsPaths, hsCodes);
        } else {
            hsPaths = null;
            hsCodes = null;
        }
    }

    public FastTextDictionary dictionary() {
        return dict;
    }

    public Args args() {
        return args;
    }

    public List<String> labels() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < dict.nlabels(); i++) out.add(dict.label(i));
        return out;
    }

    /** The probability of every label for one line of text (newlines count as spaces); null when the line has no features. */
    public double[] predict(String line) {
        return predictFeatures(dict.features(line, null));
    }

    double[] predictFeatures(int[] features) {
        if (features.length == 0) return null;
        float[] hidden = hidden(features);
        int osz = dict.nlabels();
        double[] p = new double[osz];
        switch (args.loss()) {
            case LOSS_SOFTMAX -> {
                double max = Double.NEGATIVE_INFINITY, z = 0;
                for (int i = 0; i < osz; i++) max = Math.max(max, p[i] = output.dot(i, hidden));
                for (int i = 0; i < osz; i++) z += p[i] = Math.exp(p[i] - max);
                for (int i = 0; i < osz; i++) p[i] /= z;
            }
            case LOSS_OVA, LOSS_NS -> {
                for (int i = 0; i < osz; i++) p[i] = 1 / (1 + Math.exp(-output.dot(i, hidden)));
            }
            case LOSS_HS -> {
                for (int i = 0; i < osz; i++) {
                    double prob = 1;
                    for (int k = 0; k < hsPaths[i].length; k++) {
                        double f = 1 / (1 + Math.exp(-output.dot(hsPaths[i][k], hidden)));
                        prob *= hsCodes[i][k] ? f : 1 - f;
                    }
                    p[i] = prob;
                }
            }
            default -> throw new IllegalStateException("unknown loss " + args.loss());
        }
        return p;
    }

    float[] hidden(int[] features) {
        float[] h = new float[args.dim()];
        for (int f : features) input.addRow(h, f, 1f);
        float inv = 1f / features.length;
        for (int j = 0; j < h.length; j++) h[j] *= inv;
        return h;
    }

    /** fastText's Huffman tree over label counts (HierarchicalSoftmaxLoss::buildTree): paths as output rows, codes as right-child flags. */
    static void huffman(long[] counts, int[][] paths, boolean[][] codes) {
        int osz = counts.length, n = 2 * osz - 1;
        int[] parent = new int[n];
        long[] count = new long[n];
        boolean[] binary = new boolean[n];
        java.util.Arrays.fill(parent, -1);
        java.util.Arrays.fill(count, (long) 1e15);
        System.arraycopy(counts, 0, count, 0, osz);
        int leaf = osz - 1, node = osz;
        for (int i = osz; i < n; i++) {
            int[] mini = new int[2];
            for (int j = 0; j < 2; j++) mini[j] = leaf >= 0 && count[leaf] < count[node] ? leaf-- : node++;
            count[i] = count[mini[0]] + count[mini[1]];
            parent[mini[0]] = i;
            parent[mini[1]] = i;
            binary[mini[1]] = true;
        }
        for (int i = 0; i < osz; i++) {
            List<Integer> path = new ArrayList<>();
            List<Boolean> code = new ArrayList<>();
            for (int j = i; parent[j] != -1; j = parent[j]) {
                path.add(parent[j] - osz);
                code.add(binary[j]);
            }
            paths[i] = path.stream().mapToInt(Integer::intValue).toArray();
            codes[i] = new boolean[code.size()];
            for (int k = 0; k < code.size(); k++) codes[i][k] = code.get(k);
        }
    }

    // ---- fastText's file format (FastText::saveModel / loadModel, version 12) ----

    /** Opens a .bin or .ftz file; dense matrices stay in the mapped file, so a model may be larger than the heap. */
    public static FastTextModel load(Path file) throws IOException {
        MemorySegment seg;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto());
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file");
        }
        Reader r = new Reader(seg, file);
        try {
            if (seg.byteSize() < 8 || r.i32() != MAGIC) throw r.bad(0, "not a fastText model (wrong magic number)");
            int version = r.i32();
            if (version > VERSION) throw r.bad(4, "fastText file version " + version + " is newer than " + VERSION);
            Args a = new Args(r.i32(), r.i32(), r.i32(), r.i32(), r.i32(), r.i32(), r.i32(), r.i32(), r.i32(), r.i32(), r.i32(), r.i32(), r.f64());
            if (version == 11 && a.model() == MODEL_SUP) a = new Args(a.dim(), a.ws(), a.epoch(), a.minCount(), a.neg(), a.wordNgrams(), a.loss(), a.model(),
                    a.bucket(), a.minn(), 0, a.lrUpdateRate(), a.t()); // old supervised models had no character n-grams
            int size = r.i32(), nwords = r.i32(), nlabels = r.i32();
            long ntokens = r.i64(), pruneSize = r.i64();
            if (size < 0 || nwords < 0 || nlabels < 0 || size != nwords + nlabels) throw r.bad(r.pos, "inconsistent dictionary sizes");
            List<FastTextDictionary.Entry> entries = new ArrayList<>(size);
            for (int i = 0; i < size; i++) entries.add(new FastTextDictionary.Entry(r.cstring(), r.i64(), r.i8()));
            Map<Integer, Integer> prune = null;
            if (pruneSize >= 0) {
                prune = new HashMap<>();
                for (long i = 0; i < pruneSize; i++) prune.put(r.i32(), r.i32());
            }
            FastTextDictionary dict = new FastTextDictionary(entries, ntokens, prune, a.bucket(), a.minn(), a.maxn(), a.wordNgrams());
            boolean quantInput = r.i8() != 0;
            if (!quantInput && prune != null) throw r.bad(r.pos, "a pruned dictionary with a dense input matrix");
            FastTextMatrix input = quantInput ? r.quantized() : r.dense();
            boolean quantOutput = r.i8() != 0;
            FastTextMatrix output = quantOutput ? r.quantized() : r.dense();
            if (r.pos != seg.byteSize()) throw r.bad(r.pos, (seg.byteSize() - r.pos) + " bytes after the model");
            return new FastTextModel(a, dict, input, output);
        } catch (IndexOutOfBoundsException e) {
            throw r.bad(r.pos, "file ends too early");
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage());
        }
    }

    /** Writes the model in fastText's format (dense matrices only: quantised models are read, not written). */
    public void save(Path file) throws IOException {
        if (!(input instanceof FastTextMatrix.Dense in) || !(output instanceof FastTextMatrix.Dense out)) {
            throw new IOException("a quantised model is not written back");
        }
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, file.getFileName().toString(), ".tmp");
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
            Writer w = new Writer(os);
            w.i32(MAGIC).i32(VERSION);
            w.i32(args.dim()).i32(args.ws()).i32(args.epoch()).i32(args.minCount()).i32(args.neg()).i32(args.wordNgrams()).i32(args.loss())
                    .i32(args.model()).i32(args.bucket()).i32(args.minn()).i32(args.maxn()).i32(args.lrUpdateRate()).f64(args.t());
            w.i32(dict.entries.size()).i32(dict.nwords()).i32(dict.nlabels()).i64(dict.ntokens).i64(dict.pruneIndex == null ? -1 : dict.pruneIndex.size());
            for (FastTextDictionary.Entry e : dict.entries) {
                os.write(e.word().getBytes(StandardCharsets.UTF_8));
                os.write(0);
                w.i64(e.count());
                os.write(e.type());
            }
            if (dict.pruneIndex != null) for (var e : new java.util.TreeMap<>(dict.pruneIndex).entrySet()) w.i32(e.getKey()).i32(e.getValue());
            os.write(0);
            w.dense(in);
            os.write(0);
            w.dense(out);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static final class Reader {
        private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        final MemorySegment seg;
        final Path file;
        long pos;

        Reader(MemorySegment seg, Path file) {
            this.seg = seg;
            this.file = file;
        }

        IOException bad(long at, String what) {
            return new IOException(file + " at byte " + at + ": " + what);
        }

        int i32() {
            int v = seg.get(I32, pos);
            pos += 4;
            return v;
        }

        long i64() {
            long v = seg.get(I64, pos);
            pos += 8;
            return v;
        }

        double f64() {
            double v = seg.get(F64, pos);
            pos += 8;
            return v;
        }

        byte i8() {
            return seg.get(ValueLayout.JAVA_BYTE, pos++);
        }

        String cstring() {
            long start = pos;
            while (seg.get(ValueLayout.JAVA_BYTE, pos) != 0) pos++;
            String s = new String(seg.asSlice(start, pos - start).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            pos++;
            return s;
        }

        FastTextMatrix.Dense dense() throws IOException {
            long at = pos, m = i64(), n = i64();
            if (m < 0 || n <= 0 || n > Integer.MAX_VALUE || m * n * 4 > seg.byteSize() - pos) throw bad(at, "a dense matrix of " + m + " x " + n + " does not fit in the file");
            FastTextMatrix.Dense d = new FastTextMatrix.Dense(seg.asSlice(pos, m * n * 4), m, (int) n);
            pos += m * n * 4;
            return d;
        }

        FastTextMatrix.Quantized quantized() throws IOException {
            long at = pos;
            boolean qnorm = i8() != 0;
            long m = i64(), n = i64();
            int codesize = i32();
            if (m < 0 || n <= 0 || m > Integer.MAX_VALUE || codesize < 0) throw bad(at, "a quantised matrix of " + m + " x " + n);
            byte[] codes = seg.asSlice(pos, codesize).toArray(ValueLayout.JAVA_BYTE);
            pos += codesize;
            FastTextMatrix.ProductQuantizer pq = pq();
            if ((long) pq.nsubq() * m != codesize) throw bad(at, "quantiser codes do not cover the matrix");
            byte[] normCodes = null;
            FastTextMatrix.ProductQuantizer npq = null;
            if (qnorm) {
                normCodes = seg.asSlice(pos, m).toArray(ValueLayout.JAVA_BYTE);
                pos += m;
                npq = pq();
            }
            return new FastTextMatrix.Quantized(m, (int) n, codes, pq, normCodes, npq);
        }

        private FastTextMatrix.ProductQuantizer pq() {
            int dim = i32(), nsubq = i32(), dsub = i32(), lastdsub = i32();
            float[] centroids = new float[dim * 256];
            for (int i = 0; i < centroids.length; i++) {
                centroids[i] = seg.get(FastTextMatrix.FLOAT, pos);
                pos += 4;
            }
            return new FastTextMatrix.ProductQuantizer(dim, nsubq, dsub, lastdsub, centroids);
        }
    }

    private static final class Writer {
        private final OutputStream os;
        private final ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        Writer(OutputStream os) {
            this.os = os;
        }

        Writer i32(int v) throws IOException {
            os.write(b.clear().putInt(v).array(), 0, 4);
            return this;
        }

        Writer i64(long v) throws IOException {
            os.write(b.clear().putLong(v).array(), 0, 8);
            return this;
        }

        Writer f64(double v) throws IOException {
            os.write(b.clear().putDouble(v).array(), 0, 8);
            return this;
        }

        void dense(FastTextMatrix.Dense d) throws IOException {
            i64(d.rows()).i64(d.cols());
            ByteBuffer buf = ByteBuffer.allocate(4 * d.cols()).order(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < d.rows(); i++) {
                buf.clear();
                for (int j = 0; j < d.cols(); j++) buf.putFloat(d.get(i, j));
                os.write(buf.array());
            }
        }
    }
}
