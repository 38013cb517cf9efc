package dev.crucible.cli;

import dev.crucible.data.Documents;
import dev.crucible.data.TokenShard;
import dev.crucible.data.pipeline.Recipe;
import dev.crucible.data.pipeline.RecipeRun;
import dev.crucible.data.tokenizer.BpeTokenizer;
import dev.crucible.data.tokenizer.TokenizerJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "data", mixinStandardHelpOptions = true, description = "Prepare training data.", subcommands = {DataCommand.Run.class, DataCommand.Tokenize.class})
public final class DataCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = {"Clean, filter and de-duplicate documents with a recipe: inputs, output and a list of operators (Data-Juicer style).",
                    "Writes JSONL shards, summary.json (documents and bytes in and out per step, the rules that fired) and trace.jsonl "
                    + "(sampled documents each step removed or changed, and why). Operators: see docs/data.md."})
    static final class Run implements Callable<Integer> {
        @picocli.CommandLine.Parameters(index = "0", description = "The recipe (YAML).")
        Path recipe;
        @Option(names = "--out", description = "Output directory (overrides the recipe's output.dir).")
        Path out;

        @Override
        public Integer call() throws Exception {
            Recipe r;
            try {
                r = Recipe.load(recipe);
            } catch (Recipe.RecipeException e) {
                throw new UserError(e.getMessage());
            }
            if (out != null) r = r.withOutputDir(out);
            System.out.printf(Locale.ROOT, "%s: %d input(s), %d step(s) -> %s%n", recipe, r.inputs().size(), r.steps().size(), r.output().dir());
            RecipeRun.Summary s = RecipeRun.run(r, System.out);
            System.out.print(RecipeRun.table(s));
            System.out.println("wrote " + r.output().dir() + " (JSONL shards, " + RecipeRun.SUMMARY + ", " + RecipeRun.TRACE + ")");
            return 0;
        }
    }

    @Command(name = "tokenize", mixinStandardHelpOptions = true,
            description = {"Tokenize documents into llm.c token shards: <out>/train_NNNNNN.bin and <out>/val_NNNNNN.bin, each document preceded "
                    + "by the end-of-text token, split into train and validation by a hash of the document's name (stable across runs).",
                    "Copies the tokenizer to <out>/tokenizer.json; point data.train, data.val and data.tokenizer of a run config at them."})
    static final class Tokenize implements Callable<Integer> {
        @Option(names = "--tokenizer", required = true, description = "tokenizer.json")
        Path tokenizer;
        @Option(names = "--input", required = true, arity = "1..*", description = "Files or directories of documents (as tokenizer train reads them).")
        List<Path> inputs;
        @Option(names = "--out", required = true, description = "Directory for the shards.")
        Path out;
        @Option(names = "--val-percent", defaultValue = "5", description = "Share of documents for validation, in percent (default ${DEFAULT-VALUE}).")
        int valPercent;
        @Option(names = "--shard-tokens", defaultValue = "100000000", description = "Tokens per shard (default ${DEFAULT-VALUE}).")
        int shardTokens;

        @Override
        public Integer call() throws Exception {
            if (valPercent < 0 || valPercent > 50) throw new UserError("--val-percent must be in [0, 50]");
            BpeTokenizer tok = TokenizerJson.read(tokenizer);
            Integer eot = tok.special("<|endoftext|>");
            if (eot == null) throw new UserError(tokenizer + " has no <|endoftext|> token to separate documents");
            Files.createDirectories(out);
            Writer train = new Writer(out, "train", shardTokens, tok.vocabSize()), val = new Writer(out, "val", shardTokens, tok.vocabSize());
            long t0 = System.nanoTime();
            long[] bytes = {0};
            for (Path in : inputs) {
                Documents.read(in, (name, text) -> {
                    boolean isVal = Math.floorMod(name.hashCode() * 0x9E3779B9, 100) < valPercent;
                    Writer w = isVal ? val : train;
                    w.add(eot);
                    for (int id : tok.encode(text, false)) w.add(id);
                    w.docs++;
                    bytes[0] += text.getBytes(StandardCharsets.UTF_8).length;
                });
            }
            train.flush();
            val.flush();
            Files.copy(tokenizer, out.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            double sec = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "train: %,d documents, %,d tokens in %d shard(s); val: %,d documents, %,d tokens in %d shard(s)%n",
                    train.docs, train.total, train.shard, val.docs, val.total, val.shard);
            System.out.printf(Locale.ROOT, "%,d bytes -> %,d tokens (%.2f bytes/token) in %.1f s (%.1f MB/s); wrote %s%n", bytes[0], train.total + val.total,
                    (double) bytes[0] / Math.max(1, train.total + val.total), sec, bytes[0] / 1e6 / sec, out);
            return 0;
        }

        /** Accumulates tokens and writes a shard whenever one is full. */
        static final class Writer {
            final Path dir;
            final String prefix;
            final int[] buf;
            final int vocab;
            int n, shard, docs;
            long total;

            Writer(Path dir, String prefix, int size, int vocab) {
                this.dir = dir;
                this.prefix = prefix;
                this.buf = new int[size];
                this.vocab = vocab;
            }

            void add(int id) {
                buf[n++] = id;
                total++;
                if (n == buf.length) flush();
            }

            void flush() {
                if (n == 0) return;
                try {
                    TokenShard.write(dir.resolve(String.format("%s_%06d.bin", prefix, shard++)), buf, n, vocab);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                n = 0;
            }
        }
    }
}
