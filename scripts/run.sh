#!/usr/bin/env bash
# Installs what is missing, builds Billora Backup and starts it. Arguments are passed to the
# `billora-backup` command line; without any, it shows the schedules and the commands.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

need_build_deps
need_rust

say "building billora-backup (release)"
cargo build --release --locked -p billora-engine --bin billora-backup
bin="$ROOT/target/release/billora-backup"
if [ $# -eq 0 ]; then
    "$bin" schedule list
    echo >&2
    "$bin" --help >&2
else
    exec "$bin" "$@"
fi
