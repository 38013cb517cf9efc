package dev.crucible.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.crucible.model.ModelConfig;
import dev.crucible.model.ParamLayout;
import dev.crucible.model.optim.Algorithm;
import dev.crucible.model.optim.GroupedOptimizer;
import dev.crucible.model.optim.Hyperparameters;
import dev.crucible.model.optim.OptimizerRecipe;
import dev.crucible.tensor.WorkerPool;
import java.util.Map;

/**
 * A training run, as written in run.yaml (keys in snake_case). Every section and key except
 * data.train has a default, set in the section's own record (a missing key arrives as null); unknown
 * keys and bad values are refused with the key's name (see {@link ConfigLoader}). A new option is a
 * field of the section that owns it, its default and check there, and its line in examples/demo-llama.yaml
 * (which documents every key).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunConfig(String out, ModelSpec model, Data data, Training training, Optimizer optimizer, Schedule schedule,
                        Eval eval, Checkpoint checkpoint, Log log, Diagnostics diagnostics) {

    public RunConfig {
        if (out == null || out.isBlank()) out = "runs/run";
        if (data == null) throw new IllegalArgumentException("data: missing; give at least data.train (token shards)");
        if (training == null) training = ConfigLoader.defaults(Training.class);
        // With training.init_from or grow_from the model comes from that directory's config.json (checked when the run starts).
        if (model == null && training.startsFrom() == null) model = ModelSpec.ofPreset("nano");
        if (optimizer == null) optimizer = ConfigLoader.defaults(Optimizer.class);
        if (schedule == null) schedule = ConfigLoader.defaults(Schedule.class);
        if (eval == null) eval = ConfigLoader.defaults(Eval.class);
        if (checkpoint == null) checkpoint = ConfigLoader.defaults(Checkpoint.class);
        if (log == null) log = ConfigLoader.defaults(Log.class);
        if (diagnostics == null) diagnostics = ConfigLoader.defaults(Diagnostics.class);
        String misfit = LrSchedule.of(schedule, optimizer.lr(), training.steps()).misfit();
        if (misfit != null) throw new IllegalArgumentException("schedule." + misfit);
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
            try {
                optimizer.recipe().checkAgainst(new ParamLayout(mc));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("optimizer." + e.getMessage(), e);
            }
        }
    }

    public RunConfig withOut(String v) {
        return new RunConfig(v, model, data, training, optimizer, schedule, eval, checkpoint, log, diagnostics);
    }

    public RunConfig withModel(ModelSpec v) {
        return new RunConfig(out, v, data, training, optimizer, schedule, eval, checkpoint, log, diagnostics);
    }

    public RunConfig withData(Data v) {
        return new RunConfig(out, model, v, training, optimizer, schedule, eval, checkpoint, log, diagnostics);
    }

    public RunConfig withTraining(Training v) {
        return new RunConfig(out, model, data, v, optimizer, schedule, eval, checkpoint, log, diagnostics);
    }

    public RunConfig withSchedule(Schedule v) {
        return new RunConfig(out, model, data, training, optimizer, v, eval, checkpoint, log, diagnostics);
    }

    /**
     * The model: a preset, optionally with some fields overridden, or every field given. Field names
     * are Hugging Face's where it has one (intermediate_size is the MLP width; HF's hidden_size is d_model).
     * norm_placement: pre | post | mix (Mix-LN, with mix_ln_fraction of the layers Post-LN, default 0.25) | output
     * (OLMo 2's x + norm(f(x)));
     * norm_scaling: none | layer_index (LayerNorm Scaling); qk_norm: none | head (RMSNorm on each query and key head; true) |
     * whole (over each token's whole query and key projections, OLMo 2's);
     * norm: layernorm | rmsnorm | single_scale_rmsnorm | offset_rmsnorm | nonparametric_layernorm (no gain or bias, the first OLMo's, which in Llama
     * style with norm_eps 1e-5 exports as OLMo; default: the style's); dropout: the drop
     * probability in training on the attention probabilities, each sub-layer's output and the MLP's
     * hidden activation; embedding_projection: learnable orthogonally initialised d×d projections after the
     * embedding and before the LM head (Outlier-Safe Pre-Training's EmbProj), folded away on export.
     * style gpt_neox (Pythia's architecture) takes parallel_residual (default true), rotary_fraction (the share of each
     * head RoPE rotates, default 0.25) and gelu (exact, the default, or tanh; gpt2 style takes gelu too). rope_scaling:
     * Llama 3.1's RoPE frequency scaling (factor, low_freq_factor, high_freq_factor, original_max_position_embeddings, as
     * its config.json has them), for RoPE styles. linear_bias: which projections add a bias, a llama-style option: none
     * (the default), qkv (Qwen2's), attention (q, k, v and o: transformers' attention_bias), mlp (mlp_bias) or all; gpt2 and
     * gpt_neox style have them all. clip_qkv: the query, key and value projections clamped to [-c, c] before QK-norm and RoPE
     * (OLMo 1.7's; absent or 0: none). head_dim: each attention head's width, a llama-style option (absent: d_model / n_head;
     * Qwen3-0.6B has 16 heads of 128 on d_model 1024). glu: the gate of a llama-style MLP, swiglu (the default) or geglu (GELU's
     * tanh form, Gemma's; exports as hidden_act gelu_pytorch_tanh). embedding_multiplier: the token embedding times this before
     * the first block (Gemma's √d_model; default 1). norm: offset_rmsnorm is Gemma's RMSNorm, gain 1 + w with w starting at 0;
     * a llama-style model with it, glu: geglu and embedding_multiplier √d_model (as a float32) exports as Gemma (Pre-LN, no
     * qk_norm, norm_scaling, clip_qkv or rope_scaling, linear_bias none or attention, d_model a multiple of n_head).
     * shared_norm: with parallel_residual, one norm read by both branches (Phi's; default false: one each, GPT-NeoX's);
     * head_bias: the LM head adds a bias (Phi's); a gpt_neox-style model with both exports as Phi (LayerNorm, Pre-LN, no qk_norm,
     * clip_qkv or rope_scaling; norm_scaling, an embedding multiplier or projections fold into it).
     * logit_softcap: the logits capped as c·tanh(logits/c) (Gemma 2's 30, the modded-nanogpt speed runs' 15 or 30; absent or 0:
     * none), in any style; Crucible's own in config.json.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ModelSpec(String preset, String style, Integer vocabSize, Integer contextLength, Integer nLayer, Integer nHead,
                            Integer nKvHead, Integer dModel, Integer intermediateSize, Boolean tieEmbeddings, Double normEps,
                            Double ropeTheta, String normPlacement, Double mixLnFraction, String normScaling, String qkNorm, String norm,
                            Double dropout, Boolean embeddingProjection, Boolean parallelResidual, Double rotaryFraction, String gelu,
                            RopeScaling ropeScaling, String linearBias, Double clipQkv, Integer headDim, String glu,
                            Double embeddingMultiplier, Boolean sharedNorm, Boolean headBias, Double logitSoftcap) {
        /** model: tiny is short for model: {preset: tiny}. */
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        public static ModelSpec ofPreset(String preset) {
            return ConfigLoader.defaults(ModelSpec.class, Map.of("preset", preset));
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
            ModelConfig.Builder m;
            if (preset != null && ModelConfig.preset(preset).style() == st) {
                m = ModelConfig.preset(preset).toBuilder();
            } else { // a preset's shape in the other style, or a model given field by field
                ModelConfig base = preset != null ? ModelConfig.preset(preset) : null;
                int v = base != null ? base.vocabSize() : vocabSize, ctx = base != null ? base.contextLength() : contextLength;
                int layers = base != null ? base.nLayer() : nLayer, d = base != null ? base.dModel() : dModel;
                int heads = nHead != null ? nHead : base.nHead();
                m = ModelConfig.builder(st, v, ctx, layers, heads, nKvHead != null ? nKvHead : heads, d);
            }
            if (nHead != null && nKvHead == null) m.nKvHead(nHead);
            if (dModel != null && intermediateSize == null) {
                m.intermediateSize(st.defaultIntermediateSize(dModel));
            }
            if (vocabSize != null) m.vocabSize(vocabSize);
            if (contextLength != null) m.contextLength(contextLength);
            if (nLayer != null) m.nLayer(nLayer);
            if (nHead != null) m.nHead(nHead);
            if (nKvHead != null) m.nKvHead(nKvHead);
            if (dModel != null) m.dModel(dModel);
            if (intermediateSize != null) m.intermediateSize(intermediateSize);
            if (tieEmbeddings != null) m.tieEmbeddings(tieEmbeddings);
            if (normEps != null) m.normEps(normEps);
            if (ropeTheta != null) m.ropeTheta(ropeTheta);
            if (normPlacement != null) m.normPlacement(ModelConfig.NormPlacement.parse(normPlacement));
            if (mixLnFraction != null) m.mixLnFraction(mixLnFraction);
            if (normScaling != null) m.normScaling(ModelConfig.NormScaling.parse(normScaling));
            if (qkNorm != null) m.qkNorm(ModelConfig.QkNorm.parse(qkNorm));
            if (norm != null) m.norm(ModelConfig.Norm.parse(norm));
            if (dropout != null) m.dropout(dropout);
            if (embeddingProjection != null) m.embeddingProjection(embeddingProjection);
            if (parallelResidual != null) m.parallelResidual(parallelResidual);
            if (rotaryFraction != null) m.rotaryFraction(rotaryFraction);
            if (gelu != null) m.gelu(ModelConfig.Gelu.parse(gelu));
            if (ropeScaling != null) m.ropeScaling(ropeScaling.resolve());
            if (linearBias != null) m.linearBias(ModelConfig.LinearBias.parse(linearBias));
            if (clipQkv != null) m.clipQkv(clipQkv);
            if (headDim != null) m.headDim(headDim);
            if (glu != null) m.glu(ModelConfig.Glu.parse(glu));
            if (embeddingMultiplier != null) m.embeddingMultiplier(embeddingMultiplier);
            if (sharedNorm != null) m.sharedNorm(sharedNorm);
            if (headBias != null) m.headBias(headBias);
            if (logitSoftcap != null) m.logitSoftcap(logitSoftcap);
            return m.build();
        }

        /**
         * Every field spelled out, for the resolved config written into the run directory (the GPT-NeoX fields for
         * that style, gelu where it is not the tanh form, linear_bias where it is not the style's, clip_qkv, head_dim, glu, embedding_multiplier, shared_norm, head_bias and logit_softcap where they are set,
         * so that other runs' files read as they always have).
         */
        public static ModelSpec of(ModelConfig c, String preset) {
            boolean neox = c.style() == ModelConfig.Style.GPT_NEOX;
            return new ModelSpec(preset, c.style().id(), c.vocabSize(), c.contextLength(), c.nLayer(), c.nHead(), c.nKvHead(),
                    c.dModel(), c.intermediateSize(), c.tieEmbeddings(), c.normEps(), c.ropeTheta(), c.normPlacement().id(), c.mixLnFraction(),
                    c.normScaling().id(), c.qkNorm().id(), c.norm().id(), c.dropout(), c.embeddingProjection(), neox ? c.parallelResidual() : null,
                    neox ? c.rotaryFraction() : null, neox || c.gelu() != ModelConfig.Gelu.TANH ? c.gelu().id() : null,
                    c.ropeScaling() == null ? null : RopeScaling.of(c.ropeScaling()), c.linearBias() == c.style().defaultLinearBias() ? null : c.linearBias().id(),
                    c.clipQkv() > 0 ? c.clipQkv() : null, c.headDim() > 0 ? c.headDim() : null, c.glu() == ModelConfig.Glu.SWIGLU ? null : c.glu().id(),
                    c.embeddingMultiplier() == 1 ? null : c.embeddingMultiplier(), c.sharedNorm() ? true : null, c.headBias() ? true : null,
                    c.logitSoftcap() > 0 ? c.logitSoftcap() : null);
        }
    }

    /** Llama 3.1's RoPE frequency scaling (rope_type llama3), its keys as in config.json. */
    public record RopeScaling(Double factor, Double lowFreqFactor, Double highFreqFactor, Integer originalMaxPositionEmbeddings) {
        public RopeScaling {
            resolve(factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings); // its checks, named by key
        }

        private static dev.crucible.tensor.Rope.Llama3Scaling resolve(Double factor, Double low, Double high, Integer positions) {
            String[] keys = {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"};
            Object[] values = {factor, low, high, positions};
            for (int i = 0; i < keys.length; i++) if (values[i] == null) throw new IllegalArgumentException(keys[i] + ": missing (llama3 scaling needs all four)");
            if (!(factor > 0)) throw new IllegalArgumentException("factor: must be positive, got " + factor);
            if (!(low > 0)) throw new IllegalArgumentException("low_freq_factor: must be positive, got " + low);
            if (!(high > low)) throw new IllegalArgumentException("high_freq_factor: must exceed low_freq_factor (" + low + "), got " + high);
            if (positions <= 0) throw new IllegalArgumentException("original_max_position_embeddings: must be positive, got " + positions);
            return new dev.crucible.tensor.Rope.Llama3Scaling(factor, low, high, positions);
        }

        dev.crucible.tensor.Rope.Llama3Scaling resolve() {
            return resolve(factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings);
        }

        static RopeScaling of(dev.crucible.tensor.Rope.Llama3Scaling s) {
            return new RopeScaling(s.factor(), s.lowFreqFactor(), s.highFreqFactor(), s.originalMaxPositions());
        }
    }

    /**
     * Token shards: a file, a directory of *.bin, or a glob, relative to the config file; tokenizer:
     * the tokenizer.json the shards were made with, copied into every checkpoint. Either train (with
     * val, and max_unique_tokens to visit only a seeded subset of that many tokens' windows, epoch after
     * epoch) or sources: a mixture of token-shard sets (continual pre-training's new data and replay),
     * each with a name, train, val, weight and max_unique_tokens of its own; each row of a batch comes
     * from a source drawn by weight from the seed (weight 0: validated, never trained on). val beside sources is an extra validation set;
     * without it, val_loss is the sources' validation losses weighted as the mixture.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Data(String train, String val, String tokenizer, Long maxUniqueTokens, java.util.List<Source> sources) {
        public Data {
            if (sources != null && sources.isEmpty()) sources = null;
            if (sources == null) {
                if (train == null || train.isBlank()) throw new IllegalArgumentException("train: missing (token shards to train on, or sources: a mixture)");
                if (maxUniqueTokens != null && maxUniqueTokens < 0) {
                    throw new IllegalArgumentException("max_unique_tokens: must be >= 0 (0 = all), got " + maxUniqueTokens);
                }
            } else {
                if (train != null) throw new IllegalArgumentException("sources: give train or sources, not both (sources each have their own train)");
                if (maxUniqueTokens != null && maxUniqueTokens != 0) throw new IllegalArgumentException("max_unique_tokens: with sources, set it per source");
                maxUniqueTokens = null;
                if (sources.stream().anyMatch(java.util.Objects::isNull)) throw new IllegalArgumentException("sources: an empty entry");
                sources = java.util.List.copyOf(sources);
                if (sources.stream().noneMatch(x -> x.weight() > 0)) throw new IllegalArgumentException("sources: at least one needs a weight > 0");
                java.util.Set<String> names = new java.util.HashSet<>();
                for (Source src : sources) {
                    if (!names.add(src.name())) throw new IllegalArgumentException("sources: the name '" + src.name() + "' appears twice");
                    if (src.weight() == 0 && src.val() == null) {
                        throw new IllegalArgumentException("sources: '" + src.name() + "' has weight 0 and no val: it would neither train nor validate");
                    }
                }
            }
        }

        /** The training stream's sources: the mixture, or data.train alone as one source named "train". */
        public java.util.List<Source> streams() {
            return sources != null ? sources : java.util.List.of(new Source("train", train, null, 1.0, maxUniqueTokens));
        }

        /** The same data with every path resolved by f. */
        Data withPaths(java.util.function.UnaryOperator<String> f) {
            return new Data(train == null ? null : f.apply(train), val == null ? null : f.apply(val), tokenizer, maxUniqueTokens,
                    sources == null ? null : sources.stream().map(x -> x.withPaths(f)).toList());
        }

        Data withTokenizer(String v) {
            return new Data(train, val, v, maxUniqueTokens, sources);
        }
    }

    /** One source of a data mixture: its token shards (train, and val for its own validation loss), weight and unique-token limit. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Source(String name, String train, String val, Double weight, Long maxUniqueTokens) {
        public Source {
            if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
                throw new IllegalArgumentException("name: each source needs a name of letters, digits, '_', '.' or '-', got " + name);
            }
            if (train == null || train.isBlank()) throw new IllegalArgumentException("train: missing for source '" + name + "'");
            if (weight == null) weight = 1.0;
            if (!(weight >= 0) || weight.isInfinite()) {
                throw new IllegalArgumentException("weight: must be >= 0 (source '" + name + "'; 0 = validation only), got " + weight);
            }
            if (maxUniqueTokens == null) maxUniqueTokens = 0L;
            if (maxUniqueTokens < 0) throw new IllegalArgumentException("max_unique_tokens: must be >= 0 (0 = all; source '" + name + "'), got " + maxUniqueTokens);
        }

        Source withPaths(java.util.function.UnaryOperator<String> f) {
            return new Source(name, f.apply(train), val == null ? null : f.apply(val), weight, maxUniqueTokens);
        }
    }

    /**
     * init_from: a Hugging Face model directory (ours or imported with `crucible import hf`) to continue
     * pre-training instead of a fresh initialisation; grow_from: a model directory whose layer stack
     * is repeated (G_stack, {@link GrowFrom}); at most one of the two. z_loss: PaLM's auxiliary loss
     * weight (1e-4 in PaLM; 0 = off). dropout_from_step: the first step (0-based) at which
     * model.dropout applies.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Training(Integer seqLen, Integer microBatch, Integer batchTokens, Integer steps, Long seed, Integer threads, String initFrom,
                           GrowFrom growFrom, Distill distill, Double zLoss, Integer dropoutFromStep) {
        public Training {
            if (seqLen == null) seqLen = 256;
            if (microBatch == null) microBatch = 8;
            if (batchTokens == null) batchTokens = microBatch * seqLen;
            if (steps == null) steps = 1000;
            if (seed == null) seed = 1337L;
            if (threads == null) threads = 0;
            if (zLoss == null) zLoss = 0.0;
            if (dropoutFromStep == null) dropoutFromStep = 0;
            if (dropoutFromStep < 0) throw new IllegalArgumentException("dropout_from_step: must be >= 0, got " + dropoutFromStep);
            if (!(zLoss >= 0)) throw new IllegalArgumentException("z_loss: must be >= 0 (0 = off), got " + zLoss);
            positive("seq_len", seqLen);
            positive("micro_batch", microBatch);
            positive("steps", steps);
            if (threads < 0) throw new IllegalArgumentException("threads: must be >= 0 (0 = all cores), got " + threads);
            int micro = microBatch * seqLen;
            if (batchTokens < micro || batchTokens % micro != 0) {
                throw new IllegalArgumentException("batch_tokens: must be a positive multiple of micro_batch x seq_len = " + micro
                        + " (gradient accumulation), got " + batchTokens);
            }
            if (initFrom != null && growFrom != null) {
                throw new IllegalArgumentException("grow_from: a run starts from init_from or grows from grow_from, not both");
            }
            if (distill != null) {
                if (distill.untilStep() == null) distill = distill.withUntilStep(Math.max(1, steps / 5));
                if (distill.untilStep() > steps) {
                    throw new IllegalArgumentException("distill.until_step: " + distill.untilStep() + " is beyond training.steps " + steps);
                }
                if (zLoss > 0) throw new IllegalArgumentException("z_loss: not combined with distill (the distillation loss has no z-term); set one of them");
            }
        }

        public int accumulation() {
            return batchTokens / (microBatch * seqLen);
        }

        /** The model directory the run's weights come from (init_from or grow_from's checkpoint), or null for a fresh initialisation. */
        public String startsFrom() {
            return initFrom != null ? initFrom : growFrom != null ? growFrom.checkpoint() : null;
        }

        public Training withStartsFrom(String v) {
            return new Training(seqLen, microBatch, batchTokens, steps, seed, threads, initFrom != null ? v : null,
                    growFrom != null ? growFrom.withCheckpoint(v) : null, distill, zLoss, dropoutFromStep);
        }

        public Training withDistill(Distill v) {
            return new Training(seqLen, microBatch, batchTokens, steps, seed, threads, initFrom, growFrom, v, zLoss, dropoutFromStep);
        }

        public Training withThreads(int v) {
            return new Training(seqLen, microBatch, batchTokens, steps, seed, v, initFrom, growFrom, distill, zLoss, dropoutFromStep);
        }
    }

    /**
     * Distillation from a small model, SALT (Rawat et al. 2024): for the first until_step steps (default:
     * a fifth of training.steps; the paper's 15-20%) the loss is (1 − weight)·CE(labels) +
     * weight·CE(softmax(teacher logits / temperature), student), after it plain cross-entropy. teacher: a
     * model directory (ours or imported) with the run's vocabulary and tokenizer, run inference-only in
     * the same process. select: SALT_DS's data selection by the teacher's loss ({@link Select}).
     */
    public record Distill(String teacher, Double weight, Double temperature, Integer untilStep, Select select) {
        public Distill {
            if (teacher == null || teacher.isBlank()) throw new IllegalArgumentException("teacher: missing (the model directory to distil from)");
            if (weight == null) weight = 0.5;
            if (temperature == null) temperature = 1.0;
            if (!(weight > 0 && weight <= 1)) throw new IllegalArgumentException("weight: must be in (0, 1], got " + weight);
            if (!(temperature > 0)) throw new IllegalArgumentException("temperature: must be > 0, got " + temperature);
            if (untilStep != null && untilStep < 0) throw new IllegalArgumentException("until_step: must be >= 0, got " + untilStep);
        }

        Distill withUntilStep(int v) {
            return new Distill(teacher, weight, temperature, v, select);
        }

        Distill withTeacher(String v) {
            return new Distill(v, weight, temperature, untilStep, select);
        }
    }

    /**
     * SALT_DS: while distilling, train only on rows whose mean token loss under the teacher lies between
     * its low and high quantiles (the paper keeps "challenging yet learnable" sequences; 0.5-0.9 is the
     * spec's starting point), estimated from sample rows of the stream drawn with a seed of their own.
     */
    public record Select(Double low, Double high, Integer sample) {
        public Select {
            if (low == null) low = 0.5;
            if (high == null) high = 0.9;
            if (sample == null) sample = 512;
            if (!(low >= 0 && low < high && high <= 1)) throw new IllegalArgumentException("low, high: quantiles with 0 <= low < high <= 1, got " + low + ", " + high);
            if (sample < 16) throw new IllegalArgumentException("sample: at least 16 rows to estimate the quantiles, got " + sample);
        }
    }

    /**
     * G_stack growth (Du et al. 2024): the model in checkpoint (ours or an imported Hugging Face
     * directory) with its whole layer stack repeated factor times, embeddings, final norm and head
     * copied; a fresh optimizer and schedule. continue_data: when the checkpoint is one of this data's
     * runs (same seed, seq_len and data.train), training continues the data order where the small
     * model stopped, as the paper's loader skips the batches the small model consumed.
     */
    public record GrowFrom(String checkpoint, Integer factor, Boolean continueData) {
        public GrowFrom {
            if (checkpoint == null || checkpoint.isBlank()) throw new IllegalArgumentException("checkpoint: missing (the model directory to grow)");
            if (factor == null) factor = 4;
            if (continueData == null) continueData = false;
            if (factor < 2) throw new IllegalArgumentException("factor: must be >= 2 (copies of the layer stack), got " + factor);
        }

        GrowFrom withCheckpoint(String v) {
            return new GrowFrom(v, factor, continueData);
        }
    }

    /**
     * The optimizer, by name (adamw, spam, galore, swan, sinkgd, muon), with its keys (see
     * {@link Hyperparameters}; a key the optimizer does not read is refused), each unset key at the
     * optimizer's default; groups: per parameter role (hidden_matrix, embedding, head, norm, bias)
     * another optimizer and/or other keys, e.g. {@code groups: {embedding: {name: adamw, lr: 3.0e-3}}}.
     * Matrix optimizers (galore, swan, sinkgd, muon) take the hidden matrices and leave the other roles
     * to AdamW at its defaults. Weight decay applies to hidden matrices and the head unless a group
     * says otherwise. grad_clip: the largest global gradient norm (0 = off), applied by the training
     * step before any optimizer.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Optimizer(String name, Double lr, Double beta1, Double beta2, Double eps, Double weightDecay, Double momentum,
                            Integer nsSteps, String shapeScale, Integer rank, Integer updateGap, Double scale, Double theta,
                            Integer resetInterval, Integer resetWarmup, Integer clipDelay, Integer iterations, Double gradClip,
                            Map<String, Hyperparameters> groups) {
        public Optimizer {
            if (name == null) name = Algorithm.ADAMW.id();
            Algorithm alg;
            try {
                alg = Algorithm.of(name);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("name: " + e.getMessage(), e);
            }
            Hyperparameters d = new Hyperparameters(name, lr, beta1, beta2, eps, weightDecay, momentum, nsSteps, shapeScale, rank,
                    updateGap, scale, theta, resetInterval, resetWarmup, clipDelay, iterations);
            if (groups == null) groups = Map.of();
            groups = new java.util.TreeMap<>(groups);
            OptimizerRecipe.of(d, groups); // checks every key of the section and of the groups
            d = alg.defaults(d).overlay(d); // the written config shows every setting the run used
            lr = d.lr();
            beta1 = d.beta1();
            beta2 = d.beta2();
            eps = d.eps();
            weightDecay = d.weightDecay();
            momentum = d.momentum();
            nsSteps = d.nsSteps();
            shapeScale = d.shapeScale();
            rank = d.rank();
            updateGap = d.updateGap();
            scale = d.scale();
            theta = d.theta();
            resetInterval = d.resetInterval();
            resetWarmup = d.resetWarmup();
            clipDelay = d.clipDelay();
            iterations = d.iterations();
            if (gradClip == null) gradClip = 1.0;
            if (!(gradClip >= 0)) throw new IllegalArgumentException("grad_clip: must be >= 0 (0 = off), got " + gradClip);
        }

        /** Which optimizer updates which role, with which settings. */
        public OptimizerRecipe recipe() {
            return OptimizerRecipe.of(new Hyperparameters(name, lr, beta1, beta2, eps, weightDecay, momentum, nsSteps, shapeScale, rank,
                    updateGap, scale, theta, resetInterval, resetWarmup, clipDelay, iterations), groups);
        }

        /** The optimizer this section describes, over a model's parameters. */
        public GroupedOptimizer create(ParamLayout layout, WorkerPool pool) {
            return recipe().create(layout, pool);
        }
    }

    /**
     * kind: cosine (warmup, cosine to min), wsd (warmup, stable, decay over the last decay_fraction),
     * constant, rewarm (continual pre-training: linear re-warming over warmup_steps, cosine re-decay to
     * min_lr_ratio at the last step) or infinite (warmup, cosine cool-down over cooldown_steps to
     * const_lr_ratio, constant, exponential anneal to min_lr_ratio over the last anneal_steps; by
     * default a tenth and a fifth of training.steps, written out in the run's config.yaml, and taken
     * from there on a resume whose config leaves them out, so that raising the steps on resume
     * lengthens only the constant phase); see {@link LrSchedule}.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Schedule(String kind, Integer warmupSteps, Double minLrRatio, Double decayFraction, Double constLrRatio, Integer cooldownSteps,
                           Integer annealSteps) {
        public Schedule {
            if (kind == null) kind = "cosine";
            if (warmupSteps == null) warmupSteps = 100;
            if (minLrRatio == null) minLrRatio = 0.1;
            if (decayFraction == null) decayFraction = 0.2;
            if (constLrRatio == null) constLrRatio = 0.5;
            LrSchedule.Kind k = LrSchedule.Kind.parse(kind);
            if (warmupSteps < 0) throw new IllegalArgumentException("warmup_steps: must be >= 0, got " + warmupSteps);
            if (!(minLrRatio >= 0 && minLrRatio <= 1)) throw new IllegalArgumentException("min_lr_ratio: must be in [0, 1], got " + minLrRatio);
            if (!(decayFraction > 0 && decayFraction <= 1)) throw new IllegalArgumentException("decay_fraction: must be in (0, 1], got " + decayFraction);
            if (!(constLrRatio > 0 && constLrRatio <= 1)) throw new IllegalArgumentException("const_lr_ratio: must be in (0, 1], got " + constLrRatio);
            if (cooldownSteps != null && cooldownSteps < 0) throw new IllegalArgumentException("cooldown_steps: must be >= 0, got " + cooldownSteps);
            if (annealSteps != null && annealSteps < 1) throw new IllegalArgumentException("anneal_steps: must be >= 1, got " + annealSteps);
            if (k != LrSchedule.Kind.INFINITE && (cooldownSteps != null || annealSteps != null)) {
                throw new IllegalArgumentException((cooldownSteps != null ? "cooldown_steps" : "anneal_steps") + ": a setting of the infinite schedule, not of " + kind);
            }
        }

        /** The infinite schedule's phases in steps, defaults from the run's steps. */
        public Schedule phasesFor(int steps) {
            if (LrSchedule.Kind.parse(kind) != LrSchedule.Kind.INFINITE) return this;
            return new Schedule(kind, warmupSteps, minLrRatio, decayFraction, constLrRatio,
                    cooldownSteps != null ? cooldownSteps : (int) Math.round(0.1 * steps), annealSteps != null ? annealSteps : Math.max(1, (int) Math.round(0.2 * steps)));
        }

        /** The phases this schedule leaves out taken from was (a run's own config), when both are infinite. */
        Schedule phasesFrom(Schedule was) {
            if (LrSchedule.Kind.parse(kind) != LrSchedule.Kind.INFINITE || LrSchedule.Kind.parse(was.kind) != LrSchedule.Kind.INFINITE) return this;
            return new Schedule(kind, warmupSteps, minLrRatio, decayFraction, constLrRatio, cooldownSteps != null ? cooldownSteps : was.cooldownSteps,
                    annealSteps != null ? annealSteps : was.annealSteps);
        }
    }

    /**
     * Validation loss every N steps over a fixed set of batches (0 = never); stop_below ends the run at
     * the first validation whose loss is at or below it (a speedrun's finish line), with a checkpoint there.
     */
    public record Eval(Integer every, Integer batches, Double stopBelow) {
        public Eval {
            if (every == null) every = 100;
            if (batches == null) batches = 20;
            if (every < 0) throw new IllegalArgumentException("every: must be >= 0, got " + every);
            positive("batches", batches);
            if (stopBelow != null && !(stopBelow > 0)) throw new IllegalArgumentException("stop_below: a validation loss > 0 (nats per token), got " + stopBelow);
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

    /**
     * Per-layer diagnostics in diagnostics.jsonl (gradient norm, update-to-weight ratio, angular
     * distance between a layer's input and output, excess kurtosis of its output): at every checkpoint
     * unless at_checkpoints is false, and every N steps (every, 0 = only at checkpoints).
     */
    public record Diagnostics(Boolean atCheckpoints, Integer every) {
        public Diagnostics {
            if (atCheckpoints == null) atCheckpoints = true;
            if (every == null) every = 0;
            if (every < 0) throw new IllegalArgumentException("every: must be >= 0, got " + every);
        }

        /** Whether the step that ends at `step` is diagnosed (checkpoint: whether it ends with one). */
        public boolean due(int step, boolean checkpoint) {
            return checkpoint && atCheckpoints || every > 0 && step % every == 0;
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
