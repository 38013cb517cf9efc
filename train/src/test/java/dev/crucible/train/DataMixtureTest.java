package dev.crucible.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.data.ShardSet;
import dev.crucible.data.TokenShard;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mixtures of sources (continual pre-training's replay) and the unique-token limit (repeated data). */
class DataMixtureTest {
    @TempDir
    Path dir;

    /** A shard whose tokens are base + position: every window names its source and place. */
    private ShardSet shard(String name, int base, int n) throws IOException {
        int[] tok = new int[n];
        for (int i = 0; i < n; i++) tok[i] = base + i;
        TokenShard.write(dir.resolve(name + ".bin"), tok, n, 65535);
        return ShardSet.open(dir, name + ".bin");
    }

    private static int sourceOf(int token) {
        return token >= 30000 ? 1 : 0;
    }

    /**
     * Data parallelism: each replica's share of every step, read in rank order, is the single process's
     * step row for row, and after the step every replica's stream stands where the single one does
     * (over epoch boundaries: the subset of 40 windows is passed about 4 times).
     */
    @Test
    void theReplicasSharesOfAStepAreTheSingleProcessesStep() throws IOException {
        try (ShardSet news = shard("new", 0, 20001); ShardSet old = shard("old", 30000, 5001)) {
            int b = 2, t = 16, accumulation = 6, steps = 30;
            java.util.function.Supplier<DataMixture> mixture = () -> new DataMixture(List.of(
                    new DataMixture.Source("new", 0.7, new DataLoader(news, b, t, 5, 5, true, 40 * t)),
                    new DataMixture.Source("old", 0.3, new DataLoader(old, b, t, 5, true))), b, 5);
            DataMixture single = mixture.get();
            for (int replicas : new int[] {2, 3}) {
                DataMixture[] ranks = new DataMixture[replicas];
                ReplicaShare[] shares = new ReplicaShare[replicas];
                for (int r = 0; r < replicas; r++) {
                    ranks[r] = mixture.get();
                    shares[r] = new ReplicaShare(ranks[r], r, replicas, accumulation / replicas, b);
                }
                DataMixture reference = mixture.get();
                dev.crucible.model.Batch one = new dev.crucible.model.Batch(new int[b * t], new int[b * t], b, t);
                dev.crucible.model.Batch mine = new dev.crucible.model.Batch(new int[b * t], new int[b * t], b, t);
                for (int step = 0; step < steps; step++) {
                    for (int r = 0; r < replicas; r++) {
                        for (int micro = 0; micro < accumulation / replicas; micro++) {
                            reference.next(one.inputs(), one.targets());
                            shares[r].next(mine);
                            assertArrayEquals(one.inputs(), mine.inputs(), replicas + " replicas, step " + step + ", rank " + r + ", micro-batch " + micro);
                            assertArrayEquals(one.targets(), mine.targets());
                        }
                    }
                    for (DataMixture m : ranks) assertEquals(reference.state(), m.state(), "after step " + step);
                }
            }
            // skipping rows moves the stream as reading them does
            DataMixture skipped = mixture.get();
            int[] in = new int[b * t], tg = new int[b * t];
            for (int i = 0; i < 37; i++) single.next(in, tg);
            skipped.skip(37L * b);
            assertEquals(single.state(), skipped.state());
        }
    }

    /** The spec's test (seed-techniques.md section 8): over 10,000 seeded batches the replay share is 5% ± 0.5%, the same on every run. */
    @Test
    void eachSourcesShareIsItsWeightAndTheSameOnEveryRun() throws IOException {
        try (ShardSet news = shard("new", 0, 20001); ShardSet old = shard("old", 30000, 5001)) {
            int b = 8, t = 16, batches = 10_000;
            long[] counts = new long[2];
            int[][] firstRows = new int[2][];
            for (int run = 0; run < 2; run++) {
                DataMixture m = new DataMixture(List.of(new DataMixture.Source("new", 0.95, new DataLoader(news, b, t, 11, true)),
                        new DataMixture.Source("old", 0.05, new DataLoader(old, b, t, 11, true))), b, 11);
                int[] in = new int[b * t], tg = new int[b * t];
                int[] rows = new int[b * 50];
                for (int k = 0; k < batches; k++) {
                    m.next(in, tg);
                    for (int r = 0; r < b; r++) {
                        int s = sourceOf(in[r * t]);
                        if (run == 0) counts[s]++;
                        if (k < 50) rows[k * b + r] = in[r * t];
                        assertEquals(in[r * t] + 1, tg[r * t], "targets are the next tokens");
                    }
                }
                firstRows[run] = rows;
                assertEquals((long) batches * b, m.rows());
            }
            double share = (double) counts[1] / (counts[0] + counts[1]);
            assertEquals(0.05, share, 0.005, "replay share over 10,000 batches");
            assertArrayEquals(firstRows[0], firstRows[1], "the same rows on every run with the seed");
        }
    }

    /** A resumed mixture continues exactly: rows drawn and each source's cursor are all it needs. */
    @Test
    void aSavedStateResumesTheStreamExactly() throws IOException {
        try (ShardSet news = shard("new", 0, 3001); ShardSet old = shard("old", 30000, 801)) {
            int b = 4, t = 10;
            DataMixture a = mixture(news, old, b, t, 0), c = mixture(news, old, b, t, 0);
            int[] x = new int[b * t], y = new int[b * t], x2 = new int[b * t], y2 = new int[b * t];
            for (int i = 0; i < 120; i++) a.next(x, y); // the small source wraps around
            c.seek(a.state());
            for (int i = 0; i < 50; i++) {
                a.next(x, y);
                c.next(x2, y2);
                assertArrayEquals(x, x2);
                assertArrayEquals(y, y2);
            }
            assertTrue(a.state().sources().get("old").epoch() >= 1, "the replay source wrapped around: " + a.state());
        }
    }

    /** A source of weight 0 is there for its validation only: never drawn, wherever it stands in the list. */
    @Test
    void aSourceOfWeightZeroIsNeverDrawn() throws IOException {
        try (ShardSet news = shard("new", 0, 3001); ShardSet old = shard("old", 30000, 801)) {
            int b = 4, t = 10;
            for (double[] w : new double[][] {{1, 0}, {0, 1}}) {
                DataMixture m = new DataMixture(List.of(new DataMixture.Source("new", w[0], new DataLoader(news, b, t, 2, true)),
                        new DataMixture.Source("old", w[1], new DataLoader(old, b, t, 2, true))), b, 2);
                int[] x = new int[b * t], y = new int[b * t];
                for (int i = 0; i < 2000; i++) {
                    m.next(x, y);
                    for (int r = 0; r < b; r++) assertEquals(w[0] > 0 ? 0 : 1, sourceOf(x[r * t]));
                }
            }
        }
    }

    /** The draw of each row is pinned: a change to the mixture's sampling (which would change every run's data) fails here. */
    @Test
    void theDrawOfEachRowIsPinned() throws IOException {
        try (ShardSet news = shard("new", 0, 3001); ShardSet old = shard("old", 30000, 801)) {
            DataMixture m = mixture(news, old, 4, 10, 1337);
            StringBuilder draws = new StringBuilder();
            for (int k = 0; k < 48; k++) draws.append(m.sourceOf(k));
            assertEquals("000000000110000000011010000000011010000000000100", draws.toString()); // weights 0.75 / 0.25, seed 1337
        }
    }

    /** Bits per byte count the text a token stands for: a special token (the document separator) has none. */
    @Test
    void bitsPerByteCountTheTextOfTokensNotSpecials() throws IOException {
        StringBuilder ranks = new StringBuilder();
        for (int b = 0; b < 256; b++) ranks.append(java.util.Base64.getEncoder().encodeToString(new byte[] {(byte) b})).append(' ').append(b).append('\n');
        dev.crucible.data.tokenizer.BpeTokenizer bytes = dev.crucible.data.tokenizer.BpeTokenizer.fromTiktoken(
                new java.io.ByteArrayInputStream(ranks.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII)),
                dev.crucible.data.tokenizer.BpeTokenizer.GPT2_PATTERN, java.util.Map.of("<|endoftext|>", 256));
        int[] tok = new int[41];
        for (int i = 0; i < tok.length; i++) tok[i] = i % 10 == 0 ? 256 : 'a' + i % 26; // a separator every 10 tokens
        TokenShard.write(dir.resolve("val.bin"), tok, tok.length, 257);
        try (ShardSet val = ShardSet.open(dir, "val.bin")) {
            Validation v = new Validation(val, 1, 10, 4, bytes); // 4 windows of 10 targets: tokens 1-40, 4 of them separators
            assertEquals(40.0 / 36 / Math.log(2), v.bitsPerByte(1.0), 1e-12);
            assertTrue(Double.isNaN(new Validation(val, 1, 10, 4, null).bitsPerByte(1.0)), "no tokenizer, no bytes");
        }
    }

    /** One source draws no random numbers: the stream is the loader's own, row for row (runs from before mixtures compute what they did). */
    @Test
    void aSingleSourceIsTheLoaderItself() throws IOException {
        try (ShardSet news = shard("new", 0, 3001)) {
            int b = 4, t = 10;
            DataMixture m = new DataMixture(List.of(new DataMixture.Source("train", 1, new DataLoader(news, b, t, 5, true))), b, 5);
            DataLoader plain = new DataLoader(news, b, t, 5, true);
            int[] x = new int[b * t], y = new int[b * t], x2 = new int[b * t], y2 = new int[b * t];
            for (int i = 0; i < 200; i++) {
                m.next(x, y);
                plain.next(x2, y2);
                assertArrayEquals(x2, x);
            }
        }
    }

    /** max_unique_tokens: a seeded subset of floor(N / T) windows, each visited once per epoch, and nothing else. */
    @Test
    void aUniqueTokenLimitRepeatsASubset() throws IOException {
        try (ShardSet news = shard("new", 0, 5001)) {
            int b = 5, t = 10;
            DataLoader dl = new DataLoader(news, b, t, 3, true, 205);
            assertEquals(20, dl.windows());
            int[] x = new int[b * t], y = new int[b * t];
            Set<Integer> seen = new HashSet<>();
            for (int epoch = 0; epoch < 3; epoch++) {
                Set<Integer> thisEpoch = new HashSet<>();
                for (int i = 0; i < 4; i++) {
                    dl.next(x, y);
                    for (int r = 0; r < b; r++) thisEpoch.add(x[r * t]);
                }
                assertEquals(20, thisEpoch.size(), "each window of the subset once per epoch");
                seen.addAll(thisEpoch);
            }
            assertEquals(20, seen.size(), "no window outside the subset");
            assertEquals(3.0, dl.epochs(), 1e-12);
            assertTrue(seen.stream().anyMatch(s -> s > 2500), "a random subset, not the first windows: " + seen);
            String msg = assertThrows(IllegalArgumentException.class, () -> new DataLoader(news, b, t, 3, true, 9)).getMessage();
            assertTrue(msg.contains("less than one window"), msg);
        }
    }

    /** A source whose shards are missing or empty is refused before training, by its name. */
    @Test
    void aMissingOrEmptySourceIsRefusedByName() throws IOException {
        shard("new", 0, 3001).close();
        TokenShard.write(dir.resolve("empty.bin"), new int[0], 0, 65535);
        List<RunConfig.Source> missing = List.of(new RunConfig.Source("new", "new.bin", null, 0.75, null),
                new RunConfig.Source("old", "nowhere/*.bin", null, 0.25, null));
        String msg = assertThrows(IOException.class, () -> new RunData(dir, new RunConfig.Data(null, null, null, null, missing), 65535, 2, 10, 1, 2, null))
                .getMessage();
        assertTrue(msg.startsWith("data.sources 'old': no token shards match 'nowhere/*.bin'"), msg);
        List<RunConfig.Source> empty = List.of(new RunConfig.Source("new", "new.bin", null, 0.75, null), new RunConfig.Source("old", "empty.bin", null, 0.25, null));
        msg = assertThrows(IOException.class, () -> new RunData(dir, new RunConfig.Data(null, null, null, null, empty), 65535, 2, 10, 1, 2, null)).getMessage();
        assertTrue(msg.startsWith("data.sources 'old': the shards 'empty.bin' hold no tokens"), msg);
    }

    private static DataMixture mixture(ShardSet news, ShardSet old, int b, int t, long seed) {
        return new DataMixture(List.of(new DataMixture.Source("new", 0.75, new DataLoader(news, b, t, seed, true)),
                new DataMixture.Source("old", 0.25, new DataLoader(old, b, t, seed, true))), b, seed);
    }
}
