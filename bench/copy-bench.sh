#!/usr/bin/env bash
# What encryption and a copy to S3 cost (issue 22, item 5), on the benchmark database of
# bench/backup-bench.sh (generated here when missing):
#  - a full zstd backup with and without age encryption (`encrypt_to`), in alternating rounds;
#  - an uncompressed backup (~1 GB) copied to the local S3-compatible server of the tests
#    (moto) by a schedule's `copy_to`: the copy's time (upload in 8 MiB parts, then the whole
#    object read back to check its SHA-256) and the whole run's peak RSS, next to
#    `rclone copy` of the same file to the same server (upload only).
# Prints Markdown tables; record them in BENCHMARKS.md with the machine and the date.
#   bench/copy-bench.sh            BENCH_ROUNDS=5 (3 by default)
#   BENCH_SCALE=5 BENCH_COPY_ONLY=1 BENCH_ROUNDS=1 bench/copy-bench.sh   # a multi-GB copy only, on
#       billora_bench_x5 (made by `BENCH_SCALE=5 bench/backup-bench.sh`)
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
need_build_deps
need_rust
need_apt zstd time age rclone mariadb-client gnome-keyring dbus-daemon dbus-bin
"$ROOT/scripts/services.sh" start mariadb s3
set -a; . "$SERVICES_DIR/env"; set +a
export MYSQL_PWD="$BILLORA_TEST_MARIADB_PASSWORD" BENCH_PW="$BILLORA_TEST_MARIADB_PASSWORD"
M=(mariadb --no-defaults -h "$BILLORA_TEST_MARIADB_HOST" -P "$BILLORA_TEST_MARIADB_PORT" -u "$BILLORA_TEST_MARIADB_USER")
SCALE="${BENCH_SCALE:-1}"
DB=billora_bench; [ "$SCALE" = 1 ] || DB="billora_bench_x$SCALE"
if [ "$SCALE" != 1 ] && ! "${M[@]}" -N -e "SELECT 1 FROM $DB.bench_ready" >/dev/null 2>&1; then
    die "$DB is not there: make it with BENCH_SCALE=$SCALE bench/backup-bench.sh"
fi
if ! "${M[@]}" -N -e "SELECT 1 FROM $DB.bench_ready" >/dev/null 2>&1; then
    say "generating $DB (a few minutes, once)"
    "${M[@]}" -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    "${M[@]}" "$DB" < bench/generate.sql
fi
say "building billora-backup (release)"
cargo build --release --locked -q -p billora-cli --bin billora-backup
export B="${CARGO_TARGET_DIR:-$ROOT/target}/release/billora-backup" DB ROUNDS="${BENCH_ROUNDS:-3}" COPY_ONLY="${BENCH_COPY_ONLY:-}"
export WORK; WORK="$(mktemp -d -t billora-copy-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# The destination's secret lives in the OS keyring: the measured part runs in a D-Bus session
# with an unlocked gnome-keyring, as on a desktop.
dbus-run-session -- bash -euo pipefail -c '
eval "$(printf bench-pw | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
D="$WORK/data"
"$B" --data-dir "$D" connection add --name bench --host "$BILLORA_TEST_MARIADB_HOST" --port "$BILLORA_TEST_MARIADB_PORT" \
    --user "$BILLORA_TEST_MARIADB_USER" --database "$DB" --password-env BENCH_PW --tls-mode disabled >/dev/null
printf test | "$B" --data-dir "$D" destination add --name s3 --kind s3 --endpoint "$BILLORA_TEST_S3_ENDPOINT" \
    --bucket "$BILLORA_TEST_S3_BUCKET" --prefix copy-bench --access-key-id test --secret-stdin >/dev/null
age-keygen -o "$WORK/key.txt" 2>/dev/null
PUB=$(age-keygen -y "$WORK/key.txt")
mk() { echo "$1" | "$B" --data-dir "$D" schedule create --json - | python3 -c "import json,sys; print(json.load(sys.stdin)[\"id\"])"; }
S_ZSTD=$(mk "{\"name\":\"zstd\",\"cron_expression\":\"@daily\",\"backup_type\":\"full\"}")
S_AGE=$(mk "{\"name\":\"age\",\"cron_expression\":\"@daily\",\"backup_type\":\"full\",\"encrypt_to\":\"$PUB\"}")
S_COPY=$(mk "{\"name\":\"copy\",\"cron_expression\":\"@daily\",\"backup_type\":\"full\",\"compression\":\"none\",\"copy_to\":[\"s3\"]}")
# timed KEY CMD...: appends "wall rss_mb" of one run to $WORK/KEY.
timed() {
    local key="$1"; shift
    /usr/bin/time -o "$WORK/t" -f "%e %M" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
    awk "{printf \"%s %d\\n\", \$1, \$2 / 1024}" "$WORK/t" >>"$WORK/$key"
    sync
}
median() { sort -n -k1,1 "$WORK/$1" | awk "{a[NR]=\$0} END {print a[int((NR+1)/2)]}"; }

if [ -z "$COPY_ONLY" ]; then
"$B" --data-dir "$D" schedule run "$S_ZSTD" >/dev/null   # unmeasured: fills the buffer pool
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then
        timed zstd "$B" --data-dir "$D" schedule run "$S_ZSTD"; timed age "$B" --data-dir "$D" schedule run "$S_AGE"
    else
        timed age "$B" --data-dir "$D" schedule run "$S_AGE"; timed zstd "$B" --data-dir "$D" schedule run "$S_ZSTD"
    fi
done
read -r zw zr < <(median zstd); read -r aw ar < <(median age)
echo
echo "Encryption: a full backup of $DB, the median of $ROUNDS alternating rounds ($(nproc) cores, $(date -u +%F))."
echo
echo "| what | wall s | peak RSS MB | output MB |"
echo "|---|---|---|---|"
newest() { "$B" --data-dir "$D" history --schedule-id "$1" --limit 1 | python3 -c "import json,sys; r=json.load(sys.stdin)[\"data\"][0]; print(round(r[\"file_size\"]/1048576))"; }
echo "| zstd | $zw | $zr | $(newest "$S_ZSTD") |"
echo "| zstd + age (encrypt_to) | $aw | $ar | $(newest "$S_AGE") |"
awk -v a="$aw" -v z="$zw" "BEGIN {printf \"\\nEncryption adds %.1f%% to the wall time.\\n\", (a / z - 1) * 100}"
fi

# Copies: our run (dump + copy), then rclone with the same file, alternating.
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other RCLONE_CONFIG_BENCH_ENDPOINT="$BILLORA_TEST_S3_ENDPOINT" \
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=test RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=test
for r in $(seq 1 "$ROUNDS"); do
    timed copyrun "$B" --data-dir "$D" schedule run "$S_COPY"
    "$B" --data-dir "$D" history --schedule-id "$S_COPY" --limit 1 | python3 -c "
import json, sys
r = json.load(sys.stdin)[\"data\"][0]
c = [c for c in r[\"copies\"] if c[\"status\"] == \"uploaded\"]
assert c, \"the copy should be uploaded: %s\" % r[\"copies\"]
print(\"%.2f %d\" % (c[0][\"duration_seconds\"], c[0][\"size\"]))" >>"$WORK/copy"
    FILE=$(ls -t "$D/backups"/*.sql 2>/dev/null | head -1)
    timed rclone env -u AWS_CA_BUNDLE rclone copy --s3-chunk-size 8M "$FILE" "bench:$BILLORA_TEST_S3_BUCKET/rclone-bench/"
    env -u AWS_CA_BUNDLE rclone delete "bench:$BILLORA_TEST_S3_BUCKET/rclone-bench/" >/dev/null 2>&1 || true
done
read -r cw cr < <(median copyrun); read -r cd size < <(sort -n "$WORK/copy" | awk "{a[NR]=\$0} END {print a[int((NR+1)/2)]}")
read -r rw rr < <(median rclone)
mb=$(awk -v s="$size" "BEGIN {printf \"%.0f\", s / 1048576}")
echo
echo "A copy to S3 (moto on loopback) of the $mb MB uncompressed backup, the median of $ROUNDS rounds."
echo
echo "| what | copy s | MB/s | peak RSS MB |"
echo "|---|---|---|---|"
echo "| billora-backup copy_to: upload + read back the whole object to check its SHA-256 | $cd | $(awk -v s="$size" -v t="$cd" "BEGIN {printf \"%.0f\", s / 1048576 / t}") | $cr (the whole run, dump included; $cw s) |"
echo "| rclone copy (upload only, 8 MiB parts) | $rw | $(awk -v s="$size" -v t="$rw" "BEGIN {printf \"%.0f\", s / 1048576 / t}") | $rr |"
'
