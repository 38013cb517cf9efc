package dev.crucible.eval;

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
 * One BLiMP paradigm: minimal pairs of a grammatical and an ungrammatical sentence. As in the BLiMP
 * paper and lm-evaluation-harness, each sentence is scored by its full log-probability (the sum over
 * its tokens, after the document-start token) and a pair counts as right when the grammatical
 * sentence scores higher. Chance is 0.5.
 */
public final class Blimp implements Task {
    record Pair(String good, String bad) {}

    private final String name, field;
    private final List<Pair> pairs;

    private Blimp(String name, String field, List<Pair> pairs) {
        this.name = name;
        this.field = field;
        this.pairs = pairs;
    }

    /** A paradigm file: JSON lines with sentence_good, sentence_bad (and UID, field). */
    /** Minimal pairs from (good, bad) sentences under any name and group, scored as BLiMP is. */
    public static Blimp pairs(String name, String group, List<String[]> goodBad) {
        if (goodBad.isEmpty()) throw new IllegalArgumentException(name + ": no pairs");
        return new Blimp(name, group, goodBad.stream().map(p -> new Pair(p[0], p[1])).toList());
    }

    public static Blimp load(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Pair> pairs = new ArrayList<>();
        String uid = null, field = null;
        int lineNo = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNo++;
            if (line.isBlank()) continue;
            JsonNode n;
            try {
                n = json.readTree(line);
            } catch (IOException e) {
                throw new IOException(file + ":" + lineNo + ": not a JSON object", e);
            }
            JsonNode good = n.get("sentence_good"), bad = n.get("sentence_bad");
            if (good == null || bad == null || !good.isTextual() || !bad.isTextual()) {
                throw new IOException(file + ":" + lineNo + ": needs string fields sentence_good and sentence_bad");
            }
            pairs.add(new Pair(good.asText(), bad.asText()));
            if (uid == null) uid = n.path("UID").asText(null);
            if (field == null) field = n.path("field").asText("syntax").replace('/', '_');
        }
        if (pairs.isEmpty()) throw new IOException(file + ": no minimal pairs");
        String base = file.getFileName().toString().replaceFirst("\\.jsonl$", "");
        return new Blimp("blimp_" + (uid != null ? uid : base), field, pairs);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String group() {
        return "blimp_" + field;
    }

    @Override
    public int size() {
        return pairs.size();
    }

    @Override
    public double chance(String metric) {
        return 0.5;
    }

    @Override
    public List<Metric> evaluate(LogLikelihood scorer, TextEncoding enc, int limit) {
        int n = limit > 0 ? Math.min(limit, pairs.size()) : pairs.size();
        int[] start = {enc.documentStart()};
        List<LogLikelihood.Request> reqs = new ArrayList<>(2 * n);
        for (int i = 0; i < n; i++) {
            reqs.add(new LogLikelihood.Request(start, enc.encode(pairs.get(i).good())));
            reqs.add(new LogLikelihood.Request(start, enc.encode(pairs.get(i).bad())));
        }
        LogLikelihood.Score[] s = scorer.score(reqs);
        double[] acc = new double[n];
        for (int i = 0; i < n; i++) acc[i] = s[2 * i].logProb() > s[2 * i + 1].logProb() ? 1 : 0;
        return List.of(Metric.mean("acc", acc));
    }
}
