#!/usr/bin/env bash
# Measures our backup and restore against mariadb-dump, mydumper/myloader and the mariadb client
# on the same server, in one run, and prints a Markdown table (wall time, output size, peak RSS,
# the CPU of the command and of the server).
# Record the results in BENCHMARKS.md with the machine and the date.
#
#   bench/backup-bench.sh            # generates billora_bench (~1 GB of dump text) once, then measures
#   BENCH_BACKUPS_ONLY=1 BENCH_ZSTD_LEVELS="1 2" bench/backup-bench.sh   # the full backups only
#   BENCH_ROUNDS=5 (3 by default)   BENCH_BUFFER_POOL=268435456 (the server's pool while measuring; 2 GiB by default)
#   BENCH_SCALE=5 BENCH_BUFFER_POOL=268435456 BENCH_COLD=1 bench/backup-bench.sh   # 5x the rows, larger than the pool, cold
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
# BENCH_SCALE=N: N times the rows of every table but the 300 tenants (database billora_bench_xN;
# 1 is billora_bench, ~1 GB of dump text).
SCALE="${BENCH_SCALE:-1}"
[[ "$SCALE" =~ ^[1-9][0-9]?$ ]] || die "BENCH_SCALE must be a whole number from 1 to 99"
DB=billora_bench; [ "$SCALE" = 1 ] || DB="billora_bench_x$SCALE"
WORK="${BENCH_DIR:-$SERVICES_DIR/bench}"
rm -rf "$WORK"; mkdir -p "$WORK"
POOL0=$("${M[@]}" -N -e "SELECT @@innodb_buffer_pool_size")
trap '"${M[@]}" -e "SET GLOBAL innodb_buffer_pool_size = $POOL0" 2>/dev/null' EXIT

if ! "${M[@]}" -N -e "SELECT 1 FROM $DB.bench_ready" >/dev/null 2>&1; then
    say "generating $DB (a few minutes per scale step, once)"
    "${M[@]}" -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    # Generated with a 2 GiB pool whatever BENCH_BUFFER_POOL says (the pool is set for the
    # measurements below). Each scaled INSERT … SELECT runs once per step of 1x rows (the same
    # rows shifted by k × the 1x count), so no one statement grows with the scale.
    "${M[@]}" -e "SET GLOBAL innodb_buffer_pool_size = 2147483648"
    cat >"$WORK/scale.py" <<'PY'
import re, sys
scale, out = int(sys.argv[1]), []
for stmt in sys.stdin.read().split(";\n"):
    m = re.search(r"FROM seq_1_to_(\d+)$", stmt.strip())
    if not m or m.group(1) == "300":
        out.append(stmt)
        continue
    n = int(m.group(1))
    for k in range(scale):
        out.append(stmt.replace(f"seq_1_to_{n}", f"seq_{k * n + 1}_to_{(k + 1) * n}"))
sys.stdout.write(";\n".join(out))
PY
    python3 "$WORK/scale.py" "$SCALE" <bench/generate.sql >"$WORK/generate.sql"
    "${M[@]}" "$DB" <"$WORK/generate.sql"
fi
# While measuring, the server's buffer pool holds the whole database, as a database server's
# usually does: the test server starts with 256 MB (for CI), and with it every full read
# re-reads every page from the OS cache, 1-2 s more of the server's CPU for every tool alike
# (BENCHMARKS.md, session 10). Set back when the script ends.
"${M[@]}" -e "SET GLOBAL innodb_buffer_pool_size = ${BENCH_BUFFER_POOL:-2147483648}"
"${M[@]}" -e "ANALYZE TABLE $DB.customers, $DB.products, $DB.invoices, $DB.invoice_items, $DB.payments, $DB.audit_log" >/dev/null

say "building billora-backup (release)"
cargo build --release --locked -q -p billora-cli --bin billora-backup
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
mkdir -p "$WORK/runs"
# server_ticks: the CPU (user + system, in clock ticks) the MariaDB server has used so far.
server_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
# settle: waits (at most two minutes) until the server is idle, under 5% of a core for a
# second, so InnoDB's background work after generating or loading data (purge, flushing) is
# not counted to whichever command runs next.
# With BENCH_COLD=1, the OS's page cache is dropped first as well (root only), so that the
# server reads from disk what its pool does not hold.
settle() {
    local a b
    if [ -n "${BENCH_COLD:-}" ]; then sync; echo 3 >/proc/sys/vm/drop_caches || die "BENCH_COLD needs root"; fi
    for _ in $(seq 1 120); do
        a=$(server_ticks); sleep 1; b=$(server_ticks)
        [ $(((b - a) * 100)) -lt $((5 * TICK)) ] && return 0
    done
    echo "  (the server was still busy after two minutes)" >&2
}
# run_once KEY OUTPUT CMD: one run of the shell command CMD, appended to $WORK/runs/KEY as
# "wall rss cpu server-ticks size": the wall time, the peak RSS and CPU (user + system) of the
# command and its children, the server's CPU meanwhile, and the size of OUTPUT in MB
# (OUTPUT "ours": the newest file in our backup folder, as each of our runs writes one); the
# path of OUTPUT goes to $WORK/runs/KEY.path.
run_once() {
    local key="$1" output="$2" cmd="$3" t="$WORK/time.txt" wall rss user sys s0 s1 size="-"
    s0=$(server_ticks)
    /usr/bin/time -o "$t" -f "%e %M %U %S" bash -c "$cmd" >/dev/null 2>"$WORK/err.txt" || { cat "$WORK/err.txt" >&2; die "$cmd failed"; }
    s1=$(server_ticks)
    # Untimed: what the command left in the page cache goes to disk now, not while the next
    # one runs (it takes the disk and CPU then, and our backup's fsync can wait for it: on ext4
    # a commit writes other files' allocated blocks first). Our own run's time includes the
    # fsync of its file; the others' do not.
    sync
    [ "$output" = ours ] && output="$D/backups/$(ls -t "$D/backups" | grep -v '\.json$' | head -1)"
    echo "$output" >"$WORK/runs/$key.path"
    [ -n "$output" ] && [ -e "$output" ] && size=$(du -sm "$output" | cut -f1)
    read -r wall rss user sys < <(tail -1 "$t")
    echo "$wall $rss $(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.1f", u + s}') $((s1 - s0)) $size" >>"$WORK/runs/$key"
}
# Commands queued by `add` for the next `alternate`.
NAMES=() OUTS=() CMDS=()
# add NAME OUTPUT CMD...: queues a command (OUTPUT as for run_once, "" for none).
add() { NAMES+=("$1"); OUTS+=("$2"); shift 2; CMDS+=("$(printf '%q ' "$@")"); }
# alternate: ROUNDS rounds (MEASURE_ROUNDS for the slow restores) of every queued command in
# turn, so that a drift in the machine's speed (it is shared and noisy) falls on all of them
# alike, each round starting one command further on (the first run after the idle wait was
# often the slowest of its command's); then a row for each, from its run with the median wall
# time; empties the queue.
alternate() {
    # Runs are filed under ROW-INDEX: the row each command's results will take, and its index.
    local r i j n=${#CMDS[@]} row=${#ROWS[@]} wall rss cpu ticks size server
    for r in $(seq 0 $(("${MEASURE_ROUNDS:-$ROUNDS}" - 1))); do
        settle
        for j in $(seq 0 $((n - 1))); do
            i=$(((r + j) % n))
            run_once "$row-$i" "${OUTS[$i]}" "${CMDS[$i]}"
        done
    done
    for i in "${!CMDS[@]}"; do
        read -r wall rss cpu ticks size < <(sort -n -k1,1 "$WORK/runs/$row-$i" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
        server=$(awk -v t="$ticks" -v hz="$TICK" 'BEGIN {printf "%.1f", t / hz}')
        ROWS+=("| ${NAMES[$i]//|/\\|} | $wall | $size | $((rss / 1024)) | $cpu | $server |")
        echo "  ${NAMES[$i]}: ${wall}s, ${size} MB, $((rss / 1024)) MB RSS, CPU ${cpu}s ours / ${server}s server" >&2
    done
    NAMES=() OUTS=() CMDS=()
}
fresh() { "${M[@]}" -e "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1 CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"; }
HQ=$(printf '%q ' "${H[@]}")

say "full backups (rounds alternate between the tools)"
# Unmeasured: one full read fills the buffer pool, or the first command would pay for it.
mariadb-dump --no-defaults "${H[@]}" --single-transaction --quick "$DB" >/dev/null
add "billora-backup, zstd" ours "$B" --data-dir "$D" schedule run "$S_ZSTD"
for level in ${BENCH_ZSTD_LEVELS:-1 2}; do
    add "billora-backup, zstd level $level" ours "$B" --data-dir "$D" schedule run "$S_ZSTD" --zstd-level "$level"
done
add "billora-backup, uncompressed" ours "$B" --data-dir "$D" schedule run "$S_NONE"
add "mariadb-dump --single-transaction --quick" "$WORK/dump.sql" \
    bash -c "mariadb-dump --no-defaults $HQ --single-transaction --quick $DB > $WORK/dump.sql"
add "mariadb-dump … | zstd -3" "$WORK/dump.sql.zst" \
    bash -c "mariadb-dump --no-defaults $HQ --single-transaction --quick $DB | zstd -q -3 > $WORK/dump.sql.zst"
add "mariadb-dump … | gzip" "$WORK/dump.sql.gz" \
    bash -c "mariadb-dump --no-defaults $HQ --single-transaction --quick $DB | gzip > $WORK/dump.sql.gz"
add "mydumper -t 2" "$WORK/mydumper" \
    mydumper -h "$BILLORA_TEST_MARIADB_HOST" -P "$BILLORA_TEST_MARIADB_PORT" -u "$BILLORA_TEST_MARIADB_USER" \
    -p "$BILLORA_TEST_MARIADB_PASSWORD" -t 2 -B "$DB" -o "$WORK/mydumper"
alternate
OURS_ZST=$(cat "$WORK/runs/0-0.path")  # the default level's file: the first row's command

if [ -n "${BENCH_BACKUPS_ONLY:-}" ]; then printf '%s\n' "${ROWS[@]}"; exit 0; fi
say "restores (one round each)"
export MEASURE_ROUNDS=1
fresh r_ours; "${M[@]}" -e "DROP DATABASE r_ours"
add "billora-backup restore (zstd file, 3 connections)" "" "$B" --data-dir "$D" restore "$OURS_ZST" --connection bench --database r_ours
alternate
fresh r_client
add "mariadb db < dump.sql" "" bash -c "mariadb --no-defaults $HQ r_client < $WORK/dump.sql"
alternate
fresh r_myloader
add "myloader -t 2" "" myloader -h "$BILLORA_TEST_MARIADB_HOST" -P "$BILLORA_TEST_MARIADB_PORT" \
    -u "$BILLORA_TEST_MARIADB_USER" -p "$BILLORA_TEST_MARIADB_PASSWORD" -t 2 -d "$WORK/mydumper" -B r_myloader -o
alternate
for t in customers invoices invoice_items audit_log; do
    a=$("${M[@]}" -N -e "CHECKSUM TABLE $DB.$t" | cut -f2); b=$("${M[@]}" -N -e "CHECKSUM TABLE r_ours.$t" | cut -f2)
    [ "$a" = "$b" ] || die "our restore differs in $t"
done

say "tenant backups"
unset MEASURE_ROUNDS
# where_dump N: mariadb-dump --where of tenant N's rows (the same tables and rows as ours).
# Exported, with its connection words, so `run_once` can time it in a child shell.
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
add "billora-backup, tenant 1 (~10% of rows), zstd" ours "$B" --data-dir "$D" schedule run "$S_T1"
add "mariadb-dump --where, tenant 1 (3 invocations)" "$WORK/t1.sql" bash -c "where_dump 1 > $WORK/t1.sql"
add "billora-backup, tenant 77 (small), zstd" ours "$B" --data-dir "$D" schedule run "$S_T77"
add "mariadb-dump --where, tenant 77 (3 invocations)" "$WORK/t77.sql" bash -c "where_dump 77 > $WORK/t77.sql"
alternate

rows=$("${M[@]}" -N -e "SELECT SUM(TABLE_ROWS) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$DB'")
echo
echo "Database: $DB, ~$rows rows (estimate), $(du -sm "$WORK/dump.sql" | cut -f1) MB as mariadb-dump text."
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)
sha=$(grep -qw sha_ni /proc/cpuinfo && echo "with" || echo "without")
echo "Machine: $(nproc) cores ($cpu_model, $sha SHA-NI), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $("${M[@]}" -N -e 'SELECT VERSION()') with a $("${M[@]}" -N -e 'SELECT @@innodb_buffer_pool_size DIV 1048576') MB buffer pool, $(date -u +%Y-%m-%d)."
echo
echo "Wall times: of the run with the median wall time of $ROUNDS rounds for backups (each round runs every tool in turn once the server is idle, starting one further on each round), one run for restores."
echo
echo "Client CPU: user + system of the command and its children; server CPU: mariadbd's meanwhile."
echo
echo "| what | wall s | output MB | peak RSS MB | client CPU s | server CPU s |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
