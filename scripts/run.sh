#!/usr/bin/env bash
# Installs what is missing, builds Billora Backup and starts it.
#   scripts/run.sh            the desktop app (it stays in the tray when its window is closed)
#   scripts/run.sh ARGS...    the `billora-backup` command line with ARGS (e.g. `schedule list`)
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

need_rust
if [ $# -gt 0 ]; then
    need_build_deps
    say "building billora-backup (release)"
    cargo build --release --locked -p billora-cli --bin billora-backup
    exec "$ROOT/target/release/billora-backup" "$@"
fi

need_app_build_deps
need_ui
say "building the desktop app (release; the first build takes several minutes)"
cargo build --release --locked -p billora-app
say "starting Billora Backup"
exec "$ROOT/target/release/billora-app"
