#!/usr/bin/env bash
# The desktop app's footprint, in a throw-away desktop session (tests/e2e/desktop-session.sh):
# cold start to a visible window, resident memory of the app and its WebKit processes, and CPU
# used while idle in the tray (window closed, no backup due) over IDLE_SECONDS (300). Prints a
# Markdown table; record it in BENCHMARKS.md with the machine and the date.
#   bench/app-bench.sh [path/to/billora-app]      (default: the release build)
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
need_apt x11-utils xvfb dbus-daemon gnome-keyring dunst procps
APP="${1:-$ROOT/target/release/billora-app}"
if [ "$APP" = "$ROOT/target/release/billora-app" ]; then
    need_app_build_deps
    need_rust
    need_ui
    say "building the app (release)"
    cargo build --release --locked -p billora-app
fi
export APP IDLE_SECONDS="${IDLE_SECONDS:-300}"
tests/e2e/desktop-session.sh bash -c '
    set -euo pipefail
    export BILLORA_BACKUP_DATA_DIR="$BILLORA_DESKTOP_SESSION/appdata"
    ms() { date +%s%3N; }
    # Process tree of the app: itself and its WebKit children.
    tree() { echo "$1"; for c in $(pgrep -P "$1" || true); do tree "$c"; done; }
    rss_kb() { local t=0 p; for p in $(tree "$1"); do t=$((t + $(awk "/^Rss:/ {print \$2}" /proc/$p/smaps_rollup 2>/dev/null || echo 0))); done; echo $t; }
    pss_kb() { local t=0 p; for p in $(tree "$1"); do t=$((t + $(awk "/^Pss:/ {print \$2}" /proc/$p/smaps_rollup 2>/dev/null || echo 0))); done; echo $t; }
    ticks() { local t=0 p; for p in $(tree "$1"); do t=$((t + $(awk "{print \$14 + \$15}" /proc/$p/stat 2>/dev/null || echo 0))); done; echo $t; }
    hz=$(getconf CLK_TCK)

    start=$(ms)
    "$APP" >"$BILLORA_DESKTOP_SESSION/app.log" 2>&1 &
    pid=$!
    shown() { local out; out="$(xwininfo -root -tree 2>/dev/null || true)"; [[ "$out" == *"\"Billora Backup\": (\"billora-app\""* ]]; }
    until shown; do
        sleep 0.02
        [ $(( $(ms) - start )) -lt 60000 ] || { echo "no window within 60 s" >&2; exit 1; }
    done
    window_ms=$(( $(ms) - start ))
    sleep 5
    rss_open=$(rss_kb $pid); pss_open=$(pss_kb $pid); procs=$(tree $pid | wc -l)
    kill $pid; wait $pid 2>/dev/null || true
    # In the tray: started as at login (`--hidden`), the window exists but is not shown, as
    # after closing it.
    "$APP" --hidden >"$BILLORA_DESKTOP_SESSION/app-hidden.log" 2>&1 &
    pid=$!
    sleep 10
    t0=$(ticks $pid); s0=$(date +%s.%N)
    sleep "$IDLE_SECONDS"
    t1=$(ticks $pid); s1=$(date +%s.%N)
    rss_idle=$(rss_kb $pid); pss_idle=$(pss_kb $pid)
    cpu=$(awk -v t=$((t1 - t0)) -v hz=$hz -v s0=$s0 -v s1=$s1 "BEGIN { printf \"%.2f s (%.3f%% of one core)\", t/hz, 100*t/hz/(s1-s0) }")
    kill $pid; wait $pid 2>/dev/null || true
    echo
    echo "| measure | value |"
    echo "|---|---|"
    echo "| cold start to a visible window | ${window_ms} ms |"
    echo "| processes (app + WebKit) | $procs |"
    echo "| resident memory, window open (RSS / PSS) | $((rss_open / 1024)) MB / $((pss_open / 1024)) MB |"
    echo "| resident memory after ${IDLE_SECONDS} s idle (RSS / PSS) | $((rss_idle / 1024)) MB / $((pss_idle / 1024)) MB |"
    echo "| CPU used in ${IDLE_SECONDS} s idle, no backup due | $cpu |"
'
