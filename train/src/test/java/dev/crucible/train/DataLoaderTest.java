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
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataLoaderTest {
    @TempDir
    Path dir;

    /** Two shards whose token at position i is (shard·1000 + i) mod 60000: windows are recognisable. */
    private ShardSet shards() throws IOException {
        for (int s = 0; s < 2; s++) {
            int n = s == 0 ? 1001 : 517;
            int[] tok = new int[n];
            for (int i = 0; i < n; i++) tok[i] = (s * 1000 + i) % 60000;
            TokenShard.write(dir.resolve("train_" + s + ".bin"), tok, n, 60000);
        }
        return ShardSet.open(dir, "train_*.bin");
    }

    @Test
    void everyWindowOncePerEpochWithShiftedTargets() throws IOException {
        try (ShardSet set = shards()) {
            int t = 10, b = 3;
            DataLoader dl = new DataLoader(set, b, t, 7, true);
            assertEquals(100 + 51, dl.windows());
            int[] in = new int[b * t], tg = new int[b * t];
            Set<Integer> starts = new HashSet<>();
            int rows = 0;
            while (rows + b <= dl.windows()) {
                dl.next(in, tg);
                for (int r = 0; r < b; r++) {
                    for (int i = 0; i < t; i++) {
                        assertEquals(in[r * t + i] + 1, tg[r * t + i], "target is the next token");
                        if (i > 0) assertEquals(in[r * t + i - 1] + 1, in[r * t + i], "window is contiguous");
                    }
                    assertTrue(starts.add(in[r * t]), "window starting at " + in[r * t] + " seen twice in one epoch");
                }
                rows += b;
            }
            assertEquals(0, dl.epoch());
        }
    }

    @Test
    void orderIsAFunctionOfSeedAndCanBeResumed() throws IOException {
        try (ShardSet set = shards()) {
            DataLoader a = new DataLoader(set, 4, 10, 1, true), b = new DataLoader(set, 4, 10, 1, true);
            int[] x = new int[40], y = new int[40], x2 = new int[40], y2 = new int[40];
            for (int i = 0; i < 60; i++) a.next(x, y); // crosses an epoch boundary
            b.seek(a.epoch(), a.position());
            a.next(x, y);
            b.next(x2, y2);
            assertArrayEquals(x, x2);
            assertArrayEquals(y, y2);
        }
    }

    @Test
    void tooLittleDataIsAClearError() throws IOException {
        TokenShard.write(dir.resolve("small.bin"), new int[] {1, 2, 3}, 3, 10);
        try (ShardSet set = ShardSet.open(dir, "small.bin")) {
            String msg = assertThrows(IllegalArgumentException.class, () -> new DataLoader(set, 1, 8, 0, true)).getMessage();
            assertTrue(msg.contains("not one window of seq_len + 1 = 9 tokens"), msg);
        }
    }
}
