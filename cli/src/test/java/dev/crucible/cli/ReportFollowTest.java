package dev.crucible.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.train.ConfigLoader;
import dev.crucible.train.RunConfig;
import dev.crucible.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** report --follow against a run in progress: a live page (rendered in headless Chromium) that becomes the finished report when the run ends. */
class ReportFollowTest {
    @TempDir
    Path dir;

    static final String CONFIG = """
            model: {style: gpt2, vocab_size: 256, context_length: 32, n_layer: 1, n_head: 2, d_model: 32}
            data: {train: train.bin, val: val.bin}
            training: {seq_len: 32, micro_batch: 2, steps: %d, seed: 3, threads: 2}
            optimizer: {lr: 3.0e-3}
            eval: {every: 10, batches: 1}
            checkpoint: {every: 10}
            log: {every: 1}
            out: run
            """;

    @Test
    void followsARunInProgressUntilItEnds() throws Exception {
        CommandsTest.byteShards(dir, "follow %d the run while it trains. ", 20_000);
        Path yaml = dir.resolve("run.yaml");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        // a run that stopped at step 20 of 40: trained to 20, then its saved config says 40, as a run in progress does
        Files.writeString(yaml, CONFIG.formatted(20));
        Trainer.start(ConfigLoader.load(yaml, RunConfig.class), dir, quiet);
        Path run = dir.resolve("run");
        String saved = Files.readString(run.resolve("config.yaml"));
        assertTrue(saved.contains("\n  steps: 20\n"), saved);
        Files.writeString(run.resolve("config.yaml"), saved.replace("\n  steps: 20\n", "\n  steps: 40\n"));

        Path html = run.resolve("report/report.html");
        Files.createDirectories(html.getParent());
        CompletableFuture<CommandsTest.Result> follower;
        try (java.nio.file.WatchService watch = html.getFileSystem().newWatchService()) {
            html.getParent().register(watch, java.nio.file.StandardWatchEventKinds.ENTRY_CREATE); // the report is renamed into place
            follower = CompletableFuture.supplyAsync(() ->
                    CommandsTest.run("report", run.toString(), "--follow", "--refresh-seconds", "1", "--samples-tokens", "4", "--prompt", "f"));
            while (!Files.exists(html) && !follower.isDone()) {
                java.nio.file.WatchKey key = watch.poll(1, TimeUnit.SECONDS); // the follower ending without a report ends the wait too
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
        }
        assertTrue(Files.exists(html), "the live report is written: " + (follower.isDone() ? follower.get() : ""));
        String live = Files.readString(html);
        assertTrue(live.contains("<meta http-equiv=\"refresh\" content=\"1\">"), "the page reloads itself");
        assertTrue(live.contains("<b>Live:</b> step 20 of 40 (50%), ETA ") && live.contains("latest checkpoint: step 20; health: "), live);
        String dom = dom(live);
        if (dom != null) assertTrue(dom.contains("Live:") && dom.contains("step 20 of 40") && dom.contains("This page reloads itself every 1 s"), dom);

        // the run goes on to its end; the follower writes the finished report and stops
        Files.writeString(yaml, CONFIG.formatted(40));
        Trainer.resume(run, ConfigLoader.load(yaml, RunConfig.class), dir, true, quiet);
        CommandsTest.Result r = follower.get(120, TimeUnit.SECONDS);
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("live: step 20 of 40") && r.out().contains("finished: step 40 of 40"), r.out());
        String done = Files.readString(html);
        assertFalse(done.contains("http-equiv=\"refresh\""), "a finished run's page stays put");
        assertTrue(done.contains("<b>Finished:</b> step 40 of 40 (100%)") && done.contains("latest checkpoint: step 40"), done);
        assertTrue(done.contains("<h3>Samples</h3>"), "the samples come with the finished report");
        // and go to TensorBoard's text tab (the event format is read back in the train module's EventFileTest)
        try (java.util.stream.Stream<Path> files = Files.list(run.resolve("report"))) {
            Path events = files.filter(f -> f.getFileName().toString().matches("events\\.out\\.tfevents\\..*\\.report")).findFirst().orElseThrow();
            assertTrue(new String(Files.readAllBytes(events), StandardCharsets.ISO_8859_1).contains("samples/f"), "a text summary per prompt");
        }
    }

    /** The page's DOM as headless Chromium builds it, when Chromium is installed (.ci/run installs it); null otherwise. */
    private String dom(String page) throws Exception {
        String chromium = null;
        for (String c : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) if (Files.isExecutable(Path.of(c))) chromium = c;
        if (chromium == null) return null;
        Path copy = dir.resolve("live.html"); // a copy: the follower may rewrite the original while Chromium reads it
        Files.writeString(copy, page);
        Process p = new ProcessBuilder(chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--user-data-dir=" + dir.resolve("profile"), "--dump-dom", copy.toUri().toString()).redirectError(dir.resolve("chromium.err").toFile()).start();
        String dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, Files.readString(dir.resolve("chromium.err")));
        return dom;
    }
}
