package dev.crucible.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.crucible.model.Safetensors;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel training under a real mpirun (Open MPI or MPICH on the PATH, 2 processes on
 * loopback): 2 ranks compute what 1 process computes with the same global batch (to float rounding:
 * the all-reduce adds the ranks' gradients where one process accumulates its micro-batches in
 * place), a killed rank takes the job down without a hang, the run resumed on 2 ranks ends bit-identical
 * to the uninterrupted 2-rank run, and a failure on the ranks ends the job through MPI_Abort with the
 * reason. Skipped, with the reason printed, where mpirun is absent, unless CRUCIBLE_REQUIRE_MPI is set
 * (.ci/run sets it after installing Open MPI). Where MPICH is installed beside it (mpirun.mpich), its
 * 2-rank run is also checked against Open MPI's, bit for bit (the other ABI of the binding).
 */
class MpiTrainTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    /** An mpirun and whether it is Open MPI's (else MPICH's Hydra): their options differ. */
    private record Launcher(String path, boolean openMpi) {
        static Launcher find(String name) throws Exception {
            String path = onPath(name);
            if (path == null) return null;
            Process p = new ProcessBuilder(path, "--version").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(30, TimeUnit.SECONDS);
            return new Launcher(path, v.contains("Open MPI"));
        }
    }

    private static Launcher mpirun;

    static final String CONFIG = """
            model: {style: llama, vocab_size: 256, context_length: 32, n_layer: 2, n_head: 4, n_kv_head: 2, d_model: 48, dropout: 0.1}
            data: {train: train.bin, val: val.bin}
            training: {seq_len: 32, micro_batch: 4, batch_tokens: 256, steps: %d, seed: 11, threads: 1, dropout_from_step: 2}
            optimizer: {lr: 3.0e-3}
            schedule: {kind: cosine, warmup_steps: 3}
            eval: {every: 8, batches: 2}
            checkpoint: {every: 8}
            log: {every: 1}
            out: %s
            """;

    @BeforeAll
    static void setUp() throws Exception {
        mpirun = Launcher.find("mpirun");
        if (mpirun == null) {
            if (System.getenv("CRUCIBLE_REQUIRE_MPI") != null) throw new AssertionError("CRUCIBLE_REQUIRE_MPI is set but mpirun is not on the PATH");
            System.out.println("MpiTrainTest skipped: no mpirun on the PATH (Debian/Ubuntu: apt-get install openmpi-bin)");
            Assumptions.abort("no mpirun on the PATH");
        }
        CommandsTest.byteShards(dir, "replicas %d sum their gradients. ", 40_000);
        // the uninterrupted 2-rank run both tests compare with
        Ran two = mpirun(mpirun, 2, "train", "--config", config("two", 48).toString());
        assertEquals(0, two.code(), two.out());
    }

    @Test
    void twoRanksComputeWhatOneProcessComputesWithTheSameGlobalBatch() throws Exception {
        CommandsTest.Result one = CommandsTest.run("train", "--config", config("one", 48).toString());
        assertEquals(0, one.code(), one.err());
        List<JsonNode> a = metrics("one"), b = metrics("two");
        assertEquals(a.size(), b.size(), "rank 0 alone writes metrics: as many rows as the single process");
        for (int i = 0; i < a.size(); i++) {
            for (String k : List.of("step", "tokens", "train_loss", "val_loss", "lr", "grad_norm")) {
                JsonNode x = a.get(i).get(k), y = b.get(i).get(k);
                assertEquals(x == null, y == null, "row " + i + " " + k);
                if (x != null) assertEquals(x.asDouble(), y.asDouble(), 2e-5 * Math.max(1, Math.abs(x.asDouble())), "row " + i + " " + k);
            }
        }
        // the weights: equal to float rounding after 48 steps (the summation order of the gradient is all that differs)
        double worst = 0;
        try (Safetensors.Reader w1 = Safetensors.open(last("one").resolve("model.safetensors"));
             Safetensors.Reader w2 = Safetensors.open(last("two").resolve("model.safetensors"))) {
            assertEquals(w1.entries().keySet(), w2.entries().keySet());
            for (String k : w1.entries().keySet()) {
                float[] x = w1.floats(k), y = w2.floats(k);
                for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
            }
        }
        assertTrue(worst < 1e-5, "largest weight difference between 1 process and 2 ranks: " + worst);
        // and the data order: both stand at the same place in the stream
        assertEquals(JSON.readTree(last("one").resolve("trainer_state.json").toFile()).get("data"),
                JSON.readTree(last("two").resolve("trainer_state.json").toFile()).get("data"));
    }

    @Test
    void aKilledRankTakesTheJobDownAndTheRunResumedOnTwoRanksEndsBitIdentical() throws Exception {
        Path cfg = config("killed", 48), log = dir.resolve("killed.log");
        Process p = start(mpirun, 2, log, "train", "--config", cfg.toString());
        List<ProcessHandle> ranks = new ArrayList<>();
        // once the trainer renames the step-8 checkpoint into place, SIGKILL to the rank that does not write
        Path cks = Files.createDirectories(dir.resolve("killed/checkpoints")), step8 = cks.resolve("step-0000008");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try (java.nio.file.WatchService watch = cks.getFileSystem().newWatchService()) {
            cks.register(watch, java.nio.file.StandardWatchEventKinds.ENTRY_CREATE);
            while (!Files.isDirectory(step8)) {
                if (!p.isAlive() || System.nanoTime() > deadline) throw new AssertionError("never saw the step-8 checkpoint:\n" + Files.readString(log));
                java.nio.file.WatchKey key = watch.poll(1, TimeUnit.SECONDS); // woken by the rename; the timeout only re-checks the job
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
        }
        p.descendants().filter(h -> h.info().command().orElse("").endsWith("java")).forEach(ranks::add);
        ProcessHandle rank1 = rank(p, 1).orElse(null);
        if (rank1 == null) throw new AssertionError("no rank-1 process under mpirun:\n" + Files.readString(log));
        rank1.destroyForcibly();
        boolean ended = p.waitFor(120, TimeUnit.SECONDS);
        String out = Files.readString(log);
        if (!ended) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        assertTrue(ended, "the job did not end after a rank died:\n" + out);
        assertNotEquals(0, p.exitValue(), out);
        assertFalse(Files.exists(dir.resolve("killed/checkpoints/step-0000048")), "the kill came after the run had finished:\n" + out);
        assertEquals(2, ranks.size(), "two ranks under mpirun");
        for (ProcessHandle h : ranks) {
            assertTrue(h.onExit().completeOnTimeout(h, 30, TimeUnit.SECONDS).thenApply(x -> !x.isAlive()).join(), "rank " + h.pid() + " outlived the job");
        }

        Ran resumed = mpirun(mpirun, 2, "train", "--resume", dir.resolve("killed").toString());
        assertEquals(0, resumed.code(), resumed.out());
        assertTrue(resumed.out().contains("resuming at step"), resumed.out());
        for (String f : List.of("model.safetensors", "optimizer.safetensors")) {
            assertArrayEquals(Files.readAllBytes(last("two").resolve(f)), Files.readAllBytes(last("killed").resolve(f)), f);
        }
        assertEquals(withoutTiming(metrics("two")), withoutTiming(metrics("killed")));
    }

    @Test
    void mpichComputesWhatOpenMpiComputes() throws Exception {
        Launcher mpich = Launcher.find("mpirun.mpich");
        if (mpich == null || mpich.openMpi() || !mpirun.openMpi()) {
            System.out.println("MpiTrainTest: the MPICH check skipped (it needs mpirun.mpich beside Open MPI's mpirun; apt-get install mpich)");
            Assumptions.abort("no MPICH beside Open MPI");
        }
        Ran r = mpirun(mpich, 2, "train", "--config", config("mpich", 48).toString());
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("MPICH"), r.out());
        assertArrayEquals(Files.readAllBytes(last("two").resolve("model.safetensors")), Files.readAllBytes(last("mpich").resolve("model.safetensors")));
        assertEquals(withoutTiming(metrics("two")), withoutTiming(metrics("mpich")));
    }

    @Test
    void aFailureOnTheRanksEndsTheJobWithItsReason() throws Exception {
        // 3 micro-batches per step cannot be shared by 2 ranks: every rank refuses, and MPI_Abort ends the job
        Path cfg = config("uneven", 4);
        Files.writeString(cfg, Files.readString(cfg).replace("batch_tokens: 256", "batch_tokens: 384"));
        Ran r = mpirun(mpirun, 2, "train", "--config", cfg.toString());
        assertNotEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("replicas cannot share equally"), r.out());
        assertTrue(r.out().matches("(?s).*crucible \\(rank [01] of 2\\).*"), r.out());
    }

    // ------------------------------------------------------------------------------------------

    private record Ran(int code, String out) {}

    private static Path config(String out, int steps) throws IOException {
        Path f = dir.resolve(out + ".yaml");
        Files.writeString(f, CONFIG.formatted(steps, out));
        return f;
    }

    /** mpirun with its output (both streams) in log, so that a job that hangs is caught by a timeout instead of a blocking read. */
    private static Process start(Launcher launcher, int np, Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(launcher.path()));
        if (launcher.openMpi()) cmd.addAll(List.of("--oversubscribe", "--bind-to", "none", "--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo"));
        cmd.addAll(List.of("-np", Integer.toString(np),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1"); // CI containers run as root
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        return pb.start();
    }

    private static Ran mpirun(Launcher launcher, int np, String... args) throws Exception {
        Path log = Files.createTempFile(dir, "mpirun", ".log");
        Process p = start(launcher, np, log, args);
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("mpirun did not end:\n" + Files.readString(log));
        }
        return new Ran(p.exitValue(), Files.readString(log));
    }

    /** The process of the given rank under mpirun (Open MPI's or MPICH's rank variable in its environment). */
    private static Optional<ProcessHandle> rank(Process mpirun, int rank) {
        return mpirun.descendants().filter(h -> {
            try {
                String env = Files.readString(Path.of("/proc", Long.toString(h.pid()), "environ"), StandardCharsets.ISO_8859_1);
                return env.contains("\0OMPI_COMM_WORLD_RANK=" + rank + "\0") || env.contains("\0PMI_RANK=" + rank + "\0");
            } catch (IOException e) {
                return false;
            }
        }).findFirst();
    }

    private static Path last(String run) throws IOException {
        try (var s = Files.list(dir.resolve(run).resolve("checkpoints"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("step-")).sorted().reduce((x, y) -> y).orElseThrow();
        }
    }

    private static List<JsonNode> metrics(String run) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve(run).resolve("metrics.jsonl"))) rows.add(JSON.readTree(line));
        return rows;
    }

    private static List<JsonNode> withoutTiming(List<JsonNode> rows) {
        return rows.stream().map(r -> (JsonNode) ((ObjectNode) r.deepCopy()).without(List.of("tokens_per_s", "mfu", "elapsed_s"))).toList();
    }

    private static String onPath(String name) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(d, name);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }
}
