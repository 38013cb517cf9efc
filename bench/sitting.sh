#!/usr/bin/env bash
# One benchmark sitting: Crucible and its peers interleaved on the same machine, each preset twice,
# so that drifting load on a shared host affects both sides alike. Prints the JSON line of every run.
#   bench/sitting.sh [rounds]      (needs /usr/bin/python3 with torch and numpy: apt-get install python3-torch libopenblas0-pthread)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
peer=../shared/bench/torch_train_step.py
export OMP_WAIT_POLICY=PASSIVE
for r in $(seq "$rounds"); do
  for preset in tiny tiny-llama gpt2-small; do
    ./crucible bench train --model "$preset" --steps 10 --warmup 3 --json 2>/dev/null | tail -n 1
    case $preset in
      tiny-llama) /usr/bin/python3 "$peer" --style llama --vocab 8192 --layers 6 --heads 6 --dim 384 --batch 8 --seq 256 | tail -n 1 ;;
      *) /usr/bin/python3 "$peer" --preset "$preset" | tail -n 1 ;;
    esac
  done
  ./crucible bench matmul --model tiny --json 2>/dev/null | tail -n 1
  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/openblas_matmul.py --model tiny | tail -n 1
done
