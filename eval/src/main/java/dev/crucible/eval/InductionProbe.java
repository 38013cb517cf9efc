package dev.crucible.eval;

import dev.crucible.data.tokenizer.TextEncoding;
import dev.crucible.tensor.Rng;
import java.util.ArrayList;
import java.util.List;

/**
 * In-context learning probe: a random sequence of byte tokens is shown twice. The first copy is
 * unpredictable; a model that has learned to copy from context (induction heads) predicts the
 * second copy far better. induction_gain = mean loss per token on the first copy minus on the
 * second (nats; 0 = no in-context learning). Needs no data: the sequences come from a fixed seed.
 * Byte tokens (ids 0-255) are valid in every byte-level vocabulary.
 */
public final class InductionProbe implements Task {
    private final int sequences;
    private final long seed;

    public InductionProbe(int sequences, long seed) {
        this.sequences = sequences;
        this.seed = seed;
    }

    @Override
    public String name() {
        return "induction";
    }

    @Override
    public String group() {
        return "in_context_learning";
    }

    @Override
    public int size() {
        return sequences;
    }

    @Override
    public double chance(String metric) {
        return 0;
    }

    @Override
    public List<Metric> evaluate(LogLikelihood scorer, TextEncoding enc, int limit, Samples.Sink samples) {
        int n = limit > 0 ? Math.min(limit, sequences) : sequences;
        int len = Math.max(2, Math.min(100, scorer.window() / 2 - 1));
        Rng rng = new Rng(seed);
        List<LogLikelihood.Request> reqs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] seq = new int[len];
            for (int j = 0; j < len; j++) seq[j] = rng.nextInt(256);
            int[] startThenSeq = new int[len + 1];
            startThenSeq[0] = enc.documentStart();
            System.arraycopy(seq, 0, startThenSeq, 1, len);
            // first copy after the document start; second copy after the document start and the first copy
            reqs.add(new LogLikelihood.Request(new int[] {enc.documentStart()}, seq));
            reqs.add(new LogLikelihood.Request(startThenSeq, seq));
        }
        LogLikelihood.Score[] s = scorer.score(reqs);
        double[] gain = new double[n];
        for (int i = 0; i < n; i++) {
            gain[i] = (s[2 * i + 1].logProb() - s[2 * i].logProb()) / len;
            if (samples != null) { // the sequence is random token ids, logged by its length rather than as text
                samples.add(Samples.loglikelihood(i, Samples.doc("sequence_tokens", len, "seed", seed, "index", i), null,
                        List.of(new Samples.Args("<doc start>", "sequence"), new Samples.Args("<doc start> sequence", "sequence")), List.of(s[2 * i], s[2 * i + 1]),
                        Samples.metrics("induction_gain", gain[i])));
            }
        }
        return List.of(Metric.mean("induction_gain", gain));
    }
}
