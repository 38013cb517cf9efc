package dev.crucible.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crucible.tensor.Check;
import dev.crucible.tensor.WorkerPool;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GeneratorTest {
    static final ModelConfig[] CONFIGS = {ModelConfig.gpt2(29, 20, 2, 2, 16), ModelConfig.llama(29, 20, 2, 4, 2, 16),
                ModelConfig.llamaBuilder(31, 20, 3, 4, 1, 32).intermediateSize(40).tieEmbeddings(false).normEps(1e-5).ropeTheta(1000).build(),
                ModelConfig.gpt2Builder(29, 20, 2, 2, 16).normPlacement(ModelConfig.NormPlacement.POST).build(),
                ModelConfig.llamaBuilder(29, 20, 4, 4, 2, 16).normPlacement(ModelConfig.NormPlacement.MIX).mixLnFraction(0.5).build(),
                ModelConfig.gpt2Builder(29, 20, 3, 2, 16).normScaling(ModelConfig.NormScaling.LAYER_INDEX).build(),
                ModelConfig.llamaBuilder(29, 20, 2, 4, 2, 16).normPlacement(ModelConfig.NormPlacement.OUTPUT).qkNorm(true).tieEmbeddings(false).build(),
                ModelConfig.llamaBuilder(29, 20, 2, 4, 2, 16).normPlacement(ModelConfig.NormPlacement.OUTPUT).qkNorm(ModelConfig.QkNorm.WHOLE).build(),
                ModelConfig.llamaBuilder(29, 20, 2, 4, 2, 16).qkNorm(true).build(),
                ModelConfig.gpt2Builder(29, 20, 2, 2, 16).norm(ModelConfig.Norm.SINGLE_SCALE_RMSNORM).build(),
                ModelConfig.llamaBuilder(29, 20, 2, 4, 2, 16).embeddingProjection(true).build(),
                ModelConfig.gptNeoxBuilder(29, 20, 2, 2, 32).build(),
                ModelConfig.gptNeoxBuilder(29, 20, 2, 2, 32).parallelResidual(false).rotaryFraction(1).build(),
                // biases on some projections only (Qwen2's, Llama's mlp_bias, all), and norms that learn nothing (OLMo's, and in GPT-2 style)
                ModelConfig.llamaBuilder(29, 20, 2, 4, 2, 16).linearBias(ModelConfig.LinearBias.QKV).build(),
                ModelConfig.llamaBuilder(29, 20, 2, 4, 2, 16).linearBias(ModelConfig.LinearBias.MLP).build(),
                ModelConfig.llamaBuilder(29, 20, 2, 4, 2, 16).linearBias(ModelConfig.LinearBias.ALL).build(),
                ModelConfig.llamaBuilder(29, 20, 2, 4, 4, 16).norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM).normEps(1e-5).build(),
                ModelConfig.gpt2Builder(29, 20, 2, 2, 16).norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM).build(),
                ModelConfig.llamaBuilder(29, 20, 2, 4, 2, 16).norm(ModelConfig.Norm.NONPARAMETRIC_LAYERNORM).normEps(1e-5).clipQkv(0.5).build(),
                // heads wider and narrower than d / heads
                ModelConfig.llamaBuilder(29, 20, 2, 4, 2, 16).qkNorm(true).headDim(8).glu(ModelConfig.Glu.GEGLU).build(),
                ModelConfig.llamaBuilder(29, 20, 2, 4, 2, 16).headDim(2).linearBias(ModelConfig.LinearBias.ALL).build(),
                // Gemma's blocks, and an embedding multiplier with learned positions
                ModelConfig.llamaBuilder(29, 20, 2, 4, 1, 16).glu(ModelConfig.Glu.GEGLU).norm(ModelConfig.Norm.OFFSET_RMSNORM)
                        .embeddingMultiplier(ModelConfig.gemmaEmbeddingMultiplier(16)).headDim(8).build(),
                ModelConfig.gpt2Builder(29, 20, 2, 2, 16).embeddingMultiplier(3).build(),
                // Phi's block: one norm for both branches, a bias on the head
                ModelConfig.gptNeoxBuilder(29, 20, 2, 2, 32).sharedNorm(true).headBias(true).rotaryFraction(0.5).gelu(ModelConfig.Gelu.TANH).build(),
                ModelConfig.llamaBuilder(29, 20, 2, 4, 2, 16).logitSoftcap(0.4).build()};

    /** The KV-cache path gives the same next-token distribution as the full forward pass at every position. */
    @Test
    void cachedDecodingMatchesTheFullForward() {
        for (ModelConfig cfg : CONFIGS) {
            int t = 17;
            int[] tok = new SplittableRandom(3).ints(t, 0, cfg.vocabSize()).toArray();
            try (WorkerPool pool = new WorkerPool(2)) {
                Model model = Model.forInference(cfg, 1, t, pool);
                float[] p = ModelGradientTest.initParams(cfg, 4);
                System.arraycopy(p, 0, model.params, 0, p.length);
                model.forward(tok, tok, 1, t);
                float[] full = model.probabilitiesDense();
                Generator g = new Generator(cfg, model.params, t, pool);
                for (int i = 0; i < t; i++) {
                    float[] logits = g.next(tok[i]);
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (float l : logits) max = Math.max(max, l);
                    double[] probs = new double[logits.length];
                    for (int v = 0; v < logits.length; v++) sum += probs[v] = Math.exp(logits[v] - max);
                    for (int v = 0; v < logits.length; v++) probs[v] /= sum;
                    Check.close(cfg.style() + " position " + i, probs, 0, full, i * cfg.vocabSize(), cfg.vocabSize(), 1e-6, 1e-4);
                }
                assertEquals(t, g.position());
            }
        }
    }

    /**
     * Sequences stepped together, joining and leaving at different times (a slot reset and reused,
     * rows in changing order, 1 to 5 at once: the 4-row kernel and its remainder), get the same logits,
     * bit for bit, as each sequence decoded alone.
     */
    @Test
    void sequencesSteppedTogetherDecodeAsTheyDoAlone() {
        List<ModelConfig> configs = new java.util.ArrayList<>(List.of(CONFIGS));
        configs.add(ModelConfig.llamaBuilder(29, 100, 2, 4, 2, 16).build()); // long enough for a slot's cache to grow past 64 positions
        for (ModelConfig cfg : configs) {
            int slots = 5, t = cfg.contextLength(), v = cfg.vocabSize();
            SplittableRandom rng = new SplittableRandom(11);
            int[][] seqs = new int[8][];
            for (int i = 0; i < seqs.length; i++) seqs[i] = rng.ints(i == 0 ? t : 3 + rng.nextInt(t / 4), 0, v).toArray(); // one past the first cache growth
            try (WorkerPool pool = new WorkerPool(2)) {
                Model model = Model.forInference(cfg, 1, t, pool);
                float[] p = ModelGradientTest.initParams(cfg, 4);
                System.arraycopy(p, 0, model.params, 0, p.length);
                float[][][] alone = new float[seqs.length][][];
                Generator single = new Generator(cfg, model.params, t, pool);
                for (int i = 0; i < seqs.length; i++) {
                    single.reset();
                    alone[i] = new float[seqs[i].length][];
                    for (int j = 0; j < seqs[i].length; j++) alone[i][j] = single.next(seqs[i][j]).clone();
                }
                Generator g = new Generator(cfg, model.params, t, slots, pool);
                int[] seqIn = new int[slots], fed = new int[seqs.length];
                java.util.Arrays.fill(seqIn, -1);
                int started = 0, done = 0, widest = 0;
                boolean reused = false;
                while (done < seqs.length) {
                    for (int s = 0; s < slots && started < seqs.length; s++) {
                        if (seqIn[s] < 0 && rng.nextInt(3) > 0) { // sequences join at random steps
                            reused |= g.position(s) > 0;
                            seqIn[s] = started++;
                            g.reset(s);
                        }
                    }
                    int[] order = rng.ints(0, slots).distinct().limit(slots).toArray();
                    int[] slotOf = new int[slots], tokens = new int[slots];
                    int n = 0;
                    for (int s : order) {
                        if (seqIn[s] < 0) continue;
                        slotOf[n] = s;
                        tokens[n++] = seqs[seqIn[s]][fed[seqIn[s]]];
                    }
                    if (n == 0) continue;
                    float[] logits = g.step(slotOf, tokens, n);
                    widest = Math.max(widest, n);
                    for (int r = 0; r < n; r++) {
                        int s = slotOf[r], i = seqIn[s], j = fed[i]++;
                        assertArrayEquals(alone[i][j], java.util.Arrays.copyOfRange(logits, r * v, (r + 1) * v),
                                cfg.style() + ": sequence " + i + " position " + j + " decoded with " + n + " rows");
                        assertEquals(j + 1, g.position(s));
                        if (fed[i] == seqs[i].length) {
                            seqIn[s] = -1;
                            done++;
                        }
                    }
                }
                assertTrue(widest >= 4 && reused, "steps of four rows or more (" + widest + "), and a slot used again (" + reused + ")");
            }
        }
    }

    /**
     * A prompt fed by prefill (in chunks of PREFILL_ROWS, from position 0 and from part-way, into one
     * slot while another holds a sequence) leaves the same cache and gives the same logits, bit for
     * bit, as feeding it token by token.
     */
    @Test
    void prefillDecodesAsStepByStep() {
        List<ModelConfig> configs = new java.util.ArrayList<>(List.of(CONFIGS));
        configs.add(ModelConfig.llamaBuilder(29, 100, 2, 4, 2, 16).build()); // prompts of several chunks
        configs.add(ModelConfig.gpt2(29, 100, 2, 2, 16));
        configs.add(ModelConfig.gptNeoxBuilder(29, 100, 2, 2, 32).build());
        for (ModelConfig cfg : configs) {
            int t = cfg.contextLength(), v = cfg.vocabSize();
            SplittableRandom rng = new SplittableRandom(5);
            int[] a = rng.ints(t, 0, v).toArray(), b = rng.ints(t, 0, v).toArray();
            int split = t / 3, prompt = t - 4; // the prompt fed in two prefills, [0, split) and [split, prompt), then steps
            try (WorkerPool pool = new WorkerPool(2)) {
                float[] p = ModelGradientTest.initParams(cfg, 4);
                Generator single = new Generator(cfg, p, t, pool);
                float[][] aloneA = new float[t][], aloneB = new float[t][];
                for (int j = 0; j < t; j++) aloneA[j] = single.next(a[j]).clone();
                single.reset();
                for (int j = 0; j < t; j++) aloneB[j] = single.next(b[j]).clone();

                Generator g = new Generator(cfg, p, t, 3, pool);
                for (int j = 0; j < 3; j++) g.step(new int[] {0}, new int[] {a[j]}, 1); // slot 0 holds a sequence
                float[] last = g.prefill(1, b, 0, split);
                assertArrayEquals(aloneB[split - 1], java.util.Arrays.copyOf(last, v), cfg + ": after the first prefill");
                last = g.prefill(1, b, split, prompt - split);
                assertArrayEquals(aloneB[prompt - 1], java.util.Arrays.copyOf(last, v), cfg + ": after the second prefill");
                assertEquals(prompt, g.position(1));
                for (int j = prompt, i = 3; j < t; j++, i++) { // both slots step on together
                    float[] logits = g.step(new int[] {1, 0}, new int[] {b[j], a[i]}, 2);
                    assertArrayEquals(aloneB[j], java.util.Arrays.copyOfRange(logits, 0, v), cfg + ": slot 1 position " + j);
                    assertArrayEquals(aloneA[i], java.util.Arrays.copyOfRange(logits, v, 2 * v), cfg + ": slot 0 position " + i);
                }
                org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> g.prefill(1, b, 0, 1), "the slot is full");
            }
        }
    }

    @Test
    void samplerHonoursTemperatureTopKTopPAndSeed() {
        float[] logits = {0f, (float) Math.log(3), (float) Math.log(5), (float) Math.log(2)}; // probabilities .1 .3 .5 .2 (of 1.1)
        assertEquals(2, new Sampler(4, 0, 0, 1, 1).sample(logits), "greedy");
        assertEquals(2, new Sampler(4, 1.0, 1, 1, 1).sample(logits), "top-k 1 is greedy");
        Sampler nucleus = new Sampler(4, 1.0, 0, 0.6, 7);
        for (int i = 0; i < 500; i++) {
            int s = nucleus.sample(logits);
            assertTrue(s == 2 || s == 1, "top-p 0.6 keeps the two likeliest tokens, got " + s);
        }
        Sampler a = new Sampler(4, 1.0, 0, 1, 99), b = new Sampler(4, 1.0, 0, 1, 99);
        int[] counts = new int[4];
        for (int i = 0; i < 20_000; i++) {
            int s = a.sample(logits);
            assertEquals(s, b.sample(logits), "same seed, same tokens");
            counts[s]++;
        }
        double[] expected = {1 / 11.0, 3 / 11.0, 5 / 11.0, 2 / 11.0};
        for (int v = 0; v < 4; v++) assertEquals(expected[v], counts[v] / 20_000.0, 0.015, "frequency of token " + v);
        Sampler top2 = new Sampler(4, 1.0, 2, 1, 5); // the two likeliest, renormalised: .3 and .5 of .8
        int[] kept = new int[4];
        for (int i = 0; i < 20_000; i++) kept[top2.sample(logits)]++;
        assertEquals(0, kept[0] + kept[3], "top-k 2 never draws the two least likely tokens");
        assertEquals(5 / 8.0, kept[2] / 20_000.0, 0.015, "frequency of the likeliest token under top-k 2");
    }

    /**
     * OpenAI's frequency and presence penalties (logit - count·frequency - (count > 0)·presence, counting
     * this sampler's own draws) and logit bias change the logits before the draw, greedy included; the
     * caller's logits are left alone, and adjustments that change nothing draw what no adjustments draw.
     */
    @Test
    void samplerAdjustmentsArePenaltiesOnItsOwnDrawsAndABias() {
        float[] logits = {0f, 1.0f, 1.5f, 0.2f}, before = logits.clone();
        Sampler frequency = new Sampler(4, 0, 0, 1, 1, new Sampler.Adjustments(0.6, 0, new int[0], new float[0]));
        int[] drawn = new int[6];
        for (int i = 0; i < drawn.length; i++) drawn[i] = frequency.sample(logits);
        assertArrayEquals(new int[] {2, 1, 2, 1, 2, 3}, drawn, "1.5 - 0.6 per draw against 1.0 - 0.6 per draw, then 0.2");
        Sampler presence = new Sampler(4, 0, 0, 1, 1, new Sampler.Adjustments(0, 0.6, new int[0], new float[0]));
        for (int i = 0; i < 4; i++) drawn[i] = presence.sample(logits);
        assertArrayEquals(new int[] {2, 1, 2, 2}, java.util.Arrays.copyOf(drawn, 4), "the presence penalty is paid once: 0.9 against 0.4");
        assertArrayEquals(before, logits, "the caller's logits are not changed");
        assertEquals(2, new Sampler(4, 0, 0, 1, 1, new Sampler.Adjustments(0.6, 0, new int[0], new float[0])).sample(logits), "a new sampler: nothing drawn");

        assertEquals(1, new Sampler(4, 0, 0, 1, 1, new Sampler.Adjustments(0, 0, new int[] {2}, new float[] {-100})).sample(logits), "banned: the next best");
        assertEquals(0, new Sampler(4, 0, 0, 1, 1, new Sampler.Adjustments(0, 0, new int[] {0}, new float[] {100})).sample(logits), "forced");
        // sampled: the draws of a plain sampler on logits biased by hand, the same generator; a zero bias the plain draws
        float[] biased = logits.clone();
        biased[3] += 1.25f;
        Sampler bias = new Sampler(4, 0.7, 0, 0.9, 5, new Sampler.Adjustments(0, 0, new int[] {3}, new float[] {1.25f})), byHand = new Sampler(4, 0.7, 0, 0.9, 5);
        Sampler zero = new Sampler(4, 0.7, 0, 0.9, 6, new Sampler.Adjustments(0, 0, new int[] {1}, new float[] {0})), plain = new Sampler(4, 0.7, 0, 0.9, 6);
        for (int i = 0; i < 2_000; i++) {
            assertEquals(byHand.sample(biased), bias.sample(logits), "draw " + i);
            assertEquals(plain.sample(logits), zero.sample(logits), "draw " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> new Sampler(4, 0, 0, 1, 1, new Sampler.Adjustments(0, 0, new int[] {4}, new float[] {1})));
    }

    @Test
    void truncatedSamplingDrawsWhatAFullSortDraws() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int trial = 0; trial < 300; trial++) {
            // a third of the vocabularies large enough that a flat distribution's nucleus outgrows the first sorted prefixes
            int v = 1 + rnd.nextInt(trial % 3 == 0 ? 1200 : 64), topK = rnd.nextBoolean() ? 0 : rnd.nextInt(v + 1);
            double topP = rnd.nextBoolean() ? 1.0 : 0.05 + 0.95 * rnd.nextDouble();
            if ((topK == 0 || topK == v) && topP >= 1) topK = Math.max(1, v - 1); // the untruncated path draws in id order: not this test's
            float[] logits = new float[v];
            for (int i = 0; i < v; i++) logits[i] = rnd.nextInt(6) * 0.5f; // ties, broken by id
            Sampler fast = new Sampler(v, 0.8, topK, topP, trial);
            dev.crucible.tensor.Rng rng = new dev.crucible.tensor.Rng(trial);
            for (int draw = 0; draw < 20; draw++) {
                assertEquals(fullSortSample(logits, 0.8, topK, topP, rng), fast.sample(logits), "v " + v + " top-k " + topK + " top-p " + topP);
            }
        }
    }

    /** The sampler as it was: every token sorted by probability, then top-k, then top-p. */
    private static int fullSortSample(float[] logits, double temperature, int topK, double topP, dev.crucible.tensor.Rng rng) {
        int v = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double[] probs = new double[v];
        double sum = 0;
        for (int i = 0; i < v; i++) sum += probs[i] = Math.exp((logits[i] - max) / temperature);
        long[] order = new long[v];
        for (int i = 0; i < v; i++) order[i] = ((long) Float.floatToIntBits((float) (probs[i] / sum)) << 32) | i;
        java.util.Arrays.sort(order);
        int keep = topK > 0 ? Math.min(topK, v) : v, n = 0;
        double mass = 0;
        while (n < keep) {
            mass += probs[(int) order[v - 1 - n]];
            n++;
            if (mass >= topP * sum) break;
        }
        double r = rng.nextDouble() * mass;
        for (int j = 0; j < n; j++) {
            int id = (int) order[v - 1 - j];
            r -= probs[id];
            if (r < 0) return id;
        }
        return (int) order[v - n];
    }

    @Test
    void topKSelectionLeavesTheLargestInTheTail() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int trial = 0; trial < 260; trial++) {
            int n, k;
            if (trial < 21) { // every k of every n up to 6 first, the smallest cases
                n = smallN(trial);
                k = trial - n * (n - 1) / 2 + 1;
            } else {
                n = 1 + rnd.nextInt(300);
                k = 1 + rnd.nextInt(n);
            }
            long[] a = new long[n];
            // few distinct high words, as probabilities that tie; the low word (an id) keeps keys distinct
            for (int i = 0; i < n; i++) a[i] = ((long) rnd.nextInt(trial % 7 + 1) << 32) | i;
            long[] sorted = a.clone();
            java.util.Arrays.sort(sorted);
            Sampler.selectLargest(a, k);
            long[] tail = java.util.Arrays.copyOfRange(a, n - k, n), head = java.util.Arrays.copyOfRange(a, 0, n - k);
            java.util.Arrays.sort(tail);
            java.util.Arrays.sort(head);
            assertArrayEquals(java.util.Arrays.copyOfRange(sorted, n - k, n), tail, "the k largest, n " + n + " k " + k);
            assertArrayEquals(java.util.Arrays.copyOfRange(sorted, 0, n - k), head, "the rest, n " + n + " k " + k);
        }
    }

    /** The n of the trial-th (n, k) pair in the order (1,1), (2,1), (2,2), (3,1), ...: 21 pairs up to n = 6. */
    private static int smallN(int trial) {
        int n = 1;
        while (n * (n + 1) / 2 <= trial) n++;
        return n;
    }
}
