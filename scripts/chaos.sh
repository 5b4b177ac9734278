#!/usr/bin/env bash
# The long chaos run, by hand: ROUNDS (default 100) backups of a ~50 MB database through the
# real `billora-backup`, each hit at a random moment by kill -9 or a cut of its database
# connection, each followed by a restart and the checks (no `running` entry, every success's
# file present and matching its SHA-256, no partial file, no file the history does not know).
# The gate (scripts/test.sh) runs the same test with 3 rounds. Prints the rounds and results;
# BILLORA_CHAOS_SEED=N replays a run.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
need_rust
"$ROOT/scripts/services.sh" start mariadb
BILLORA_CHAOS_ROUNDS="${1:-100}" cargo test --locked -p billora-cli --test cli -- chaos --nocapture 2>&1 |
    grep -E '^chaos:|^test |panicked|round'
