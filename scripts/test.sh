#!/usr/bin/env bash
# Installs what is missing, starts the services the tests need (a MariaDB server on loopback,
# small file systems for fault tests), and runs every gate: rustfmt, clippy (warnings are
# errors), the engine-is-headless check, and the Rust tests (unit + integration, with a fresh
# cron oracle). Fails on the first gate that fails.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

need_build_deps
need_rust
need_python_venv
# The real parts the tests use: a throw-away keyring session, the mariadb client for the
# round-trip tests (the server comes from scripts/services.sh), an SMTP server (aiosmtpd) and
# openssl for its certificates.
need_apt gnome-keyring dbus-daemon libsecret-tools mariadb-client python3-aiosmtpd openssl

say "starting the test services (MariaDB, fault file systems)"
"$ROOT/scripts/services.sh" start

say "cargo fmt --check"
cargo fmt --all --check

say "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "the engine never depends on tauri"
if cargo tree -p billora-engine --edges normal --prefix none | grep -q '^tauri'; then
    die "crates/engine depends on tauri; keep the engine headless"
fi

say "a fresh set of cron cases from cronsim"
oracle="$(mktemp -t cron-oracle.XXXXXX.jsonl)"
seed="${BILLORA_ORACLE_SEED:-$RANDOM$RANDOM}"
"$PYTHON" tests/oracle/cron_oracle.py --seed "$seed" "$oracle"
echo "(seed $seed; rerun with BILLORA_ORACLE_SEED=$seed)" >&2

say "cargo test"
BILLORA_CRON_ORACLE="$oracle" cargo test --workspace --locked

rm -f "$oracle"
say "all gates passed"
