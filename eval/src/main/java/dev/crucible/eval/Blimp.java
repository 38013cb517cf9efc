package dev.crucible.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crucible.data.JsonLine;
import dev.crucible.data.tokenizer.TextEncoding;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One BLiMP paradigm: minimal pairs of a grammatical and an ungrammatical sentence. As in the BLiMP
 * paper and lm-evaluation-harness, each sentence is scored by its full log-probability (the sum over
 * its tokens, after the document-start token) and a pair counts as right when the grammatical
 * sentence scores higher. The sentence is scored as it is written, as the harness of late 2022 (0.3, which
 * made Pythia's published BLiMP trajectories) scores it; version 0.4's template puts its target
 * delimiter, a space, before it. Chance is 0.5. A paradigm's group is its phenomenon, one of the paper's
 * twelve (its linguistics_term; the two paradigms marked s-selection are filed, as the paper files
 * them, under argument structure).
 */
public final class Blimp implements Task {
    record Pair(String good, String bad) {}

    private final String name, phenomenon;
    private final List<Pair> pairs;

    private Blimp(String name, String phenomenon, List<Pair> pairs) {
        this.name = name;
        this.phenomenon = phenomenon;
        this.pairs = pairs;
    }

    /** The 67 paradigms (UIDs) in BLiMP's order, each with its phenomenon. */
    public static final Map<String, String> PHENOMENON_OF_PARADIGM = paradigms();

    private static Map<String, String> paradigms() {
        Map<String, String> m = new LinkedHashMap<>();
        try (InputStream in = Blimp.class.getResourceAsStream("blimp-paradigms.txt");
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank()) continue;
                String[] f = line.split("\t");
                m.put(f[0], f[1]);
            }
        } catch (IOException | NullPointerException | ArrayIndexOutOfBoundsException e) {
            throw new IllegalStateException("blimp-paradigms.txt missing from the eval module or malformed", e);
        }
        return Collections.unmodifiableMap(m);
    }

    /** The phenomenon of a paradigm (its UID, with or without the "blimp_" prefix), or null for a paradigm BLiMP does not have. */
    public static String phenomenon(String paradigm) {
        return PHENOMENON_OF_PARADIGM.get(paradigm.startsWith("blimp_") ? paradigm.substring(6) : paradigm);
    }

    /** Minimal pairs from (good, bad) sentences under any name and group, scored as BLiMP is. */
    public static Blimp pairs(String name, String group, List<String[]> goodBad) {
        if (goodBad.isEmpty()) throw new IllegalArgumentException(name + ": no pairs");
        return new Blimp(name, group, goodBad.stream().map(p -> new Pair(p[0], p[1])).toList());
    }

    /** A paradigm file: JSON lines with sentence_good, sentence_bad (and UID, linguistics_term). */
    public static Blimp load(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Pair> pairs = new ArrayList<>();
        String uid = null, term = null;
        int lineNo = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNo++;
            if (line.isBlank()) continue;
            JsonNode n;
            try {
                n = JsonLine.parse(json, line);
            } catch (IOException e) {
                throw new IOException(file + ":" + lineNo + ": not a JSON object" + (e instanceof JsonLine.TrailingContent ? " (" + e.getMessage() + ")" : ""), e);
            }
            JsonNode good = n.get("sentence_good"), bad = n.get("sentence_bad");
            if (good == null || bad == null || !good.isTextual() || !bad.isTextual()) {
                throw new IOException(file + ":" + lineNo + ": needs string fields sentence_good and sentence_bad");
            }
            pairs.add(new Pair(good.asText(), bad.asText()));
            if (uid == null) uid = n.path("UID").asText(null);
            if (term == null) term = n.path("linguistics_term").asText(null);
        }
        if (pairs.isEmpty()) throw new IOException(file + ": no minimal pairs");
        String base = file.getFileName().toString().replaceFirst("\\.jsonl$", ""), paradigm = uid != null ? uid : base;
        String phenomenon = "s-selection".equals(term) ? "argument_structure" : term;
        if (phenomenon == null) phenomenon = phenomenon(paradigm);
        return new Blimp("blimp_" + paradigm, phenomenon == null ? "other" : phenomenon, pairs);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String group() {
        return "blimp_" + phenomenon;
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
    public List<Metric> evaluate(LogLikelihood scorer, TextEncoding enc, int limit, Samples.Sink samples) {
        int n = limit > 0 ? Math.min(limit, pairs.size()) : pairs.size();
        List<LogLikelihood.Request> reqs = new ArrayList<>(2 * n);
        for (int i = 0; i < n; i++) {
            reqs.add(LogLikelihood.Request.of(enc, "", pairs.get(i).good()));
            reqs.add(LogLikelihood.Request.of(enc, "", pairs.get(i).bad()));
        }
        LogLikelihood.Score[] s = scorer.score(reqs);
        double[] acc = new double[n];
        for (int i = 0; i < n; i++) {
            acc[i] = s[2 * i].logProb() > s[2 * i + 1].logProb() ? 1 : 0;
            if (samples != null) {
                Pair p = pairs.get(i);
                samples.add(Samples.loglikelihood(i, Samples.doc("sentence_good", p.good(), "sentence_bad", p.bad()), 0,
                        List.of(new Samples.Args("", p.good()), new Samples.Args("", p.bad())), List.of(s[2 * i], s[2 * i + 1]), Samples.metrics("acc", acc[i])));
            }
        }
        return List.of(Metric.mean("acc", acc));
    }
}
