#!/usr/bin/env bash
# Runs every fuzz target of the workspace for MINUTES each (default 10), JOBS at a time
# (default 1), and prints one line per target: runs (execs), coverage, and PASS or FAIL.
# Not part of scripts/test.sh: it needs a nightly toolchain and cargo-fuzz
# (`rustup toolchain install nightly && cargo install cargo-fuzz`), and it takes long.
#
# Usage: scripts/fuzz.sh [MINUTES] [JOBS] [TARGET_FILTER]
#   TARGET_FILTER  only targets whose "crate/target" name matches this extended regex
# Findings land in <crate>/fuzz/artifacts/<target>/; logs in $FUZZ_LOG_DIR (default
# /tmp/secushare-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
jobs=${2:-1}
filter=${3:-}
logs=${FUZZ_LOG_DIR:-/tmp/secushare-fuzz}
mkdir -p "$logs"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "needs cargo-fuzz on a nightly toolchain: rustup toolchain install nightly && cargo install cargo-fuzz" >&2
  exit 2
fi

targets=()
for dir in */fuzz psyc/*/fuzz; do
  [ -f "$dir/Cargo.toml" ] || continue
  crate=${dir%/fuzz}
  for t in "$dir"/fuzz_targets/*.rs; do
    name=$(basename "$t" .rs)
    if [ -z "$filter" ] || grep -Eq -- "$filter" <<<"$crate/$name"; then
      targets+=("$crate/$name")
    fi
  done
done
[ ${#targets[@]} -gt 0 ] || { echo "no fuzz target matches '$filter'" >&2; exit 2; }

# Build all first, so the timed runs do not share the cores with the compiler.
for crate in $(printf '%s\n' "${targets[@]}" | cut -d/ -f1 | sort -u); do
  if ! (cd "$crate" && cargo +nightly fuzz build -O >"$logs/build-${crate//\//_}.log" 2>&1); then
    echo "building the fuzz targets of $crate failed: see $logs/build-${crate//\//_}.log" >&2
    exit 1
  fi
done

run_one() { # crate/target
  local crate=${1%/*} name=${1##*/} log
  log="$logs/${crate//\//_}-$name.log"
  if (cd "$crate" && cargo +nightly fuzz run -O "$name" -- \
      -max_total_time=$((minutes * 60)) -print_final_stats=1 >"$log" 2>&1); then
    verdict=PASS
  else
    verdict=FAIL
  fi
  local execs cov
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || true)
  printf '%-32s %s execs=%s cov=%s log=%s\n' "$1" "$verdict" "${execs:-?}" "${cov:-?}" "$log"
  [ "$verdict" = PASS ]
}

failed=0
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
wait || failed=1
exit "$failed"
