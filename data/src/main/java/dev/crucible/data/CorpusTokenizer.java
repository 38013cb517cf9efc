package dev.crucible.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.crucible.data.tokenizer.BpeTokenizer;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Documents of one or more domains to llm.c token shards. Each document is preceded by the
 * end-of-text token (or a begin-of-sequence one: {@link BpeTokenizer#documentSeparator}) and goes to validation or training by a hash of its name from its input's own
 * file or directory name on (stable across runs, and when the corpus is moved).
 * Validation stays per domain ({@code val_<domain>_NNNNNN.bin}), so loss can be read per domain;
 * a sample of validation documents is kept as text ({@code heldout/<domain>.jsonl}) for probes that
 * need text (bits per byte, cloze). Training documents of all domains are interleaved into one
 * stream ({@code train_NNNNNN.bin}) with the mixture weights asked for: a domain whose share is
 * raised is repeated (more than one epoch), one whose share is lowered is cut. {@code domains.json}
 * records documents, bytes and tokens per domain, the share of training tokens and the epochs.
 */
public final class CorpusTokenizer {
    private CorpusTokenizer() {}

    public record Domain(String name, List<Path> inputs) {}

    public record DomainCounts(String domain, long trainDocs, long trainBytes, long trainTokens, long valDocs, long valTokens, long valBytes,
                               double weight, long mixedTokens, double epochs) {}

    public static final String DOMAINS = "domains.json";
    static final int HELDOUT_DOCS = 200;
    static final long HELDOUT_BYTES = 256_000;

    /**
     * @param mix weights per domain name (normalised over the domains given); empty: each domain
     *            in its natural proportion
     */
    public static List<DomainCounts> run(BpeTokenizer tok, List<Domain> domains, Map<String, Double> mix, int valPercent, int shardTokens,
                                         Path out, PrintStream log) throws IOException {
        Integer separator = tok.documentSeparator();
        if (separator == null) {
            throw new IllegalArgumentException("the tokenizer has no token to separate documents: no <|endoftext|>, none its post_processor puts before a text, none of "
                    + BpeTokenizer.BEGIN_OF_TEXT);
        }
        for (String d : mix.keySet()) {
            if (domains.stream().noneMatch(x -> x.name().equals(d))) throw new IllegalArgumentException("mixture weight for unknown domain '" + d + "'");
        }
        Files.createDirectories(out.resolve("heldout"));
        List<List<int[]>> trainDocs = new ArrayList<>();
        List<long[]> counts = new ArrayList<>(); // trainDocs, trainBytes, trainTokens, valDocs, valTokens, valBytes
        long t0 = System.nanoTime();
        for (Domain d : domains) {
            if (!d.name().matches("[A-Za-z0-9._-]+")) throw new IllegalArgumentException("domain name '" + d.name() + "' must be letters, digits, '.', '_' or '-'");
            List<int[]> docs = new ArrayList<>();
            long[] c = new long[6];
            ShardStream val = new ShardStream(out, "val_" + d.name(), shardTokens, tok.vocabSize());
            long[] heldBytes = {0};
            int[] held = {0};
            ObjectMapper json = new ObjectMapper();
            try (BufferedWriter heldout = Files.newBufferedWriter(out.resolve("heldout").resolve(d.name() + ".jsonl"), StandardCharsets.UTF_8)) {
                for (Path in : d.inputs()) {
                    String prefix = Files.isDirectory(in) || Files.isRegularFile(in) ? in.toString() : null;
                    Documents.read(in, (name, text) -> {
                        int[] ids = tok.encode(text, false);
                        long bytes = text.getBytes(StandardCharsets.UTF_8).length;
                        // the input's file name and what follows it, so the split does not change when the corpus is moved
                        String key = prefix != null && name.startsWith(prefix) ? String.valueOf(in.getFileName()) + name.substring(prefix.length()) : name;
                        if (Math.floorMod(key.hashCode() * 0x9E3779B9, 100) < valPercent) {
                            val.add(separator);
                            for (int id : ids) val.add(id);
                            c[3]++;
                            c[4] += ids.length + 1;
                            c[5] += bytes;
                            if (held[0] < HELDOUT_DOCS && heldBytes[0] + bytes <= HELDOUT_BYTES) {
                                held[0]++;
                                heldBytes[0] += bytes;
                                try {
                                    heldout.write(json.writeValueAsString(Map.of("id", name, "text", text)));
                                    heldout.write('\n');
                                } catch (IOException e) {
                                    throw new java.io.UncheckedIOException(e);
                                }
                            }
                        } else {
                            int[] separated = new int[ids.length + 1];
                            separated[0] = separator;
                            System.arraycopy(ids, 0, separated, 1, ids.length);
                            docs.add(separated);
                            c[0]++;
                            c[1] += bytes;
                            c[2] += separated.length;
                        }
                    });
                }
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause();
            }
            val.flush();
            trainDocs.add(docs);
            counts.add(c);
            if (log != null) {
                log.printf(Locale.ROOT, "  %-10s train %,7d docs %,11d tokens | val %,5d docs %,9d tokens (%.1f s)%n", d.name(), c[0], c[2], c[3], c[4],
                        (System.nanoTime() - t0) / 1e9);
            }
        }
        // The mixture: domain d gets share w_d of the natural total; repeat or cut to reach it.
        long natural = counts.stream().mapToLong(c -> c[2]).sum();
        double[] w = new double[domains.size()];
        double wsum = 0;
        for (int i = 0; i < w.length; i++) {
            w[i] = mix.isEmpty() ? counts.get(i)[2] : mix.getOrDefault(domains.get(i).name(), 0.0);
            if (w[i] < 0) throw new IllegalArgumentException("mixture weight of " + domains.get(i).name() + " is negative");
            wsum += w[i];
        }
        if (wsum <= 0) throw new IllegalArgumentException("mixture weights sum to zero");
        long[] target = new long[w.length], taken = new long[w.length];
        int[] next = new int[w.length];
        for (int i = 0; i < w.length; i++) {
            target[i] = counts.get(i)[2] == 0 ? 0 : Math.round(w[i] / wsum * natural);
        }
        ShardStream train = new ShardStream(out, "train", shardTokens, tok.vocabSize());
        // Interleave: always feed the domain furthest behind its target share, so every stretch of the stream is mixed.
        while (true) {
            int pick = -1;
            double behind = Double.POSITIVE_INFINITY;
            for (int i = 0; i < w.length; i++) {
                if (taken[i] >= target[i]) continue;
                double progress = (double) taken[i] / target[i];
                if (progress < behind) {
                    behind = progress;
                    pick = i;
                }
            }
            if (pick < 0) break;
            List<int[]> docs = trainDocs.get(pick);
            int[] doc = docs.get(next[pick] % docs.size());
            next[pick]++;
            for (int id : doc) train.add(id);
            taken[pick] += doc.length;
        }
        train.flush();
        List<DomainCounts> result = new ArrayList<>();
        for (int i = 0; i < w.length; i++) {
            long[] c = counts.get(i);
            result.add(new DomainCounts(domains.get(i).name(), c[0], c[1], c[2], c[3], c[4], c[5], w[i] / wsum, taken[i],
                    c[2] == 0 ? 0 : (double) taken[i] / c[2]));
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("tokenizer_vocab", tok.vocabSize());
        json.put("val_percent", valPercent);
        json.put("train_tokens", train.total);
        json.put("domains", result);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE)
                .writeValue(out.resolve(DOMAINS).toFile(), json);
        return result;
    }

    /** Accumulates tokens and writes a shard whenever one is full. */
    static final class ShardStream {
        final Path dir;
        final String prefix;
        final int size, vocab;
        int[] buf = new int[1 << 16];
        int n, shard;
        long total;

        ShardStream(Path dir, String prefix, int size, int vocab) {
            this.dir = dir;
            this.prefix = prefix;
            this.size = size;
            this.vocab = vocab;
        }

        void add(int id) {
            if (n == buf.length) buf = java.util.Arrays.copyOf(buf, Math.min(size, 2 * n));
            buf[n++] = id;
            total++;
            if (n == size) flush();
        }

        void flush() {
            if (n == 0) return;
            try {
                TokenShard.write(dir.resolve(String.format("%s_%06d.bin", prefix, shard++)), buf, n, vocab);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            n = 0;
        }
    }
}
