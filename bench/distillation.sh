#!/usr/bin/env bash
# SALT at laptop scale (docs/recipes.md, "Distillation"): the 8-layer GPT-2-style model of bench/growth.sh
# (d 192, 300 steps of 4,096 tokens, lr 2e-3, cosine) trained from scratch, against the same model taught
# for its first 20% of steps by a 2-layer model of the same width trained on the same data (weight 0.5,
# temperature 1), and with SALT_DS's selection (rows whose teacher loss lies between its 0.5 and 0.9
# quantiles). Same seed and data order for all. Given the OUT_DIR of bench/growth.sh, its from-scratch
# run is reused (the same config).
#   bench/distillation.sh OUT_DIR [STEPS] [TEACHER_STEPS]
# SEED (default 1337) seeds the student runs (the teacher keeps seed 7); over seeds, one OUT_DIR per seed,
# e.g. SEED=s on bench/growth.sh's OUT/seed-s (its scratch run is this one's), then compare --variant.
set -euo pipefail
out=${1:?usage: bench/distillation.sh OUT_DIR [STEPS] [TEACHER_STEPS]}
steps=${2:-300}
teacher_steps=${3:-300}
seed=${SEED:-1337}
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
big="model: {style: gpt2, vocab_size: 4096, context_length: 256, n_layer: 8, n_head: 4, d_model: 192}"
train scratch "$steps" "$big
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: $steps, seed: $seed}
optimizer: {name: adamw, lr: 2.0e-3, weight_decay: 0.1}
checkpoint: {every: 25, prune_optimizer: true}
$common"
train teacher "$teacher_steps" "model: {style: gpt2, vocab_size: 4096, context_length: 256, n_layer: 2, n_head: 4, d_model: 192}
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: $teacher_steps, seed: 7}
optimizer: {name: adamw, lr: 2.0e-3, weight_decay: 0.1}
checkpoint: {every: 100, prune_optimizer: true}
$common"
ck="$out/teacher/checkpoints/step-$(printf %07d "$teacher_steps")"
until=$((steps / 5))
train salt "$steps" "$big
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: $steps, seed: $seed,
  distill: {teacher: $ck, weight: 0.5, temperature: 1.0, until_step: $until}}
optimizer: {name: adamw, lr: 2.0e-3, weight_decay: 0.1}
checkpoint: {every: 25, prune_optimizer: true}
$common"
train salt_ds "$steps" "$big
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: $steps, seed: $seed,
  distill: {teacher: $ck, weight: 0.5, temperature: 1.0, until_step: $until, select: {low: 0.5, high: 0.9, sample: 512}}}
optimizer: {name: adamw, lr: 2.0e-3, weight_decay: 0.1}
checkpoint: {every: 25, prune_optimizer: true}
$common"
for r in teacher scratch salt salt_ds; do
  printf '%-8s' "$r"
  grep '"val_loss"' "$out/$r/metrics.jsonl" | sed 's/.*"step":\([0-9]*\),.*"val_loss":\([0-9.]*\).*/\1 \2/' \
    | awk '$1 == 25 || $1 == 50 || $1 == 75 || $1 == 100 || $1 == 150 || $1 == 200 || $1 == 250 || $1 == 300 { printf " %s:%s", $1, $2 } END { print "" }'
done
"$cru" compare "$out/scratch" "$out/salt" "$out/salt_ds" --out "$out/compare-distillation"
