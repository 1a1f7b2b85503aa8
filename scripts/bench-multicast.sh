#!/usr/bin/env bash
# gnunet-service-multicast between two loopback peers: origin->member throughput (msgs/s and
# MiB/s, 1 KiB and 32 KiB messages) and one-way latency, with raw CADET (the Rust cadet
# client) measured in the same run for comparison.
# Usage: scripts/bench-multicast.sh [MSG_BYTES ...]   (default 1024 32768)
# MULTICAST_BENCH_MIB sets the volume per run (default 2; loopback CADET in GNUnet 0.19 may
# stall for seconds after ~5.5 MB, so larger runs measure the stalls too).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --locked -p multicast --bins --examples
exec cargo run --release --locked -p multicast --example bench_service -- "$@"
