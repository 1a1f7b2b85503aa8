#!/usr/bin/env bash
# CADET throughput between two loopback peers: the Rust client and gnunet-cadet in one run.
# Usage: scripts/bench-cadet.sh [MSG_BYTES ...]   (default 1024 16384 60000)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
exec cargo run --release --locked -p gnunet-service --example cadet_bench -- "$@"
