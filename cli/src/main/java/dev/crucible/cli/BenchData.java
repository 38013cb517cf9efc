package dev.crucible.cli;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.crucible.data.Documents;
import dev.crucible.data.pipeline.Recipe;
import dev.crucible.data.pipeline.RecipeRun;
import dev.crucible.data.tokenizer.BpeTokenizer;
import dev.crucible.data.tokenizer.BpeTrainer;
import dev.crucible.tensor.WorkerPool;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Benchmarks of the data side: tokenizer encoding, BPE training, recipe throughput. */
final class BenchData {
    private BenchData() {}

    static final List<String> DEFAULT_INPUTS = List.of("builtin:europarl", "builtin:jdk-src:java.base");

    /** Documents from the inputs, up to mb megabytes of UTF-8. */
    static List<String> corpus(List<String> inputs, double mb) throws IOException {
        List<String> docs = new ArrayList<>();
        long[] bytes = {0};
        long cap = (long) (mb * 1e6);
        for (String in : inputs) {
            Documents.read(Path.of(in), (name, text) -> {
                if (bytes[0] >= cap) return;
                docs.add(text);
                bytes[0] += text.getBytes(StandardCharsets.UTF_8).length;
            });
        }
        return docs;
    }

    static long utf8(List<String> docs) {
        long n = 0;
        for (String d : docs) n += d.getBytes(StandardCharsets.UTF_8).length;
        return n;
    }

    @Command(name = "tokenizer", mixinStandardHelpOptions = true,
            description = {"Encode the same text with Crucible's byte-level BPE and with jtokkit, both loaded with GPT-2's r50k_base, "
                    + "on 1 thread and on all threads; MB/s of UTF-8 input, best of the rounds (each with a fresh Crucible encoder, "
                    + "whose piece cache starts empty), and whether the token ids agree.",
                    "With --tokenizer, Crucible alone with that tokenizer.json (any Crucible reads, SentencePiece-style included); --dump "
                    + "writes the documents as JSON lines, with each one's ids, for a peer such as bench/hf_tokenizers.py to time and check."})
    static final class Tokenizer implements Runnable {
        @Option(names = "--input", split = ",", description = "Documents (default: builtin:europarl,builtin:jdk-src:java.base).")
        List<String> inputs = DEFAULT_INPUTS;
        @Option(names = "--mb", defaultValue = "16", description = "Megabytes of text (default ${DEFAULT-VALUE}).")
        double mb;
        @Option(names = "--rounds", defaultValue = "3", description = "Timed rounds per encoder and thread count (default ${DEFAULT-VALUE}).")
        int rounds;
        @Option(names = "--threads", defaultValue = "0", description = "Threads for the parallel run (0 = all cores).")
        int threads;
        @Option(names = "--json", description = "End with one JSON line of the results.")
        boolean json;
        @Option(names = "--tokenizer", description = "A tokenizer.json to time instead of r50k_base against jtokkit.")
        java.nio.file.Path tokenizer;
        @Option(names = "--dump", description = "Also write the documents and Crucible's ids for them as JSON lines ({\"text\", \"ids\"}).")
        java.nio.file.Path dump;

        interface Encoder {
            int encode(String text);
        }

        @Override
        public void run() {
            try {
                List<String> docs = corpus(inputs, mb);
                long bytes = utf8(docs);
                java.util.function.Supplier<BpeTokenizer> load = () -> {
                    try {
                        return tokenizer != null ? dev.crucible.data.tokenizer.TokenizerJson.read(tokenizer) : r50k();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                };
                BpeTokenizer ours = load.get();
                Encoding jt = tokenizer != null ? null : Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
                int n = WorkerPool.threadsFor(threads);
                System.out.printf(Locale.ROOT, "%,d documents, %.1f MB of UTF-8; %s; threads 1 and %d%n", docs.size(), bytes / 1e6,
                        tokenizer != null ? tokenizer : "GPT-2 r50k_base", n);
                int mismatches = 0;
                long tokens = 0;
                var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
                try (java.io.BufferedWriter dumped = dump == null ? null : java.nio.file.Files.newBufferedWriter(dump)) {
                    for (String d : docs) {
                        int[] a = ours.encode(d, false);
                        tokens += a.length;
                        if (jt != null && !java.util.Arrays.equals(a, jt.encodeOrdinary(d).toArray())) mismatches++;
                        if (dumped != null) {
                            // in this order every time (Map.of's iteration order changes from one JVM to the next)
                            var row = new java.util.LinkedHashMap<String, Object>();
                            row.put("text", d);
                            row.put("ids", a);
                            dumped.write(mapper.writeValueAsString(row));
                            dumped.write('\n');
                        }
                    }
                }
                if (jt != null) System.out.printf(Locale.ROOT, "%,d tokens; documents whose ids differ between the two: %d%n", tokens, mismatches);
                else System.out.printf(Locale.ROOT, "%,d tokens%n", tokens);
                // Crucible caches the ids of pieces it has seen: every timed pass gets a fresh encoder, so no pass
                // profits from the text of an earlier one (jtokkit keeps no such cache).
                Map<String, java.util.function.Supplier<Encoder>> encoders = new LinkedHashMap<>();
                encoders.put("crucible", () -> {
                    BpeTokenizer fresh = load.get();
                    return t -> fresh.encode(t, false).length;
                });
                if (jt != null) encoders.put("jtokkit", () -> t -> jt.encodeOrdinary(t).size());
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("bench", "tokenizer");
                out.put("mb", bytes / 1e6);
                out.put("documents", docs.size());
                out.put("tokens", tokens);
                if (jt != null) out.put("mismatched_documents", mismatches);
                try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
                    for (int w = 0; w < 2; w++) { // warm-up: every encoder JIT-compiled before any timing
                        for (var e : encoders.values()) time(e.get(), docs, 1, pool);
                    }
                    for (int t : new int[] {1, n}) {
                        Map<String, Double> best = new LinkedHashMap<>();
                        for (int r = 0; r < rounds; r++) { // interleaved, so all see the same machine
                            for (var e : encoders.entrySet()) best.merge(e.getKey(), time(e.getValue().get(), docs, t, pool), Math::min);
                        }
                        String threadsKey = t == 1 ? "1_thread" : "all_threads";
                        java.util.StringJoiner line = new java.util.StringJoiner(" | ");
                        best.forEach((name, seconds) -> {
                            line.add(String.format(Locale.ROOT, "%s %6.2f MB/s", name, bytes / 1e6 / seconds));
                            out.put(name + "_mb_s_" + threadsKey, BenchCommand.round(bytes / 1e6 / seconds));
                        });
                        if (best.size() == 2) line.add(String.format(Locale.ROOT, "ratio %.2f", best.get("jtokkit") / best.get("crucible")));
                        System.out.printf(Locale.ROOT, "%2d thread(s): %s%n", t, line);
                        if (t == n && n == 1) break;
                    }
                }
                out.put("threads", n);
                if (json) BenchCommand.printJson(out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        static BpeTokenizer r50k() {
            try (InputStream in = Encoding.class.getResourceAsStream("/com/knuddels/jtokkit/r50k_base.tiktoken")) {
                return BpeTokenizer.fromTiktoken(in, BpeTokenizer.GPT2_PATTERN, Map.of("<|endoftext|>", 50256));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Seconds to encode every document, split over t threads by striding. */
        static double time(Encoder enc, List<String> docs, int t, ExecutorService pool) {
            long t0 = System.nanoTime();
            if (t == 1) {
                long sink = 0;
                for (String d : docs) sink += enc.encode(d);
                if (sink < 0) throw new AssertionError();
            } else {
                List<Future<Long>> parts = new ArrayList<>();
                for (int k = 0; k < t; k++) {
                    int first = k;
                    parts.add(pool.submit(() -> {
                        long sink = 0;
                        for (int i = first; i < docs.size(); i += t) sink += enc.encode(docs.get(i));
                        return sink;
                    }));
                }
                try {
                    for (Future<Long> f : parts) f.get();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    @Command(name = "bpe", mixinStandardHelpOptions = true,
            description = "Time byte-level BPE training (GPT-2 split) on the default corpus or --input, to each --vocab size: counting the "
                    + "pieces, then the merges. --dump writes the exact text used, one document after another, for peers such as "
                    + "sentencepiece's spm_train (bench/spm_bpe.sh).")
    static final class Bpe implements Runnable {
        @Option(names = "--input", split = ",", description = "Documents (default: builtin:europarl,builtin:jdk-src:java.base).")
        List<String> inputs = DEFAULT_INPUTS;
        @Option(names = "--mb", defaultValue = "1000", description = "At most this many megabytes of text (default: all).")
        double mb;
        @Option(names = "--vocab", split = ",", defaultValue = "8192,32000", description = "Vocabulary sizes (default ${DEFAULT-VALUE}).")
        List<Integer> vocab;
        @Option(names = "--dump", description = "Also write the text to this file.")
        Path dump;
        @Option(names = "--json", description = "End with one JSON line of the results.")
        boolean json;

        @Override
        public void run() {
            try {
                List<String> docs = corpus(inputs, mb);
                long bytes = utf8(docs);
                if (dump != null) Files.writeString(dump, String.join("\n", docs), StandardCharsets.UTF_8);
                System.out.printf(Locale.ROOT, "%,d documents, %.1f MB of UTF-8%n", docs.size(), bytes / 1e6);
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("bench", "bpe");
                out.put("mb", bytes / 1e6);
                for (int v : vocab) {
                    long t0 = System.nanoTime();
                    BpeTrainer trainer = new BpeTrainer(BpeTokenizer.GPT2_PATTERN);
                    for (String d : docs) trainer.add(d);
                    long t1 = System.nanoTime();
                    BpeTokenizer tok = trainer.train(v, List.of("<|endoftext|>"));
                    long t2 = System.nanoTime();
                    System.out.printf(Locale.ROOT, "vocab %,d: count %.1f s (%,d distinct pieces) + merges %.1f s = %.1f s; %d tokens%n", v, (t1 - t0) / 1e9,
                            trainer.distinctPieces(), (t2 - t1) / 1e9, (t2 - t0) / 1e9, tok.vocabSize());
                    out.put("vocab_" + v + "_seconds", BenchCommand.round((t2 - t0) / 1e9));
                    out.put("vocab_" + v + "_count_seconds", BenchCommand.round((t1 - t0) / 1e9));
                }
                if (json) BenchCommand.printJson(out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Command(name = "data", mixinStandardHelpOptions = true,
            description = "Run two recipes over built-in text and report throughput: the FineWeb filtering order (examples/recipes/fineweb.yaml "
                    + "without the English-only restriction) on Europarl, and MinHash de-duplication alone on Europarl and java.base; "
                    + "on 1 thread and on all threads.")
    static final class Data implements Runnable {
        @Option(names = "--threads", defaultValue = "0", description = "Threads for the parallel run (0 = all cores).")
        int threads;
        @Option(names = "--json", description = "End with one JSON line of the results.")
        boolean json;

        static final String FINEWEB = """
                inputs: [builtin:europarl]
                output: {dir: OUT}
                ops:
                  - unicode_normalization_mapper: {form: NFC}
                  - language_id_score_filter: {min_score: 0.65}
                  - gopher_repetition_filter: {}
                  - gopher_quality_filter: {}
                  - c4_quality_filter: {filter_no_terminal_punct: false}
                  - fineweb_quality_filter: {}
                  - remove_email_mapper: {}
                threads: THREADS
                """;
        static final String MINHASH = """
                inputs: [builtin:europarl, "builtin:jdk-src:java.base"]
                output: {dir: OUT}
                ops:
                  - minhash_dedup: {}
                threads: THREADS
                """;

        @Override
        public void run() {
            int n = WorkerPool.threadsFor(threads);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("bench", "data");
            out.put("threads", n);
            try {
                Path tmp = Files.createTempDirectory("crucible-bench-data");
                for (String[] r : new String[][] {{"fineweb", FINEWEB}, {"minhash", MINHASH}}) {
                    for (int t : n == 1 ? new int[] {1} : new int[] {1, n}) {
                        Path dir = tmp.resolve(r[0] + "-" + t);
                        Recipe recipe = Recipe.parse(r[0] + ".yaml", r[1].replace("OUT", dir.toString()).replace("THREADS", Integer.toString(t)));
                        RecipeRun.Summary s = RecipeRun.run(recipe, null);
                        long in = s.inputs().stream().mapToLong(RecipeRun.InputCounts::bytes).sum();
                        double mbs = in / 1e6 / s.seconds();
                        System.out.printf(Locale.ROOT, "%-8s %d thread(s): %.1f MB in %.1f s = %.2f MB/s (%.2f MB/s per thread); %,d of %,d documents kept%n",
                                r[0], t, in / 1e6, s.seconds(), mbs, mbs / t, s.docsOut(), s.inputs().stream().mapToLong(RecipeRun.InputCounts::docs).sum());
                        out.put(r[0] + "_mb_s_" + (t == 1 ? "1_thread" : "all_threads"), BenchCommand.round(mbs));
                    }
                }
                RecipeRun.deleteTree(tmp);
                if (json) BenchCommand.printJson(out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
