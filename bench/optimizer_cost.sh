#!/usr/bin/env bash
# Each optimizer's cost beside the training step it belongs to (docs/benchmarks.md): `bench train --optimizer`
# for every optimizer on tiny and gpt2-small, rounds interleaved, so drifting load hits all alike. Prints one
# JSON line per run (optimizer_ms, step_ms_median, optimizer_state_mb, weights_mb, ...).
#   bench/optimizer_cost.sh [rounds] [extra bench train flags, e.g. --accumulation 4]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
shift || true
for r in $(seq "$rounds"); do
  for preset in tiny gpt2-small; do
    for opt in adamw spam galore swan sinkgd muon; do
      ./crucible bench train --model "$preset" --optimizer "$opt" --steps 5 --warmup 2 --json "$@" 2>/dev/null | tail -n 1
    done
  done
done
