#!/usr/bin/env bash
# Continual pre-training at laptop scale (docs/recipes.md, "Continual pre-training"), after Ibrahim et al.
# 2024: a 4-layer GPT-2-style model (d 192) pre-trained on Java (the built-in corpus's java.base sources),
# then continued on prose (the built-in corpus's 20 Europarl languages) from its last checkpoint, with 0%,
# 5% and 25% replay of Java, each with re-warming (linear to the pre-training peak over warm-up steps, cosine
# re-decay to a tenth) and without (the pre-training's final rate, constant). Every evaluation measures
# both domains (val_loss/java, val_bpb/java, val_loss/prose, val_bpb/prose): forgetting of the old domain,
# the stability gap, and how fast the new one is learnt.
#   bench/continual.sh OUT_DIR [PRETRAIN_STEPS] [CONTINUE_STEPS] [REWARM_STEPS]
set -euo pipefail
out=${1:?usage: bench/continual.sh OUT_DIR [PRETRAIN_STEPS] [CONTINUE_STEPS]}
pre=${2:-300}
cont=${3:-200}
warm=${4:-4}   # re-warming steps (Ibrahim et al.: about 1% of the new steps; 2% here)
mkdir -p "$out"
out=$(cd "$out" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
cru="$here/crucible"
[ -f "$out/data/shards/tokenizer.json" ] || "$cru" data prepare-default --out "$out/data" --vocab-size 4096
tok="$out/data/shards/tokenizer.json"
if [ ! -f "$out/java/domains.json" ]; then
  "$cru" data tokenize --tokenizer "$tok" --input "java=$out/data/clean/java" --out "$out/java"
fi
if [ ! -f "$out/prose/domains.json" ]; then
  inputs=()
  for d in "$out"/data/clean/*/; do [ "$(basename "$d")" = java ] || inputs+=("prose=$d"); done
  "$cru" data tokenize --tokenizer "$tok" --input "${inputs[@]}" --out "$out/prose"
fi
model="model: {style: gpt2, vocab_size: 4096, context_length: 256, n_layer: 4, n_head: 4, d_model: 192}"
. "$here/bench/lib.sh"
train pretrain "$pre" "$model
data: {tokenizer: $tok, sources: [{name: java, train: java/train_*.bin, val: java/val_*.bin, weight: 1},
  {name: prose, train: prose/train_*.bin, val: prose/val_*.bin, weight: 0}]}
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: $pre, seed: 1337}
optimizer: {name: adamw, lr: 2.0e-3, weight_decay: 0.1}
schedule: {kind: cosine, warmup_steps: 15, min_lr_ratio: 0.1}
eval: {every: 25, batches: 8}
checkpoint: {every: 100, prune_optimizer: true}
log: {every: 10}"
ck="$out/pretrain/checkpoints/step-$(printf %07d "$pre")"
runs=()
for replay in 0 0.05 0.25; do
  for sched in rewarm constant; do
    if [ $sched = rewarm ]; then s="{kind: rewarm, warmup_steps: $warm, min_lr_ratio: 0.1}"; lr=2.0e-3; else s="{kind: constant, warmup_steps: 0}"; lr=2.0e-4; fi
    run="continue_replay${replay}_$sched"
    train "$run" "$cont" "data: {tokenizer: $tok, sources: [{name: prose, train: prose/train_*.bin, val: prose/val_*.bin, weight: $(awk -v r=$replay 'BEGIN { print 1 - r }')},
  {name: java, train: java/train_*.bin, val: java/val_*.bin, weight: $replay}]}
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: $cont, seed: 1338, init_from: $ck}
optimizer: {name: adamw, lr: $lr, weight_decay: 0.1}
schedule: $s
eval: {every: 10, batches: 8}
checkpoint: {every: 100, prune_optimizer: true}
log: {every: 10}"
    runs+=("$out/$run")
  done
done
printf '%-32s %10s %10s %10s %10s %10s\n' run java@0 java_max java_end prose@0 prose_end
for r in "${runs[@]}"; do
  grep '"val_bpb/java"' "$r/metrics.jsonl" | sed 's/.*"val_bpb\/prose":\([0-9.]*\).*"val_bpb\/java":\([0-9.]*\).*/\2 \1/' | awk -v n="$(basename "$r")" '
    NR == 1 { j0 = $1; p0 = $2; jmax = $1 } { if ($1 > jmax) jmax = $1; j = $1; p = $2 }
    END { printf "%-32s %10.4f %10.4f %10.4f %10.4f %10.4f\n", n, j0, jmax, j, p0, p }'
done
"$cru" compare "${runs[@]}" --out "$out/compare"
