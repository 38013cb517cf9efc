#!/usr/bin/env bash
# G_stack at laptop scale (docs/recipes.md, "Growth"): an 8-layer GPT-2-style model (d 192, the model of
# bench/ablation_optimizers.sh) trained from scratch for STEPS steps, against the same model grown x4 from
# a 2-layer one (same width) that used a stated fraction of the same training FLOPs; the grown run gets
# the rest of the FLOPs, continues the small run's data order (continue_data) and starts a fresh optimizer
# and schedule. FLOPs are the trainer's own count (metrics.jsonl "flops": ParamLayout.flopsPerToken per
# token, attention included), so the comparison is at equal total training FLOPs, the small model's included.
# A control: the 2-layer model alone for the whole budget.
#   bench/growth.sh OUT_DIR [STEPS] [FRACTIONS]     e.g. bench/growth.sh /tmp/growth 300 "0.1 0.25"
# SEED (default 1337) seeds every run: the initialisations and the data order; one OUT_DIR per seed.
set -euo pipefail
out=${1:?usage: bench/growth.sh OUT_DIR [STEPS] [FRACTIONS]}
steps=${2:-300}
seed=${SEED:-1337}
fractions=${3:-0.1 0.25}
mkdir -p "$out"
out=$(cd "$out" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
cru="$here/crucible"
[ -f "$out/data/shards/tokenizer.json" ] || "$cru" data prepare-default --out "$out/data" --vocab-size 4096

common="data: {train: data/shards/train_*.bin, val: data/shards/val_*.bin, tokenizer: data/shards/tokenizer.json}
schedule: {kind: cosine, warmup_steps: 15, min_lr_ratio: 0.1}
eval: {every: 25, batches: 8}
log: {every: 10}"
. "$here/bench/lib.sh"
last_flops() { grep '"flops"' "$1/metrics.jsonl" | tail -1 | sed 's/.*"flops":\([0-9.eE+-]*\).*/\1/'; }

train scratch "$steps" "model: {style: gpt2, vocab_size: 4096, context_length: 256, n_layer: 8, n_head: 4, d_model: 192}
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: $steps, seed: $seed}
optimizer: {name: adamw, lr: 2.0e-3, weight_decay: 0.1}
checkpoint: {every: 25, prune_optimizer: true}
$common"
budget=$(last_flops "$out/scratch")
per_step=$(awk -v b="$budget" -v s="$steps" 'BEGIN { printf "%.6e", b / s }')
# the small model's FLOPs per step, from a 1-step probe run: its steps are as many as fit in a fraction of the budget
train probe 1 "model: {style: gpt2, vocab_size: 4096, context_length: 256, n_layer: 2, n_head: 4, d_model: 192}
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: 1, seed: $seed}
optimizer: {name: adamw, lr: 2.0e-3, weight_decay: 0.1}
checkpoint: {every: 1}
$common"
small_per_step=$(last_flops "$out/probe")
runs=("$out/scratch")
for f in $fractions; do
  small_steps=$(awk -v b="$budget" -v f="$f" -v p="$small_per_step" 'BEGIN { printf "%d", f * b / p + 0.5 }')
  train "small_f$f" "$small_steps" "model: {style: gpt2, vocab_size: 4096, context_length: 256, n_layer: 2, n_head: 4, d_model: 192}
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: $small_steps, seed: $seed}
optimizer: {name: adamw, lr: 2.0e-3, weight_decay: 0.1}
checkpoint: {every: 25, prune_optimizer: true}
$common"
  used=$(last_flops "$out/small_f$f")
  grown_steps=$(awk -v b="$budget" -v u="$used" -v p="$per_step" 'BEGIN { printf "%d", (b - u) / p + 0.5 }')
  ck="$out/small_f$f/checkpoints/step-$(printf %07d "$small_steps")"
  train "grown_f$f" "$grown_steps" "training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: $grown_steps, seed: $seed,
  grow_from: {checkpoint: $ck, factor: 4, continue_data: true}}
optimizer: {name: adamw, lr: 2.0e-3, weight_decay: 0.1}
checkpoint: {every: 25, prune_optimizer: true}
$common"
  echo "fraction $f: small 2-layer $small_steps steps ($used FLOPs), grown 8-layer $grown_steps steps; scratch $steps steps ($budget FLOPs)"
  runs+=("$out/grown_f$f")
done
# a control: the small model alone for the whole budget (does growing beat not growing at all?)
small_all=$(awk -v b="$budget" -v p="$small_per_step" 'BEGIN { printf "%d", b / p + 0.5 }')
train small_all "$small_all" "model: {style: gpt2, vocab_size: 4096, context_length: 256, n_layer: 2, n_head: 4, d_model: 192}
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: $small_all, seed: $seed}
optimizer: {name: adamw, lr: 2.0e-3, weight_decay: 0.1}
checkpoint: {every: 100, prune_optimizer: true}
$common"
runs+=("$out/small_all")
echo "control: the 2-layer model alone, $small_all steps (the whole budget)"
# validation loss against total training FLOPs (the small model's added to its grown run's)
for f in $fractions; do
  used=$(last_flops "$out/small_f$f")
  echo "grown_f$f: total FLOPs, val_loss"
  grep val_loss "$out/grown_f$f/metrics.jsonl" | sed 's/.*"flops":\([0-9.eE+-]*\).*"val_loss":\([0-9.]*\).*/\1 \2/;s/.*"step":0,"tokens":0,"val_loss":\([0-9.]*\).*/0 \1/' \
    | awk -v u="$used" '{ printf "  %.4e %s\n", $1 + u, $2 }'
done
for r in scratch small_all; do
echo "$r: total FLOPs, val_loss"
grep val_loss "$out/$r/metrics.jsonl" | sed 's/.*"flops":\([0-9.eE+-]*\).*"val_loss":\([0-9.]*\).*/\1 \2/;s/.*"step":0,"tokens":0,"val_loss":\([0-9.]*\).*/0 \1/' | awk '{ printf "  %.4e %s\n", $1, $2 }'
done
"$cru" compare "${runs[@]}" --out "$out/compare"
