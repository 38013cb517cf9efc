package dev.crucible.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.JsonLine;
import dev.crucible.data.tokenizer.TextEncoding;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Probes built from held-out documents ({@code <dir>/<domain>.jsonl}, as {@code data tokenize}
 * writes them), which show progress long before benchmarks leave chance:
 * <ul>
 *   <li>{@code bpb_<domain>}: bits per byte on each domain's held-out documents (the first, up to a byte budget);</li>
 *   <li>{@code cloze}: predict the last word of a passage (the first {@value #CLOZE_WORDS} words of
 *       each prose document), scored as LAMBADA;</li>
 *   <li>{@code icl_score}: in-context learning as Olsson et al. define it, the mean loss of tokens
 *       late in a document (up to position 500, or the model's window) minus that of tokens
 *       around position 50: the more negative, the more the model uses long context.</li>
 * </ul>
 */
public final class HeldoutProbes {
    private HeldoutProbes() {}

    static final int CLOZE_WORDS = 60;

    /**
     * How much to score at each checkpoint: held-out bytes per domain for bits per byte (21
     * languages and code add up), cloze passages, documents for the in-context-learning score.
     */
    public record Budget(int bpbBytes, int clozePassages, int iclDocs) {
        public static final Budget DEFAULT = new Budget(16_000, 200, 40);

        public Budget scaled(double f) {
            return new Budget((int) Math.max(2000, bpbBytes * f), (int) Math.max(20, clozePassages * f), (int) Math.max(8, iclDocs * f));
        }
    }
    /** The code domain: no cloze on it. */
    static final String CODE = "java";

    public static List<Task> load(Path dir) throws IOException {
        return load(dir, Budget.DEFAULT);
    }

    public static List<Task> load(Path dir, Budget budget) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException(dir + ": held-out directory not found (data tokenize writes <out>/heldout)");
        Map<String, List<String>> byDomain = new LinkedHashMap<>();
        ObjectMapper json = new ObjectMapper();
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList();
        }
        for (Path f : files) {
            List<String> docs = new ArrayList<>();
            int lineNo = 0;
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                lineNo++;
                if (line.isBlank()) continue;
                JsonNode t;
                try {
                    t = JsonLine.parse(json, line).get("text");
                } catch (IOException e) {
                    throw new IOException(f + ":" + lineNo + ": not a JSON object (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
                }
                if (t == null || !t.isTextual()) throw new IOException(f + ":" + lineNo + ": needs a string field text");
                docs.add(t.asText());
            }
            if (!docs.isEmpty()) byDomain.put(f.getFileName().toString().replaceFirst("\\.jsonl$", ""), docs);
        }
        if (byDomain.isEmpty()) {
            throw new IOException(dir + ": no held-out documents (*.jsonl)" + (Files.isDirectory(dir.resolve("heldout")) ? "; did you mean " + dir.resolve("heldout") + "?" : ""));
        }
        List<Task> tasks = new ArrayList<>();
        byDomain.forEach((d, docs) -> {
            // the first documents up to the byte budget (at least one)
            int n = 0;
            long bytes = 0;
            while (n < docs.size() && (n == 0 || bytes + docs.get(n).length() <= budget.bpbBytes())) bytes += docs.get(n++).length();
            tasks.add(new RollingPerplexity("bpb_" + d, docs.subList(0, n)));
        });
        List<String[]> cloze = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : byDomain.entrySet()) {
            if (e.getKey().equals(CODE)) continue;
            for (String doc : e.getValue()) {
                String[] c = clozeOf(doc);
                if (c != null && cloze.size() < budget.clozePassages()) cloze.add(c);
            }
        }
        if (!cloze.isEmpty()) tasks.add(Lambada.cloze("cloze", cloze));
        List<String> all = byDomain.values().stream().flatMap(List::stream).toList();
        tasks.add(new IclScore(all, budget.iclDocs()));
        return tasks;
    }

    /** The first CLOZE_WORDS words, cut back to end at a word of letters; null if too short. */
    static String[] clozeOf(String doc) {
        String[] words = doc.strip().split("\\s+");
        if (words.length < CLOZE_WORDS / 2) return null;
        int end = Math.min(words.length, CLOZE_WORDS);
        while (end > 10 && !words[end - 1].chars().allMatch(Character::isLetter)) end--;
        if (end <= 10) return null;
        return new String[] {String.join(" ", java.util.Arrays.asList(words).subList(0, end - 1)), " " + words[end - 1]};
    }

    /** Loss late in a document minus loss around position 50. */
    static final class IclScore implements Task {
        final List<String> docs;
        final int max;

        IclScore(List<String> docs, int max) {
            this.docs = docs;
            this.max = max;
        }

        @Override
        public String name() {
            return "icl_score";
        }

        @Override
        public String group() {
            return "in_context_learning";
        }

        @Override
        public int size() {
            return docs.size();
        }

        @Override
        public double chance(String metric) {
            return Double.NaN;
        }

        @Override
        public List<Metric> evaluate(LogLikelihood scorer, TextEncoding enc, int limit, Samples.Sink samples) {
            int late = Math.min(500, scorer.window());
            List<LogLikelihood.Request> reqs = new ArrayList<>();
            for (String d : docs) {
                if (reqs.size() / 2 >= (limit > 0 ? Math.min(limit, max) : max)) break;
                int[] t = enc.encode(d);
                if (t.length < late) continue;
                reqs.add(new LogLikelihood.Request(java.util.Arrays.copyOfRange(t, 0, 40), java.util.Arrays.copyOfRange(t, 40, 60)));
                reqs.add(new LogLikelihood.Request(java.util.Arrays.copyOfRange(t, 0, late - 20), java.util.Arrays.copyOfRange(t, late - 20, late)));
            }
            int n = reqs.size() / 2;
            if (n == 0) return List.of(new Metric("loss_late_minus_early", Double.NaN, Double.NaN, 0));
            LogLikelihood.Score[] s = scorer.score(reqs);
            double[] diff = new double[n];
            for (int i = 0; i < n; i++) {
                diff[i] = -s[2 * i + 1].logProb() / 20 + s[2 * i].logProb() / 20;
                if (samples != null) { // tokens 40-59 after 40 tokens, and the 20 tokens before `late` after the rest
                    samples.add(Samples.loglikelihood(i, Samples.doc("early_tokens", "40-59", "late_tokens", (late - 20) + "-" + (late - 1)), null,
                            List.of(new Samples.Args("tokens 0-39", "tokens 40-59"), new Samples.Args("tokens 0-" + (late - 21), "tokens " + (late - 20) + "-" + (late - 1))),
                            List.of(s[2 * i], s[2 * i + 1]), Samples.metrics("loss_late_minus_early", diff[i])));
                }
            }
            return List.of(Metric.mean("loss_late_minus_early", diff));
        }
    }
}
