package dev.crucible.cli;

import dev.crucible.data.CorpusTokenizer;
import dev.crucible.data.Documents;
import dev.crucible.data.pipeline.CorpusStats;
import dev.crucible.data.pipeline.Recipe;
import dev.crucible.data.pipeline.RecipeRun;
import dev.crucible.data.tokenizer.BpeTokenizer;
import dev.crucible.data.tokenizer.TokenizerJson;
import dev.crucible.io.AtomicWrite;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "data", mixinStandardHelpOptions = true, description = "Prepare training data.", subcommands = {DataCommand.Run.class, DataCommand.Analyze.class, DataCommand.Tokenize.class, DataCommand.PrepareDefault.class,
        ClassifierCommand.class, VerifyCommand.class})
public final class DataCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = {"Clean, filter and de-duplicate documents with a recipe: inputs, output and a list of operators (Data-Juicer style).",
                    "Writes JSONL shards, _summary.json (documents and bytes in and out per step, the rules that fired) and _trace.jsonl "
                    + "(sampled documents each step removed or changed, and why). Operators: see docs/data.md."})
    static final class Run implements Callable<Integer> {
        @picocli.CommandLine.Parameters(index = "0", description = "The recipe (YAML).")
        Path recipe;
        @Option(names = "--out", description = "Output directory (overrides the recipe's output.dir); with --engine spark also an address (s3a://...).")
        String out;
        @Option(names = "--engine", defaultValue = "local", description = "local (this process, all cores) or spark (Apache Spark: the same "
                + "output; the launcher adds the spark module), default ${DEFAULT-VALUE}.")
        String engine;
        @Option(names = "--master", description = "With --engine spark: where to run (local[*], local[N], spark://HOST:PORT, yarn, k8s://...); "
                + "default local[*].")
        String master;

        @Override
        public Integer call() throws Exception {
            Recipe r;
            try {
                r = Recipe.load(recipe);
            } catch (Recipe.RecipeException e) {
                throw new UserError(e.getMessage());
            }
            if (out != null) r = r.withOutput(out);
            if (master != null && engine.equals("local")) throw new UserError("--master is for --engine spark");
            System.out.printf(Locale.ROOT, "%s: %d input(s), %d step(s) -> %s%n", recipe, r.inputs().size(), r.steps().size(), r.output().location());
            RecipeRun.Summary s = engine.equals("local") ? RecipeRun.run(r, System.out)
                    : engine(engine).run(r, java.nio.file.Files.readString(recipe), master, System.out);
            System.out.print(RecipeRun.table(s));
            System.out.println("wrote " + r.output().location() + " (JSONL shards, " + RecipeRun.SUMMARY + ", " + RecipeRun.TRACE + ")");
            return 0;
        }
    }

    /** Another engine, found on the class path (the launcher puts the spark module there for --engine spark). */
    static dev.crucible.data.pipeline.DataEngine engine(String name) {
        List<String> found = new java.util.ArrayList<>();
        for (dev.crucible.data.pipeline.DataEngine e : java.util.ServiceLoader.load(dev.crucible.data.pipeline.DataEngine.class)) {
            if (e.name().equals(name)) return e;
            found.add(e.name());
        }
        if (!name.equals("spark")) throw new UserError("--engine: unknown engine '" + name + "' (local, spark)");
        throw new UserError("--engine spark: the spark module is not on the class path (found: " + (found.isEmpty() ? "none" : String.join(", ", found))
                + "); run through ./crucible, which builds it and adds it, or put spark/target/crucible-spark.jar and spark/target/lib/* on it");
    }

    @Command(name = "analyze", mixinStandardHelpOptions = true,
            description = {"Per-document statistics of a corpus, computed exactly as the filters compute them (length, words, alphanumeric and "
                    + "special-character ratios, character and word repetition, stop-word and flagged-word ratios, line lengths, language "
                    + "score): a quantile table, stats.json, and a PNG histogram per statistic with the filter's default threshold in red."})
    static final class Analyze implements Callable<Integer> {
        @picocli.CommandLine.Parameters(arity = "1..*", paramLabel = "INPUT", description = "Documents (files, directories, builtin:...).")
        List<Path> inputs;
        @Option(names = "--out", defaultValue = "analysis", description = "Where to write stats.json and the histograms (default ${DEFAULT-VALUE}).")
        Path out;
        @Option(names = "--max-docs", defaultValue = "100000", description = "Analyse at most this many documents, the first ones (default ${DEFAULT-VALUE}).")
        int maxDocs;

        /** Data-Juicer's (and our) default thresholds, drawn on the histograms. */
        static final Map<String, double[]> DEFAULTS = Map.of("length", new double[] {10}, "words", new double[] {10}, "alnum_ratio", new double[] {0.25},
                "special_char_ratio", new double[] {0.25}, "char_rep_ratio", new double[] {0.5}, "word_rep_ratio", new double[] {0.5},
                "stopword_ratio", new double[] {0.3}, "flagged_word_ratio", new double[] {0.045}, "avg_line_length", new double[] {10},
                "lang_score", new double[] {0.6});

        @Override
        public Integer call() throws Exception {
            List<String> docs = new ArrayList<>();
            for (Path in : inputs) {
                Documents.read(in, (name, text) -> {
                    if (docs.size() < maxDocs) docs.add(text);
                });
            }
            if (docs.isEmpty()) throw new UserError("no documents in " + inputs);
            long t0 = System.nanoTime();
            CorpusStats.Table t = CorpusStats.compute(docs);
            System.out.printf(Locale.ROOT, "%,d documents analysed in %.1f s%n", t.size(), (System.nanoTime() - t0) / 1e9);
            System.out.print(CorpusStats.quantileTable(t));
            Files.createDirectories(out);
            AtomicWrite.write(out.resolve("stats.json"), tmp -> new com.fasterxml.jackson.databind.ObjectMapper()
                    .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), CorpusStats.json(t)));
            for (int k = 0; k < CorpusStats.STATS.size(); k++) {
                CorpusStats.Stat st = CorpusStats.STATS.get(k);
                AtomicWrite.writeBytes(out.resolve(st.name() + ".png"), dev.crucible.eval.report.Histogram.png(st.name() + " (" + st.filter() + ")", st.name(),
                        t.values()[k], 60, DEFAULTS.get(st.name()), 800, 320));
            }
            System.out.println("wrote " + out.resolve("stats.json") + " and " + CorpusStats.STATS.size() + " histograms (PNG) in " + out);
            return 0;
        }
    }

    @Command(name = "prepare-default", mixinStandardHelpOptions = true,
            description = {"Prepare the built-in default corpus with no download: Lucene's Europarl sample (21 languages) and the JDK's java.base "
                    + "sources, cleaned by the shipped recipe (<out>/clean, partitioned by language), a byte-level BPE tokenizer trained on it "
                    + "(<out>/tokenizer.json), and token shards with prose and code in equal shares (<out>/shards). Stages already done are reused."})
    static final class PrepareDefault implements Callable<Integer> {
        @Option(names = "--out", defaultValue = "data/default", description = "Output directory (default ${DEFAULT-VALUE}).")
        Path out;
        @Option(names = "--vocab-size", defaultValue = "8192", description = "Tokenizer vocabulary (default ${DEFAULT-VALUE}).")
        int vocabSize;
        @Option(names = "--print-recipe", description = "Print the shipped recipe and exit.")
        boolean printRecipe;

        @Override
        public Integer call() throws Exception {
            if (printRecipe) {
                System.out.print(DefaultCorpus.recipeText());
                return 0;
            }
            DefaultCorpus.Prepared p = DefaultCorpus.prepare(out, vocabSize, System.out);
            System.out.println("ready: " + p.shards() + " (train_*.bin, val_<domain>_*.bin, heldout/, tokenizer.json, domains.json)");
            return 0;
        }
    }

    @Command(name = "tokenize", mixinStandardHelpOptions = true,
            description = {"Tokenize documents into llm.c token shards: <out>/train_NNNNNN.bin (all domains interleaved, in the mixture asked for) "
                    + "and <out>/val_<domain>_NNNNNN.bin, each document preceded by the end-of-text token (for a tokenizer without one, its begin-of-sequence token), split into train and validation by a "
                    + "hash of the document's name (stable across runs).",
                    "Also writes <out>/heldout/<domain>.jsonl (a text sample of validation documents, for probes), <out>/domains.json (documents, "
                    + "tokens, share and epochs per domain) and a copy of the tokenizer. Point data.train, data.val and data.tokenizer of a run "
                    + "config at them."})
    static final class Tokenize implements Callable<Integer> {
        @Option(names = "--tokenizer", required = true, description = "tokenizer.json")
        Path tokenizer;
        @Option(names = "--input", arity = "1..*", description = "Files or directories of documents; DOMAIN=PATH puts them in a domain (default domain: all).")
        List<String> inputs = new ArrayList<>();
        @Option(names = "--domains-from", description = "A directory whose sub-directories are domains (e.g. the output of data run with partition_by).")
        Path domainsFrom;
        @Option(names = "--mix", split = ",", description = "Mixture weights of the training stream, DOMAIN=WEIGHT,... (default: natural proportions).")
        Map<String, Double> mix = new LinkedHashMap<>();
        @Option(names = "--out", required = true, description = "Directory for the shards.")
        Path out;
        @Option(names = "--val-percent", defaultValue = "5", description = "Share of documents for validation, in percent (default ${DEFAULT-VALUE}).")
        int valPercent;
        @Option(names = "--shard-tokens", defaultValue = "100000000", description = "Tokens per shard (default ${DEFAULT-VALUE}).")
        int shardTokens;

        @Override
        public Integer call() throws Exception {
            if (valPercent < 0 || valPercent > 50) throw new UserError("--val-percent must be in [0, 50]");
            List<CorpusTokenizer.Domain> domains = domains(inputs, domainsFrom);
            BpeTokenizer tok = TokenizerJson.read(tokenizer);
            Files.createDirectories(out);
            long t0 = System.nanoTime();
            List<CorpusTokenizer.DomainCounts> counts;
            try {
                counts = CorpusTokenizer.run(tok, domains, mix, valPercent, shardTokens, out, System.out);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
            Files.copy(tokenizer, out.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            System.out.print(table(counts));
            long bytes = counts.stream().mapToLong(c -> c.trainBytes() + c.valBytes()).sum(), tokens = counts.stream().mapToLong(c -> c.trainTokens() + c.valTokens()).sum();
            double sec = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "%,d bytes -> %,d tokens (%.2f bytes/token) in %.1f s (%.1f MB/s); wrote %s%n", bytes, tokens,
                    (double) bytes / Math.max(1, tokens), sec, bytes / 1e6 / sec, out);
            return 0;
        }

        static List<CorpusTokenizer.Domain> domains(List<String> inputs, Path domainsFrom) throws IOException {
            Map<String, List<Path>> byDomain = new LinkedHashMap<>();
            for (String in : inputs) {
                int eq = in.indexOf('=');
                String domain = eq > 0 && !in.startsWith("builtin:") ? in.substring(0, eq) : "all";
                byDomain.computeIfAbsent(domain, k -> new ArrayList<>()).add(Path.of(eq > 0 && !in.startsWith("builtin:") ? in.substring(eq + 1) : in));
            }
            if (domainsFrom != null) {
                if (!Files.isDirectory(domainsFrom)) throw new UserError(domainsFrom + ": not a directory");
                try (var s = Files.list(domainsFrom)) {
                    for (Path d : s.filter(Files::isDirectory).sorted().toList()) {
                        byDomain.computeIfAbsent(d.getFileName().toString(), k -> new ArrayList<>()).add(d);
                    }
                }
            }
            if (byDomain.isEmpty()) throw new UserError("give --input and/or --domains-from");
            List<CorpusTokenizer.Domain> out = new ArrayList<>();
            byDomain.forEach((k, v) -> out.add(new CorpusTokenizer.Domain(k, v)));
            return out;
        }

        static String table(List<CorpusTokenizer.DomainCounts> counts) {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-10s %9s %13s %8s %10s %8s %8s%n", "domain", "docs", "tokens", "share", "mixed", "epochs", "val tok"));
            for (CorpusTokenizer.DomainCounts c : counts) {
                sb.append(String.format(Locale.ROOT, "%-10s %,9d %,13d %7.1f%% %,10d %8.2f %,8d%n", c.domain(), c.trainDocs(), c.trainTokens(), 100 * c.weight(),
                        c.mixedTokens(), c.epochs(), c.valTokens()));
            }
            return sb.toString();
        }
    }
}
