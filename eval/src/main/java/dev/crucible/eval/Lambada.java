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
import java.util.List;

/**
 * LAMBADA (OpenAI's detokenised test set): predict a passage's last word. As lm-evaluation-harness's
 * lambada_openai, the context is the text before the last space and the continuation is " " plus
 * the last word; acc counts passages whose every continuation token is the model's argmax, and
 * perplexity is exp(−mean log-likelihood of the continuation).
 */
public final class Lambada implements Task {
    record Passage(String context, String target) {}

    private final String name;
    private final List<Passage> passages;

    private Lambada(String name, List<Passage> passages) {
        this.name = name;
        this.passages = passages;
    }

    /** A cloze task of the same kind from (context, target) pairs; the target includes its leading space. */
    public static Lambada cloze(String name, List<String[]> contextAndTarget) {
        if (contextAndTarget.isEmpty()) throw new IllegalArgumentException(name + ": no passages");
        return new Lambada(name, contextAndTarget.stream().map(p -> new Passage(p[0], p[1])).toList());
    }

    /** JSON lines with a "text" field. */
    public static Lambada load(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Passage> out = new ArrayList<>();
        int lineNo = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNo++;
            if (line.isBlank()) continue;
            JsonNode text;
            try {
                text = JsonLine.parse(json, line).get("text");
            } catch (IOException e) {
                throw new IOException(file + ":" + lineNo + ": not a JSON object" + (e instanceof JsonLine.TrailingContent ? " (" + e.getMessage() + ")" : ""), e);
            }
            if (text == null || !text.isTextual()) throw new IOException(file + ":" + lineNo + ": needs a string field text");
            String t = text.asText();
            int sp = t.lastIndexOf(' ');
            if (sp <= 0) throw new IOException(file + ":" + lineNo + ": text has no last word to predict");
            out.add(new Passage(t.substring(0, sp), t.substring(sp)));
        }
        if (out.isEmpty()) throw new IOException(file + ": no passages");
        return new Lambada("lambada_openai", out);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String group() {
        return name.equals("lambada_openai") ? "lambada" : "cloze";
    }

    @Override
    public int size() {
        return passages.size();
    }

    @Override
    public double chance(String metric) {
        return metric.equals("acc") ? 0 : Double.NaN; // perplexity has no guessing baseline
    }

    @Override
    public List<Metric> evaluate(LogLikelihood scorer, TextEncoding enc, int limit, Samples.Sink samples) {
        int n = limit > 0 ? Math.min(limit, passages.size()) : passages.size();
        List<LogLikelihood.Request> reqs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Passage p = passages.get(i);
            reqs.add(LogLikelihood.Request.of(enc, p.context(), p.target()));
        }
        LogLikelihood.Score[] s = scorer.score(reqs);
        double[] acc = new double[n], ll = new double[n];
        for (int i = 0; i < n; i++) {
            acc[i] = s[i].greedy() ? 1 : 0;
            ll[i] = s[i].logProb();
            if (samples != null) {
                Passage p = passages.get(i);
                samples.add(Samples.loglikelihood(i, Samples.doc("text", p.context() + p.target()), p.target(), List.of(new Samples.Args(p.context(), p.target())),
                        List.of(s[i]), Samples.metrics("acc", acc[i], "target_logprob", ll[i])));
            }
        }
        // the target's log-likelihood moves long before greedy matches appear in small models
        return List.of(Metric.mean("acc", acc), Metric.perplexity("perplexity", ll), Metric.mean("target_logprob", ll));
    }
}
