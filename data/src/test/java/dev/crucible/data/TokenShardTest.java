package dev.crucible.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenShardTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsNarrowAndWideTokens() throws IOException {
        int[] narrow = {0, 1, 65535, 50256, 7};
        Path a = dir.resolve("a.bin");
        TokenShard.write(a, narrow, narrow.length, 65536);
        assertEquals(1024 + 2 * narrow.length, Files.size(a), "uint16 tokens after a 1024-byte header");
        try (TokenShard s = TokenShard.open(a)) {
            int[] back = new int[narrow.length];
            s.read(0, back, 0, back.length);
            assertTrue(Arrays.equals(narrow, back));
        }
        int[] wide = {0, 65536, 128255, 3};
        Path b = dir.resolve("b.bin");
        TokenShard.write(b, wide, wide.length, 128256);
        try (TokenShard s = TokenShard.open(b)) {
            assertEquals(4, s.size());
            assertEquals(128255, s.get(2));
        }
        ByteBuffer h = ByteBuffer.wrap(Files.readAllBytes(b)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(TokenShard.MAGIC_U32, h.getInt(0));
        assertEquals(TokenShard.VERSION_U32, h.getInt(4));
    }

    @Test
    void headerMatchesLlmC() throws IOException {
        Path a = dir.resolve("a.bin");
        TokenShard.write(a, new int[] {5, 6, 7}, 3, 50257);
        ByteBuffer h = ByteBuffer.wrap(Files.readAllBytes(a)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(20240520, h.getInt(0));
        assertEquals(1, h.getInt(4));
        assertEquals(3, h.getInt(8));
        assertEquals(6, h.getShort(1024 + 2));
    }

    @Test
    void damagedFilesAreRefusedWithTheirName() throws IOException {
        Path good = dir.resolve("good.bin");
        TokenShard.write(good, new int[] {1, 2, 3, 4}, 4, 100);
        byte[] bytes = Files.readAllBytes(good);

        Path truncated = dir.resolve("truncated.bin");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 3));
        String m1 = assertThrows(IOException.class, () -> TokenShard.open(truncated)).getMessage();
        assertTrue(m1.startsWith(truncated.toString()) && m1.contains("declares 4 tokens") && m1.contains("truncated"), m1);

        Path badMagic = dir.resolve("magic.bin");
        byte[] copy = bytes.clone();
        copy[0] ^= 1;
        Files.write(badMagic, copy);
        String m2 = assertThrows(IOException.class, () -> TokenShard.open(badMagic)).getMessage();
        assertTrue(m2.startsWith(badMagic.toString()) && m2.contains("not a token shard"), m2);

        Path tiny = dir.resolve("tiny.bin");
        Files.write(tiny, new byte[10]);
        assertTrue(assertThrows(IOException.class, () -> TokenShard.open(tiny)).getMessage().contains("shorter than the 1024-byte header"));
    }

    @Test
    void shardSetResolvesGlobsAndDirectories() throws IOException {
        for (int i = 0; i < 3; i++) TokenShard.write(dir.resolve("sub/train_" + i + ".bin"), new int[] {i, i}, 2, 10);
        TokenShard.write(dir.resolve("sub/val_0.bin"), new int[] {9}, 1, 10);
        try (ShardSet s = ShardSet.open(dir, "sub/train_*.bin")) {
            assertEquals(3, s.shards().size());
            assertEquals(6, s.totalTokens());
            assertTrue(s.shards().get(0).path().toString().endsWith("train_0.bin"));
        }
        try (ShardSet s = ShardSet.open(dir, "sub")) {
            assertEquals(4, s.shards().size());
            assertThrows(IOException.class, () -> s.requireVocabulary(9));
        }
        String msg = assertThrows(IOException.class, () -> ShardSet.open(dir, "nothing_*.bin")).getMessage();
        assertTrue(msg.contains("no token shards match 'nothing_*.bin'"), msg);
    }
}
