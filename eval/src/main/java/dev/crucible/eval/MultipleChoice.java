package dev.crucible.eval;

import dev.crucible.data.JsonLine;
import dev.crucible.data.PythonText;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.tokenizer.TextEncoding;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Multiple choice by log-likelihood, as lm-evaluation-harness scores it: each choice is a
 * continuation of the question's prompt, and the model picks the choice with the highest
 * log-likelihood (acc), or the highest per character of the choice (acc_norm) or per byte (acc_bytes),
 * the choice's own length without the space before it, as the harness divides. Because
 * accuracy hides smooth progress in small models, two continuous metrics come with it: the
 * log-probability of the gold choice among the choices (softmax over their log-likelihoods) and the
 * Brier score of that distribution (lower is better).
 */
public final class MultipleChoice implements Task {
    /** One question: a prompt, its choices (each scored as " " + choice) and the index of the right one. */
    public record Question(String prompt, List<String> choices, int gold) {}

    private final String name, group;
    private final List<Question> questions;

    public MultipleChoice(String name, String group, List<Question> questions) {
        if (questions.isEmpty()) throw new IllegalArgumentException(name + ": no questions");
        this.name = name;
        this.group = group;
        this.questions = questions;
    }

    /** PIQA: valid.jsonl (goal, sol1, sol2) with one label per line in valid-labels.lst; prompt "Question: {goal}\nAnswer:". */
    public static MultipleChoice piqa(Path jsonl, Path labels) throws IOException {
        List<String> lab = Files.readAllLines(labels, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
        List<String> lines = Files.readAllLines(jsonl, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
        if (lab.size() != lines.size()) throw new IOException(labels + ": " + lab.size() + " labels for " + lines.size() + " questions in " + jsonl);
        ObjectMapper json = new ObjectMapper();
        List<Question> qs = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            JsonNode n;
            try {
                n = json.readTree(lines.get(i));
            } catch (IOException e) {
                throw new IOException(jsonl + ":" + (i + 1) + ": not a JSON object" + (e instanceof JsonLine.TrailingContent ? " (" + e.getMessage() + ")" : ""), e);
            }
            for (String k : new String[] {"goal", "sol1", "sol2"}) {
                if (!n.path(k).isTextual()) throw new IOException(jsonl + ":" + (i + 1) + ": needs a string field " + k);
            }
            int gold;
            try {
                gold = Integer.parseInt(lab.get(i).trim());
            } catch (NumberFormatException e) {
                throw new IOException(labels + ":" + (i + 1) + ": label '" + lab.get(i) + "' is not 0 or 1");
            }
            if (gold != 0 && gold != 1) throw new IOException(labels + ":" + (i + 1) + ": label " + gold + " is not 0 or 1");
            qs.add(new Question("Question: " + n.get("goal").asText() + "\nAnswer:", List.of(n.get("sol1").asText(), n.get("sol2").asText()), gold));
        }
        return new MultipleChoice("piqa", "physical_commonsense", qs);
    }

    /** JSON objects, one per non-blank line, with their line numbers, for the loaders below. */
    private static List<java.util.Map.Entry<Integer, JsonNode>> jsonLines(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<java.util.Map.Entry<Integer, JsonNode>> out = new ArrayList<>();
        int lineNo = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNo++;
            if (line.isBlank()) continue;
            try {
                out.add(java.util.Map.entry(lineNo, JsonLine.parse(json, line)));
            } catch (IOException e) {
                throw new IOException(file + ":" + lineNo + ": not a JSON object", e);
            }
        }
        if (out.isEmpty()) throw new IOException(file + ": no questions");
        return out;
    }

    /** lm-evaluation-harness's HellaSwag preprocessing: strip, " [title]" to ". ", drop [bracketed] tags, collapse double spaces. */
    static String hellaswagPreprocess(String text) {
        String t = text.strip().replace(" [title]", ". ");
        t = t.replaceAll("\\[.*?\\]", "");
        return t.replace("  ", " ");
    }

    /** Python's str.capitalize: first character upper case, the rest lower case. */
    static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0);
        return new String(Character.toChars(Character.toUpperCase(first))) + s.substring(Character.charCount(first)).toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * HellaSwag as lm-evaluation-harness scores it: query = preprocess(activity_label + ": " + ctx_a + " "
     * + capitalize(ctx_b)), choices = preprocess(each of endings), gold = label (JSON lines as the
     * Hugging Face dataset "Rowan/hellaswag" writes them).
     */
    public static MultipleChoice hellaswag(Path jsonl) throws IOException {
        List<Question> qs = new ArrayList<>();
        for (var e : jsonLines(jsonl)) {
            JsonNode n = e.getValue();
            String where = jsonl + ":" + e.getKey();
            for (String k : new String[] {"activity_label", "ctx_a", "ctx_b"}) if (!n.path(k).isTextual()) throw new IOException(where + ": needs a string field " + k);
            if (!n.path("endings").isArray() || n.get("endings").isEmpty()) throw new IOException(where + ": needs a list field endings");
            List<String> endings = new ArrayList<>();
            for (JsonNode x : n.get("endings")) endings.add(hellaswagPreprocess(x.asText()));
            int gold;
            try {
                gold = Integer.parseInt(n.path("label").asText());
            } catch (NumberFormatException ex) {
                throw new IOException(where + ": label '" + n.path("label").asText() + "' is not an index of endings");
            }
            if (gold < 0 || gold >= endings.size()) throw new IOException(where + ": label " + gold + " is not an index of the " + endings.size() + " endings");
            String ctx = n.get("ctx_a").asText() + " " + capitalize(n.get("ctx_b").asText());
            qs.add(new Question(hellaswagPreprocess(n.get("activity_label").asText() + ": " + ctx), endings, gold));
        }
        return new MultipleChoice("hellaswag", "commonsense", qs);
    }

    /**
     * ARC (easy or challenge) as lm-evaluation-harness scores it: "Question: {question}\nAnswer:", the
     * choices' texts, gold = the index of answerKey among the choices' labels. Reads the Hugging Face
     * layout ({"question", "choices": {"text", "label"}, "answerKey"}) and AI2's original one
     * ({"question": {"stem", "choices": [{"text", "label"}]}, "answerKey"}).
     */
    public static MultipleChoice arc(String name, Path jsonl) throws IOException {
        List<Question> qs = new ArrayList<>();
        for (var e : jsonLines(jsonl)) {
            JsonNode n = e.getValue();
            String where = jsonl + ":" + e.getKey();
            String question;
            List<String> texts = new ArrayList<>(), labels = new ArrayList<>();
            if (n.path("question").isTextual() && n.path("choices").isObject()) {
                question = n.get("question").asText();
                for (JsonNode t : n.get("choices").path("text")) texts.add(t.asText());
                for (JsonNode l : n.get("choices").path("label")) labels.add(l.asText());
            } else if (n.path("question").isObject()) {
                question = n.get("question").path("stem").asText();
                for (JsonNode c : n.get("question").path("choices")) {
                    texts.add(c.path("text").asText());
                    labels.add(c.path("label").asText());
                }
            } else {
                throw new IOException(where + ": needs question and choices (Hugging Face or AI2 ARC layout)");
            }
            if (texts.isEmpty() || texts.size() != labels.size()) throw new IOException(where + ": choices need as many labels as texts");
            int gold = labels.indexOf(n.path("answerKey").asText());
            if (gold < 0) throw new IOException(where + ": answerKey '" + n.path("answerKey").asText() + "' is not one of the labels " + labels);
            qs.add(new Question("Question: " + question + "\nAnswer:", texts, gold));
        }
        return new MultipleChoice(name, "science_qa", qs);
    }

    /** The questions, for tests. */
    List<Question> questions() {
        return questions;
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
        return questions.size();
    }

    @Override
    public double chance(String metric) {
        if (!metric.startsWith("acc")) return Double.NaN;
        double c = 0;
        for (Question q : questions) c += 1.0 / q.choices().size();
        return c / questions.size();
    }

    @Override
    public List<Metric> evaluate(LogLikelihood scorer, TextEncoding enc, int limit, Samples.Sink samples) {
        int n = limit > 0 ? Math.min(limit, questions.size()) : questions.size();
        List<LogLikelihood.Request> reqs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Question q = questions.get(i);
            for (String c : q.choices()) reqs.add(LogLikelihood.Request.of(enc, q.prompt(), " " + c));
        }
        LogLikelihood.Score[] s = scorer.score(reqs);
        double[] acc = new double[n], accNorm = new double[n], accBytes = new double[n], goldLogProb = new double[n], brier = new double[n];
        int k = 0;
        for (int i = 0; i < n; i++) {
            Question q = questions.get(i);
            int m = q.choices().size();
            double[] ll = new double[m];
            for (int j = 0; j < m; j++) ll[j] = s[k++].logProb();
            acc[i] = argmaxPer(ll, q.choices(), c -> 1) == q.gold() ? 1 : 0;
            accNorm[i] = argmaxPer(ll, q.choices(), PythonText::length) == q.gold() ? 1 : 0;
            accBytes[i] = argmaxPer(ll, q.choices(), c -> c.getBytes(StandardCharsets.UTF_8).length) == q.gold() ? 1 : 0;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (double x : ll) max = Math.max(max, x);
            for (double x : ll) sum += Math.exp(x - max);
            double b = 0;
            for (int j = 0; j < m; j++) {
                double p = Math.exp(ll[j] - max) / sum;
                b += (p - (j == q.gold() ? 1 : 0)) * (p - (j == q.gold() ? 1 : 0));
            }
            goldLogProb[i] = ll[q.gold()] - max - Math.log(sum);
            brier[i] = b;
            if (samples != null) {
                List<Samples.Args> args = new ArrayList<>();
                for (String c : q.choices()) args.add(new Samples.Args(q.prompt(), " " + c));
                samples.add(Samples.loglikelihood(i, Samples.doc("query", q.prompt(), "choices", q.choices(), "gold", q.gold()), q.gold(), args,
                        java.util.Arrays.asList(s).subList(k - m, k), Samples.metrics("acc", acc[i], "acc_norm", accNorm[i], "acc_bytes", accBytes[i],
                                "gold_logprob", goldLogProb[i], "brier", brier[i])));
            }
        }
        return List.of(Metric.mean("acc", acc), Metric.mean("acc_norm", accNorm), Metric.mean("acc_bytes", accBytes),
                Metric.mean("gold_logprob", goldLogProb), Metric.mean("brier", brier));
    }

    /**
     * The choice with the highest log-likelihood per unit of its own length, the first on a tie (numpy's
     * argmax). The length is the choice's alone, without the space scored before it: the harness divides
     * by len(choice) (acc_norm, in code points) and len(choice.encode()) (acc_bytes).
     */
    static int argmaxPer(double[] ll, List<String> choices, java.util.function.ToIntFunction<String> length) {
        int best = 0;
        for (int j = 1; j < ll.length; j++) {
            if (ll[j] / length.applyAsInt(choices.get(j)) > ll[best] / length.applyAsInt(choices.get(best))) best = j;
        }
        return best;
    }
}
