#!/usr/bin/env bash
# The long fuzz run: scripts/fuzz.sh MINUTES (default 5). See docs/fuzzing.md.
# Environment: TDSL_FUZZ_SEED (default: the current time), TDSL_FUZZ_OUT (default
# target/fuzz-finds), TDSL_FUZZ_TIMEOUT (seconds per command, default 10),
# TDSL_FUZZ_PROFILE=debug to fuzz the debug binary (overflow checks and the IR
# verifier after every pass, slower) instead of the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-5}"
profile="${TDSL_FUZZ_PROFILE:-release}"
if [ "$profile" = release ]; then
    cargo build --release --bin tdsl
    bin="$PWD/target/release/tdsl"
else
    cargo build --bin tdsl
    bin="$PWD/target/debug/tdsl"
fi
export TDSL_BIN="$bin"
export TDSL_FUZZ_MINUTES="$minutes"
export TDSL_FUZZ_SEED="${TDSL_FUZZ_SEED:-$(date +%s)}"
export TDSL_FUZZ_OUT="${TDSL_FUZZ_OUT:-$PWD/target/fuzz-finds}"
echo "seed $TDSL_FUZZ_SEED (set TDSL_FUZZ_SEED to repeat this run)"
cargo test --test fuzz -- --ignored --exact long_campaign --nocapture
