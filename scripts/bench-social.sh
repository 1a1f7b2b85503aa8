#!/usr/bin/env bash
# gnunet-service-social between two loopback peers (host on peer 1, guest on peer 2), with psyc
# alone measured in the same run (master on peer 1, slave on peer 2): host -> guest throughput
# of 1 KiB messages through social against psyc, and the one-way latency of each.
# Usage: scripts/bench-social.sh   (no arguments; the knobs are environment variables)
# SOCIAL_BENCH_MSGS messages per throughput run (default 2000), SOCIAL_BENCH_ROUNDS rounds of
# each kind (default 3, order alternating), SOCIAL_BENCH_PINGS latency samples (default 200),
# SOCIAL_BENCH_LEVELS privacy levels to compare in the same run (e.g.
# convenient,balanced,strict; the peers are switched while they run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --locked -p social -p psyc -p multicast -p psycstore --bins
cargo build --release --locked -p social --example bench_social
exec cargo run --release --locked -p social --example bench_social
