#!/usr/bin/env bash
# Installs what is missing, starts the services the tests need (a MariaDB server on loopback,
# small file systems for fault tests), and runs every gate: rustfmt, clippy (warnings are
# errors), the engine-is-headless check, the Rust tests (unit + integration, with a fresh cron
# oracle), the UI's type check and tests, the Rust/TypeScript contract check, and the end-to-end
# test of the built app under Xvfb, and the supply-chain check (cargo deny). Fails on the first gate that fails.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

need_app_build_deps
need_rust
need_python_venv
# The real parts the tests use: a throw-away keyring session, the mariadb client for the
# round-trip tests (the server comes from scripts/services.sh), an SMTP server (aiosmtpd),
# openssl for its certificates, age and zstd (encrypted backups opened with the standard
# tools), and the desktop session of the end-to-end test (Xvfb, the
# WebKit WebDriver, a notification daemon, ImageMagick for screenshots).
need_apt gnome-keyring dbus-daemon dbus-bin libsecret-tools mariadb-client python3-aiosmtpd openssl \
    xvfb webkit2gtk-driver dunst imagemagick libglib2.0-bin age zstd
need_ui
need_cargo_deny

say "starting the test services (MariaDB, fault file systems)"
"$ROOT/scripts/services.sh" start

say "cargo fmt --check"
cargo fmt --all --check

say "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "the engine is headless: no tauri, clap or indicatif in its dependencies"
if cargo tree -p billora-engine --edges normal --prefix none | grep -Eq '^(tauri|clap|indicatif) '; then
    die "crates/engine depends on tauri, clap or indicatif; keep the engine headless (front ends own them)"
fi

say "the supply chain: licenses, banned and duplicated crates, sources (cargo deny)"
"$CARGO_DENY" --log-level error check bans licenses sources

say "the TypeScript types are generated from the Rust ones and up to date"
bindings="$(mktemp -d -t billora-bindings.XXXXXX)"
TS_RS_EXPORT_DIR="$bindings" cargo test --locked -q -p billora-engine --features ts --lib export_bindings >/dev/null
if ! diff -r "$bindings" ui/src/api/bindings >/dev/null; then
    diff -r "$bindings" ui/src/api/bindings >&2 || true
    rm -rf "$bindings"
    die "ui/src/api/bindings is stale: run 'cargo test -p billora-engine --features ts --lib export_bindings' and commit"
fi
rm -rf "$bindings"

say "the UI: type check and tests"
(cd ui && npm run --silent typecheck && npm test --silent)

say "a fresh set of cron cases from cronsim"
oracle="$(mktemp -t cron-oracle.XXXXXX.jsonl)"
seed="${BILLORA_ORACLE_SEED:-$RANDOM$RANDOM}"
"$PYTHON" tests/oracle/cron_oracle.py --seed "$seed" "$oracle"
echo "(seed $seed; rerun with BILLORA_ORACLE_SEED=$seed)" >&2

say "cargo test"
BILLORA_CRON_ORACLE="$oracle" cargo test --workspace --exclude billora-app --locked
rm -f "$oracle"

say "the app's own scale, small (bench/app-scale.sh measures 10,000 schedules)"
cargo run --locked -q -p billora-engine --example app_scale -- 200 2000 2 >/dev/null

say "end to end: the built app under Xvfb, driven by tauri-driver"
cargo build --locked -p billora-app -p billora-cli
need_tauri_driver
tests/e2e/run.sh "$PYTHON"

say "all gates passed"
