package dev.crucible.spark;

import dev.crucible.data.Documents;
import dev.crucible.data.pipeline.Doc;
import dev.crucible.data.pipeline.JsonlShardWriter;
import dev.crucible.data.pipeline.Operators;
import dev.crucible.data.pipeline.Recipe;
import dev.crucible.data.pipeline.RecipeRun;
import dev.crucible.data.pipeline.SegmentRun;
import dev.crucible.data.pipeline.StepStats;
import dev.crucible.data.pipeline.TextStats;
import dev.crucible.data.pipeline.TraceEntry;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * A recipe as a Spark job, with the local engine's output: the same kept documents in the same
 * shards, the same per-step counts in {@code _summary.json} and the same {@code _trace.jsonl}.
 *
 * <p>Every document carries its place in input order (file ordinal · 2³² + record), which decides
 * everything the local engine decides by arrival: the first document of a duplicate group is kept,
 * shards hold documents in input order, and the trace keeps each step's first removals. Input files
 * are read one task each; per-document steps run in {@code mapPartitions} through
 * {@link SegmentRun}, the local pipeline's own unit; a de-duplication step groups documents by each
 * key (exact: the text's hash; MinHash: each band's), links each to its key's first document, and
 * finds connected components ({@link ConnectedComponents}); the output is counted per partition
 * first, so that each document's shard is known, then shuffled so that one task writes one shard.
 * Executors re-read the recipe from its text rather than receiving operator objects, with what the driver's
 * operators resolved written in ({@link Recipe#pinnedText}).
 */
public final class SparkRecipeRun {
    private SparkRecipeRun() {}

    /** One input file: the recipe input it belongs to, its place among all files in input order, its path (a Hadoop address or not). */
    record Source(int input, int ordinal, String path, boolean hadoop) implements Serializable {}

    /** A document, its place in input order, and its keys when a de-duplication step comes next. */
    record Item(long order, Doc doc, long[] keys) implements Serializable {}

    /** What one partition's documents did in a segment: counts per step, the first trace entries of each step. */
    record Report(int partition, StepStats[] stats, List<TraceEntry> trace) implements Serializable {}

    /** What one input file held. */
    record FileCounts(int input, int ordinal, long docs, long bytes, long malformed, List<String> examples) implements Serializable {}

    /** An element of a stage's output: a document, a partition's report or a file's counts (one of them set). */
    record Out(Item item, Report report, FileCounts file) implements Serializable {}

    /** A document on its way to its shard; within a shard, documents sort by their place. */
    record ShardKey(int shard, long order) implements Serializable {}

    private static final int BATCH = 256;

    /** Executors parse each recipe once per JVM. */
    private static final Map<String, Recipe> PARSED = new ConcurrentHashMap<>();

    static Recipe recipe(String[] sourceAndText) {
        return PARSED.computeIfAbsent(sourceAndText[0] + "\u0000" + sourceAndText[1], k -> Recipe.parse(sourceAndText[0], sourceAndText[1]));
    }

    public static RecipeRun.Summary run(Recipe recipe, String recipeText, JavaSparkContext sc, PrintStream log) throws IOException {
        long t0 = System.nanoTime();
        org.apache.hadoop.fs.Path out = HadoopFiles.qualify(recipe.output().location());
        FileSystem fs = HadoopFiles.fileSystem(out, sc.hadoopConfiguration());
        if (fs.isDirectory(out) && !fs.exists(new org.apache.hadoop.fs.Path(out, RecipeRun.SUMMARY)) && fs.listStatus(out).length > 0) {
            throw new IOException(out + " exists and is not the output of a recipe (no " + RecipeRun.SUMMARY + "); refusing to replace it");
        }
        org.apache.hadoop.fs.Path partial = new org.apache.hadoop.fs.Path(out.getParent(), out.getName() + ".partial");
        fs.delete(partial, true);
        fs.mkdirs(partial);
        // the executors parse the recipe as the driver resolved it (a run directory's checkpoint, say): a newer one may land meanwhile
        Broadcast<String[]> src = sc.broadcast(new String[] {recipe.source(), recipe.pinnedText(recipeText)});
        List<Operators.Step> steps = recipe.steps();
        int traceSamples = recipe.traceSamples();
        HashMap<String, String> hadoop = HadoopFiles.settings(sc.hadoopConfiguration());
        List<Source> sources = new ArrayList<>();
        for (int i = 0; i < recipe.inputs().size(); i++) {
            String path = recipe.inputs().get(i).path();
            if (Recipe.isAddress(path)) {
                for (String f : HadoopFiles.list(path, sc.hadoopConfiguration())) sources.add(new Source(i, sources.size(), f, true));
            } else {
                for (Path f : Documents.files(Path.of(path))) sources.add(new Source(i, sources.size(), f.toString(), false));
            }
        }
        List<JavaRDD<?>> cached = new ArrayList<>();
        PhaseMeter meter = new PhaseMeter(sc);
        try {
            meter.phase("read " + sources.size() + " file(s)");
            JavaRDD<Out> read = sc.parallelize(sources, Math.max(1, sources.size())).mapPartitions(it -> readFiles(it, src.value(), hadoop));
            read.persist(StorageLevel.MEMORY_AND_DISK());
            cached.add(read);
            List<FileCounts> files = new ArrayList<>(read.filter(o -> o.file() != null).map(Out::file).collect());
            files.sort(Comparator.comparingInt(FileCounts::ordinal));
            List<RecipeRun.InputCounts> inputCounts = inputCounts(recipe, files, log);
            JavaRDD<Item> items = read.filter(o -> o.item() != null).map(Out::item);

            StepStats[] stats = new StepStats[steps.size()];
            for (int i = 0; i < stats.length; i++) stats[i] = new StepStats(steps.get(i).label());
            Map<String, List<TraceEntry>> trace = new HashMap<>();
            int from = 0;
            while (true) {
                int dedupAt = from;
                while (dedupAt < steps.size() && !(steps.get(dedupAt) instanceof Operators.Dedupe)) dedupAt++;
                int to = dedupAt, dedup = dedupAt < steps.size() ? dedupAt : -1;
                if (to > from || dedup >= 0) {
                    String range = to - from > 1 ? "steps " + (from + 1) + "-" + to : to > from ? "step " + to : "";
                    meter.phase(range + (dedup < 0 ? "" : (range.isEmpty() ? "" : ", ") + "keys of step " + (dedup + 1)));
                    JavaRDD<Out> seg = segment(items, src, from, to, dedup, traceSamples);
                    seg.persist(StorageLevel.MEMORY_AND_DISK());
                    cached.add(seg);
                    List<Report> reports = new ArrayList<>(seg.filter(o -> o.report() != null).map(Out::report).collect());
                    reports.sort(Comparator.comparingInt(Report::partition));
                    for (Report r : reports) {
                        for (int i = 0; i < stats.length; i++) stats[i].add(r.stats()[i]);
                        for (TraceEntry t : r.trace()) addTrace(trace, t, traceSamples);
                    }
                    items = seg.filter(o -> o.item() != null).map(Out::item);
                }
                if (dedup < 0) break;
                meter.phase("step " + (dedup + 1) + ": " + steps.get(dedup).label());
                items = dedup(items, steps.get(dedup).label(), stats[dedup], trace, traceSamples, cached);
                from = dedup + 1;
            }
            items.persist(StorageLevel.MEMORY_AND_DISK());
            cached.add(items);
            meter.phase("write");
            Map<String, JsonlShardWriter.Counts> counts = write(items, recipe.output(), partial.toString(), hadoop);
            List<TraceEntry> orderedTrace = new ArrayList<>();
            for (Operators.Step s : steps) orderedTrace.addAll(trace.getOrDefault(s.label(), List.of()));
            RecipeRun.Summary summary = new RecipeRun.Summary(recipe, inputCounts, List.of(stats), counts, (System.nanoTime() - t0) / 1e9,
                    sc.defaultParallelism());
            Path report = Files.createTempDirectory("crucible-report-");
            try {
                RecipeRun.writeReport(report, summary, orderedTrace);
                for (String f : List.of(RecipeRun.SUMMARY, RecipeRun.TRACE)) {
                    fs.copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(report.resolve(f).toUri()), new org.apache.hadoop.fs.Path(partial, f));
                }
            } finally {
                RecipeRun.deleteTree(report);
            }
            fs.delete(out, true);
            if (!fs.rename(partial, out)) throw new IOException("could not move " + partial + " to " + out);
            List<PhaseMeter.Phase> phases = meter.finish();
            if (log != null) log.print(PhaseMeter.table(phases, inputCounts.stream().mapToLong(RecipeRun.InputCounts::bytes).sum()));
            return summary;
        } catch (IOException e) {
            throw e;
        } catch (Exception e) { // Spark throws its (checked) SparkException from Scala, undeclared
            throw unwrap(e);
        } finally {
            meter.finish();
            for (JavaRDD<?> r : cached) r.unpersist(false);
            src.destroy();
        }
    }

    /** A task's failure as the local engine reports it: the message of what failed (file and line for bad input), not Spark's wrapping. */
    static IOException unwrap(Exception e) {
        Throwable t = e;
        while (t.getCause() != null && t.getClass().getName().startsWith("org.apache.spark")) t = t.getCause();
        if (t instanceof java.io.UncheckedIOException u) t = u.getCause();
        if (t == e && e instanceof RuntimeException re) throw re; // not a task's failure
        return t instanceof IOException io ? io : new IOException(t.getMessage(), t);
    }

    private static void addTrace(Map<String, List<TraceEntry>> trace, TraceEntry t, int traceSamples) {
        List<TraceEntry> l = trace.computeIfAbsent(t.step(), k -> new ArrayList<>());
        if (l.size() < traceSamples) l.add(t);
    }

    private static java.util.Iterator<Out> readFiles(java.util.Iterator<Source> it, String[] src, Map<String, String> hadoop) throws IOException {
        Recipe r = recipe(src);
        org.apache.hadoop.conf.Configuration conf = null;
        List<Out> out = new ArrayList<>();
        while (it.hasNext()) {
            Source s = it.next();
            Recipe.Input in = r.inputs().get(s.input());
            long[] n = new long[3];
            List<String> examples = new ArrayList<>();
            Documents.Malformed malformed = r.skipMalformed() ? (where, problem) -> {
                n[2]++;
                if (examples.size() < 5) examples.add(where + ": " + problem);
            } : Documents.Malformed.FAIL;
            long base = (long) s.ordinal() << 32;
            Documents.RecordSink sink = (name, text, fields) -> {
                out.add(new Out(new Item(base | n[0], RecipeRun.document(in, name, text, fields), null), null, null));
                n[0]++;
                n[1] += TextStats.utf8Length(text);
            };
            if (s.hadoop()) {
                if (conf == null) conf = HadoopFiles.configuration(hadoop);
                HadoopFiles.read(s.path(), conf, sink, malformed, in.textField());
            } else {
                Documents.readRecords(Path.of(s.path()), sink, malformed, in.textField());
            }
            out.add(new Out(null, null, new FileCounts(s.input(), s.ordinal(), n[0], n[1], n[2], examples)));
        }
        return out.iterator();
    }

    /** Per recipe input, as the local engine counts it: its files' documents, bytes and malformed records, the first five examples. */
    private static List<RecipeRun.InputCounts> inputCounts(Recipe recipe, List<FileCounts> files, PrintStream log) {
        List<RecipeRun.InputCounts> out = new ArrayList<>();
        for (int i = 0; i < recipe.inputs().size(); i++) {
            long docs = 0, bytes = 0, malformed = 0;
            List<String> examples = new ArrayList<>();
            for (FileCounts f : files) {
                if (f.input() != i) continue;
                docs += f.docs();
                bytes += f.bytes();
                malformed += f.malformed();
                for (String e : f.examples()) if (examples.size() < 5) examples.add(e);
            }
            String path = recipe.inputs().get(i).path();
            out.add(new RecipeRun.InputCounts(path, docs, bytes, malformed, examples));
            if (log != null && malformed > 0) log.printf(Locale.ROOT, "  %s: skipped %,d malformed record(s), e.g. %s%n", path, malformed, examples.getFirst());
        }
        return out;
    }

    /** Steps [from, to) on each partition in batches, then the keys of step dedupAt (or -1); one report per partition. */
    private static JavaRDD<Out> segment(JavaRDD<Item> items, Broadcast<String[]> src, int from, int to, int dedupAt, int traceSamples) {
        return items.mapPartitionsWithIndex((partition, it) -> {
            List<Operators.Step> steps = recipe(src.value()).steps();
            SegmentRun run = new SegmentRun(steps, from, to, dedupAt, traceSamples);
            StepStats[] stats = new StepStats[steps.size()];
            for (int i = 0; i < stats.length; i++) stats[i] = new StepStats(steps.get(i).label());
            Map<String, List<TraceEntry>> trace = new LinkedHashMap<>();
            List<Out> out = new ArrayList<>();
            List<Item> batch = new ArrayList<>(BATCH);
            while (true) {
                boolean more = it.hasNext();
                if (more) batch.add(it.next());
                if (batch.size() == BATCH || !more && !batch.isEmpty()) {
                    List<Doc> docs = new ArrayList<>(batch.size());
                    for (Item i : batch) docs.add(i.doc());
                    SegmentRun.Result r = run.apply(docs);
                    for (int i = 0; i < stats.length; i++) stats[i].add(r.stats()[i]);
                    for (TraceEntry t : r.trace()) addTrace(trace, t, traceSamples);
                    for (int k = 0; k < r.docs().size(); k++) out.add(new Out(new Item(batch.get(r.source()[k]).order(), r.docs().get(k), r.keys().get(k)), null, null));
                    batch.clear();
                }
                if (!more) break;
            }
            List<TraceEntry> tr = new ArrayList<>();
            trace.values().forEach(tr::addAll);
            out.add(new Out(null, new Report(partition, stats, tr), null));
            return out.iterator();
        }, true);
    }

    /**
     * Removes every document that shares a key, directly or through others, with an earlier one; the
     * step's counts and trace as the local engine's. Only keys and the removed documents' places move
     * between machines: partition p holds input file p's documents from reading to writing, so the
     * removals are partitioned by file and zipped with the documents where they lie.
     */
    private static JavaRDD<Item> dedup(JavaRDD<Item> items, String label, StepStats s, Map<String, List<TraceEntry>> trace, int traceSamples,
                                       List<JavaRDD<?>> cached) {
        JavaPairRDD<Long, Long> keyed = items.filter(i -> i.keys() != null).flatMapToPair(i -> {
            List<Tuple2<Long, Long>> out = new ArrayList<>(i.keys().length);
            for (long k : i.keys()) out.add(new Tuple2<>(k, i.order()));
            return out.iterator();
        });
        JavaPairRDD<Long, Long> edges = keyed.groupByKey().flatMapToPair(g -> { // (document, the first document with its key)
            long first = Long.MAX_VALUE;
            for (long o : g._2()) first = Math.min(first, o);
            List<Tuple2<Long, Long>> out = new ArrayList<>();
            for (long o : g._2()) if (o != first) out.add(new Tuple2<>(o, first));
            return out.iterator();
        });
        JavaPairRDD<Long, Long> roots = ConnectedComponents.roots(edges); // persisted by it
        cached.add(roots.rdd().toJavaRDD());
        JavaPairRDD<Long, Long> removed = roots
                .partitionBy(new Partitions(items.getNumPartitions(), k -> (int) ((Long) k >>> 32))); // partition p: file p's documents
        JavaRDD<Out> kept = items.zipPartitions(removed, (docs, gone) -> {
            HashMap<Long, Long> root = new HashMap<>();
            while (gone.hasNext()) {
                Tuple2<Long, Long> t = gone.next();
                root.put(t._1(), t._2());
            }
            StepStats local = new StepStats(label);
            List<TraceEntry> firstRemoved = new ArrayList<>(); // detail: the kept document's place; its id is looked up below
            List<Out> out = new ArrayList<>();
            int partition = -1;
            while (docs.hasNext()) {
                Item i = docs.next();
                partition = (int) (i.order() >>> 32);
                long b = TextStats.utf8Length(i.doc().text());
                local.docsIn++;
                local.bytesIn += b;
                Long r = root.get(i.order());
                if (r == null) {
                    local.docsOut++;
                    local.bytesOut += b;
                    out.add(new Out(new Item(i.order(), i.doc(), null), null, null));
                } else {
                    local.removed++;
                    local.rules.merge("duplicate", 1L, Long::sum);
                    if (firstRemoved.size() < traceSamples) firstRemoved.add(TraceEntry.removed(label, i.doc(), "duplicate", Long.toString(r)));
                }
            }
            out.add(new Out(null, new Report(partition, new StepStats[] {local}, firstRemoved), null));
            return out.iterator();
        });
        kept.persist(StorageLevel.MEMORY_AND_DISK());
        cached.add(kept);
        List<Report> reports = new ArrayList<>(kept.filter(o -> o.report() != null).map(Out::report).collect());
        reports.sort(Comparator.comparingInt(Report::partition));
        List<TraceEntry> candidates = new ArrayList<>();
        for (Report r : reports) {
            s.add(r.stats()[0]);
            for (TraceEntry t : r.trace()) if (candidates.size() < traceSamples) candidates.add(t);
        }
        if (!candidates.isEmpty()) { // "duplicate of" the kept document's id
            HashSet<Long> rootPlaces = new HashSet<>();
            for (TraceEntry t : candidates) rootPlaces.add(Long.parseLong(t.detail()));
            Map<Long, String> rootIds = new HashMap<>();
            for (Item i : items.filter(i -> rootPlaces.contains(i.order())).collect()) rootIds.put(i.order(), i.doc().id());
            for (TraceEntry t : candidates) {
                addTrace(trace, new TraceEntry(t.step(), t.doc(), t.action(), t.rule(), "duplicate of " + rootIds.get(Long.parseLong(t.detail())),
                        t.before(), t.after(), t.fields()), traceSamples);
            }
        }
        return kept.filter(o -> o.item() != null).map(Out::item);
    }

    static final class ByOrder implements Comparator<ShardKey>, Serializable {
        @Override
        public int compare(ShardKey a, ShardKey b) {
            return Long.compare(a.order(), b.order());
        }
    }

    /** Which partition a key goes to. */
    interface PartitionOf extends Serializable {
        int of(Object key);
    }

    /** n partitions, each key's computed from the key (a file's documents, a shard's). */
    static final class Partitions extends Partitioner {
        private final int n;
        private final PartitionOf of;

        Partitions(int n, PartitionOf of) {
            this.n = n;
            this.of = of;
        }

        @Override
        public int numPartitions() {
            return n;
        }

        @Override
        public int getPartition(Object key) {
            return of.of(key);
        }
    }

    /**
     * The JSONL shards as the local writer lays them out: per output partition, shard k holds that
     * partition's documents k·shard_docs.. in input order. Counts per Spark partition first give
     * each document its rank; then each shard is one task's file.
     */
    private static Map<String, JsonlShardWriter.Counts> write(JavaRDD<Item> items, Recipe.Output output, String dir, Map<String, String> hadoop) {
        String partitionBy = output.partitionBy(), compression = output.compression();
        int shardDocs = output.shardDocs();
        List<Tuple2<Integer, TreeMap<String, long[]>>> perPartition = new ArrayList<>(items.mapPartitionsWithIndex((idx, it) -> {
            TreeMap<String, long[]> c = new TreeMap<>();
            while (it.hasNext()) {
                Doc d = it.next().doc();
                long[] n = c.computeIfAbsent(JsonlShardWriter.partition(d, partitionBy), k -> new long[2]);
                n[0]++;
                n[1] += TextStats.utf8Length(d.text());
            }
            return List.of(new Tuple2<>(idx, c)).iterator();
        }, true).collect());
        perPartition.sort(Comparator.comparingInt(Tuple2::_1));
        TreeMap<String, long[]> totals = new TreeMap<>();
        HashMap<String, Long> start = new HashMap<>(); // "sparkPartition/outputPartition" -> rank of its first document there
        for (Tuple2<Integer, TreeMap<String, long[]>> p : perPartition) {
            p._2().forEach((key, n) -> {
                long[] t = totals.computeIfAbsent(key, k -> new long[2]);
                start.put(p._1() + "/" + key, t[0]);
                t[0] += n[0];
                t[1] += n[1];
            });
        }
        Map<String, JsonlShardWriter.Counts> counts = new TreeMap<>();
        HashMap<String, Integer> firstShard = new HashMap<>();
        List<String> shardPartition = new ArrayList<>();
        List<Integer> shardIndex = new ArrayList<>();
        for (Map.Entry<String, long[]> e : totals.entrySet()) {
            int shards = (int) ((e.getValue()[0] + shardDocs - 1) / shardDocs);
            firstShard.put(e.getKey(), shardPartition.size());
            for (int k = 0; k < shards; k++) {
                shardPartition.add(e.getKey());
                shardIndex.add(k);
            }
            counts.put(e.getKey(), new JsonlShardWriter.Counts(e.getValue()[0], e.getValue()[1], shards));
        }
        if (shardPartition.isEmpty()) return counts;
        JavaPairRDD<ShardKey, Doc> byShard = items.mapPartitionsWithIndex((idx, it) -> {
            Map<String, Long> next = new HashMap<>();
            List<Tuple2<ShardKey, Doc>> out = new ArrayList<>();
            while (it.hasNext()) {
                Item i = it.next();
                String key = JsonlShardWriter.partition(i.doc(), partitionBy);
                long rank = next.computeIfAbsent(key, k -> start.get(idx + "/" + k));
                next.put(key, rank + 1);
                out.add(new Tuple2<>(new ShardKey(firstShard.get(key) + (int) (rank / shardDocs), i.order()), i.doc()));
            }
            return out.iterator();
        }, true).mapToPair(t -> t);
        byShard.repartitionAndSortWithinPartitions(new Partitions(shardPartition.size(), k -> ((ShardKey) k).shard()), new ByOrder()).foreachPartition(it -> {
            if (!it.hasNext()) return;
            Tuple2<ShardKey, Doc> first = it.next();
            int shard = first._1().shard();
            String key = shardPartition.get(shard);
            org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(key.isEmpty() ? dir : dir + "/" + key, JsonlShardWriter.shardName(shardIndex.get(shard), compression));
            FileSystem fs = HadoopFiles.fileSystem(file, HadoopFiles.configuration(hadoop));
            try (OutputStream os = JsonlShardWriter.compressed(fs.create(file, true), compression);
                 JsonGenerator g = JsonlShardWriter.generator(os)) {
                JsonlShardWriter.write(g, first._2());
                while (it.hasNext()) JsonlShardWriter.write(g, it.next()._2());
            }
        });
        return counts;
    }
}
