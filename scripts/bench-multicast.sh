#!/usr/bin/env bash
# gnunet-service-multicast between two loopback peers: origin->member throughput (msgs/s and
# MiB/s, 1 KiB and 32 KiB messages) and one-way latency, with raw CADET (the Rust cadet
# client) measured in the same run for comparison.
# Usage: scripts/bench-multicast.sh [MSG_BYTES ...]   (default 1024 32768)
# Four runs of each kind, alternating; prints the median and the best of each and the ratio.
# MULTICAST_BENCH_MIB sets the volume per run (default 2 MiB, at least 400 messages; loopback
# links of GNUnet 0.19 sometimes stall for 5 s after ~5.5 MB, and the report counts such
# stalls), MULTICAST_BENCH_ROUNDS the runs of each kind, MULTICAST_BENCH_VERBOSE=1 prints
# per-run details (gaps, CPU seconds per process, CADET drop counters).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --locked -p multicast --bins --examples
exec cargo run --release --locked -p multicast --example bench_service -- "$@"
