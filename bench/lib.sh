# Shared by the bench experiment scripts (growth.sh, distillation.sh, continual.sh); source it after
# setting out (the experiment's directory) and cru (the crucible launcher).
#   train NAME STEPS YAML   writes $out/NAME.yaml (out: NAME, then YAML) and trains it unless its last
#                           checkpoint exists; an interrupted run is resumed, so a script run again continues.
train() {
  local run=$1 steps=$2
  printf 'out: %s\n%s\n' "$run" "$3" > "$out/$run.yaml"
  if [ ! -f "$out/$run/checkpoints/step-$(printf %07d "$steps")/trainer_state.json" ]; then
    if [ -f "$out/$run/metrics.jsonl" ]; then "$cru" train --resume "$out/$run"; else "$cru" train --config "$out/$run.yaml"; fi
  fi
}
