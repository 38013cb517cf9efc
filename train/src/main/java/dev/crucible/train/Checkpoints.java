package dev.crucible.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.crucible.data.tokenizer.BpeTokenizer;
import dev.crucible.data.tokenizer.TokenizerJson;
import dev.crucible.model.HfFormat;
import dev.crucible.model.Model;
import dev.crucible.model.Safetensors;
import dev.crucible.model.optim.Algorithm;
import dev.crucible.model.optim.GroupedOptimizer;
import dev.crucible.model.optim.Optimizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Checkpoint directories run/checkpoints/step-NNNNNNN, each a Hugging Face model directory as it is
 * (config.json, model.safetensors with HF names, generation_config.json) plus what an exact resume
 * needs: optimizer.safetensors (the optimizer's state per tensor and state name, e.g.
 * model.layers.0.mlp.down_proj.weight.exp_avg, shaped as the tensor is in model.safetensors) and
 * trainer_state.json (step, tokens, each data source's cursor, seed, config hash, and the size and SHA-256 of
 * every file). A checkpoint is assembled in a
 * temporary directory, fsynced, and renamed into place: a kill at any moment leaves either the
 * complete checkpoint or none, and never damages an earlier one.
 */
public final class Checkpoints {
    private Checkpoints() {}

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final String MODEL = "model.safetensors", OPTIMIZER = "optimizer.safetensors", STATE = "trainer_state.json";

    /**
     * What a resume restores besides weights and optimizer state. flops: training FLOPs so far
     * ({@link dev.crucible.model.ParamLayout#flopsPerToken} at the run's sequence length, summed over
     * steps); NaN in checkpoints written before it was recorded.
     */
    public record State(int step, long tokens, double flops, DataMixture.State data, long seed, long optimizerStep,
                        String configSha256) {}

    public static Path dirFor(Path run, long step) {
        return run.resolve("checkpoints").resolve(String.format("step-%07d", step));
    }

    /** A run's tokenizer.json, the tokenizer, and the id that separates its documents (config.json's bos/eos), read once per run, not per checkpoint. */
    public record RunTokenizer(Path file, BpeTokenizer tokenizer, Integer documentSeparator) {
        public static RunTokenizer read(Path file) throws IOException {
            BpeTokenizer t = TokenizerJson.read(file);
            return new RunTokenizer(file, t, t.documentSeparator());
        }
    }

    /** tokenizer: the run's tokenizer, copied in, or null. */
    public static Path write(Path run, State state, Model model, Optimizer opt, RunTokenizer tokenizer) throws IOException {
        Path dir = dirFor(run, state.step());
        Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
        deleteRecursively(tmp);
        Files.createDirectories(tmp);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        Safetensors.write(tmp.resolve(MODEL), HfFormat.sources(model.layout(), model.params), meta);
        // what separates the run's documents is what ends one: generation stops there
        Integer eot = tokenizer == null ? null : tokenizer.documentSeparator();
        if (tokenizer != null) Files.copy(tokenizer.file(), tmp.resolve("tokenizer.json"));
        JSON.writeValue(tmp.resolve("config.json").toFile(), HfFormat.configJson(model.config(), eot, eot));
        Map<String, Object> gen = new LinkedHashMap<>();
        gen.put("_from_model_config", true);
        if (eot != null) {
            gen.put("bos_token_id", eot);
            gen.put("eos_token_id", eot);
        }
        JSON.writeValue(tmp.resolve("generation_config.json").toFile(), gen);
        Map<String, String> optMeta = new LinkedHashMap<>();
        optMeta.put("optimizer", opt.name());
        optMeta.put("optimizer_step", Long.toString(opt.stepCount()));
        Safetensors.write(tmp.resolve(OPTIMIZER), opt.state(), optMeta);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("step", state.step());
        s.put("tokens", state.tokens());
        s.put("flops", state.flops());
        Map<String, Object> sources = new LinkedHashMap<>();
        state.data().sources().forEach((name, c) -> sources.put(name, Map.of("epoch", c.epoch(), "position", c.position(), "shard_tokens", c.shardTokens())));
        s.put("data", Map.of("rows", state.data().rows(), "sources", sources));
        s.put("seed", state.seed());
        s.put("rng", "each source's window order is a function of (seed, epoch), the source of each row of (seed, row); no other random state");
        s.put("optimizer_step", state.optimizerStep());
        s.put("config_sha256", state.configSha256());
        Map<String, Object> files = new LinkedHashMap<>();
        for (String f : new String[] {MODEL, OPTIMIZER, "config.json", "generation_config.json", "tokenizer.json"}) {
            if (Files.exists(tmp.resolve(f))) files.put(f, Map.of("bytes", Files.size(tmp.resolve(f)), "sha256", sha256(tmp.resolve(f))));
        }
        s.put("files", files);
        JSON.writeValue(tmp.resolve(STATE).toFile(), s);
        try (var ch = java.nio.channels.FileChannel.open(tmp.resolve(STATE), java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        deleteRecursively(dir);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        return dir;
    }

    /** Deletes optimizer.safetensors from every checkpoint older than keep (they stay loadable HF model directories). */
    public static void pruneOptimizerState(Path run, Path keep) throws IOException {
        for (Path ck : list(run)) {
            if (!ck.equals(keep)) Files.deleteIfExists(ck.resolve(OPTIMIZER));
        }
    }

    /** Complete checkpoint directories of a run, oldest first (temporary directories of interrupted writes excluded). */
    public static List<Path> list(Path run) throws IOException {
        Path dir = run.resolve("checkpoints");
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("step-\\d{7}") && Files.isDirectory(p)).sorted().toList();
        }
    }

    /** Removes leftovers of interrupted checkpoint writes. */
    public static void removeIncomplete(Path run) throws IOException {
        Path dir = run.resolve("checkpoints");
        if (!Files.isDirectory(dir)) return;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()) deleteRecursively(p);
        }
    }

    /** The trainer state of a checkpoint after checking every file it lists against its size and SHA-256. */
    public static State verify(Path ck) throws IOException {
        JsonNode s = stateJson(ck);
        var files = s.get("files").fields();
        while (files.hasNext()) {
            var f = files.next();
            Path p = ck.resolve(f.getKey());
            if (!Files.isRegularFile(p)) throw new IOException(p + ": missing (listed in " + STATE + ")");
            long size = Files.size(p);
            if (size != f.getValue().path("bytes").asLong()) {
                throw new IOException(p + ": " + size + " bytes, " + STATE + " says " + f.getValue().path("bytes").asLong() + " (truncated or replaced)");
            }
            if (!sha256(p).equals(f.getValue().path("sha256").asText())) throw new IOException(p + ": SHA-256 differs from " + STATE + " (corrupt)");
        }
        return state(s);
    }

    /** The trainer state of a checkpoint as written, its files not checked (a pruned checkpoint lacks optimizer.safetensors). */
    public static State state(Path ck) throws IOException {
        return state(stateJson(ck));
    }

    private static JsonNode stateJson(Path ck) throws IOException {
        Path statePath = ck.resolve(STATE);
        if (!Files.isRegularFile(statePath)) throw new IOException(ck + ": no " + STATE + " (not a resumable checkpoint)");
        JsonNode s;
        try {
            s = JSON.readTree(statePath.toFile());
        } catch (IOException e) {
            throw new IOException(statePath + ": unreadable (" + e.getMessage() + ")", e);
        }
        for (String key : new String[] {"step", "tokens", "data", "seed", "optimizer_step", "config_sha256", "files"}) {
            if (s == null || !s.has(key)) throw new IOException(statePath + ": missing '" + key + "'");
        }
        return s;
    }

    private static State state(JsonNode s) {
        return new State(s.get("step").asInt(), s.get("tokens").asLong(), s.path("flops").asDouble(Double.NaN), dataState(s.get("data")),
                s.get("seed").asLong(), s.get("optimizer_step").asLong(), s.get("config_sha256").asText());
    }

    /** data: {rows, sources: {name: {epoch, position, shard_tokens}}}, or the one cursor {epoch, position} of checkpoints from before mixtures. */
    private static DataMixture.State dataState(JsonNode d) {
        Map<String, DataMixture.Cursor> m = new LinkedHashMap<>();
        if (!d.has("sources")) {
            m.put("train", new DataMixture.Cursor(d.path("epoch").asLong(), d.path("position").asInt(), -1));
            return new DataMixture.State(0, m);
        }
        d.get("sources").fields().forEachRemaining(e -> m.put(e.getKey(), new DataMixture.Cursor(e.getValue().path("epoch").asLong(),
                e.getValue().path("position").asInt(), e.getValue().path("shard_tokens").asLong(-1))));
        return new DataMixture.State(d.path("rows").asLong(), m);
    }

    /** Names of the flat AdamW moments in checkpoints written before optimizer state was kept per tensor. */
    private static final String LEGACY_EXP_AVG = "adamw.exp_avg", LEGACY_EXP_AVG_SQ = "adamw.exp_avg_sq";

    /**
     * Loads weights and optimizer state of a verified checkpoint into model and opt. State written by
     * another optimizer is refused with what to do; the flat AdamW moments of older checkpoints still load.
     */
    public static void load(Path ck, Model model, Optimizer opt, State state) throws IOException {
        try (Safetensors.Reader r = Safetensors.open(ck.resolve(MODEL))) {
            HfFormat.load(r, model.layout(), model.params);
        }
        Path file = ck.resolve(OPTIMIZER);
        try (Safetensors.Reader r = Safetensors.open(file)) {
            boolean legacy = r.entries().containsKey(LEGACY_EXP_AVG);
            String saved = r.metadata().getOrDefault("optimizer", legacy ? Algorithm.ADAMW.id() : "?");
            if (!saved.equals(opt.name())) {
                throw new IOException(file + ": state of optimizer '" + saved + "', but the run's config says '" + opt.name()
                        + "'; resume with optimizer.name: " + saved + ", or start a new run from this checkpoint's weights (training.init_from: " + ck + ")");
            }
            if (legacy && opt instanceof GroupedOptimizer grouped) {
                try {
                    grouped.loadFlat(r.floats(LEGACY_EXP_AVG), r.floats(LEGACY_EXP_AVG_SQ), state.optimizerStep());
                } catch (IllegalArgumentException e) {
                    throw new IOException(file + ": " + e.getMessage(), e);
                }
                return;
            }
            opt.load(r, state.optimizerStep());
        }
    }

    static String sha256(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            List<Path> all = new ArrayList<>(s.toList());
            all.sort(Comparator.reverseOrder());
            for (Path q : all) Files.delete(q);
        }
    }
}
