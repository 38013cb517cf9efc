package dev.crucible.train.sweep;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.crucible.io.AtomicWrite;
import dev.crucible.train.Checkpoints;
import dev.crucible.train.ConfigLoader;
import dev.crucible.train.RunConfig;
import dev.crucible.train.RunConfigs;
import dev.crucible.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A sweep: the base run config with the sweep's common keys and each variant's keys set, run once per seed, every run in
 * out/VARIANT/seed-SEED. The seed sets training.seed, which fixes the initialisation and the data
 * order, so every variant of a seed sees the same batches. Runs go seed by seed (all variants of the
 * first seed, then the next), so a sweep stopped early still compares its variants; each run is
 * started, resumed from its newest checkpoint, or skipped when finished, so a killed sweep continues
 * with the run it was in and computes what it would have. Keys are checked when the file is read (a key
 * that names no run-config key, a value the config refuses) and every run's files by {@link #checkAll}
 * before the first run. Paths in keys, like every path of the base, resolve against the base's directory.
 */
public final class Sweep {
    /** A variant: its name and the run-config keys it sets (dotted, snake_case). */
    public record Variant(String name, Map<String, Object> overrides) {}

    /** One run of the sweep. */
    public record Run(String variant, long seed, Path dir, RunConfig config) {}

    public static final String MANIFEST = "sweep.json";
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path file, baseDir, dir;
    private final SweepConfig cfg;
    private final List<Variant> variants;
    private final String baseline;
    private final List<Run> runs = new ArrayList<>();

    private Sweep(Path file, SweepConfig cfg, Path baseDir, List<Variant> variants, String baseline) {
        this.file = file;
        this.cfg = cfg;
        this.baseDir = baseDir;
        this.dir = file.toAbsolutePath().getParent().resolve(cfg.out()).normalize();
        this.variants = variants;
        this.baseline = baseline;
    }

    /** Reads and checks a sweep file and builds every run's config; mistakes are refused with the file, line and key. */
    public static Sweep load(Path file) throws IOException {
        SweepConfig cfg = ConfigLoader.load(file, SweepConfig.class);
        String text = Files.readString(file);
        Path baseFile = file.toAbsolutePath().getParent().resolve(cfg.base()).normalize();
        if (!Files.isRegularFile(baseFile)) throw new ConfigLoader.ConfigException(where(file, text, "base") + ": base: " + baseFile + " does not exist", null);
        ConfigLoader.load(baseFile, RunConfig.class); // the base alone must be a valid run config
        String baseText = Files.readString(baseFile);
        for (String key : cfg.set().keySet()) requireKey(file, text, "set", key);
        List<Variant> variants = new ArrayList<>();
        if (cfg.grid() != null) {
            for (String key : cfg.grid().keySet()) requireKey(file, text, "grid", key);
            List<Map<String, Object>> combos = new ArrayList<>(List.of(new LinkedHashMap<>()));
            for (Map.Entry<String, List<Object>> axis : cfg.grid().entrySet()) {
                List<Map<String, Object>> next = new ArrayList<>();
                for (Map<String, Object> c : combos) {
                    for (Object v : axis.getValue()) {
                        Map<String, Object> m = new LinkedHashMap<>(c);
                        m.put(axis.getKey(), v);
                        next.add(m);
                    }
                }
                combos = next;
            }
            for (Map<String, Object> c : combos) {
                Variant v = new Variant(gridName(c), c);
                if (variants.stream().anyMatch(x -> x.name().equals(v.name()))) {
                    throw new ConfigLoader.ConfigException(where(file, text, "grid") + ": grid: two combinations are both named '" + v.name()
                            + "' (a value repeated, or values that differ only in characters a directory name cannot hold); they would share a run directory", null);
                }
                variants.add(v);
            }
        } else if (cfg.variants() != null) {
            for (Map.Entry<String, Map<String, Object>> v : cfg.variants().entrySet()) {
                if (!v.getKey().matches("[A-Za-z0-9][A-Za-z0-9_.=+-]*")) {
                    throw new ConfigLoader.ConfigException(where(file, text, "variants") + ": variants: '" + v.getKey()
                            + "' is not a name of letters, digits and _ . = + -", null);
                }
                Map<String, Object> o = v.getValue() == null ? Map.of() : v.getValue();
                for (String key : o.keySet()) requireKey(file, text, "variants", key);
                variants.add(new Variant(v.getKey(), new LinkedHashMap<>(o)));
            }
        } else {
            variants.add(new Variant("base", Map.of()));
        }
        String baseline = cfg.baseline() != null ? cfg.baseline() : variants.getFirst().name();
        if (variants.stream().noneMatch(v -> v.name().equals(baseline))) {
            throw new ConfigLoader.ConfigException(where(file, text, "baseline") + ": baseline: no variant is named '" + baseline + "' (variants: "
                    + variants.stream().map(Variant::name).toList() + ")", null);
        }
        Sweep s = new Sweep(file, cfg, baseFile.getParent(), variants, baseline);
        for (long seed : cfg.seeds()) {
            for (Variant v : variants) {
                Path runDir = s.dir.resolve(v.name()).resolve("seed-" + seed);
                s.runs.add(new Run(v.name(), seed, runDir, s.config(baseText, v, seed, runDir, text)));
            }
        }
        return s;
    }

    /** The base config with the variant's keys, the seed and the run directory set. */
    private RunConfig config(String baseText, Variant v, long seed, Path runDir, String sweepText) {
        try {
            ObjectNode tree = (ObjectNode) ConfigLoader.YAML.readTree(baseText);
            for (Map.Entry<String, Object> o : cfg.set().entrySet()) set(tree, o.getKey(), value(o.getKey(), o.getValue()));
            for (Map.Entry<String, Object> o : v.overrides().entrySet()) set(tree, o.getKey(), value(o.getKey(), o.getValue()));
            set(tree, "training.seed", ConfigLoader.YAML.valueToTree(seed));
            set(tree, "out", TextNode.valueOf(runDir.toString()));
            return ConfigLoader.YAML.treeToValue(tree, RunConfig.class);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) root = root.getCause();
            // point at the variant's first key (in its own entry, for named variants)
            String first = v.overrides().keySet().stream().findFirst().orElse(null);
            String at = first == null ? where(file, sweepText, v.name(), 0)
                    : where(file, sweepText, first, cfg.variants() != null ? offsetOf(sweepText, v.name()) : 0);
            throw new ConfigLoader.ConfigException(at + ": variant '" + v.name() + "' " + v.overrides() + " (seed " + seed
                    + "): " + (root.getMessage() == null ? root : root.getMessage().lines().findFirst().orElse("")), e);
        }
    }

    private static JsonNode value(String key, Object v) {
        if (v == null) throw new IllegalArgumentException(key + ": no value (write one, or leave the key out for the base's)");
        return ConfigLoader.YAML.valueToTree(v);
    }

    /** Sets a dotted key in a config tree, making the sections on the way (model: tiny becomes {preset: tiny}). */
    private static void set(ObjectNode tree, String dotted, JsonNode value) {
        String[] parts = dotted.split("\\.");
        ObjectNode node = tree;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            if (child instanceof TextNode t && parts[i].equals("model")) {
                ObjectNode m = node.putObject("model");
                m.put("preset", t.asText());
                child = m;
            }
            node = child instanceof ObjectNode o ? o : node.putObject(parts[i]);
        }
        node.set(parts[parts.length - 1], value);
    }

    /** Refuses a key that names no run-config key (or one the sweep sets itself), with where it is in the sweep file. */
    private static void requireKey(Path file, String text, String section, String dotted) {
        String problem = dotted.equals("training.seed") ? "is set by the sweep's seeds" : dotted.equals("out") ? "is set by the sweep (out/VARIANT/seed-S)"
                : keyProblem(RunConfig.class, dotted.split("\\."), 0);
        if (problem != null) throw new ConfigLoader.ConfigException(where(file, text, dotted) + ": " + section + ": '" + dotted + "' " + problem, null);
    }

    /** Why a dotted key names no key of the record type, or null when it does. */
    static String keyProblem(Class<?> type, String[] parts, int at) {
        if (at == parts.length) return null;
        if (!type.isRecord()) return "goes below '" + String.join(".", java.util.Arrays.copyOf(parts, at)) + "', which is a value";
        for (RecordComponent c : type.getRecordComponents()) {
            if (!snake(c.getName()).equals(parts[at])) continue;
            if (at == parts.length - 1) {
                return c.getType().isRecord() ? "names a section, which would replace every key of it; set its keys one by one (e.g. "
                        + String.join(".", parts) + "." + snake(c.getType().getRecordComponents()[0].getName()) + ")" : null;
            }
            if (Map.class.isAssignableFrom(c.getType())) return null; // per-name entries (optimizer.groups.embedding.lr): checked by the config
            Type g = c.getGenericType();
            return g instanceof ParameterizedType ? "goes into a list, which a sweep sets as a whole" : keyProblem(c.getType(), parts, at + 1);
        }
        List<String> names = java.util.Arrays.stream(type.getRecordComponents()).map(c -> snake(c.getName())).sorted().toList();
        return "names no config key" + (at == 0 ? "" : " under '" + String.join(".", java.util.Arrays.copyOf(parts, at)) + "'") + " (there: "
                + String.join(", ", names) + ")";
    }

    private static String snake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }

    /** file:line:column of a key written as it is (a dotted grid key is one YAML key), or the file alone. */
    private static String where(Path file, String text, String key) {
        return where(file, text, key, 0);
    }

    /** As above, the first occurrence at or after offset from. */
    private static String where(Path file, String text, String key, int from) {
        int[] at = ConfigLoader.findKey(text, key, from);
        if (at == null) return file.toString();
        int[] lc = ConfigLoader.lineColumn(text, at[0]);
        return file + ":" + lc[0] + ":" + lc[1];
    }

    private static int offsetOf(String text, String key) {
        int[] at = ConfigLoader.findKey(text, key, 0);
        return at == null ? 0 : at[1];
    }

    /** A grid variant's name: each key's last part = its value, joined by '+' (full keys, '~' for '.', when last parts collide). */
    private static String gridName(Map<String, Object> combo) {
        List<String> parts = new ArrayList<>();
        List<String> last = combo.keySet().stream().map(k -> k.substring(k.lastIndexOf('.') + 1)).toList();
        boolean full = last.stream().distinct().count() != last.size();
        for (Map.Entry<String, Object> e : combo.entrySet()) {
            String k = full ? e.getKey().replace('.', '~') : e.getKey().substring(e.getKey().lastIndexOf('.') + 1);
            parts.add(k + "=" + String.valueOf(e.getValue()).replaceAll("[^A-Za-z0-9._-]", "_"));
        }
        return String.join("+", parts);
    }

    public Path dir() {
        return dir;
    }

    public List<Variant> variants() {
        return variants;
    }

    public String baseline() {
        return baseline;
    }

    public List<Long> seeds() {
        return cfg.seeds();
    }

    public List<Run> runs() {
        return runs;
    }

    public SweepConfig config() {
        return cfg;
    }

    /** Where relative paths of the base config resolve: the base config's directory. */
    public Path baseDir() {
        return baseDir;
    }

    /** Each variant's differences from the baseline by key ("key: old -> new"), as `train --resume` lists config changes. */
    public Map<String, List<String>> differences() {
        long seed = cfg.seeds().getFirst();
        RunConfig base = runs.stream().filter(r -> r.seed() == seed && r.variant().equals(baseline)).findFirst().orElseThrow().config().withOut("");
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Run r : runs) if (r.seed() == seed) out.put(r.variant(), RunConfigs.differences(base, r.config().withOut("")));
        return out;
    }

    /**
     * What a run will check when it starts, checked for every run now, so that a bad variant fails
     * before the first run rather than hours into the sweep: the config resolved against its files
     * (tokenizer, init_from, grow_from, the teacher) and every shard set it names present.
     */
    public void checkAll() throws IOException {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Run r : runs) {
            if (r.seed() != cfg.seeds().getFirst()) continue; // the seed changes nothing the check reads
            RunConfig resolved;
            try {
                resolved = RunConfigs.resolve(r.config(), baseDir);
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": variant '" + r.variant() + "': " + e.getMessage(), e);
            }
            List<String> specs = new ArrayList<>();
            for (RunConfig.Source src : resolved.data().streams()) {
                specs.add(src.train());
                if (src.val() != null) specs.add(src.val());
            }
            if (resolved.data().val() != null) specs.add(resolved.data().val());
            for (String spec : specs) {
                if (!seen.add(spec)) continue;
                try (dev.crucible.data.ShardSet set = dev.crucible.data.ShardSet.open(Path.of("/"), spec)) {
                    if (set.totalTokens() == 0) throw new IOException("the shards '" + spec + "' hold no tokens");
                } catch (IOException e) {
                    throw new IllegalArgumentException(file + ": variant '" + r.variant() + "': data: " + e.getMessage(), e);
                }
            }
        }
    }

    /**
     * Refuses runs already started under another config than the sweep now gives them (the sweep file
     * or the base was edited): resuming them would silently mix two recipes in one variant. Thread
     * counts are not a difference (they do not change what a run computes).
     */
    public void checkStarted() throws IOException {
        for (Run r : runs) {
            Path saved = r.dir().resolve("config.yaml");
            if (!Files.isRegularFile(saved)) continue;
            RunConfig was = RunConfigs.readSaved(saved);
            RunConfig now = RunConfigs.resolve(r.config(), baseDir).withOut(was.out());
            now = now.withTraining(now.training().withThreads(was.training().threads()));
            List<String> diff = RunConfigs.differences(was, now);
            if (!diff.isEmpty()) {
                throw new IllegalArgumentException(r.dir() + " was started under another config than " + file + " now gives it (" + String.join("; ", diff)
                        + "); restore the sweep, or delete that run to start it again");
            }
        }
    }

    /** Whether a run is over ({@link Trainer#finished}). */
    public static boolean finished(Run r) throws IOException {
        return Trainer.finished(r.dir());
    }

    /**
     * Trains a run: from the start, or on from its newest checkpoint; nothing when it is finished.
     * threads: the worker threads a run started here gets (0: its config's); a run resumed keeps what
     * it started with (thread counts do not change what a run computes).
     */
    public void train(Run r, int threads, PrintStream console) throws IOException {
        if (finished(r)) return;
        if (Files.exists(r.dir().resolve("metrics.jsonl")) || Files.exists(r.dir().resolve("config.yaml"))) Trainer.resume(r.dir(), null, null, false, console);
        else Trainer.start(threads > 0 ? r.config().withTraining(r.config().training().withThreads(threads)) : r.config(), baseDir, console);
    }

    /** An object without its null fields: a key added later (eval.quantize) reads as absent in a sweep.json written before it. */
    private static JsonNode withoutNulls(JsonNode n) {
        if (!n.isObject()) return n;
        com.fasterxml.jackson.databind.node.ObjectNode o = ((com.fasterxml.jackson.databind.node.ObjectNode) n).deepCopy();
        List<String> nulls = new ArrayList<>();
        o.fieldNames().forEachRemaining(k -> {
            if (o.get(k).isNull()) nulls.add(k);
        });
        o.remove(nulls);
        return o;
    }

    /**
     * sweep.json: what the sweep is (variants, their keys and differences, seeds, baseline, the
     * evaluation) and where each run is. A sweep whose evaluation changed since sweep.json was written
     * is refused: its runs' scores would come from different tasks or examples.
     */
    public void writeManifest() throws IOException {
        Files.createDirectories(dir);
        Path existing = dir.resolve(MANIFEST);
        JsonNode eval = withoutNulls(JSON.valueToTree(cfg.eval()));
        if (Files.isRegularFile(existing)) {
            JsonNode before = withoutNulls(JSON.readTree(existing.toFile()).path("eval"));
            if (!before.isMissingNode() && !before.equals(eval)) {
                throw new IllegalArgumentException(file + ": eval differs from what " + existing + " records (" + before + " vs " + eval
                        + "): the runs evaluated so far would not compare with the rest; restore it, or use another out");
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", file.toAbsolutePath().normalize().toString());
        m.put("base", cfg.base());
        m.put("seeds", cfg.seeds());
        m.put("baseline", baseline);
        m.put("eval", eval);
        Map<String, List<String>> diffs = differences();
        List<Map<String, Object>> vs = new ArrayList<>();
        for (Variant v : variants) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", v.name());
            e.put("keys", v.overrides());
            e.put("differences", diffs.get(v.name()));
            vs.add(e);
        }
        m.put("variants", vs);
        List<Map<String, Object>> rs = new ArrayList<>();
        for (Run r : runs) rs.add(Map.of("variant", r.variant(), "seed", r.seed(), "dir", dir.relativize(r.dir()).toString()));
        m.put("runs", rs);
        AtomicWrite.write(dir.resolve(MANIFEST), tmp -> JSON.writeValue(tmp.toFile(), m));
    }

    /** A sweep directory's runs as its sweep.json lists them: variant, seed, run directory; and its baseline. */
    public record Manifest(Path dir, String baseline, List<String> variants, List<Long> seeds, List<ManifestRun> runs, Map<String, List<String>> differences) {
        public record ManifestRun(String variant, long seed, Path dir) {}

        public static Manifest read(Path dir) throws IOException {
            Path f = dir.resolve(MANIFEST);
            if (!Files.isRegularFile(f)) throw new IOException(dir + ": no " + MANIFEST + " (not a sweep directory)");
            JsonNode m = JSON.readTree(f.toFile());
            List<String> variants = new ArrayList<>();
            Map<String, List<String>> diffs = new LinkedHashMap<>();
            for (JsonNode v : m.path("variants")) {
                variants.add(v.path("name").asText());
                List<String> d = new ArrayList<>();
                v.path("differences").forEach(x -> d.add(x.asText()));
                diffs.put(v.path("name").asText(), d);
            }
            List<Long> seeds = new ArrayList<>();
            m.path("seeds").forEach(x -> seeds.add(x.asLong()));
            List<ManifestRun> runs = new ArrayList<>();
            for (JsonNode r : m.path("runs")) runs.add(new ManifestRun(r.path("variant").asText(), r.path("seed").asLong(), dir.resolve(r.path("dir").asText())));
            return new Manifest(dir, m.path("baseline").asText(), variants, seeds, runs, diffs);
        }
    }
}
