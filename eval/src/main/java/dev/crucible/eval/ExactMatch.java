package dev.crucible.eval;

import dev.crucible.data.PythonText;
import dev.crucible.data.tokenizer.TextEncoding;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Generation with exact match, as lm-evaluation-harness's generate_until tasks score it: greedy
 * decoding from the prompt until one of the stop strings (default: a newline), the model's
 * end-of-sequence token ({@link LogLikelihood#endOfSequence}, which the harness adds to every task's
 * stop list) or max_tokens, the text cut at the first stop, and exact_match = 1 when it equals the
 * target, both stripped of surrounding whitespace (the harness compares them as they are unless a
 * task's filters strip them; most of its generation tasks do).
 */
public final class ExactMatch implements Task {
    public record Example(String prompt, String target) {}

    private final String name, group;
    private final List<Example> examples;
    private final List<String> until;
    private final int maxTokens;

    public ExactMatch(String name, String group, List<Example> examples, List<String> until, int maxTokens) {
        if (examples.isEmpty()) throw new IllegalArgumentException(name + ": no examples");
        if (maxTokens < 1) throw new IllegalArgumentException(name + ": max_tokens must be at least 1");
        this.name = name;
        this.group = group;
        this.examples = examples;
        this.until = until.isEmpty() ? List.of("\n") : until;
        this.maxTokens = maxTokens;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String group() {
        return group;
    }

    @Override
    public int size() {
        return examples.size();
    }

    @Override
    public double chance(String metric) {
        return metric.equals("exact_match") ? 0 : Double.NaN;
    }

    static String decode(TextEncoding enc, int[] ids) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int id : ids) b.writeBytes(enc.bytes(id));
        return b.toString(StandardCharsets.UTF_8);
    }

    /** The text before the first stop string, or null when none has appeared yet. */
    String cut(String text) {
        int at = -1;
        for (String u : until) {
            int i = text.indexOf(u);
            if (i >= 0 && (at < 0 || i < at)) at = i;
        }
        return at < 0 ? null : text.substring(0, at);
    }

    @Override
    public List<Metric> evaluate(LogLikelihood scorer, TextEncoding enc, int limit, Samples.Sink samples) {
        int n = limit > 0 ? Math.min(limit, examples.size()) : examples.size();
        List<int[]> ctx = new ArrayList<>();
        // as the harness, the prompt's last window − max_tokens tokens, so that the answer never pushes the prompt's start out of the window
        int keep = Math.max(1, scorer.window() - maxTokens);
        for (int i = 0; i < n; i++) {
            int[] c = enc.encode(examples.get(i).prompt());
            ctx.add(c.length == 0 ? new int[] {enc.documentStart()} : c.length > keep ? java.util.Arrays.copyOfRange(c, c.length - keep, c.length) : c);
        }
        java.util.Set<Integer> eos = scorer.endOfSequence();
        int[][] gen = scorer.greedy(ctx, maxTokens, ids -> eos.contains(ids[ids.length - 1]) || cut(decode(enc, ids)) != null);
        double[] em = new double[n];
        for (int i = 0; i < n; i++) {
            int[] g = gen[i];
            int upTo = 0;
            while (upTo < g.length && !eos.contains(g[upTo])) upTo++;
            String text = decode(enc, java.util.Arrays.copyOf(g, upTo)), c = cut(text);
            em[i] = PythonText.strip(c != null ? c : text).equals(PythonText.strip(examples.get(i).target())) ? 1 : 0;
            if (samples != null) {
                var ex = examples.get(i);
                samples.add(Samples.generation(i, Samples.doc("prompt", ex.prompt(), "target", ex.target()), ex.target(), ex.prompt(), until, maxTokens,
                        c != null ? c : text, Samples.metrics("exact_match", em[i])));
            }
        }
        return List.of(Metric.mean("exact_match", em));
    }
}
