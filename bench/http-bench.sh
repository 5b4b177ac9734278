#!/usr/bin/env bash
# The HTTP API under load: a data folder with SCHEDULES (1,000) schedules and RUNS (100,000)
# history entries, `billora-backup daemon --listen` on loopback, and ApacheBench (`ab`, Debian's
# apache2-utils) with CONCURRENCY (50) clients on each route. Prints a Markdown table of
# requests per second and the p50/p99 latency; record it in BENCHMARKS.md with the machine and
# the date. Not part of the tests.
#   bench/http-bench.sh [path/to/billora-backup]      (default: the release build)
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
need_apt apache2-utils wrk python3
BIN="${1:-$ROOT/target/release/billora-backup}"
if [ "$BIN" = "$ROOT/target/release/billora-backup" ]; then
    need_rust
    say "building billora-backup (release)"
    cargo build --release --locked -p billora-cli --bin billora-backup
fi
SCHEDULES="${SCHEDULES:-1000}" RUNS="${RUNS:-100000}" CONCURRENCY="${CONCURRENCY:-50}"
REQUESTS="${REQUESTS:-2000}"
work="$(mktemp -d -t billora-http-bench.XXXXXX)"
trap 'kill "$daemon" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
export BILLORA_BACKUP_DATA_DIR="$work/data"

say "a data folder with $SCHEDULES schedules and $RUNS runs"
"$BIN" schedule list >/dev/null   # creates the store (migrations)
python3 - "$work/data/billora.db" "$SCHEDULES" "$RUNS" <<'EOF'
import sqlite3, sys
db, schedules, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = sqlite3.connect(db)
now = "2026-12-07T00:00:00Z"
c.executemany(
    "INSERT INTO schedules (name, description, cron_expression, timezone, backup_type, compression, "
    "retention_days, max_backups, notify_on_success, notify_on_failure, catch_up, is_active, "
    "verify_after_backup, copy_to, created_at, updated_at) "
    "VALUES (?, 'bench', '0 2 * * *', 'UTC', 'full', 'zstd', 7, 10, 0, 1, 1, 0, 0, '[]', ?, ?)",
    [(f"Schedule {i}", now, now) for i in range(schedules)],
)
rows = []
for i in range(runs):
    sid = 1 + i % schedules
    day = i // schedules
    created = f"2026-{1 + (day // 28) % 12:02d}-{1 + day % 28:02d}T02:00:{i % 60:02d}Z"
    rows.append((sid, f"Schedule {sid - 1}", created, created,
                 f"backup_full_{created.replace(':', '-')}.sql.zst", 1048576 + i))
c.executemany(
    "INSERT INTO runs (schedule_id, schedule_name, backup_type, trigger, status, created_at, "
    "finished_at, filename, file_size, duration_seconds) "
    "VALUES (?, ?, 'full', 'scheduled', 'success', ?, ?, ?, ?, 15.0)",
    rows,
)
c.commit()
EOF
token="$("$BIN" token create --name bench --role admin 2>/dev/null)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$BIN" daemon --listen "127.0.0.1:$port" 2>"$work/daemon.log" &
daemon=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
    sleep 0.1
done

# One route: requests/s, p50 and p99 in ms, and the answer's size.
measure() {
    local label="$1" path="$2" n="$3" c="${4:-$CONCURRENCY}" out size
    size="$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" | wc -c)"
    out="$(ab -q -s 300 -n "$n" -c "$c" -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" 2>&1)"
    local rps p50 p99 failed
    rps="$(awk '/Requests per second/ {print $4}' <<<"$out")"
    p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    failed="$(awk '/Failed requests/ {print $3}' <<<"$out")"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$c" "$n" "$size" "$rps" "$p50" "$p99" "$failed"
}

echo
echo "HTTP API, $SCHEDULES schedules, $RUNS runs, $CONCURRENCY concurrent clients ($(nproc) cores, $(date -u +%F))"
echo
echo "| route | clients | requests | answer bytes | requests/s | p50 ms | p99 ms | failed |"
echo "|---|---|---|---|---|---|---|---|"
measure "GET /backup/schedules" /api/backup/schedules "$REQUESTS"
# The same with the store changing every second (a schedule's description changed over the
# API, between two texts of one length: ab counts an answer of another length as failed), so
# that answers kept in memory are made afresh after each change.
( n=0; while :; do
    n=$((1 - n))
    curl -s -o /dev/null -X PUT -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d "{\"description\":\"edit $n\"}" "http://127.0.0.1:$port/api/backup/schedules/1"
    sleep 1
  done ) &
writer=$!
measure "GET /backup/schedules, a change every second" /api/backup/schedules "$REQUESTS"
kill "$writer"; wait "$writer" 2>/dev/null || true
measure "GET /backup/history?schedule_id=7 (100 runs)" "/api/backup/history?schedule_id=7" "$REQUESTS"
measure "GET /backup/history?limit=100" "/api/backup/history?limit=100" "$REQUESTS"
measure "GET /backup/runs/50000" /api/backup/runs/50000 "$REQUESTS"
measure "GET /metrics" /api/metrics 200
measure "GET /backup/history (all $RUNS runs)" /api/backup/history 20 5

# ab opens a new connection for every request; a browser or a monitoring agent keeps its
# connections open. wrk (2 threads, keep-alive) measures that case for the same routes.
wrk_row() {
    local label="$1" path="$2" out
    out="$(wrk -t2 -c"$CONCURRENCY" -d10s --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" 2>&1)"
    local rps p50 p99
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    printf '| %s | %s | %s | %s | %s |\n' "$label" "$CONCURRENCY" "$rps" "$p50" "$p99"
}
echo
echo "The same with kept-alive connections (wrk, 10 s per route)"
echo
echo "| route | connections | requests/s | p50 | p99 |"
echo "|---|---|---|---|---|"
wrk_row "GET /backup/schedules" /api/backup/schedules
wrk_row "GET /backup/history?schedule_id=7 (100 runs)" "/api/backup/history?schedule_id=7"
wrk_row "GET /backup/history?limit=100" "/api/backup/history?limit=100"
wrk_row "GET /backup/runs/50000" /api/backup/runs/50000
