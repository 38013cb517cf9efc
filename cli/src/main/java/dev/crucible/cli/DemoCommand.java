package dev.crucible.cli;

import dev.crucible.data.TokenShard;
import dev.crucible.data.ZipDocuments;
import dev.crucible.train.ConfigLoader;
import dev.crucible.train.RunConfig;
import dev.crucible.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Trains a byte-level model on data every JDK carries, its own Java sources (lib/src.zip), so the
 * trainer can be seen working with no download. Writes the shards, an editable run.yaml, and the run.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Train a small byte-level model on the JDK's own Java sources (built-in data, no download).",
                "Writes <out>/data/{train,val}.bin (llm.c token shards), <out>/run.yaml, and the run in <out>/run."})
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/demo", description = "Output directory (default ${DEFAULT-VALUE}).")
    Path out;
    @Option(names = "--steps", defaultValue = "500", description = "Optimizer steps (default ${DEFAULT-VALUE}; about 3 minutes on 2 cores).")
    int steps;
    @Option(names = "--megabytes", defaultValue = "8", description = "Source text to use, in MB (default ${DEFAULT-VALUE}).")
    int megabytes;
    @Option(names = "--threads", defaultValue = "0", description = "Worker threads (0 = all cores).")
    int threads;

    /** Byte 0 never occurs in Java source, so it separates documents. */
    static final int SEPARATOR = 0;

    @Override
    public Integer call() throws Exception {
        if (steps <= 0) throw new UserError("--steps must be positive");
        Path data = out.resolve("data");
        Path train = data.resolve("train.bin"), val = data.resolve("val.bin");
        if (!Files.exists(train) || !Files.exists(val)) prepare(train, val);
        else System.out.println("data: reusing " + data);
        Path run = out.resolve("run");
        if (Files.exists(run)) throw new UserError(run + " exists from an earlier demo; remove it or pass another --out");
        Path config = out.resolve("run.yaml");
        Files.writeString(config, String.format(Locale.ROOT, """
                # Written by `crucible demo`: a byte-level GPT-2-style model on the JDK's Java sources.
                # Edit and rerun with: ./crucible train --config %s  (change 'out' first)
                out: run
                model: {style: gpt2, vocab_size: 256, context_length: 256, n_layer: 4, n_head: 4, d_model: 192}
                data: {train: data/train.bin, val: data/val.bin}
                training: {seq_len: 256, micro_batch: 8, steps: %d, seed: 1337, threads: %d}
                optimizer: {lr: 3.0e-3, weight_decay: 0.1, grad_clip: 1.0}
                schedule: {kind: cosine, warmup_steps: %d, min_lr_ratio: 0.1}
                eval: {every: 100, batches: 16}
                checkpoint: {every: 100}
                log: {every: 10}
                """, config, steps, threads, Math.min(50, Math.max(1, steps / 10)))); // a short demo still reaches its peak rate and decays
        RunConfig cfg = ConfigLoader.load(config, RunConfig.class);
        Trainer.Summary s = Trainer.start(cfg, out.toAbsolutePath(), System.out);
        System.out.printf(Locale.ROOT, "%nvalidation loss %.3f -> %.3f nats/byte (%.2f -> %.2f bits/byte; uniform guessing is 8)%n",
                s.firstVal(), s.lastVal(), s.firstVal() / Math.log(2), s.lastVal() / Math.log(2));
        System.out.println("open " + s.runDir().resolve("metrics.jsonl") + " for the curve, " + s.runDir().resolve("checkpoints") + " for the weights");
        return 0;
    }

    private void prepare(Path train, Path val) throws IOException {
        Path zip = Path.of(System.getProperty("java.home"), "lib", "src.zip");
        if (!Files.isRegularFile(zip)) {
            throw new UserError(zip + " not found: this JDK ships without its sources (install the full JDK, e.g. a Temurin 25 JDK)");
        }
        System.out.printf(Locale.ROOT, "data: reading %d MB of java.base sources from %s%n", megabytes, zip);
        List<ZipDocuments.Document> docs = ZipDocuments.read(zip, n -> n.startsWith("java.base/") && n.endsWith(".java"),
                (long) megabytes << 20);
        int[] trainTok = new int[megabytes << 21], valTok = new int[megabytes << 20];
        int nt = 0, nv = 0, valDocs = 0;
        for (ZipDocuments.Document d : docs) {
            boolean isVal = Math.floorMod(d.name().hashCode(), 20) == 0; // 5% of files, chosen by name
            int[] dst = isVal ? valTok : trainTok;
            int n = isVal ? nv : nt;
            if (n + d.bytes().length + 1 > dst.length) continue;
            for (byte x : d.bytes()) dst[n++] = x & 0xFF;
            dst[n++] = SEPARATOR;
            if (isVal) {
                nv = n;
                valDocs++;
            } else {
                nt = n;
            }
        }
        TokenShard.write(train, trainTok, nt, 256);
        TokenShard.write(val, valTok, nv, 256);
        System.out.printf(Locale.ROOT, "data: %d files -> %,d training bytes, %,d validation bytes (%d files) in %s%n", docs.size(), nt, nv,
                valDocs, train.getParent());
    }
}
