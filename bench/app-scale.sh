#!/usr/bin/env bash
# The app's own scale (issue 22): SCHEDULES (10,000) active schedules and RUNS (100,000) history
# entries in a throw-away data folder, and the time of a scheduler tick, the dashboard and tray
# read models, next-run computation, history pages and a schedule's last result (median and
# worst of ROUNDS). Prints a Markdown table; record it in BENCHMARKS.md with the machine and the
# date. The test command runs the same program small, to see that it works.
#   bench/app-scale.sh            SCHEDULES=1000 RUNS=10000 ROUNDS=20 bench/app-scale.sh
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
need_rust
say "building the scale program (release)"
cargo build --release --locked -q -p billora-engine --example app_scale
"$ROOT/target/release/examples/app_scale" "${SCHEDULES:-10000}" "${RUNS:-100000}" "${ROUNDS:-10}"
