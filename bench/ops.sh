#!/usr/bin/env bash
# Times the per-op benches (bench/tdsl_{slice,pad,take,pool,losses}.td) with
# two tdsl binaries, alternating BEFORE and AFTER runs, pinned to core 0 with
# one thread; prints each run's step median and the median of the runs.
# Usage: bench/ops.sh BEFORE_BIN AFTER_BIN [RUNS]
set -euo pipefail
before=$1
after=$2
runs=${3:-5}
here=$(dirname "$0")
step_ms() {
  taskset -c 0 "$1" run "$2" --threads 1 --timings 2>&1 >/dev/null |
    sed -n 's/.*step median \([0-9.]*\) ms.*/\1/p'
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
for op in slice pad take pool losses; do
  file="$here/tdsl_$op.td"
  b=() a=()
  for _ in $(seq "$runs"); do
    b+=("$(step_ms "$before" "$file")")
    a+=("$(step_ms "$after" "$file")")
  done
  mb=$(printf '%s\n' "${b[@]}" | median)
  ma=$(printf '%s\n' "${a[@]}" | median)
  echo "$op: before ${b[*]} (median $mb ms); after ${a[*]} (median $ma ms); ratio $(awk -v x="$mb" -v y="$ma" 'BEGIN {printf "%.2f", x / y}')"
done
