#!/usr/bin/env bash
# bench/digits.sh: the end-to-end comparison on real data. Trains the digits MLP
# and convnet (batch 32, Adam, 10 epochs, then the test accuracy) with tdsl
# (programs/digits_*.td), with Keras `model.fit` and with a `jax.jit` loop
# (bench/digits_peers.py), each timed as the whole process, imports included,
# on one core (`taskset -c 0`). Prints one line per run and the ratios.
#
#   cargo build --release && bench/digits.sh
#   PYTHON=/path/to/python REPEAT=3 bench/digits.sh
set -u
cd "$(dirname "$0")/.."
TDSL=${TDSL:-target/release/tdsl}
PYTHON=${PYTHON:-.venv/bin/python}
REPEAT=${REPEAT:-1}
if [ ! -x "$PYTHON" ]; then PYTHON=$(command -v python3 || true); fi
if [ ! -x "$TDSL" ]; then
    echo "digits.sh: $TDSL not found; run \`cargo build --release\` first" >&2
    exit 1
fi
PIN=""
if command -v taskset >/dev/null; then PIN="taskset -c 0"; fi
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"

# The median wall seconds of REPEAT runs of a command; its last output line is
# kept in the file $LASTFILE (the function runs in a subshell).
LASTFILE=$(mktemp)
trap 'rm -f "$LASTFILE"' EXIT
wall() {
    local times=() out start end
    for _ in $(seq "$REPEAT"); do
        start=$(date +%s.%N)
        out=$("$@" 2>/dev/null | tail -n 1)
        end=$(date +%s.%N)
        times+=("$(echo "$end - $start" | bc -l)")
    done
    echo "$out" > "$LASTFILE"
    printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

for model in mlp convnet; do
    t_tdsl=$(wall $PIN "$TDSL" run "programs/digits_$model.td" --threads 1)
    acc_tdsl=$(sed -n 's/.*accuracy: f32\[\] = \([0-9.e+-]*\).*/\1/p' "$LASTFILE")
    printf 'tdsl  %-8s whole %6.2f s  accuracy %s\n' "$model" "$t_tdsl" "$acc_tdsl"
    for peer in keras jax; do
        t=$(wall $PIN "$PYTHON" bench/digits_peers.py "$peer" "$model")
        printf '%-5s %-8s whole %6.2f s  %s\n' "$peer" "$model" "$t" "$(cat "$LASTFILE")"
        printf '      %-8s tdsl / %s whole process: %.3f (target <= 0.05)\n' \
            "$model" "$peer" "$(echo "$t_tdsl / $t" | bc -l)"
    done
done
