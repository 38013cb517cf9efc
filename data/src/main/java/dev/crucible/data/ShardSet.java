package dev.crucible.data;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** An ordered list of shards named by a file, a directory (all *.bin in it) or a glob such as data/train_*.bin. */
public final class ShardSet implements AutoCloseable {
    private final String spec;
    private final List<TokenShard> shards;
    private final long[] starts; // cumulative token offsets
    private final long total;

    private ShardSet(String spec, List<TokenShard> shards) {
        this.spec = spec;
        this.shards = shards;
        this.starts = new long[shards.size() + 1];
        for (int i = 0; i < shards.size(); i++) starts[i + 1] = starts[i] + shards.get(i).size();
        this.total = starts[shards.size()];
    }

    /** Resolves spec relative to base (the config file's directory) and opens every shard, sorted by name. */
    public static ShardSet open(Path base, String spec) throws IOException {
        List<Path> paths = resolve(base, spec);
        if (paths.isEmpty()) throw new IOException("no token shards match '" + spec + "' (relative to " + base.toAbsolutePath() + ")");
        List<TokenShard> shards = new ArrayList<>();
        try {
            for (Path p : paths) shards.add(TokenShard.open(p));
        } catch (IOException e) {
            for (TokenShard s : shards) s.close();
            throw e;
        }
        return new ShardSet(spec, shards);
    }

    static List<Path> resolve(Path base, String spec) throws IOException {
        Path direct = base.resolve(spec);
        if (!spec.contains("*") && !spec.contains("?") && !spec.contains("[")) {
            if (Files.isDirectory(direct)) {
                try (Stream<Path> s = Files.list(direct)) {
                    return s.filter(p -> p.getFileName().toString().endsWith(".bin")).sorted().toList();
                }
            }
            return Files.exists(direct) ? List.of(direct) : List.of();
        }
        Path dir = direct.getParent() == null ? base : direct.getParent();
        if (!Files.isDirectory(dir)) return List.of();
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + direct.getFileName());
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> m.matches(p.getFileName())).sorted().toList();
        }
    }

    public String spec() {
        return spec;
    }

    public long totalTokens() {
        return total;
    }

    public List<TokenShard> shards() {
        return shards;
    }

    /** Largest token id in every shard is below vocabSize; checked before training (a full scan, once). */
    public void requireVocabulary(int vocabSize) throws IOException {
        int[] buf = new int[1 << 16];
        for (TokenShard s : shards) {
            for (long i = 0; i < s.size(); i += buf.length) {
                int n = (int) Math.min(buf.length, s.size() - i);
                s.read(i, buf, 0, n);
                for (int j = 0; j < n; j++) {
                    if (buf[j] >= vocabSize) {
                        throw new IOException(s.path() + ": token " + buf[j] + " at position " + (i + j)
                                + " is outside the model's vocabulary of " + vocabSize);
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        for (TokenShard s : shards) s.close();
    }
}
