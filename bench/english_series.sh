#!/usr/bin/env bash
# A checkpoint series on English text, to see BLiMP and bits per byte move over training (docs/capabilities.md):
# WikiText-2 (the PyTorch examples' valid + test split, 2.4 MB) -> BPE 4096 -> a 4.3M GPT-2 for 500 steps of
# 4,096 tokens with log-spaced checkpoints -> BLiMP (100 pairs per paradigm) and WikiText bits per byte at every one.
#   bench/english_series.sh ../shared/data OUT_DIR
set -euo pipefail
data=$(cd "${1:?usage: bench/english_series.sh SHARED_DATA OUT}" && pwd)
out=${2:?usage: bench/english_series.sh SHARED_DATA OUT}
mkdir -p "$out"
here=$(cd "$(dirname "$0")/.." && pwd)
cru="$here/crucible"
# one document per article (a line " = Title = " starts one), so the validation split holds whole articles
mkdir -p "$out/articles"
awk 'BEGIN { n = 0 } /^ = [^=].* = $/ { n++ } { f = sprintf("%s/articles/%04d.txt", out, n); print >> f; close(f) }' out="$out" \
  "$data/wikitext2_pytorch_examples/valid.txt" "$data/wikitext2_pytorch_examples/test.txt"
"$cru" tokenizer train --input "$out/articles" --vocab-size 4096 --out "$out/tokenizer.json"
"$cru" data tokenize --tokenizer "$out/tokenizer.json" --input "en=$out/articles" --out "$out/shards" --val-percent 10
cat > "$out/run.yaml" <<YAML
out: run
model: {style: gpt2, vocab_size: 4096, context_length: 256, n_layer: 4, n_head: 4, d_model: 256}
data: {train: shards/train_*.bin, val: shards/val_*.bin, tokenizer: shards/tokenizer.json}
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: 500, seed: 1337}
optimizer: {lr: 2.0e-3, weight_decay: 0.1, grad_clip: 1.0}
schedule: {kind: cosine, warmup_steps: 25, min_lr_ratio: 0.1}
eval: {every: 50, batches: 8}
checkpoint: {log_spaced_until: 500, prune_optimizer: true}
log: {every: 10}
YAML
"$cru" train --config "$out/run.yaml"
"$cru" eval --run "$out/run" --data "$data" --tasks blimp,wikitext --limit 100
"$cru" report "$out/run" --prompt "The " --prompt "In 1990 , the"
