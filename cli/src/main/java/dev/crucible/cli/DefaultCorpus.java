package dev.crucible.cli;

import dev.crucible.data.CorpusTokenizer;
import dev.crucible.data.Documents;
import dev.crucible.data.pipeline.Recipe;
import dev.crucible.data.pipeline.RecipeRun;
import dev.crucible.data.tokenizer.BpeTokenizer;
import dev.crucible.data.tokenizer.BpeTrainer;
import dev.crucible.data.tokenizer.TokenizerJson;
import java.io.IOException;
import java.io.InputStream;
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
 * The built-in default corpus, ready to train on: the shipped recipe cleans Europarl (by language)
 * and java.base's sources (code), a byte-level BPE is trained on the result, and the result is
 * tokenized with prose and code in equal shares. Each stage is skipped when its output exists.
 */
final class DefaultCorpus {
    private DefaultCorpus() {}

    static final String RECIPE = "/dev/crucible/data/pipeline/default-corpus.yaml";
    static final double CODE_SHARE = 0.5;

    record Prepared(Path clean, Path tokenizer, Path shards) {}

    static String recipeText() throws IOException {
        try (InputStream in = Recipe.class.getResourceAsStream(RECIPE)) {
            if (in == null) throw new IOException(RECIPE + " missing from the data module");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static Prepared prepare(Path dir, int vocabSize, PrintStream log) throws IOException {
        return prepare(dir, vocabSize, 100, log);
    }

    /** The shipped recipe, keeping only percent% of the documents when percent < 100. */
    static String recipeText(double percent) throws IOException {
        String text = recipeText();
        if (percent >= 100) return text;
        return text.replace("ops:\n", String.format(Locale.ROOT, "ops:%n  - sample_filter: {fraction: %s}   # --corpus-percent %s%n", percent / 100, percent));
    }

    static Prepared prepare(Path dir, int vocabSize, double percent, PrintStream log) throws IOException {
        Path clean = clean(dir, percent, log), tokenizer = dir.resolve("tokenizer.json"), shards = dir.resolve("shards");
        List<Path> domains = domainDirs(clean);
        if (Files.exists(tokenizer)) {
            log.println("tokenizer: reusing " + tokenizer);
        } else {
            log.printf(Locale.ROOT, "tokenizer: training byte-level BPE to %d tokens on %s ...%n", vocabSize, clean);
            long t0 = System.nanoTime();
            BpeTrainer trainer = new BpeTrainer(BpeTokenizer.GPT2_PATTERN);
            for (Path d : domains) Documents.read(d, (name, text) -> trainer.add(text));
            BpeTokenizer tok = trainer.train(vocabSize, List.of("<|endoftext|>"));
            TokenizerJson.write(tok, tokenizer); // atomic: a kill leaves no tokenizer.json, and this stage runs again
            log.printf(Locale.ROOT, "tokenizer: %d tokens in %.1f s -> %s%n", tok.vocabSize(), (System.nanoTime() - t0) / 1e9, tokenizer);
        }
        if (Files.exists(shards.resolve(CorpusTokenizer.DOMAINS))) {
            log.println("shards: reusing " + shards);
        } else {
            log.println("shards: tokenizing, prose and code in equal shares ...");
            Path partial = dir.resolve("shards.partial");
            RecipeRun.deleteTree(partial);
            List<CorpusTokenizer.Domain> ds = new ArrayList<>();
            for (Path d : domains) ds.add(new CorpusTokenizer.Domain(d.getFileName().toString(), List.of(d)));
            Map<String, Double> mix = mixture(ds);
            List<CorpusTokenizer.DomainCounts> counts = CorpusTokenizer.run(TokenizerJson.read(tokenizer), ds, mix, 5, 100_000_000, partial, log);
            Files.copy(tokenizer, partial.resolve("tokenizer.json"));
            log.print(DataCommand.Tokenize.table(counts));
            RecipeRun.deleteTree(shards);
            Files.move(partial, shards, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        return new Prepared(clean, tokenizer, shards);
    }

    /** The cleaned corpus in dir/clean, one directory per domain (a language, or java): the shipped recipe run once, reused after. */
    static Path clean(Path dir, double percent, PrintStream log) throws IOException {
        if (!(percent > 0 && percent <= 100)) throw new UserError("the corpus percentage must be in (0, 100]");
        Path clean = dir.resolve("clean");
        if (Files.exists(clean.resolve(RecipeRun.SUMMARY))) {
            log.println("clean: reusing " + clean);
        } else {
            log.println("clean: running the default recipe (Europarl by language + java.base sources) ...");
            String text = recipeText(percent);
            Recipe r = Recipe.parse("default-corpus.yaml", text).withOutputDir(clean);
            RecipeRun.Summary s = RecipeRun.run(r, log);
            log.print(RecipeRun.table(s));
            Files.writeString(clean.resolve("recipe.yaml"), text);
        }
        return clean;
    }

    /** Code (java) gets CODE_SHARE; the languages share the rest in proportion to their size. */
    static Map<String, Double> mixture(List<CorpusTokenizer.Domain> domains) throws IOException {
        Map<String, Double> bytes = new LinkedHashMap<>();
        for (CorpusTokenizer.Domain d : domains) {
            long b = 0;
            for (Path in : d.inputs()) try (var s = Files.walk(in)) {
                for (Path f : s.filter(Files::isRegularFile).toList()) b += Files.size(f);
            }
            bytes.put(d.name(), (double) b);
        }
        double prose = bytes.entrySet().stream().filter(e -> !e.getKey().equals("java")).mapToDouble(Map.Entry::getValue).sum();
        Map<String, Double> mix = new LinkedHashMap<>();
        boolean hasCode = bytes.containsKey("java");
        bytes.forEach((k, v) -> mix.put(k, k.equals("java") ? CODE_SHARE : (hasCode ? 1 - CODE_SHARE : 1) * v / prose));
        return mix;
    }

    static List<Path> domainDirs(Path clean) throws IOException {
        try (var s = Files.list(clean)) {
            return s.filter(Files::isDirectory).sorted().toList();
        }
    }
}
