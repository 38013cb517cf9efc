#!/usr/bin/env bash
# Each optimizer against AdamW on the built-in data (docs/recipes.md, "Optimizers"): the 8-layer GPT-2-style
# model of bench/ablation_norms.sh, same data order, seed, steps and schedule; each optimizer at three
# to four learning rates (the grid widened where the best was at its edge; the best is the one reported),
# its other keys at their defaults except as said here.
# Matrix optimizers (galore, swan, sinkgd, muon) update the hidden matrices and leave embeddings, norms and
# biases to AdamW at the baseline's lr 2e-3 (with their default weight decay, 0 on the hidden matrices,
# where the AdamW and SPAM runs decay by 0.1). GaLore refreshes its projector every 50 steps (with its
# default, 200, the projector from step 1 would be the only one); SPAM keeps its defaults (first momentum
# reset at step 500, so here it is Adam with spike clipping from step 20). Two AdamW controls: lr 5e-4, and
# lr 2e-3 with the hidden matrices alone at 5e-4 (as the matrix optimizers' runs keep the rest at 2e-3).
#   bench/ablation_optimizers.sh OUT_DIR [STEPS]
set -euo pipefail
out=${1:?usage: bench/ablation_optimizers.sh OUT_DIR [STEPS]}
steps=${2:-150}
mkdir -p "$out"
out=$(cd "$out" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
cru="$here/crucible"
[ -f "$out/data/shards/tokenizer.json" ] || "$cru" data prepare-default --out "$out/data" --vocab-size 4096
aux="groups: {embedding: {lr: 2.0e-3}, head: {lr: 2.0e-3}, norm: {lr: 2.0e-3}, bias: {lr: 2.0e-3}}"
runs=()
for spec in adamw:1.0e-3 adamw:2.0e-3 adamw:4.0e-3 adamw:5.0e-4 adamw_hidden:5.0e-4 spam:1.0e-3 spam:2.0e-3 spam:4.0e-3 \
            muon:5.0e-3 muon:1.0e-2 muon:2.0e-2 muon:4.0e-2 galore:2.5e-3 galore:5.0e-3 galore:1.0e-2 galore:2.0e-2 \
            swan:1.0e-3 swan:3.0e-3 swan:1.0e-2 swan:3.0e-2 swan:1.0e-1 sinkgd:3.0e-5 sinkgd:1.0e-4 sinkgd:3.0e-4 sinkgd:1.0e-3 sinkgd:3.0e-3 sinkgd:1.0e-2; do
  name=${spec%%:*}
  lr=${spec#*:}
  case $name in
    adamw) opt="{name: adamw, lr: $lr, weight_decay: 0.1}" ;;
    adamw_hidden) opt="{name: adamw, lr: 2.0e-3, weight_decay: 0.1, groups: {hidden_matrix: {lr: $lr}}}" ;; # a control: only the hidden matrices slower
    spam) opt="{name: spam, lr: $lr, weight_decay: 0.1}" ;;
    galore) opt="{name: galore, lr: $lr, update_gap: 50, $aux}" ;;
    *) opt="{name: $name, lr: $lr, $aux}" ;;
  esac
  run="${name}_lr$lr"
  cat > "$out/$run.yaml" <<YAML
out: $run
model: {style: gpt2, vocab_size: 4096, context_length: 256, n_layer: 8, n_head: 4, d_model: 192}
data: {train: data/shards/train_*.bin, val: data/shards/val_*.bin, tokenizer: data/shards/tokenizer.json}
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: $steps, seed: 1337}
optimizer: $opt
schedule: {kind: cosine, warmup_steps: 15, min_lr_ratio: 0.1}
eval: {every: 25, batches: 8}
checkpoint: {log_spaced_until: $steps, prune_optimizer: true}
log: {every: 10}
YAML
  if [ ! -f "$out/$run/checkpoints/step-$(printf %07d "$steps")/trainer_state.json" ]; then
    if [ -f "$out/$run/metrics.jsonl" ]; then "$cru" train --resume "$out/$run"; else "$cru" train --config "$out/$run.yaml"; fi
  fi
  runs+=("$out/$run")
done
"$cru" compare "${runs[@]}" --out "$out/compare"
