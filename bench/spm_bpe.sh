#!/usr/bin/env bash
# The peer of `crucible bench bpe`: sentencepiece's BPE trainer on exactly the same text.
#   ./crucible bench bpe --dump /tmp/bpe.txt      # writes the text it trained on
#   bench/spm_bpe.sh /tmp/bpe.txt 8192 32000      # needs Debian's sentencepiece: apt-get install sentencepiece
# Each document's lines are sentences to spm_train; --max_sentence_length is raised so that none is
# dropped, byte_fallback makes it byte-level like Crucible's BPE, and it uses every core.
set -euo pipefail
text=${1:?usage: bench/spm_bpe.sh TEXT [VOCAB...]}
shift
vocabs=${*:-8192 32000}
command -v spm_train >/dev/null || { echo "spm_train not found: apt-get install sentencepiece" >&2; exit 1; }
for v in $vocabs; do
  start=$(date +%s.%N)
  spm_train --input="$text" --model_prefix="/tmp/spm-bpe-$v" --vocab_size="$v" --model_type=bpe --character_coverage=1.0 \
    --byte_fallback=true --max_sentence_length=1000000 --input_sentence_size=0 --num_threads="$(nproc)" --minloglevel=2 >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "spm_train bpe vocab $v: $(echo "$end - $start" | bc) s on $(nproc) threads"
done
