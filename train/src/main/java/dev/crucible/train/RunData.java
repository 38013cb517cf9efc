package dev.crucible.train;

import dev.crucible.data.ShardSet;
import dev.crucible.data.tokenizer.BpeTokenizer;
import dev.crucible.model.Model;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A run's data: the training stream ({@link DataMixture} over data.train or data.sources) and its
 * validation sets (data.val, and each source's val), opened and checked against the vocabulary
 * before training, every shard closed with it. Metric names: val_loss (data.val, or else the sources'
 * validation losses weighted as the mixture, or their mean when no drawn source has a val),
 * val_loss/NAME and val_bpb/NAME per source, epochs (or epochs/NAME) for the passes over each
 * source's (visited) windows.
 */
final class RunData implements AutoCloseable {
    private record SourceVal(String name, double weight, Validation validation) {}

    private final List<ShardSet> open = new ArrayList<>();
    private final RunConfig.Data spec;
    private final DataMixture mixture;
    private final Validation overall;
    private final List<SourceVal> perSource = new ArrayList<>();
    private final List<ShardSet> trainSets = new ArrayList<>();
    private final int b, t;
    private final long runSeed;

    RunData(Path base, RunConfig.Data data, int vocabSize, int b, int t, long seed, int evalBatches, BpeTokenizer tokenizer) throws IOException {
        this.spec = data;
        this.b = b;
        this.t = t;
        this.runSeed = seed;
        try {
            List<DataMixture.Source> sources = new ArrayList<>();
            for (RunConfig.Source s : data.streams()) {
                ShardSet train = open(base, s.train(), s.name(), vocabSize);
                trainSets.add(train);
                DataLoader loader;
                try {
                    loader = new DataLoader(train, b, t, seed, true, s.maxUniqueTokens());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where(s.name()) + e.getMessage(), e);
                }
                sources.add(new DataMixture.Source(s.name(), s.weight(), loader));
                if (s.val() != null) perSource.add(new SourceVal(s.name(), s.weight(), validation(base, s.val(), s.name(), vocabSize, evalBatches, tokenizer)));
            }
            mixture = new DataMixture(sources, b, seed);
            overall = data.val() == null ? null : validation(base, data.val(), null, vocabSize, evalBatches, tokenizer);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private static String where(String source) {
        return source == null || source.equals("train") ? "data: " : "data.sources '" + source + "': ";
    }

    private Validation validation(Path base, String spec, String source, int vocabSize, int evalBatches, BpeTokenizer tokenizer) throws IOException {
        ShardSet set = open(base, spec, source, vocabSize);
        try {
            return new Validation(set, b, t, evalBatches, tokenizer);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where(source) + "val: " + e.getMessage(), e);
        }
    }

    /** A shard set, refused when missing, empty, or holding tokens outside the vocabulary, with the source named. */
    private ShardSet open(Path base, String spec, String source, int vocabSize) throws IOException {
        ShardSet s;
        try {
            s = ShardSet.open(base, spec);
        } catch (IOException e) {
            throw new IOException(where(source) + e.getMessage(), e);
        }
        open.add(s);
        if (s.totalTokens() == 0) throw new IOException(where(source) + "the shards '" + spec + "' hold no tokens");
        s.requireVocabulary(vocabSize);
        return s;
    }

    DataMixture mixture() {
        return mixture;
    }

    /**
     * Another stream over the same sources, weights and unique-token subsets (drawn with the run's seed),
     * ordered by another seed: a sample of what training sees that training does not follow.
     */
    DataMixture another(long seed) {
        List<DataMixture.Source> sources = new ArrayList<>();
        for (int i = 0; i < trainSets.size(); i++) {
            RunConfig.Source s = spec.streams().get(i);
            sources.add(new DataMixture.Source(s.name(), s.weight(), new DataLoader(trainSets.get(i), b, t, seed, runSeed, true, s.maxUniqueTokens())));
        }
        return new DataMixture(sources, b, seed);
    }

    boolean validates() {
        return overall != null || !perSource.isEmpty();
    }

    /** The validation metrics, val_loss first (null when there is no validation data). */
    Map<String, Double> validate(Model model) {
        if (!validates()) return null;
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("val_loss", null);
        double weighted = 0, weights = 0, plain = 0;
        for (SourceVal v : perSource) {
            double loss = v.validation().loss(model);
            out.put("val_loss/" + v.name(), loss);
            double bpb = v.validation().bitsPerByte(loss);
            if (!Double.isNaN(bpb)) out.put("val_bpb/" + v.name(), bpb);
            weighted += v.weight() * loss;
            weights += v.weight();
            plain += loss / perSource.size();
        }
        // the training mixture's loss; the plain mean when only sources that are never drawn validate
        out.put("val_loss", overall != null ? overall.loss(model) : weights > 0 ? weighted / weights : plain);
        if (overall != null && !Double.isNaN(overall.bitsPerByte(out.get("val_loss")))) out.put("val_bpb", overall.bitsPerByte(out.get("val_loss")));
        return out;
    }

    /** Passes over each source's windows so far: "epochs" for a single source, "epochs/NAME" for each of a mixture. */
    Map<String, Double> epochs() {
        Map<String, Double> out = new LinkedHashMap<>();
        List<DataMixture.Source> s = mixture.sources();
        if (s.size() == 1) out.put("epochs", s.getFirst().loader().epochs());
        else for (DataMixture.Source x : s) out.put("epochs/" + x.name(), x.loader().epochs());
        return out;
    }

    void describe(PrintStream console, int t, long batchTokens, int steps) {
        double total = mixture.sources().stream().mapToDouble(DataMixture.Source::weight).sum();
        for (int i = 0; i < mixture.sources().size(); i++) {
            DataMixture.Source s = mixture.sources().get(i);
            RunConfig.Source cfg = spec.streams().get(i);
            double share = s.weight() / total;
            console.printf(Locale.ROOT, "data%s: %s: %,d windows of %d (%,d tokens)%s, %.2f epochs over the run%n",
                    mixture.sources().size() > 1 ? String.format(Locale.ROOT, " %s (%.1f%%)", s.name(), 100 * share) : "", cfg.train(),
                    s.loader().windows(), t, s.loader().tokensPerEpoch(), s.loader().limited() ? " (a subset: max_unique_tokens)" : "",
                    share * batchTokens * steps / s.loader().tokensPerEpoch());
        }
        if (overall != null) console.println("val: " + spec.val());
        for (SourceVal v : perSource) console.println("val " + v.name() + ": " + spec.streams().stream().filter(x -> x.name().equals(v.name())).findFirst().orElseThrow().val());
    }

    @Override
    public void close() {
        for (ShardSet s : open) s.close();
    }
}
