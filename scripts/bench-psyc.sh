#!/usr/bin/env bash
# gnunet-service-psyc between two loopback peers (master on peer 1, slave on peer 2), with our
# multicast alone measured in the same run: master->slave throughput of 1 KiB messages against
# multicast (with 8 and with 1 fragment in flight) and a raw psyc client keeping 8 containers
# in flight, one-way latency, STATE_GET p50/p99, and how fast a late slave catches up on the
# latest messages of a channel with stored history (history replay with the REMOTE flag).
# Usage: scripts/bench-psyc.sh   (no arguments; the knobs are environment variables)
# PSYC_BENCH_MSGS messages per throughput run (default 2000), PSYC_BENCH_ROUNDS rounds of each
# kind (default 3, order rotating), PSYC_BENCH_HISTORY messages stored before the slave joins
# (default 10000), PSYC_BENCH_CATCHUP the latest messages it fetches (default 1000),
# PSYC_BENCH_STATE_GETS timed STATE_GETs (default 1000), PSYC_BENCH_VERBOSE=1 per-run figures
# with CPU seconds per service process.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --locked -p psyc -p multicast -p psycstore --bins
cargo build --release --locked -p psyc --example bench_psyc
exec cargo run --release --locked -p psyc --example bench_psyc
