package dev.crucible.cli;

import dev.crucible.data.Documents;
import dev.crucible.data.classify.BinaryMetrics;
import dev.crucible.data.classify.ClassifierText;
import dev.crucible.data.classify.ClassifierTraining;
import dev.crucible.data.classify.FastTextModel;
import dev.crucible.data.classify.FastTextTrainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "classifier", mixinStandardHelpOptions = true, description = "Quality classifiers (fastText's supervised model, in its file format).",
        subcommands = {ClassifierCommand.Train.class, ClassifierCommand.Test.class})
final class ClassifierCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    /** Options shared by train and test: the documents of each class and how they become a classifier's line. */
    static class Sets {
        @Option(names = "--positive", arity = "1..*", required = true, paramLabel = "INPUT", description = "Documents of the class to keep (files, directories, builtin:...).")
        List<Path> positive;
        @Option(names = "--negative", arity = "1..*", required = true, paramLabel = "INPUT", description = "Documents of the class to remove.")
        List<Path> negative;
        @Option(names = "--max-docs", defaultValue = "0", description = "At most this many documents per class, the first ones (0: all).")
        int maxDocs;
        @Option(names = "--preprocess", defaultValue = "plain", description = "plain (newlines become spaces) or ultrafineweb (Ultra-FineWeb's "
                + "script: lower case, accents stripped, BPE tokens joined by spaces; needs --tokenizer), default ${DEFAULT-VALUE}.")
        String preprocess;
        @Option(names = "--tokenizer", description = "tokenizer.json for --preprocess ultrafineweb.")
        String tokenizer;

        ClassifierText text() throws IOException {
            try {
                return ClassifierText.of(preprocess, tokenizer);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
        }

        List<String> read(List<Path> inputs) throws IOException {
            List<String> out = new ArrayList<>();
            for (Path in : inputs) {
                Documents.read(in, (name, text) -> {
                    if (maxDocs == 0 || out.size() < maxDocs) out.add(text);
                });
            }
            if (out.isEmpty()) throw new UserError("no documents in " + inputs);
            return out;
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"Train a binary quality classifier: fastText's supervised model (averaged embeddings of words and hashed word n-grams, "
                    + "softmax, SGD with a linearly decaying rate) on one thread with a seed, so the same data and options give the same file. "
                    + "A share of each class is held out and scored: precision and recall at 0.5, and AUC. The model is a fastText .bin "
                    + "(fastText opens it) for quality_classifier_filter."})
    static final class Train extends Sets implements Callable<Integer> {
        @Option(names = "--out", required = true, description = "The model file (.bin).")
        Path out;
        @Option(names = "--labels", defaultValue = "pos,neg", description = "Names of the positive and negative labels, default ${DEFAULT-VALUE} "
                + "(__label__pos, __label__neg).")
        String labels;
        @Option(names = "--dim", defaultValue = "64", description = "Embedding size (default ${DEFAULT-VALUE}).")
        int dim;
        @Option(names = "--word-ngrams", defaultValue = "2", description = "Word n-grams up to this length (default ${DEFAULT-VALUE}).")
        int wordNgrams;
        @Option(names = "--buckets", defaultValue = "2000000", description = "Hash buckets for n-grams (default ${DEFAULT-VALUE}).")
        int buckets;
        @Option(names = "--minn", defaultValue = "0", description = "Shortest character n-gram (0: none; default ${DEFAULT-VALUE}).")
        int minn;
        @Option(names = "--maxn", defaultValue = "0", description = "Longest character n-gram (0: none; default ${DEFAULT-VALUE}).")
        int maxn;
        @Option(names = "--epochs", defaultValue = "5", description = "Passes over the data (default ${DEFAULT-VALUE}).")
        int epochs;
        @Option(names = "--lr", defaultValue = "0.1", description = "Starting learning rate, decaying linearly to 0 (default ${DEFAULT-VALUE}).")
        double lr;
        @Option(names = "--min-count", defaultValue = "1", description = "Words seen fewer times are left out (default ${DEFAULT-VALUE}).")
        int minCount;
        @Option(names = "--loss", defaultValue = "softmax", description = "softmax or ova (one-vs-all sigmoids), default ${DEFAULT-VALUE}.")
        String loss;
        @Option(names = "--holdout", defaultValue = "0.1", description = "Share of each class held out for the metrics (default ${DEFAULT-VALUE}).")
        double holdout;
        @Option(names = "--seed", defaultValue = "1", description = "Seed of the held-out choice, the order and the initial weights (default ${DEFAULT-VALUE}).")
        long seed;

        @Override
        public Integer call() throws Exception {
            String[] names = labels.split(",");
            if (names.length != 2 || names[0].isBlank() || names[1].isBlank() || names[0].equals(names[1])) throw new UserError("--labels: two different names, e.g. pos,neg");
            if (!loss.equals("softmax") && !loss.equals("ova")) throw new UserError("--loss: softmax or ova, got '" + loss + "'");
            FastTextTrainer.Options o;
            try {
                o = new FastTextTrainer.Options(dim, lr, epochs, minCount, wordNgrams, buckets, minn, maxn, loss.equals("ova"), seed);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
            ClassifierText text = text();
            List<String> pos = read(positive), neg = read(negative);
            System.out.printf(Locale.ROOT, "%,d positive and %,d negative documents; %.0f%% held out%n", pos.size(), neg.size(), 100 * holdout);
            ClassifierTraining.Result r;
            try {
                r = ClassifierTraining.run(pos, neg, text, o, holdout, names[0], names[1]);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
            System.out.printf(Locale.ROOT, "trained on %,d documents in %.2f s (%,.0f documents/s; %,d words, %,d buckets, dim %d); preprocessing %.2f s%n",
                    r.trainDocs(), r.trainSeconds(), r.trainDocs() * epochs / Math.max(1e-9, r.trainSeconds()), r.model().dictionary().nwords(),
                    r.model().args().bucket(), dim, r.prepareSeconds());
            if (r.heldOut() != null) {
                System.out.printf(Locale.ROOT, "held out: %s%nscored %,d documents in %.2f s (%,.0f documents/s)%n", r.heldOut(), r.heldOutDocs(),
                        r.scoreSeconds(), r.heldOutDocs() / Math.max(1e-9, r.scoreSeconds()));
            }
            r.model().save(out);
            System.out.println("wrote " + out + " (fastText format; use it with quality_classifier_filter: {model: " + out + ", label: __label__" + names[0]
                    + ", preprocess: " + text.name() + "})");
            return 0;
        }
    }

    @Command(name = "test", mixinStandardHelpOptions = true,
            description = "Score labelled documents with a fastText classifier (.bin or .ftz, trained here or by fastText): AUC, and precision and recall at --threshold.")
    static final class Test extends Sets implements Callable<Integer> {
        @Option(names = "--model", required = true, description = "The classifier.")
        Path model;
        @Option(names = "--label", defaultValue = "__label__pos", description = "The label whose probability is the score (default ${DEFAULT-VALUE}).")
        String label;
        @Option(names = "--threshold", defaultValue = "0.5", description = "Score at which a document counts as positive (default ${DEFAULT-VALUE}).")
        double threshold;

        @Override
        public Integer call() throws Exception {
            FastTextModel m;
            try {
                m = FastTextModel.load(model);
            } catch (IOException e) {
                throw new UserError(e.getMessage());
            }
            int li = m.dictionary().labelIndex(label);
            if (li < 0) throw new UserError(model + " has no label '" + label + "' (labels: " + String.join(", ", m.labels()) + ")");
            ClassifierText text = text();
            List<String> pos = read(positive).stream().map(text::line).toList(), neg = read(negative).stream().map(text::line).toList();
            long t0 = System.nanoTime();
            BinaryMetrics b = BinaryMetrics.of(ClassifierTraining.score(m, li, pos), ClassifierTraining.score(m, li, neg), threshold);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "%s%nscored %,d documents in %.2f s (%,.0f documents/s)%n", b, pos.size() + neg.size(), s, (pos.size() + neg.size()) / Math.max(1e-9, s));
            return 0;
        }
    }
}
