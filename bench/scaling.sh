#!/usr/bin/env bash
# bench/scaling.sh: data-parallel throughput. Steps per second of one training
# step (global batch fixed, split among the ranks) for 1, 2 and 4 ranks x 1 and
# 2 threads per rank, on
#   - the MLP 784-1024-1024-10, global batch 256, SGD, on synthetic data
#     (2,048 rows made by tdsl itself: `randn` written with `--out`);
#   - the digits convnet (programs/digits_convnet.td, global batch 32, Adam).
# Each line gives steps/s from the mean step time and from the median step,
# and rank 0's mean time a step in `allreduce` (waiting for the other ranks
# included) against the rest of its step (`--timings` of an MPI build).
#
#   cargo build --release --features mpi && bench/scaling.sh
#   STEPS=100 BTL=self,tcp bench/scaling.sh     # loopback TCP instead of shared memory
set -eu
cd "$(dirname "$0")/.."
TDSL=$(realpath "${TDSL:-target/release/tdsl}")
STEPS=${STEPS:-60}
BTL=${BTL:-}
if [ ! -x "$TDSL" ] || ! command -v mpirun >/dev/null; then
    echo "scaling.sh: needs $TDSL (cargo build --release --features mpi) and mpirun" >&2
    exit 1
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
echo "mpi: $(mpirun --version 2>/dev/null | head -n 1); btl: ${BTL:-default}; $STEPS steps a run"

cat > "$WORK/gen.td" <<'EOF'
let x = randn([2048, 784], seed=1);
let y = argmax(randn([2048, 10], seed=2), 1);
run x, y;
EOF
"$TDSL" run "$WORK/gen.td" --out "$WORK" >/dev/null

cat > "$WORK/mlp.td" <<'EOF'
// MLP 784-1024-1024-10; `batch` is the global batch.
dataset train = load(x="x.npy", y="y.npy", batch=256, shuffle=1);
placeholder x: f32[?, 784] = train.x;
placeholder y: i32[?] = train.y;
variable w1: f32[784, 1024] = xavier(seed=3);
variable b1: f32[1024] = 0.0;
variable w2: f32[1024, 1024] = xavier(seed=4);
variable b2: f32[1024] = 0.0;
variable w3: f32[1024, 10] = xavier(seed=5);
variable b3: f32[10] = 0.0;
let h1 = relu(x @ w1 + b1);
let h2 = relu(h1 @ w2 + b2);
let loss = sparse_softmax_cross_entropy(h2 @ w3 + b3, y);
let train_step = minimize(loss, sgd(0.01));
run train_step;
EOF
sed "s|\"\.\./data/|\"$PWD/data/|" programs/digits_convnet.td > "$WORK/convnet.td"

# One run: prints "steps/s, comm ms, compute ms" from rank 0's --timings lines.
measure() {
    local model=$1 ranks=$2 threads=$3 err="$WORK/err"
    local run=("$TDSL" run "$WORK/$model.td" --fetch train_step --steps "$STEPS"
        --timings --threads "$threads")
    if [ "$ranks" = 1 ]; then
        local cpus=0
        [ "$threads" -gt 1 ] && cpus=0-$((threads - 1))
        env -u OMPI_COMM_WORLD_SIZE taskset -c "$cpus" "${run[@]}" >/dev/null 2>"$err"
    else
        local bind=core
        [ $((ranks * threads)) -gt "$(nproc)" ] && bind=none
        [ "$threads" -gt 1 ] && bind=none
        mpirun --allow-run-as-root --oversubscribe -n "$ranks" --bind-to "$bind" \
            ${BTL:+--mca btl "$BTL"} -x RAYON_NUM_THREADS="$threads" \
            "${run[@]}" >/dev/null 2>"$err"
    fi
    local median comm compute
    median=$(sed -n 's/.*step median \([0-9.]*\) ms.*/\1/p' "$err")
    comm=$(sed -n 's/.* \([0-9.]*\) ms a step in allreduce.*/\1/p' "$err")
    compute=$(sed -n 's/.* \([0-9.]*\) ms a step computing.*/\1/p' "$err")
    if [ -z "$median" ] || [ -z "$comm" ]; then
        echo "scaling.sh: $model on $ranks ranks failed:" >&2
        cat "$err" >&2
        exit 1
    fi
    # Steps per second from the mean step (allreduce + compute), and from the median.
    echo "$(echo "1000 / ($comm + $compute)" | bc -l) $(echo "1000 / $median" | bc -l) $comm $compute"
}

for model in mlp convnet; do
    base=""
    for threads in 1 2; do
        for ranks in 1 2 4; do
            read -r rate typical comm compute < <(measure "$model" "$ranks" "$threads")
            [ -z "$base" ] && base=$rate && base_typical=$typical
            printf '%-8s ranks %d x threads %d: %8.2f steps/s (%.2fx 1x1), median step %8.2f steps/s (%.2fx)  allreduce %7.3f ms/step  compute %8.3f ms/step\n' \
                "$model" "$ranks" "$threads" "$rate" "$(echo "$rate / $base" | bc -l)" \
                "$typical" "$(echo "$typical / $base_typical" | bc -l)" "$comm" "$compute"
        done
    done
done
