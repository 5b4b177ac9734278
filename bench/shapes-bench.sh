#!/usr/bin/env bash
# Two database shapes the main benchmark lacks (issue 22, item 3), each measured against
# `mariadb-dump --single-transaction | zstd` in alternating rounds (wall time, peak RSS):
#  - 2,000 small tables (20 rows each): per-table overhead (schema reads, one job per table);
#  - 48 rows of 16 MiB LONGBLOBs: memory with very large rows (a row is written as one
#    statement of twice its size in hex, whatever the 4 MiB statement target).
# Prints a Markdown table; record it in BENCHMARKS.md with the machine and the date.
#   bench/shapes-bench.sh            BENCH_ROUNDS=5 (3 by default)
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
need_build_deps
need_rust
need_apt zstd time mariadb-client
"$ROOT/scripts/services.sh" start mariadb
set -a; . "$SERVICES_DIR/env"; set +a
export MYSQL_PWD="$BILLORA_TEST_MARIADB_PASSWORD" BENCH_PW="$BILLORA_TEST_MARIADB_PASSWORD"
H=(-h "$BILLORA_TEST_MARIADB_HOST" -P "$BILLORA_TEST_MARIADB_PORT" -u "$BILLORA_TEST_MARIADB_USER")
M=(mariadb --no-defaults "${H[@]}")
ROUNDS="${BENCH_ROUNDS:-3}"
WORK="$(mktemp -d -t billora-shapes-bench.XXXXXX)"
PACKET0=$("${M[@]}" -N -e "SELECT @@max_allowed_packet")
trap '"${M[@]}" -e "SET GLOBAL max_allowed_packet = $PACKET0" 2>/dev/null; rm -rf "$WORK"' EXIT
# A 16 MiB row needs a larger packet than the test server's default, for every tool alike.
"${M[@]}" -e "SET GLOBAL max_allowed_packet = 67108864"

if ! "${M[@]}" -N -e "SELECT 1 FROM shapes_tables.t2000 LIMIT 1" >/dev/null 2>&1; then
    say "creating shapes_tables: 2,000 tables of 20 rows"
    "${M[@]}" -e "DROP DATABASE IF EXISTS shapes_tables; CREATE DATABASE shapes_tables CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    python3 - >"$WORK/tables.sql" <<'EOF'
for i in range(1, 2001):
    print(f"CREATE TABLE t{i} (id INT PRIMARY KEY, tenant_id INT NOT NULL, name VARCHAR(60) NOT NULL, "
          f"amount DECIMAL(12,2) NOT NULL, created DATETIME NOT NULL, KEY (tenant_id)) ENGINE=InnoDB;")
    rows = ",".join(f"({r}, {r % 7}, 'ลูกค้า {i}-{r}', {r * 10.25:.2f}, '2026-01-{1 + r % 28:02d} 10:00:00')" for r in range(1, 21))
    print(f"INSERT INTO t{i} VALUES {rows};")
EOF
    "${M[@]}" --default-character-set=utf8mb4 shapes_tables <"$WORK/tables.sql"
fi
if ! "${M[@]}" -N -e "SELECT 1 FROM shapes_blobs.files WHERE id = 48" 2>/dev/null | grep -q 1; then
    say "creating shapes_blobs: 48 rows of 16 MiB"
    "${M[@]}" -e "DROP DATABASE IF EXISTS shapes_blobs; CREATE DATABASE shapes_blobs;
        CREATE TABLE shapes_blobs.files (id INT PRIMARY KEY, tenant_id INT NOT NULL, name VARCHAR(100), body LONGBLOB NOT NULL) ENGINE=InnoDB"
    for i in $(seq 1 48); do
        "${M[@]}" -e "INSERT INTO shapes_blobs.files VALUES ($i, $((i % 3)), 'scan-$i.pdf', REPEAT(RANDOM_BYTES(1024), 16384))"
    done
fi

say "building billora-backup (release)"
cargo build --release --locked -q -p billora-cli --bin billora-backup
B="$ROOT/target/release/billora-backup"
D="$WORK/data"
mk() { echo "$1" | "$B" --data-dir "$D" schedule create --json - | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
for db in shapes_tables shapes_blobs; do
    "$B" --data-dir "$D" connection add --name "$db" --host "$BILLORA_TEST_MARIADB_HOST" --port "$BILLORA_TEST_MARIADB_PORT" \
        --user "$BILLORA_TEST_MARIADB_USER" --database "$db" --password-env BENCH_PW --tls-mode disabled >/dev/null
done
S_TABLES=$(mk '{"name":"tables","cron_expression":"@daily","backup_type":"full","connection":"shapes_tables"}')
S_BLOBS=$(mk '{"name":"blobs","cron_expression":"@daily","backup_type":"full","connection":"shapes_blobs"}')

# timed KEY CMD: appends "wall rss_mb" of one run of the shell command CMD to $WORK/KEY.
timed() {
    /usr/bin/time -o "$WORK/t" -f "%e %M" bash -c "$2" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; die "$2 failed"; }
    awk '{printf "%s %d\n", $1, $2 / 1024}' "$WORK/t" >>"$WORK/$1"
    sync
}
median() { sort -n -k1,1 "$WORK/$1" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
HQ=$(printf '%q ' "${H[@]}")
ROWS=()
for shape in tables blobs; do
    db="shapes_$shape"; s=$([ "$shape" = tables ] && echo "$S_TABLES" || echo "$S_BLOBS")
    ours="$B --data-dir $D schedule run $s"
    theirs="mariadb-dump --no-defaults $HQ --max-allowed-packet=64M --single-transaction --quick $db | zstd -q -3 > $WORK/$db.sql.zst"
    bash -c "$theirs"   # unmeasured: fills the buffer pool
    for r in $(seq 1 "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then timed "o-$shape" "$ours"; timed "t-$shape" "$theirs"
        else timed "t-$shape" "$theirs"; timed "o-$shape" "$ours"; fi
    done
    read -r ow orss < <(median "o-$shape"); read -r tw trss < <(median "t-$shape")
    ROWS+=("| $db | $ow | $orss | $tw | $trss | $(awk -v a="$ow" -v b="$tw" 'BEGIN {printf "%.2f", a / b}') |")
done
echo
echo "Database shapes, the median of $ROUNDS alternating rounds ($(nproc) cores, $("${M[@]}" -N -e 'SELECT VERSION()'), $(date -u +%F))."
echo
echo "| database | ours s | ours peak RSS MB | mariadb-dump \| zstd s | its peak RSS MB | ours / theirs |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
