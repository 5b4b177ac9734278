#!/usr/bin/env bash
# Measures our backup and restore against mariadb-dump, mydumper/myloader and the mariadb client
# on the same server, in one run, and prints a Markdown table (wall time, output size, peak RSS,
# the CPU of the command and of the server).
# Record the results in BENCHMARKS.md with the machine and the date.
#
#   bench/backup-bench.sh            # generates billora_bench (~1 GB of dump text) once, then measures
#   BENCH_BACKUPS_ONLY=1 BENCH_ZSTD_LEVELS="1 2" bench/backup-bench.sh   # the full backups only
#
# Uses the test MariaDB of scripts/services.sh. Not part of the test command: it takes minutes.
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
need_build_deps
need_rust
need_apt mydumper zstd time gzip mariadb-client
"$ROOT/scripts/services.sh" start mariadb
. "$SERVICES_DIR/env"
export MYSQL_PWD="$BILLORA_TEST_MARIADB_PASSWORD" BENCH_PW="$BILLORA_TEST_MARIADB_PASSWORD"
H=(-h "$BILLORA_TEST_MARIADB_HOST" -P "$BILLORA_TEST_MARIADB_PORT" -u "$BILLORA_TEST_MARIADB_USER")
M=(mariadb --no-defaults "${H[@]}")
DB=billora_bench
WORK="${BENCH_DIR:-$SERVICES_DIR/bench}"
rm -rf "$WORK"; mkdir -p "$WORK"

if ! "${M[@]}" -N -e "SELECT 1 FROM $DB.bench_ready" >/dev/null 2>&1; then
    say "generating $DB (a few minutes, once)"
    "${M[@]}" -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    "${M[@]}" "$DB" < bench/generate.sql
fi
"${M[@]}" -e "ANALYZE TABLE $DB.customers, $DB.products, $DB.invoices, $DB.invoice_items, $DB.payments, $DB.audit_log" >/dev/null

say "building billora-backup (release)"
cargo build --release --locked -q -p billora-engine --bin billora-backup
B="$ROOT/target/release/billora-backup"
D="$WORK/data"
"$B" --data-dir "$D" connection add --name bench --host "$BILLORA_TEST_MARIADB_HOST" --port "$BILLORA_TEST_MARIADB_PORT" \
    --user "$BILLORA_TEST_MARIADB_USER" --database "$DB" --password-env BENCH_PW --tls-mode disabled >/dev/null  # like the other tools
mk() { echo "$1" | "$B" --data-dir "$D" schedule create --json - | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
S_ZSTD=$(mk '{"name":"zstd","cron_expression":"@daily","backup_type":"full"}')
S_NONE=$(mk '{"name":"none","cron_expression":"@daily","backup_type":"full","compression":"none"}')
S_T1=$(mk '{"name":"t1","cron_expression":"@daily","backup_type":"tenant","tenant_id":1}')
S_T77=$(mk '{"name":"t77","cron_expression":"@daily","backup_type":"tenant","tenant_id":77}')

ROWS=()
ROUNDS="${BENCH_ROUNDS:-3}"
TICK=$(getconf CLK_TCK)
SERVER_PID=$(cat "$SERVICES_DIR/mariadb/mariadb.pid")
# server_ticks: the CPU (user + system, in clock ticks) the MariaDB server has used so far.
server_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
# measure NAME OUTPUT_PATH CMD...: over ROUNDS runs (1 with MEASURE_ROUNDS=1 for the slow
# restores), the run with the median wall time: its seconds, the peak RSS and CPU of the command
# and its children, and the server's CPU meanwhile. On 2 busy cores wall time follows the CPU
# of both sides, so the CPU columns say why a ratio moved when the machine's speed did.
measure() {
    local name="$1" output="$2"; shift 2
    local t="$WORK/time.txt" runs=() wall rss user sys s0 s1 cpu ticks size="-"
    for _ in $(seq 1 "${MEASURE_ROUNDS:-$ROUNDS}"); do
        s0=$(server_ticks)
        /usr/bin/time -o "$t" -f "%e %M %U %S" "$@" >/dev/null 2>"$WORK/err.txt" || { cat "$WORK/err.txt" >&2; die "$name failed"; }
        s1=$(server_ticks)
        read -r wall rss user sys < <(tail -1 "$t")
        runs+=("$wall $rss $(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.1f", u + s}') $((s1 - s0))")
    done
    read -r wall rss cpu ticks < <(printf '%s\n' "${runs[@]}" | sort -n -k1,1 | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
    [ -n "$output" ] && [ -e "$output" ] && size=$(du -sm "$output" | cut -f1)
    local server; server=$(awk -v t="$ticks" -v hz="$TICK" 'BEGIN {printf "%.1f", t / hz}')
    ROWS+=("| $name | $wall | $size | $((rss / 1024)) | $cpu | $server |")
    echo "  $name: ${wall}s, ${size} MB, $((rss / 1024)) MB RSS, CPU ${cpu}s ours / ${server}s server" >&2
}
fresh() { "${M[@]}" -e "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1 CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"; }
last_file() { ls -t "$D/backups"/$1 | head -1; }

say "full backups"
measure "billora-backup, zstd" "" "$B" --data-dir "$D" schedule run "$S_ZSTD"
OURS_ZST=$(last_file 'backup_full_*.zst'); ROWS[-1]="${ROWS[-1]/| - |/| $(du -sm "$OURS_ZST" | cut -f1) |}"
for level in ${BENCH_ZSTD_LEVELS:-1 2}; do
    measure "billora-backup, zstd level $level" "" "$B" --data-dir "$D" schedule run "$S_ZSTD" --zstd-level "$level"
    f=$(last_file 'backup_full_*.zst'); ROWS[-1]="${ROWS[-1]/| - |/| $(du -sm "$f" | cut -f1) |}"
done
measure "billora-backup, uncompressed" "" "$B" --data-dir "$D" schedule run "$S_NONE"
OURS_SQL=$(last_file 'backup_full_*.sql'); ROWS[-1]="${ROWS[-1]/| - |/| $(du -sm "$OURS_SQL" | cut -f1) |}"
measure "mariadb-dump --single-transaction --quick" "$WORK/dump.sql" \
    bash -c "mariadb-dump --no-defaults ${H[*]} --single-transaction --quick $DB > $WORK/dump.sql"
measure "mariadb-dump … | zstd -3" "$WORK/dump.sql.zst" \
    bash -c "mariadb-dump --no-defaults ${H[*]} --single-transaction --quick $DB | zstd -q -3 > $WORK/dump.sql.zst"
measure "mariadb-dump … | gzip" "$WORK/dump.sql.gz" \
    bash -c "mariadb-dump --no-defaults ${H[*]} --single-transaction --quick $DB | gzip > $WORK/dump.sql.gz"
measure "mydumper -t 2" "$WORK/mydumper" \
    mydumper -h "$BILLORA_TEST_MARIADB_HOST" -P "$BILLORA_TEST_MARIADB_PORT" -u "$BILLORA_TEST_MARIADB_USER" \
    -p "$BILLORA_TEST_MARIADB_PASSWORD" -t 2 -B "$DB" -o "$WORK/mydumper"

if [ -n "${BENCH_BACKUPS_ONLY:-}" ]; then printf '%s\n' "${ROWS[@]}"; exit 0; fi
say "restores (one round each)"
export MEASURE_ROUNDS=1
fresh r_ours; "${M[@]}" -e "DROP DATABASE r_ours"
measure "billora-backup restore (zstd file, 3 connections)" "" "$B" --data-dir "$D" restore "$OURS_ZST" --connection bench --database r_ours
fresh r_client
measure "mariadb db < dump.sql" "" bash -c "mariadb --no-defaults ${H[*]} r_client < $WORK/dump.sql"
fresh r_myloader
measure "myloader -t 2" "" myloader -h "$BILLORA_TEST_MARIADB_HOST" -P "$BILLORA_TEST_MARIADB_PORT" \
    -u "$BILLORA_TEST_MARIADB_USER" -p "$BILLORA_TEST_MARIADB_PASSWORD" -t 2 -d "$WORK/mydumper" -B r_myloader -o
for t in customers invoices invoice_items audit_log; do
    a=$("${M[@]}" -N -e "CHECKSUM TABLE $DB.$t" | cut -f2); b=$("${M[@]}" -N -e "CHECKSUM TABLE r_ours.$t" | cut -f2)
    [ "$a" = "$b" ] || die "our restore differs in $t"
done

say "tenant backups"
unset MEASURE_ROUNDS
# where_dump N: mariadb-dump --where of tenant N's rows (the same tables and rows as ours).
# Exported, with its connection words, so `measure` can time it in a child shell.
where_dump() {
    local n="$1"
    # shellcheck disable=SC2086 # H_WORDS: host, port and user options without spaces.
    mariadb-dump --no-defaults $H_WORDS --single-transaction --quick --where="tenant_id=$n" "$DB" customers products invoices audit_log &&
    mariadb-dump --no-defaults $H_WORDS --single-transaction --quick --no-create-info --where="invoice_id IN (SELECT id FROM invoices WHERE tenant_id=$n)" "$DB" invoice_items payments &&
    mariadb-dump --no-defaults $H_WORDS --single-transaction --quick --no-create-info --where="id=$n" "$DB" tenants
}
export -f where_dump; export DB H_WORDS="${H[*]}"
for n in 1 77; do
    # Once unmeasured with each tool first: the restores above emptied the buffer pool, and
    # whichever ran first would pay for reading the tenant's pages from disk.
    if [ "$n" = 1 ]; then s="$S_T1"; else s="$S_T77"; fi
    "$B" --data-dir "$D" schedule run "$s" >/dev/null 2>&1
    where_dump "$n" > "$WORK/t$n.sql"
done
measure "billora-backup, tenant 1 (~10% of rows), zstd" "" "$B" --data-dir "$D" schedule run "$S_T1"
measure "mariadb-dump --where, tenant 1 (3 invocations)" "$WORK/t1.sql" bash -c "where_dump 1 > $WORK/t1.sql"
measure "billora-backup, tenant 77 (small), zstd" "" "$B" --data-dir "$D" schedule run "$S_T77"
measure "mariadb-dump --where, tenant 77 (3 invocations)" "$WORK/t77.sql" bash -c "where_dump 77 > $WORK/t77.sql"

rows=$("${M[@]}" -N -e "SELECT SUM(TABLE_ROWS) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB'")
echo
echo "Database: $DB, ~$rows rows (estimate), $(du -sm "$WORK/dump.sql" | cut -f1) MB as mariadb-dump text."
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)
sha=$(grep -qw sha_ni /proc/cpuinfo && echo "with" || echo "without")
echo "Machine: $(nproc) cores ($cpu_model, $sha SHA-NI), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $("${M[@]}" -N -e 'SELECT VERSION()'), $(date -u +%Y-%m-%d)."
echo
echo "Wall times are the median of $ROUNDS runs for backups, one run for restores."
echo
echo "Client CPU: user + system of the command and its children; server CPU: mariadbd's meanwhile."
echo
echo "| what | wall s | output MB | peak RSS MB | client CPU s | server CPU s |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
