package dev.crucible.train;

import dev.crucible.data.tokenizer.BpeTokenizer;
import dev.crucible.data.tokenizer.TokenizerJson;
import dev.crucible.model.Growth;
import dev.crucible.model.HfCheckpoint;
import dev.crucible.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What happens to a {@link RunConfig} before a run uses it: resolution against files, and the differences between two. */
public final class RunConfigs {
    private RunConfigs() {}

    /**
     * The config with the model spelled out and every path absolute (out, data, init_from, grow_from), as stored
     * in the run directory. With init_from, the model is that directory's, and a model section, if
     * given, must agree with it.
     */
    public static RunConfig resolve(RunConfig cfg, Path base) throws IOException {
        RunConfig.Training tr = cfg.training();
        ModelConfig mc;
        String preset = cfg.model() == null ? null : cfg.model().preset();
        if (tr.startsFrom() != null) {
            Path init = base.resolve(tr.startsFrom()).toAbsolutePath().normalize();
            String key = tr.initFrom() != null ? "training.init_from" : "training.grow_from.checkpoint";
            mc = configOf(init, key);
            if (tr.growFrom() != null) mc = Growth.config(mc, tr.growFrom().factor());
            if (cfg.model() != null && !cfg.model().resolve().equals(mc)) {
                throw new IllegalArgumentException("model: differs from the model in " + key + " (" + init + "/config.json"
                        + (tr.growFrom() != null ? ", grown x" + tr.growFrom().factor() : "") + "): " + cfg.model().resolve() + " vs " + mc
                        + "; omit the model section to use it");
            }
            if (tr.seqLen() > mc.contextLength()) {
                throw new IllegalArgumentException("training.seq_len: " + tr.seqLen() + " exceeds the context length " + mc.contextLength() + " of " + init);
            }
            tr = tr.withStartsFrom(init.toString());
        } else {
            mc = cfg.model().resolve();
        }
        String tok = null;
        if (cfg.data().tokenizer() != null) {
            Path tp = base.resolve(cfg.data().tokenizer()).toAbsolutePath().normalize();
            BpeTokenizer t = TokenizerJson.read(tp);
            if (t.vocabSize() > mc.vocabSize()) {
                throw new IllegalArgumentException("data.tokenizer: " + tp + " has " + t.vocabSize() + " tokens, more than the model's vocab_size " + mc.vocabSize());
            }
            tok = tp.toString();
        }
        if (tr.distill() != null) tr = tr.withDistill(checkTeacher(tr.distill().withTeacher(base.resolve(tr.distill().teacher()).toAbsolutePath()
                .normalize().toString()), mc, tr.seqLen(), tok));
        return cfg.withOut(base.resolve(cfg.out()).toAbsolutePath().normalize().toString()).withModel(RunConfig.ModelSpec.of(mc, preset))
                .withData(cfg.data().withPaths(p -> base.resolve(p).normalize().toString()).withTokenizer(tok)).withTraining(tr);
    }

    /** The model of a directory a config key names, its errors prefixed with the key. */
    private static ModelConfig configOf(Path dir, String key) throws IOException {
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            return ck.config();
        } catch (IOException e) {
            throw new IOException(key + ": " + e.getMessage(), e);
        }
    }

    /**
     * The teacher must score the run's tokens: the same vocabulary size (its logits are compared
     * position by position), the same tokenizer where both have one, a context of at least seq_len.
     * Refused before training, naming both files.
     */
    private static RunConfig.Distill checkTeacher(RunConfig.Distill d, ModelConfig student, int seqLen, String runTokenizer) throws IOException {
        Path dir = Path.of(d.teacher());
        ModelConfig teacher = configOf(dir, "training.distill.teacher");
        Path teacherTok = dir.resolve("tokenizer.json");
        if (teacher.vocabSize() != student.vocabSize()) {
            throw new IllegalArgumentException("training.distill.teacher: " + dir.resolve("config.json") + " has a vocabulary of " + teacher.vocabSize()
                    + " tokens, the run's model " + student.vocabSize() + (runTokenizer != null ? " (its tokenizer: " + runTokenizer + ")" : "")
                    + "; a teacher must share the student's tokenizer");
        }
        if (runTokenizer != null && Files.isRegularFile(teacherTok)) {
            String diff = TokenizerJson.read(teacherTok).differenceFrom(TokenizerJson.read(Path.of(runTokenizer)));
            if (diff != null) {
                throw new IllegalArgumentException("training.distill.teacher: " + teacherTok + " is not the run's tokenizer " + runTokenizer + " (" + diff
                        + "); a teacher must share the student's tokenizer");
            }
        }
        if (teacher.contextLength() < seqLen) {
            throw new IllegalArgumentException("training.distill.teacher: " + dir.resolve("config.json") + " has a context of " + teacher.contextLength()
                    + ", shorter than training.seq_len " + seqLen);
        }
        return d;
    }

    /**
     * A run directory's own config.yaml, as any version of Crucible wrote it. Keys since renamed are
     * read under their new names (model.hidden_size is intermediate_size; optimizer.decay_embeddings
     * is a weight decay for the embedding group), so every run resumes and reports; the file itself is
     * left as it is (its SHA-256 is what checkpoints record).
     */
    public static RunConfig readSaved(Path configYaml) {
        return ConfigLoader.load(configYaml, RunConfig.class, RunConfigs::migrate);
    }

    static void migrate(com.fasterxml.jackson.databind.node.ObjectNode root) {
        if (root.get("model") instanceof com.fasterxml.jackson.databind.node.ObjectNode m && m.has("hidden_size")) {
            com.fasterxml.jackson.databind.JsonNode v = m.remove("hidden_size");
            if (!m.has("intermediate_size")) m.set("intermediate_size", v);
        }
        if (root.get("optimizer") instanceof com.fasterxml.jackson.databind.node.ObjectNode o && o.has("decay_embeddings")) {
            boolean decay = o.remove("decay_embeddings").asBoolean(false);
            if (decay) {
                // the weight decay the embeddings had: the optimizer's own (0.1 when not written)
                com.fasterxml.jackson.databind.JsonNode wd = o.has("weight_decay") ? o.get("weight_decay")
                        : com.fasterxml.jackson.databind.node.DoubleNode.valueOf(ConfigLoader.defaults(RunConfig.Optimizer.class).weightDecay());
                o.withObjectProperty("groups").withObjectProperty("embedding").set("weight_decay", wd);
            }
        }
    }

    /**
     * "key: old -> new" for every dotted key whose value differs, the models compared as resolved (so
     * a key a config written by an earlier version lacks counts as its default, not as a change).
     */
    public static List<String> differences(RunConfig a, RunConfig b) {
        Map<String, Object> fa = flatten(ConfigLoader.YAML.convertValue(spelledOut(a), Map.class));
        Map<String, Object> fb = flatten(ConfigLoader.YAML.convertValue(spelledOut(b), Map.class));
        List<String> out = new ArrayList<>();
        TreeMap<String, Object> keys = new TreeMap<>(fa);
        keys.putAll(fb);
        for (String k : keys.keySet()) {
            Object x = fa.get(k), y = fb.get(k);
            if (x == null ? y != null : !x.equals(y)) out.add(k + ": " + x + " -> " + y);
        }
        return out;
    }

    private static RunConfig spelledOut(RunConfig c) {
        return c.model() == null ? c : c.withModel(RunConfig.ModelSpec.of(c.model().resolve(), c.model().preset()));
    }

    private static Map<String, Object> flatten(Map<?, ?> m) {
        Map<String, Object> out = new TreeMap<>();
        m.forEach((k, v) -> {
            if (v instanceof Map<?, ?> sub) flatten(sub).forEach((k2, v2) -> out.put(k + "." + k2, v2));
            else if (v != null) out.put(k.toString(), v);
        });
        return out;
    }
}
