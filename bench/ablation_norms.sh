#!/usr/bin/env bash
# The architecture options of the norms side by side on the built-in data (docs/recipes.md): the same 8-layer
# GPT-2-style model, data order, seed and steps, once per option -- Pre-LN (the baseline), Post-LN, Mix-LN,
# OLMo 2's output norm, LayerNorm Scaling, QK-norm per head and over whole projections, z-loss, RMSNorm, OSP's single-scale RMSNorm and embedding
# projections -- then one comparison report (loss curves, per-layer contribution and kurtosis).
#   bench/ablation_norms.sh OUT_DIR [STEPS]        (ABLATION_VARIANTS="pre output": only those)
set -euo pipefail
out=${1:?usage: bench/ablation_norms.sh OUT_DIR [STEPS]}
steps=${2:-150}
mkdir -p "$out"
out=$(cd "$out" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
cru="$here/crucible"
"$cru" data prepare-default --out "$out/data" --vocab-size 4096
runs=()
for variant in ${ABLATION_VARIANTS:-pre post mix output layer_index qk_norm qk_whole z_loss rmsnorm single_scale embedding_projection}; do
  train_extra=
  case $variant in
    pre|post|mix|output) extra="norm_placement: $variant" ;;
    layer_index) extra="norm_scaling: layer_index" ;;
    qk_norm) extra="qk_norm: head" ;;
    qk_whole) extra="qk_norm: whole" ;;
    z_loss) extra="norm_placement: pre"; train_extra=", z_loss: 1.0e-4" ;;
    rmsnorm) extra="norm: rmsnorm" ;;
    single_scale) extra="norm: single_scale_rmsnorm" ;;
    embedding_projection) extra="embedding_projection: true" ;;
  esac
  cat > "$out/$variant.yaml" <<YAML
out: $variant
model: {style: gpt2, vocab_size: 4096, context_length: 256, n_layer: 8, n_head: 4, d_model: 192, $extra}
data: {train: data/shards/train_*.bin, val: data/shards/val_*.bin, tokenizer: data/shards/tokenizer.json}
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: $steps, seed: 1337$train_extra}
optimizer: {lr: 2.0e-3, weight_decay: 0.1, grad_clip: 1.0}
schedule: {kind: cosine, warmup_steps: 15, min_lr_ratio: 0.1}
eval: {every: 25, batches: 8}
checkpoint: {log_spaced_until: $steps, prune_optimizer: true}
log: {every: 10}
YAML
  if [ ! -f "$out/$variant/checkpoints/step-$(printf %07d "$steps")/trainer_state.json" ]; then
    if [ -f "$out/$variant/metrics.jsonl" ]; then "$cru" train --resume "$out/$variant"; else "$cru" train --config "$out/$variant.yaml"; fi
  fi
  runs+=("$out/$variant")
done
"$cru" compare "${runs[@]}" --out "$out/compare"
