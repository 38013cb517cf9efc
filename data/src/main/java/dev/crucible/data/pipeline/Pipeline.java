package dev.crucible.data.pipeline;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs recipe steps over a stream of documents with bounded memory on all cores. Per-document
 * operators run on batches in worker threads; results are taken back in input order, so output,
 * statistics and trace are the same for any number of threads. A de-duplication stage splits the
 * run: documents before it go to a spill file while their keys are grouped (a union-find over
 * documents sharing a key), then the spill is replayed without the duplicates into the steps after.
 */
public final class Pipeline implements AutoCloseable {
    /** Where surviving documents go, in input order. */
    public interface Sink {
        void accept(Doc doc) throws IOException;
    }

    private final List<Operators.Step> steps;
    private final int threads, traceSamples;
    private final Path tmpDir;
    private final ExecutorService pool;
    private final StepStats[] stats;
    private final Map<String, List<TraceEntry>> trace = new TreeMap<>();
    private long docsIn, bytesIn;

    public Pipeline(List<Operators.Step> steps, int threads, int traceSamples, Path tmpDir) {
        this.steps = List.copyOf(steps);
        this.threads = Math.max(1, threads);
        this.traceSamples = traceSamples;
        this.tmpDir = tmpDir;
        this.pool = Executors.newFixedThreadPool(this.threads, r -> {
            Thread t = new Thread(r, "crucible-data");
            t.setDaemon(true);
            return t;
        });
        this.stats = new StepStats[steps.size()];
        for (int i = 0; i < stats.length; i++) stats[i] = new StepStats(steps.get(i).label());
    }

    public List<StepStats> stats() {
        return List.of(stats);
    }

    /** Sampled removals and changes, step by step, each step's in input order. */
    public List<TraceEntry> trace() {
        List<TraceEntry> out = new ArrayList<>();
        for (Operators.Step s : steps) out.addAll(trace.getOrDefault(s.label(), List.of()));
        return out;
    }

    public long docsIn() {
        return docsIn;
    }

    public long bytesIn() {
        return bytesIn;
    }

    private interface Downstream {
        void accept(Doc doc, long[] keys) throws IOException;

        void finish() throws IOException;
    }

    /** Feeds documents in; call {@link Feeder#finish()} after the last one. */
    public Feeder start(Sink sink) {
        Downstream down = new Downstream() {
            @Override
            public void accept(Doc doc, long[] keys) throws IOException {
                sink.accept(doc);
            }

            @Override
            public void finish() {}
        };
        // Build the chain from the end: each dedup stage is fed by the segment before it.
        int end = steps.size();
        for (int i = steps.size() - 1; i >= -1; i--) {
            if (i == -1 || steps.get(i) instanceof Operators.Dedupe) {
                Operators.Dedupe dedup = i >= 0 ? (Operators.Dedupe) steps.get(i) : null;
                Segment seg = new Segment(i + 1, end, nextDedupAt(end), down);
                if (dedup == null) return new Feeder(seg);
                down = new DedupCollector(i, dedup, seg);
                end = i;
            }
        }
        throw new AssertionError();
    }

    private int nextDedupAt(int end) {
        return end < steps.size() ? end : -1;
    }

    public final class Feeder {
        private final Segment first;

        Feeder(Segment first) {
            this.first = first;
        }

        public void accept(Doc doc) throws IOException {
            docsIn++;
            bytesIn += TextStats.utf8Length(doc.text());
            first.accept(doc, null);
        }

        public void finish() throws IOException {
            first.finish();
        }
    }

    private record Result(SegmentRun.Result batch, RuntimeException error) {}

    /** Steps [from, to) of per-document operators, then (if dedupAt >= 0) the keys of that dedup step. */
    private final class Segment implements Downstream {
        final SegmentRun run;
        final Downstream out;
        final ArrayDeque<Future<Result>> inFlight = new ArrayDeque<>();
        List<Doc> batch = new ArrayList<>();
        long batchChars;

        Segment(int from, int to, int dedupAt, Downstream out) {
            this.run = new SegmentRun(steps, from, to, dedupAt, traceSamples);
            this.out = out;
        }

        @Override
        public void accept(Doc doc, long[] ignored) throws IOException {
            batch.add(doc);
            batchChars += doc.text().length();
            if (batch.size() >= 256 || batchChars >= (1 << 20)) submit();
        }

        void submit() throws IOException {
            if (batch.isEmpty()) return;
            List<Doc> b = batch;
            batch = new ArrayList<>();
            batchChars = 0;
            inFlight.add(pool.submit(() -> {
                try {
                    return new Result(run.apply(b), null);
                } catch (IllegalStateException e) {
                    return new Result(null, e);
                }
            }));
            while (inFlight.size() > 2 * threads) emit(inFlight.poll());
        }

        void emit(Future<Result> f) throws IOException {
            Result r;
            try {
                r = f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
            }
            if (r.error != null) throw r.error;
            SegmentRun.Result b = r.batch;
            for (int i = 0; i < stats.length; i++) stats[i].add(b.stats()[i]);
            for (TraceEntry t : b.trace()) {
                List<TraceEntry> l = trace.computeIfAbsent(t.step(), k -> new ArrayList<>());
                if (l.size() < traceSamples) l.add(t);
            }
            for (int i = 0; i < b.docs().size(); i++) out.accept(b.docs().get(i), b.keys().get(i));
        }

        @Override
        public void finish() throws IOException {
            submit();
            while (!inFlight.isEmpty()) emit(inFlight.poll());
            out.finish();
        }
    }

    /**
     * Spills documents to disk while grouping their keys; on finish, replays the spill without the
     * documents that share a key with an earlier one (transitively).
     */
    private final class DedupCollector implements Downstream {
        final int index;
        final Operators.Dedupe step;
        final Segment next;
        final Path spill;
        final DataOutputStream out;
        final LongIntMap firstWithKey = new LongIntMap();
        int[] parent = new int[1024];
        int n;

        DedupCollector(int index, Operators.Dedupe step, Segment next) {
            this.index = index;
            this.step = step;
            this.next = next;
            try {
                Files.createDirectories(tmpDir);
                this.spill = Files.createTempFile(tmpDir, "dedup-", ".spill");
                this.out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(spill), 1 << 16));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        int find(int i) {
            while (parent[i] != i) {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            return i;
        }

        @Override
        public void accept(Doc doc, long[] keys) throws IOException {
            int i = n++;
            if (i == parent.length) parent = Arrays.copyOf(parent, i * 2);
            parent[i] = i;
            long t0 = System.nanoTime();
            if (keys != null) {
                for (long k : keys) {
                    int j = firstWithKey.putIfAbsent(k, i);
                    if (j >= 0) {
                        int a = find(i), b = find(j);
                        // the smaller index is the root, so a cluster's root is its first document
                        if (a != b) parent[Math.max(a, b)] = Math.min(a, b);
                    }
                }
            }
            stats[index].nanos += System.nanoTime() - t0;
            writeDoc(out, doc);
        }

        @Override
        public void finish() throws IOException {
            out.close();
            StepStats s = stats[index];
            boolean[] hasDuplicates = new boolean[n];
            for (int i = 0; i < n; i++) if (find(i) != i) hasDuplicates[find(i)] = true;
            Map<Integer, String> firstIds = new HashMap<>();
            List<TraceEntry> tr = trace.computeIfAbsent(s.label, k -> new ArrayList<>());
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(spill), 1 << 16))) {
                for (int i = 0; i < n; i++) {
                    Doc doc = readDoc(in);
                    long bytes = TextStats.utf8Length(doc.text());
                    s.docsIn++;
                    s.bytesIn += bytes;
                    int root = find(i);
                    if (root == i) {
                        if (hasDuplicates[i]) firstIds.put(i, doc.id());
                        s.docsOut++;
                        s.bytesOut += bytes;
                        next.accept(doc, null);
                    } else {
                        s.removed++;
                        s.rules.merge("duplicate", 1L, Long::sum);
                        if (tr.size() < traceSamples) tr.add(TraceEntry.removed(s.label, doc, "duplicate", "duplicate of " + firstIds.get(root)));
                    }
                }
            } finally {
                Files.deleteIfExists(spill);
            }
            next.finish();
        }
    }

    static void writeDoc(DataOutputStream out, Doc doc) throws IOException {
        writeString(out, doc.id());
        writeString(out, doc.text());
        out.writeInt(doc.meta().size());
        for (Map.Entry<String, String> e : doc.meta().entrySet()) {
            writeString(out, e.getKey());
            writeString(out, e.getValue());
        }
        out.writeInt(doc.fields().size());
        for (Map.Entry<String, String> e : doc.fields().entrySet()) {
            writeString(out, e.getKey());
            writeString(out, e.getValue());
        }
    }

    static Doc readDoc(DataInputStream in) throws IOException {
        String id = readString(in), text = readString(in);
        int m = in.readInt();
        Map<String, String> meta = new TreeMap<>();
        for (int i = 0; i < m; i++) meta.put(readString(in), readString(in));
        int f = in.readInt();
        Map<String, String> fields = new java.util.LinkedHashMap<>();
        for (int i = 0; i < f; i++) fields.put(readString(in), readString(in));
        return new Doc(id, text, meta, fields);
    }

    /**
     * UTF-8 for well-formed text, else (a lone surrogate, which a JSON escape such as \\ud800 can
     * carry in) the UTF-16 chars, marked by a negative length: UTF-8 would turn the surrogate into
     * '?', and the output would depend on whether the recipe has a de-duplication step.
     */
    private static void writeString(DataOutputStream out, String s) throws IOException {
        if (wellFormed(s)) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            out.writeInt(b.length);
            out.write(b);
        } else {
            out.writeInt(-1 - s.length());
            out.writeChars(s);
        }
    }

    static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Character.isSurrogate(c)) continue;
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
            else return false;
        }
        return true;
    }

    private static String readString(DataInputStream in) throws IOException {
        int len = in.readInt();
        if (len < 0) {
            if (-1L - len > 1 << 30) throw new IOException("corrupt spill file: a string of " + (-1L - len) + " chars");
            char[] c = new char[-1 - len];
            for (int i = 0; i < c.length; i++) c[i] = in.readChar();
            return new String(c);
        }
        byte[] b = in.readNBytes(len);
        if (b.length != len) throw new EOFException("truncated spill file");
        return new String(b, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
