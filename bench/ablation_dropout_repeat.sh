#!/usr/bin/env bash
# Dropout under repeated data ("To Repeat or Not To Repeat", docs/recipes.md): the 8-layer GPT-2-style model of
# ablation_norms.sh trained for STEPS steps on the first 61,440 training tokens (15 steps' worth: 150 steps are 10
# epochs), with and without dropout, validated on the full validation shards; then one comparison report.
#   bench/ablation_dropout_repeat.sh OUT_DIR [STEPS] [DROPOUT]
set -euo pipefail
out=${1:?usage: bench/ablation_dropout_repeat.sh OUT_DIR [STEPS] [DROPOUT]}
steps=${2:-150}
p=${3:-0.1}
mkdir -p "$out/repeat"
out=$(cd "$out" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
cru="$here/crucible"
"$cru" data prepare-default --out "$out/data" --vocab-size 4096
# the subset: llm.c's layout, a 256-int32 header (magic, version, token count) and uint16 tokens
python3 - "$out/data/shards/train_000000.bin" "$out/repeat/train_000000.bin" <<'PY'
import struct, sys
n = 61440
with open(sys.argv[1], "rb") as f:
    header = list(struct.unpack("<256i", f.read(1024)))
    if header[0] != 20240520 or header[1] != 1 or header[2] < n:
        sys.exit(f"{sys.argv[1]}: not a version-1 llm.c shard of at least {n} tokens")
    header[2] = n
    tokens = f.read(2 * n)
with open(sys.argv[2], "wb") as f:
    f.write(struct.pack("<256i", *header) + tokens)
PY
runs=()
for variant in no_dropout dropout; do
  d=0.0
  [ "$variant" = dropout ] && d=$p
  cat > "$out/$variant.yaml" <<YAML
out: $variant
model: {style: gpt2, vocab_size: 4096, context_length: 256, n_layer: 8, n_head: 4, d_model: 192, dropout: $d}
data: {train: repeat/train_000000.bin, val: data/shards/val_*.bin, tokenizer: data/shards/tokenizer.json}
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: $steps, seed: 1337, dropout_from_step: 0}
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
