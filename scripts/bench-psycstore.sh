#!/usr/bin/env bash
# psycstore through the real service binary (release build, started by hand on a temporary
# config): FRAGMENT_STORE throughput with 1 and 16 pipelining clients, STATE_GET latency
# p50/p99, and the same inserts straight into rusqlite as the baseline.
# Usage: scripts/bench-psycstore.sh [FRAGMENTS_PER_RUN]   (default 200000)
#        BENCH_STORE=1 scripts/bench-psycstore.sh   also runs the criterion store-level bench
# To measure a service that is already running (e.g. under ARM), set PSYCSTORE_SOCKET.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo bench --locked -p psycstore --bench ipc -- "$@"
if [ "${BENCH_STORE:-0}" = 1 ]; then
  cargo bench --locked -p psycstore --bench store -- --warm-up-time 1 --measurement-time 3
fi
