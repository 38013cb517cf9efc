package dev.crucible.data.classify;

import dev.crucible.data.pipeline.Doc;
import dev.crucible.data.pipeline.Operator;
import dev.crucible.data.pipeline.Params;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * quality_classifier_filter: scores each document with a fastText classifier (one trained by
 * {@code crucible data classifier train}, or any supervised fastText .bin/.ftz) and keeps it when the
 * probability of {@code label} is at least {@code min_score}. The score goes into the metadata
 * ({@code score_key}, "quality_score") and, for removed documents, the trace. Scoring is a pure
 * function of the text, so runs and thread counts agree. A model file is opened once per process
 * however many steps or recipes name it.
 *
 * <pre>
 * - quality_classifier_filter: {model: classifier.bin, label: __label__pos, min_score: 0.5}
 * - quality_classifier_filter: {model: ufw.bin, preprocess: ultrafineweb, tokenizer: tokenizer.json, min_score: 0.8}
 * </pre>
 */
public record QualityClassifierFilter(FastTextModel model, int label, ClassifierText text, double minScore, String scoreKey) implements Operator {
    /** Open models by file, size and modification time (a retrained file is opened again). */
    private static final Map<String, FastTextModel> OPEN = new ConcurrentHashMap<>();

    public static QualityClassifierFilter of(Params p) {
        String file = p.string("model", null);
        if (file == null) throw new IllegalArgumentException("'model' is required: a fastText classifier (.bin or .ftz)");
        FastTextModel model = open(Path.of(file));
        String label = p.string("label", "__label__pos");
        int li = model.dictionary().labelIndex(label);
        if (li < 0) throw new IllegalArgumentException(file + " has no label '" + label + "' (labels: " + String.join(", ", model.labels()) + ")");
        double min = p.number("min_score", 0.5);
        if (!(min >= 0 && min <= 1)) throw new IllegalArgumentException("parameter 'min_score' must be in [0, 1]");
        ClassifierText text;
        try {
            text = ClassifierText.of(p.string("preprocess", "plain"), p.string("tokenizer", null));
        } catch (IOException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        return new QualityClassifierFilter(model, li, text, min, p.string("score_key", "quality_score"));
    }

    static FastTextModel open(Path file) {
        Path f = file.toAbsolutePath().normalize();
        String key;
        try {
            key = f + "|" + java.nio.file.Files.size(f) + "|" + java.nio.file.Files.getLastModifiedTime(f).toMillis();
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": no such file");
        }
        try {
            return OPEN.computeIfAbsent(key, k -> {
                try {
                    return FastTextModel.load(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw new IllegalArgumentException(e.getCause().getMessage());
        }
    }

    @Override
    public String name() {
        return "quality_classifier_filter";
    }

    /** The probability of the label, 0 for a document with no features. */
    public double score(String document) {
        double[] p = model.predict(text.line(document));
        return p == null ? 0 : p[label];
    }

    @Override
    public Outcome apply(Doc doc) {
        double s = score(doc.text());
        String v = String.format(Locale.ROOT, "%.4f", s);
        if (s < minScore) return Outcome.remove("low_score", String.format(Locale.ROOT, "%s %s < min_score %.4f", model.labels().get(label), v, minScore));
        return Outcome.keep(doc.withMeta(scoreKey, v));
    }
}
