package dev.crucible.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.crucible.model.AdamWOptimizer;
import dev.crucible.model.ModelConfig;

/**
 * A training run, as written in run.yaml (keys in snake_case). Every section and key except
 * data.train has a default; unknown keys and bad values are refused with the key's name (see
 * {@link ConfigLoader}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunConfig(String out, ModelSpec model, Data data, Training training, Optimizer optimizer, Schedule schedule,
                        Eval eval, Checkpoint checkpoint, Log log) {

    public RunConfig {
        if (out == null || out.isBlank()) out = "runs/run";
        if (data == null) throw new IllegalArgumentException("data: missing; give at least data.train (token shards)");
        if (training == null) training = new Training(null, null, null, null, null, null, null);
        // With training.init_from the model comes from that directory's config.json (checked when the run starts).
        if (model == null && training.initFrom() == null) model = new ModelSpec("nano", null, null, null, null, null, null, null, null, null, null, null);
        if (optimizer == null) optimizer = new Optimizer(null, null, null, null, null, null, null);
        if (schedule == null) schedule = new Schedule(null, null, null, null);
        if (eval == null) eval = new Eval(null, null);
        if (checkpoint == null) checkpoint = new Checkpoint(null, null, null, null);
        if (log == null) log = new Log(null);
        if (model != null) {
            ModelConfig mc;
            try {
                mc = model.resolve();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("model." + e.getMessage(), e);
            }
            if (training.seqLen() > mc.contextLength()) {
                throw new IllegalArgumentException("training.seq_len: " + training.seqLen() + " exceeds the model's context_length " + mc.contextLength());
            }
        }
    }

    /** The model: a preset, optionally with some fields overridden, or every field given. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ModelSpec(String preset, String style, Integer vocabSize, Integer contextLength, Integer nLayer, Integer nHead,
                            Integer nKvHead, Integer dModel, Integer hiddenSize, Boolean tieEmbeddings, Double normEps,
                            Double ropeTheta) {
        /** model: tiny is short for model: {preset: tiny}. */
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        public static ModelSpec ofPreset(String preset) {
            return new ModelSpec(preset, null, null, null, null, null, null, null, null, null, null, null);
        }

        public ModelSpec {
            if (preset != null && !ModelConfig.PRESETS.containsKey(preset)) {
                throw new IllegalArgumentException("preset: unknown model preset '" + preset + "'; known: "
                        + String.join(", ", ModelConfig.PRESETS.keySet()));
            }
            if (preset == null && (style == null || vocabSize == null || contextLength == null || nLayer == null || nHead == null
                    || dModel == null)) {
                throw new IllegalArgumentException("preset: give a preset, or at least style, vocab_size, context_length, n_layer, n_head and d_model");
            }
        }

        public ModelConfig resolve() {
            ModelConfig.Style st = style != null ? ModelConfig.Style.parse(style) : ModelConfig.preset(preset).style();
            ModelConfig base;
            if (preset != null) {
                base = ModelConfig.preset(preset);
                if (base.style() != st) {
                    int heads = nHead != null ? nHead : base.nHead();
                    base = st == ModelConfig.Style.LLAMA
                            ? ModelConfig.llama(base.vocabSize(), base.contextLength(), base.nLayer(), heads, heads, base.dModel())
                            : ModelConfig.gpt2(base.vocabSize(), base.contextLength(), base.nLayer(), heads, base.dModel());
                }
            } else {
                base = st == ModelConfig.Style.LLAMA
                        ? ModelConfig.llama(vocabSize, contextLength, nLayer, nHead, nKvHead != null ? nKvHead : nHead, dModel)
                        : ModelConfig.gpt2(vocabSize, contextLength, nLayer, nHead, dModel);
            }
            int d = dModel != null ? dModel : base.dModel();
            int heads = nHead != null ? nHead : base.nHead();
            int hidden = hiddenSize != null ? hiddenSize
                    : dModel == null ? base.hiddenSize()
                    : st == ModelConfig.Style.LLAMA ? ModelConfig.llama(1, 1, 1, heads, heads, d).hiddenSize() : 4 * d;
            return new ModelConfig(st, vocabSize != null ? vocabSize : base.vocabSize(),
                    contextLength != null ? contextLength : base.contextLength(), nLayer != null ? nLayer : base.nLayer(), heads,
                    nKvHead != null ? nKvHead : (nHead != null ? heads : base.nKvHead()), d, hidden,
                    tieEmbeddings != null ? tieEmbeddings : base.tieEmbeddings(), normEps != null ? normEps : base.normEps(),
                    ropeTheta != null ? ropeTheta : base.ropeTheta());
        }

        /** Every field spelled out, for the resolved config written into the run directory. */
        public static ModelSpec of(ModelConfig c, String preset) {
            return new ModelSpec(preset, c.style().id(), c.vocabSize(), c.contextLength(), c.nLayer(), c.nHead(), c.nKvHead(),
                    c.dModel(), c.hiddenSize(), c.tieEmbeddings(), c.normEps(), c.ropeTheta());
        }
    }

    /**
     * Token shards: a file, a directory of *.bin, or a glob, relative to the config file; tokenizer:
     * the tokenizer.json the shards were made with, copied into every checkpoint.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Data(String train, String val, String tokenizer) {
        public Data {
            if (train == null || train.isBlank()) throw new IllegalArgumentException("train: missing (token shards to train on)");
        }
    }

    /** init_from: a Hugging Face model directory (e.g. from `crucible import hf`) to continue pre-training instead of a fresh initialisation. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Training(Integer seqLen, Integer microBatch, Integer batchTokens, Integer steps, Long seed, Integer threads, String initFrom) {
        public Training {
            if (seqLen == null) seqLen = 256;
            if (microBatch == null) microBatch = 8;
            if (batchTokens == null) batchTokens = microBatch * seqLen;
            if (steps == null) steps = 1000;
            if (seed == null) seed = 1337L;
            if (threads == null) threads = 0;
            positive("seq_len", seqLen);
            positive("micro_batch", microBatch);
            positive("steps", steps);
            if (threads < 0) throw new IllegalArgumentException("threads: must be >= 0 (0 = all cores), got " + threads);
            int micro = microBatch * seqLen;
            if (batchTokens < micro || batchTokens % micro != 0) {
                throw new IllegalArgumentException("batch_tokens: must be a positive multiple of micro_batch x seq_len = " + micro
                        + " (gradient accumulation), got " + batchTokens);
            }
        }

        public int accumulation() {
            return batchTokens / (microBatch * seqLen);
        }
    }

    public record Optimizer(Double lr, Double beta1, Double beta2, Double eps, Double weightDecay, Boolean decayEmbeddings,
                            Double gradClip) {
        public Optimizer {
            if (lr == null) lr = 6e-4;
            if (beta1 == null) beta1 = 0.9;
            if (beta2 == null) beta2 = 0.95;
            if (eps == null) eps = 1e-8;
            if (weightDecay == null) weightDecay = 0.1;
            if (decayEmbeddings == null) decayEmbeddings = false;
            if (gradClip == null) gradClip = 1.0;
            if (!(lr > 0)) throw new IllegalArgumentException("lr: must be positive, got " + lr);
            new AdamWOptimizer.Settings(beta1, beta2, eps, weightDecay, decayEmbeddings, gradClip); // validates
        }

        public AdamWOptimizer.Settings settings() {
            return new AdamWOptimizer.Settings(beta1, beta2, eps, weightDecay, decayEmbeddings, gradClip);
        }
    }

    /** kind: cosine (warmup, cosine to min), wsd (warmup, stable, decay over the last decay_fraction), constant. */
    public record Schedule(String kind, Integer warmupSteps, Double minLrRatio, Double decayFraction) {
        public Schedule {
            if (kind == null) kind = "cosine";
            if (warmupSteps == null) warmupSteps = 100;
            if (minLrRatio == null) minLrRatio = 0.1;
            if (decayFraction == null) decayFraction = 0.2;
            LrSchedule.Kind.parse(kind);
            if (warmupSteps < 0) throw new IllegalArgumentException("warmup_steps: must be >= 0, got " + warmupSteps);
            if (!(minLrRatio >= 0 && minLrRatio <= 1)) throw new IllegalArgumentException("min_lr_ratio: must be in [0, 1], got " + minLrRatio);
            if (!(decayFraction > 0 && decayFraction <= 1)) throw new IllegalArgumentException("decay_fraction: must be in (0, 1], got " + decayFraction);
        }
    }

    /** Validation loss every N steps over a fixed set of batches (0 = never). */
    public record Eval(Integer every, Integer batches) {
        public Eval {
            if (every == null) every = 100;
            if (batches == null) batches = 20;
            if (every < 0) throw new IllegalArgumentException("every: must be >= 0, got " + every);
            positive("batches", batches);
        }
    }

    /**
     * When to write checkpoints, made for studying a run: at steps 1, 2, 4, ... up to log_spaced_until
     * (early training changes fastest), then every N steps and/or every N tokens, and always at the
     * end. prune_optimizer keeps optimizer state only in the newest checkpoint (resuming needs no
     * more; it is two thirds of a checkpoint's size).
     */
    public record Checkpoint(Integer every, Long everyTokens, Integer logSpacedUntil, Boolean pruneOptimizer) {
        public Checkpoint {
            if (every == null) every = 0;
            if (everyTokens == null) everyTokens = 0L;
            if (logSpacedUntil == null) logSpacedUntil = 0;
            if (pruneOptimizer == null) pruneOptimizer = false;
            if (every < 0) throw new IllegalArgumentException("every: must be >= 0, got " + every);
            if (everyTokens < 0) throw new IllegalArgumentException("every_tokens: must be >= 0, got " + everyTokens);
            if (logSpacedUntil < 0) throw new IllegalArgumentException("log_spaced_until: must be >= 0, got " + logSpacedUntil);
        }

        /** Whether the step that took the run from tokensBefore to tokensAfter ends with a checkpoint. */
        public boolean due(int step, long tokensBefore, long tokensAfter) {
            if (step <= logSpacedUntil && Integer.bitCount(step) == 1) return true;
            if (every > 0 && step % every == 0) return true;
            return everyTokens > 0 && tokensAfter / everyTokens > tokensBefore / everyTokens;
        }
    }

    public record Log(Integer every) {
        public Log {
            if (every == null) every = 10;
            positive("every", every);
        }
    }

    private static void positive(String key, int v) {
        if (v <= 0) throw new IllegalArgumentException(key + ": must be positive, got " + v);
    }
}
