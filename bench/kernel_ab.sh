#!/usr/bin/env bash
# Kernels of two or more builds side by side in one JVM (bench/kernel_ab/): tiny's GEMM shapes, gpt2-small's
# 256-row ones, a symmetric product, Muon's Newton–Schulz, decoding's attention, one layer of training's attention, a layer's forward
# with its bias, one layer of scoring's attention on short rows and one of training's at 4,096 positions, the builds alternated workload by workload, so that the host's drift falls on all of them alike. A revision is anything git names (a commit, a branch, HEAD); "." is the working tree.
#   bench/kernel_ab.sh [-r ROUNDS] REV_A REV_B [REV...]
# Each revision's tensor module is packaged in a temporary worktree (the working tree's own build for ".").
# Run it on an otherwise idle machine: a training run beside it swung the pooled products' medians by up to 1.9x.
# KERNEL_AB_WORKLOADS=9,10 runs only those workloads (the numbers each line of the report starts with; 13, attention at 4,096 positions, takes about half a second a call; 14, the bias gradient, needs a revision from 91f6a96 on; 15-17, workload 4's product taken apart (the kernel alone, the lower triangle, and its mirror, each with B packed beforehand), from 7eb0cf2 on; 18, workload 5 on one worker alone; 19, the GELU MLP activation forward and backward).
# KERNEL_AB_JAVA_OPTS goes to the JVM that runs them (e.g. -XX:UseAVX=2 for the 256-bit path on an AVX-512 machine).
# The workloads call Gemm.multiplySymmetricSerial and NewtonSchulz(gemm, worker): revisions from fbcfd37 (2026-12-01) on;
# the decoding attention workload calls DecodeAttention with per-row caches: from 52e47d9 (the same day) on.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. bin/jdk.sh
crucible_find_jdk
rounds=16
if [ "${1:-}" = "-r" ]; then rounds=$2; shift 2; fi
[ $# -ge 2 ] || { echo "usage: bench/kernel_ab.sh [-r ROUNDS] REV_A REV_B [REV...]" >&2; exit 2; }
work=$(mktemp -d)
trap 'for t in "$work"/tree-*; do [ -d "$t" ] && { git -C "$root" worktree remove --force "$t" >/dev/null 2>&1 || true; }; done; rm -rf "$work"' EXIT
jars=()
i=0
for rev in "$@"; do
  i=$((i + 1))
  if [ "$rev" = "." ]; then tree=$root; else
    tree=$work/tree-$i
    git worktree add --detach --force "$tree" "$rev" >/dev/null
  fi
  (cd "$tree" && bin/mvn25 -o -q package -pl tensor -DskipTests >&2)
  version=$(sed -n '0,/<version>/s:.*<version>\(.*\)</version>.*:\1:p' "$tree/tensor/pom.xml") # the parent's, which the module inherits
  cp "$tree/tensor/target/crucible-tensor-$version.jar" "$work/build-$i.jar"
  dirty=
  if [ "$rev" = "." ] && [ -n "$(git -C "$root" status --porcelain -- tensor)" ]; then dirty=", with uncommitted changes"; fi
  echo "build $i: $rev ($(git -C "$tree" rev-parse --short HEAD)$dirty)" >&2
  jars+=("$work/build-$i.jar")
done
mkdir -p "$work/classes"
if ! "$CRUCIBLE_JAVA_HOME/bin/javac" -nowarn --add-modules jdk.incubator.vector -cp "${jars[0]}" -d "$work/classes" bench/kernel_ab/KernelBench.java 2>"$work/javac.log"; then
  cat "$work/javac.log" >&2
  exit 1
fi
"$CRUCIBLE_JAVA_HOME/bin/javac" -d "$work/classes" bench/kernel_ab/KernelAb.java
# the alternator on the class path, each build's jar and KernelBench in a loader of their own
mkdir -p "$work/ab" && mv "$work/classes/KernelAb.class" "$work/ab/"
"$CRUCIBLE_JAVA_HOME/bin/java" ${KERNEL_AB_JAVA_OPTS:-} --add-modules jdk.incubator.vector -cp "$work/ab" KernelAb "$work/classes" "$rounds" "${jars[@]}" 2>&1 | grep -v "^WARNING: Using incubator"
