#!/usr/bin/env bash
# bench/compare.sh: times the speed targets' workloads for tdsl and its peers (JAX,
# TensorFlow, NumPy) in one run and prints each target with the measured ratio. See
# bench/README.md.
#
#   bench/compare.sh                 # build target/release/tdsl first (cargo build --release)
#   PYTHON=/path/to/python bench/compare.sh
#   bench/compare.sh --table FILE    # only the table, from a saved "every measurement" list
#
# Environment: PYTHON (default .venv/bin/python, else python3), TDSL (default
# target/release/tdsl), BANDWIDTH_1 / BANDWIDTH_2 (the machine's memory bandwidth in
# GB/s on one / two cores; by default measured in the run: STREAM's triad from
# `cargo bench --bench bandwidth`), TDSL_ISA (force tdsl's kernel path: avx512, avx2 or
# portable; by default the best the CPU has).
# One core is `taskset -c 0`, two cores `taskset -c 0,1` (unpinned without taskset).
set -u
cd "$(dirname "$0")/.."

TDSL=${TDSL:-target/release/tdsl}
PYTHON=${PYTHON:-.venv/bin/python}
BANDWIDTH_1=${BANDWIDTH_1:-}
BANDWIDTH_2=${BANDWIDTH_2:-}
if [ ! -x "$PYTHON" ]; then PYTHON=$(command -v python3 || true); fi
if [ ! -x "$TDSL" ]; then
    echo "compare.sh: $TDSL not found; run \`cargo build --release\` first" >&2
    exit 1
fi

RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
NOTES=()
MISSING="" # peers that cannot be imported

cores_text() { [ "$1" = 1 ] && echo "1 core" || echo "$1 cores"; }
# record WHO WORKLOAD CORES VALUE
record() { echo "$1 $2 $3 $4" >>"$RESULTS"; }
# lookup WHO WORKLOAD CORES -> the value, or nothing
lookup() { awk -v w="$1" -v k="$2" -v c="$3" '$1==w && $2==k && $3==c {v=$4} END {if (v!="") print v}' "$RESULTS"; }

# pin CORES COMMAND...: run on the first CORES cores.
pin() {
    local cores=$1
    shift
    if command -v taskset >/dev/null; then
        taskset -c "$([ "$cores" = 1 ] && echo 0 || echo 0-$((cores - 1)))" "$@"
    else
        "$@"
    fi
}

# tdsl_step WORKLOAD CORES FILE FETCH STEPS: the median step time from --timings;
# also records the compile phases (build+autodiff+optimise+compile) as compile_WORKLOAD.
tdsl_step() {
    local workload=$1 cores=$2 file=$3 fetch=$4 steps=$5 line
    line=$(pin "$cores" "$TDSL" run "$file" --fetch "$fetch" --steps "$steps" \
        --timings --threads "$cores" 2>&1 >/dev/null | grep '^timings:')
    if [ -z "$line" ]; then
        NOTES+=("tdsl $workload ($(cores_text $cores)) failed")
        return
    fi
    echo "  tdsl $workload, $(cores_text $cores): $line" >&2
    record tdsl "$workload" "$cores" "$(sed -n 's/.*step median \([0-9.]*\) ms.*/\1/p' <<<"$line")"
    record tdsl "compile_$workload" "$cores" "$(awk '{
        for (i = 1; i < NF; i++) if ($i ~ /^(build|autodiff|optimise|compile)$/) t += $(i + 1)
        print t }' <<<"$line")"
    record tdsl "codegen_$workload" "$cores" "$(sed -n 's/.*compile \([0-9.]*\) ms.*/\1/p' <<<"$line")"
}

# peer WHO CORES WORKLOAD...: runs bench/peers.py and records its lines.
peer() {
    local who=$1 cores=$2 out status
    shift 2
    if [ -z "$PYTHON" ] || [[ " $MISSING " == *" $who "* ]]; then return; fi
    echo "  $who, $(cores_text $cores): $*" >&2
    out=$(pin "$cores" "$PYTHON" bench/peers.py "$who" "$cores" "$@" 2>/dev/null)
    status=$?
    if [ $status = 3 ]; then
        NOTES+=("$who cannot be imported with $PYTHON: skipped (reference figures used)")
        MISSING="$MISSING $who"
        return
    fi
    while read -r w k v rest; do
        if [ "$v" = skip ]; then NOTES+=("$w $k ($(cores_text $cores)) skipped: $rest"); continue; fi
        [ -n "$v" ] && record "$w" "$k" "$cores" "$v"
    done <<<"$out"
    if [ $status != 0 ]; then NOTES+=("$who ($(cores_text $cores)) exited with status $status"); fi
}

# wall_ms COMMAND...: the median wall time of 5 runs, in ms.
wall_ms() {
    local i start end
    for i in 1 2 3 4 5; do
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s%N)
        echo $(((end - start) / 1000))
    done | sort -n | sed -n 3p | awk '{print $1 / 1000}'
}

# peak_mib COMMAND...: peak resident memory, in MiB (GNU time's %M is in KiB).
peak_mib() {
    if [ ! -x /usr/bin/time ]; then return; fi
    /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 / 1024}'
}

if [ "${1:-}" = --table ]; then
    grep -E '^ *[a-z-]+ [a-z_]+ [0-9]+ [0-9.]+$' "$2" | sed 's/^ *//' >"$RESULTS"
    PYTHON=skip
fi
[ "$PYTHON" = skip ] || echo "measuring (a few minutes)..." >&2
FC=programs/two_layer_fc.td
CONV=programs/three_layer_convnet.td
if [ "$PYTHON" != skip ]; then
    [ -z "$PYTHON" ] && NOTES+=("no Python found: peers skipped (reference figures used)")
    # This machine's memory bandwidth (STREAM triad and the chain's read pattern,
    # best of 10, on one and two threads), unless given in the environment.
    if [ -z "$BANDWIDTH_1$BANDWIDTH_2" ]; then
        echo "  bandwidth probe: cargo bench --bench bandwidth" >&2
        while read -r what kind threads gbs; do
            [ "$what" = bandwidth ] && record machine "$kind" "$threads" "$gbs"
        done < <(pin 2 cargo bench -q --bench bandwidth 2>/dev/null)
        [ -z "$(lookup machine triad 1)" ] && NOTES+=("bandwidth probe failed: no bandwidth context rows")
    fi
    # Each workload is timed for tdsl and then for its peers, back to back, so a
    # change in the machine's load affects both sides of a ratio alike.
    tdsl_step fc 1 $FC train,loss 200
    peer jax 1 fc
    peer tf 1 fc
    tdsl_step convnet 1 $CONV train,loss 10
    peer jax 1 convnet
    peer tf 1 convnet
    for cores in 1 2; do
        tdsl_step mlp $cores bench/tdsl_mlp.td train,loss 20
        peer jax $cores mlp
        peer tf $cores mlp
        tdsl_step chain $cores bench/tdsl_chain.td s 20
        peer jax $cores chain
        tdsl_step matmul_ms $cores bench/tdsl_matmul.td c 20
        peer numpy $cores matmul
        peer jax $cores matmul
    done
    tdsl_step chain_grad 1 bench/tdsl_chain.td s,da 10
    peer tf-xla 1 chain_grad
    peer jax 1 chain_grad
    record tdsl process_fc 0 "$(wall_ms "$TDSL" run $FC --fetch train,loss --steps 1)"
    if [ -n "$(lookup jax fc 1)" ]; then
        record jax process_fc 0 "$(wall_ms "$PYTHON" bench/peers.py jax 2 oneshot)"
    fi
    record tdsl rss_fc 0 "$(peak_mib "$TDSL" run $FC --fetch train,loss --steps 10)"
    record tdsl rss_chain 0 "$(peak_mib "$TDSL" run bench/tdsl_chain.td --fetch s --steps 3)"
    record tdsl rss_chain_grad 0 "$(peak_mib "$TDSL" run bench/tdsl_chain.td --fetch s,da --steps 3)"
fi

# GFLOP/s of the 1024^3 matmul from tdsl's step time.
for cores in 1 2; do
    ms=$(lookup tdsl matmul_ms $cores)
    [ -n "$ms" ] && [ -z "$(lookup tdsl matmul $cores)" ] && record tdsl matmul $cores "$(awk -v t="$ms" 'BEGIN {print 2 * 1024^3 / t / 1e6}')"
done

# Reference figures (one core of a Zen 3 EPYC; JAX 0.10, TF 2.21), used when a
# peer was not measured; marked "ref".
reference() {
    case "$1 $2 $3" in
    "jax fc 1") echo 1.5 ;; "tf convnet 1") echo 53 ;;
    "tf mlp 1") echo 54 ;; "jax mlp 1") echo 40 ;;
    "jax chain 1") echo 7.0 ;; "tf-xla chain_grad 1") echo 18 ;;
    esac
}
# peer_value WHO WORKLOAD CORES -> "VALUE" measured, or "VALUE ref", or nothing
peer_value() {
    local v
    v=$(lookup "$1" "$2" "$3")
    if [ -n "$v" ]; then echo "$v"; else v=$(reference "$1" "$2" "$3"); [ -n "$v" ] && echo "$v ref"; fi
}

# row TARGET TDSL_TEXT PEER_TEXT RATIO_TEXT GOAL MET
row() { printf '%-34s %-22s %-36s %-8s %-10s %s\n' "$@"; }
fmt() { awk -v v="$1" 'BEGIN {printf (v >= 100 ? "%.0f" : (v >= 10 ? "%.1f" : "%.2f")), v}'; }
# check VALUE OP LIMIT -> yes / no / ?
check() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
    if (v == "") { print "?"; exit }
    ok = (op == "<=") ? v <= l : v >= l; print ok ? "yes" : "NO" }'; }

# ratio_row TARGET WORKLOAD CORES UNIT OP GOAL PEER...: tdsl over the best (lowest
# time, or highest rate for op >=) of the peers.
ratio_row() {
    local target=$1 workload=$2 cores=$3 unit=$4 op=$5 goal=$6 t best="" bestwho="" ref="" who pv
    shift 6
    t=$(lookup tdsl "$workload" "$cores")
    for who in "$@"; do
        pv=$(peer_value "$who" "$workload" "$cores")
        [ -z "$pv" ] && continue
        set -- $pv
        if [ -z "$best" ] || awk -v a="$1" -v b="$best" -v op="$op" \
            'BEGIN {exit !(op == "<=" ? a < b : a > b)}'; then
            best=$1 bestwho=$who ref=${2:-}
        fi
    done
    local ratio=""
    [ -n "$t" ] && [ -n "$best" ] && ratio=$(awk -v a="$t" -v b="$best" 'BEGIN {print a / b}')
    row "$target" "${t:+$(fmt "$t") $unit}" \
        "${best:+$bestwho $(fmt "$best") $unit${ref:+ (ref)}}" \
        "${ratio:+$(fmt "$ratio")x}" "$op ${goal}x" "$(check "$ratio" "$op" "$goal")"
}

# limit_row TARGET VALUE UNIT OP LIMIT [CONTEXT]
limit_row() {
    row "$1" "${2:+$(fmt "$2") $3}" "${6:-}" "" "$4 $5 $3" "$(check "$2" "$4" "$5")"
}

# The CPU and the kernel path tdsl uses on it (TDSL_ISA forces one; by default
# the widest the CPU has: AVX-512F, else AVX2 with FMA, else portable).
cpu_model() {
    awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || uname -m
}
isa_path() {
    if [ -n "${TDSL_ISA:-}" ]; then echo "$TDSL_ISA (forced by TDSL_ISA)"; return; fi
    local flags
    flags=$(awk -F': ' '/^flags/ {print " " $2 " "; exit}' /proc/cpuinfo 2>/dev/null)
    case "$flags" in
    *" avx512f "*) echo "avx512 (detected)" ;;
    *" avx2 "*" fma "* | *" fma "*" avx2 "*) echo "avx2 (detected)" ;;
    *) echo "portable (detected)" ;;
    esac
}
echo
echo "tdsl vs peers, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores; medians; \"ref\" = a reference figure, not measured here"
echo "CPU: $(cpu_model); tdsl kernel path: $(isa_path)"
row TARGET TDSL "PEER (best)" RATIO GOAL MET
ratio_row "FC step, 1 core" fc 1 ms "<=" 0.5 jax
ratio_row "convnet step, 1 core" convnet 1 ms "<=" 0.7 tf
ratio_row "MLP step, 1 core" mlp 1 ms "<=" 0.9 jax tf
ratio_row "MLP step, 2 cores" mlp 2 ms "<=" 0.9 jax tf
CHAIN_BYTES=$((4 * 2048 * 2048 * 4))
for cores in 1 2; do
    ratio_row "chain forward, $(cores_text $cores)" chain $cores ms "<=" 0.8 jax
    # The share of the machine's memory bandwidth the chain reaches, for context.
    t=$(lookup tdsl chain $cores)
    bw=$([ $cores = 1 ] && echo "$BANDWIDTH_1" || echo "$BANDWIDTH_2")
    bw_text="given"
    if [ -z "$bw" ]; then bw=$(lookup machine triad $cores) && bw_text="triad"; fi
    if [ -n "$bw" ]; then
        gbs=$([ -n "$t" ] && awk -v b=$CHAIN_BYTES -v t="$t" 'BEGIN {print b / t / 1e6}')
        frac=$([ -n "$gbs" ] && awk -v g="$gbs" -v bw="$bw" 'BEGIN {print g / bw}')
        row "  share of bandwidth" "${gbs:+$(fmt "$gbs") GB/s}" "$bw_text $(fmt "$bw") GB/s" \
            "${frac:+$(fmt "$frac")}" "(context)" ""
    fi
done
ratio_row "chain value+grad, 1 core" chain_grad 1 ms "<=" 0.4 tf-xla
ratio_row "matmul 1024^3, 1 core" matmul 1 GFLOP/s ">=" 0.9 numpy
ratio_row "matmul 1024^3, 2 cores" matmul 2 GFLOP/s ">=" 0.9 numpy
# compile_row TARGET WORKLOAD LIMIT: tdsl's build+autodiff+optimise+codegen, with
# the codegen part and JAX's compile for context.
compile_row() {
    local cg jc context=""
    cg=$(lookup tdsl "codegen_$2" 1)
    jc=$(lookup jax "compile_$2" 1)
    [ -n "$cg" ] && context="codegen $(fmt "$cg") ms"
    [ -n "$jc" ] && context="${context:+$context; }jax $(fmt "$jc") ms"
    limit_row "$1" "$(lookup tdsl "compile_$2" 1)" ms "<=" "$3" "$context"
}
compile_row "compile FC (source to native)" fc 10
compile_row "compile convnet" convnet 25
jp=$(lookup jax process_fc 0)
limit_row "tdsl run, one FC step, process" "$(lookup tdsl process_fc 0)" ms "<=" 100 "${jp:+jax $(fmt "$jp") ms}"
limit_row "peak RSS, FC run" "$(lookup tdsl rss_fc 0)" MiB "<=" 60
IO_MIB=$(awk -v b=$CHAIN_BYTES 'BEGIN {print b / 1048576}')
for fetch in chain chain_grad; do
    rss=$(lookup tdsl rss_$fetch 0)
    io=$([ $fetch = chain ] && echo "$IO_MIB" || awk -v m="$IO_MIB" 'BEGIN {print m * 5 / 4}')
    ratio=$([ -n "$rss" ] && awk -v r="$rss" -v io="$io" 'BEGIN {print r / io}')
    row "peak RSS, $fetch run" "${rss:+$(fmt "$rss") MiB}" "inputs+outputs $(fmt "$io") MiB" \
        "${ratio:+$(fmt "$ratio")x}" "<= 1.3x" "$(check "$ratio" "<=" 1.3)"
done

echo
echo "every measurement (WHO WORKLOAD CORES VALUE; ms, GFLOP/s for matmul, MiB for rss_*; cores 0 = unpinned):"
sort "$RESULTS" | sed 's/^/  /'
for note in "${NOTES[@]+"${NOTES[@]}"}"; do echo "note: $note"; done
