package dev.crucible.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.crucible.data.Documents;
import dev.crucible.data.TokenShard;
import dev.crucible.io.AtomicWrite;
import dev.crucible.tensor.Cpu;
import dev.crucible.train.ConfigLoader;
import dev.crucible.train.RunConfig;
import dev.crucible.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The laptop speedrun, in the spirit of modded-nanogpt's record: a fixed task (the built-in English
 * text as bytes, a fixed held-out set, a target in bits per byte) and the wall-clock training time a
 * recipe takes to reach it on the machine it runs on. Validation, checkpoint writes and the data's
 * preparation are not counted, as modded-nanogpt does not count its validation; every attempt's
 * config, metrics and result are kept.
 */
@Command(name = "speedrun", mixinStandardHelpOptions = true,
        description = {"The laptop speedrun: train the record recipe on the built-in English text (Europarl's English documents as bytes) until "
                + "the held-out bits per byte reach the target, and report the wall-clock training time, the steps and the tokens it took.",
                "Each attempt is kept in <out>/attempt-<time>/ with its config; every result is appended to <out>/results.jsonl. History of records: "
                        + "docs/speedrun.md."})
public final class SpeedrunCommand implements Callable<Integer> {
    /** The finish line: held-out bits per byte. */
    static final double TARGET_BPB = 2.0;
    /** Held-out windows of SEQ_LEN bytes, the same for every recipe. */
    static final int SEQ_LEN = 256, VAL_WINDOWS = 128;
    static final String RECIPE = "/dev/crucible/cli/speedrun.yaml";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--out", defaultValue = "runs/speedrun", description = "Where the data, the attempts and results.jsonl go (default ${DEFAULT-VALUE}).")
    Path out;
    @Option(names = "--recipe", paramLabel = "RUN.yaml", description = "Another run config to race (its data, out and eval.batches/stop_below are the "
            + "speedrun's; seq_len and vocab_size must be 256). Default: the record recipe (--print-recipe).")
    Path recipe;
    @Option(names = "--target", paramLabel = "BPB", description = "Another finish line in held-out bits per byte (a result that is not comparable "
            + "with the records; default " + TARGET_BPB + ").")
    Double target;
    @Option(names = "--print-recipe", description = "Print the record recipe and exit.")
    boolean printRecipe;

    @Override
    public Integer call() throws Exception {
        if (printRecipe) {
            System.out.print(recipeText());
            return 0;
        }
        if (System.getenv("OMPI_COMM_WORLD_SIZE") != null || System.getenv("PMI_SIZE") != null) {
            throw new UserError("speedrun: run it without mpirun (a record is one machine's time; under mpirun every rank would race on its own)");
        }
        double bpb = target != null ? target : TARGET_BPB;
        if (!(bpb > 0)) throw new UserError("--target: bits per byte must be > 0, got " + bpb);
        Path dir = out.toAbsolutePath().normalize();
        Data data = prepare(dir.resolve("data"), System.out);
        String second = ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")), stamp = second;
        for (int n = 2; Files.exists(dir.resolve("attempt-" + stamp)) || Files.exists(dir.resolve("attempt-" + stamp + ".yaml")); n++) {
            stamp = second + "-" + n; // two attempts in one second: the later gets a suffix, nothing is overwritten
        }
        Path attempt = dir.resolve("attempt-" + stamp);
        Path config = dir.resolve("attempt-" + stamp + ".yaml");
        RunConfig cfg = config(recipe == null ? recipeText() : read(recipe), data, attempt, bpb, config);
        System.out.printf(Locale.ROOT, "speedrun: %s to %.3f held-out bits per byte (validation loss %.4f nats per byte) on %s%n",
                recipe == null ? "the record recipe" : recipe, bpb, bpb * Math.log(2), data.train());
        Trainer.Summary s = Trainer.start(cfg, config.getParent(), System.out);
        boolean reached = s.stopped();
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("date", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        row.put("recipe", recipe == null ? "record" : recipe.toAbsolutePath().normalize().toString());
        row.put("target_bpb", bpb);
        row.put("reached", reached);
        row.put("steps", s.steps());
        row.put("tokens", s.tokens());
        row.put("training_seconds", Math.round(s.trainingSeconds() * 100) / 100.0);
        row.put("final_val_bpb", s.lastVal() == null ? null : s.lastVal() / Math.log(2));
        row.put("cpu", Cpu.describe(cfg.training().threads() > 0 ? cfg.training().threads() : Cpu.cores()));
        row.put("run", attempt.toString());
        Files.writeString(dir.resolve("results.jsonl"), JSON.writeValueAsString(row) + "\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        if (reached) {
            System.out.printf(Locale.ROOT, "speedrun: reached %.3f bits per byte at step %d after %.1f s of training (%,d tokens; validation and checkpoints "
                    + "not counted); recipe %s; %s%n", s.lastVal() / Math.log(2), s.steps(), s.trainingSeconds(), s.tokens(), config, row.get("cpu"));
            return 0;
        }
        System.out.printf(Locale.ROOT, "speedrun: did NOT reach %.3f bits per byte in %d steps (%.3f at the end); raise training.steps or improve the "
                + "recipe%n", bpb, s.steps(), s.lastVal() == null ? Double.NaN : s.lastVal() / Math.log(2));
        return 1;
    }

    /** The speedrun's data: training and held-out bytes, and what identifies them. */
    record Data(Path train, Path val, long trainBytes, String trainSha256, String valSha256) {}

    /**
     * The built-in English text as bytes: the default recipe's cleaned English documents, in order;
     * every tenth (the 1st, 11th, ...) is held out, and the held-out set is the first VAL_WINDOWS ·
     * SEQ_LEN + 1 bytes of those documents joined (VAL_WINDOWS windows of SEQ_LEN, scored all at every
     * validation); the rest, joined, is the training stream. Documents are joined by a blank line.
     */
    static Data prepare(Path dir, PrintStream log) throws IOException {
        Path train = dir.resolve("train.bin"), val = dir.resolve("val.bin"), info = dir.resolve("data.json");
        if (Files.isRegularFile(info) && Files.isRegularFile(train) && Files.isRegularFile(val)) {
            JsonNode n = JSON.readTree(info.toFile());
            log.println("data: reusing " + dir);
            return new Data(train, val, n.get("train_bytes").asLong(), n.get("train_sha256").asText(), n.get("val_sha256").asText());
        }
        Path clean = DefaultCorpus.clean(dir, 100, log);
        Path en = clean.resolve("en");
        if (!Files.isDirectory(en)) throw new IOException(en + ": the default recipe kept no English documents");
        ByteArrayOutputStream trainBytes = new ByteArrayOutputStream(), valBytes = new ByteArrayOutputStream();
        int[] index = {0};
        Documents.read(en, (name, text) -> {
            ByteArrayOutputStream to = index[0]++ % 10 == 0 ? valBytes : trainBytes;
            if (to.size() > 0) to.writeBytes("\n\n".getBytes(StandardCharsets.UTF_8));
            to.writeBytes(text.getBytes(StandardCharsets.UTF_8));
        });
        int valLen = VAL_WINDOWS * SEQ_LEN + 1;
        if (valBytes.size() < valLen) throw new IOException(en + ": the held-out documents hold " + valBytes.size() + " bytes, fewer than " + valLen);
        byte[] t = trainBytes.toByteArray(), v = java.util.Arrays.copyOf(valBytes.toByteArray(), valLen);
        TokenShard.write(train, bytesAsTokens(t), t.length, 256);
        TokenShard.write(val, bytesAsTokens(v), v.length, 256);
        Data d = new Data(train, val, t.length, sha256(t), sha256(v));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("source", "the default recipe's English Europarl documents (" + index[0] + "), every tenth held out");
        m.put("train_bytes", d.trainBytes());
        m.put("val_bytes", v.length);
        m.put("train_sha256", d.trainSha256());
        m.put("val_sha256", d.valSha256());
        AtomicWrite.writeString(info, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n");
        log.printf(Locale.ROOT, "data: %,d English documents: %,d bytes to train on, %,d held out (%d windows of %d) -> %s%n", index[0], t.length, v.length,
                VAL_WINDOWS, SEQ_LEN, dir);
        return d;
    }

    private static int[] bytesAsTokens(byte[] b) {
        int[] t = new int[b.length];
        for (int i = 0; i < b.length; i++) t[i] = b[i] & 0xFF;
        return t;
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String recipeText() throws IOException {
        try (InputStream in = SpeedrunCommand.class.getResourceAsStream(RECIPE)) {
            if (in == null) throw new IOException(RECIPE + " missing from the cli module");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new UserError("--recipe " + file + ": no such file");
        return Files.readString(file);
    }

    /**
     * The recipe with the speedrun's data, out, and held-out scoring (all VAL_WINDOWS windows at every
     * validation, stop_below at the target), written beside the attempt and loaded from there, so that
     * a bad recipe is refused with that file's line and key.
     */
    static RunConfig config(String recipeText, Data data, Path attempt, double bpb, Path file) throws IOException {
        JsonNode root = ConfigLoader.YAML.readTree(recipeText);
        if (!(root instanceof ObjectNode o)) throw new UserError("the recipe is not a YAML mapping of run-config sections");
        ObjectNode training = o.with("training"), model = o.with("model"), eval = o.with("eval");
        int seq = training.path("seq_len").asInt(SEQ_LEN), micro = training.path("micro_batch").asInt(8);
        if (seq != SEQ_LEN) throw new UserError("the recipe's training.seq_len is " + seq + "; the speedrun scores windows of " + SEQ_LEN + " bytes (keep it)");
        if (model.has("vocab_size") && model.get("vocab_size").asInt() != 256) throw new UserError("the recipe's model.vocab_size must be 256 (bytes)");
        if (micro < 1 || VAL_WINDOWS % micro != 0) throw new UserError("the recipe's training.micro_batch must divide " + VAL_WINDOWS + " (the held-out windows)");
        model.put("vocab_size", 256);
        training.put("seq_len", SEQ_LEN);
        ObjectNode d = o.putObject("data");
        d.put("train", data.train().toString());
        d.put("val", data.val().toString());
        o.put("out", attempt.toString());
        eval.put("batches", VAL_WINDOWS / micro);
        eval.put("stop_below", Math.floor(bpb * Math.log(2) * 1e5) / 1e5); // rounded down: never more lenient than the target
        if (!eval.has("every")) eval.put("every", 10);
        Files.createDirectories(file.getParent());
        AtomicWrite.writeString(file, "# crucible speedrun: the recipe as raced, with the speedrun's data, out and finish line\n"
                + ConfigLoader.YAML.writeValueAsString(o));
        return ConfigLoader.load(file, RunConfig.class);
    }
}
