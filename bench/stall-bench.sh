#!/usr/bin/env bash
# Write stalls: steady writers and one long write (10 s) running while a backup starts, for
# our backup, `mariadb-dump --single-transaction` and mydumper, side by side. Prints a Markdown
# table of the writers' worst and 99th-percentile latency during each backup; record it in
# BENCHMARKS.md with the machine and the date. Not part of the tests.
#   bench/stall-bench.sh            BENCH_ROUNDS=2 (1 by default)
. "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
need_rust
need_python_venv
need_apt mydumper mariadb-client
"$ROOT/scripts/services.sh" start mariadb
. "$SERVICES_DIR/env"
"$PYTHON" -m pip install --quiet "pymysql==1.1.1"
export BENCH_PW="$BILLORA_TEST_MARIADB_PASSWORD" MYSQL_PWD="$BILLORA_TEST_MARIADB_PASSWORD"
DB=billora_stall
WORK="$(mktemp -d -t billora-stall.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
M=(mariadb --no-defaults -h "$BILLORA_TEST_MARIADB_HOST" -P "$BILLORA_TEST_MARIADB_PORT" -u "$BILLORA_TEST_MARIADB_USER")
"${M[@]}" -e "CREATE DATABASE IF NOT EXISTS $DB"
# Something to back up: 200,000 invoices (~40 MB).
"${M[@]}" "$DB" -e "CREATE TABLE IF NOT EXISTS invoices (id INT PRIMARY KEY, tenant_id INT, total DECIMAL(12,2), note VARCHAR(120)) ENGINE=InnoDB;
    INSERT IGNORE INTO invoices SELECT seq, seq % 50, seq * 1.5, SHA1(seq) FROM seq_1_to_200000"

say "building billora-backup (release)"
cargo build --release --locked -q -p billora-cli --bin billora-backup
B="$ROOT/target/release/billora-backup"
D="$WORK/data"
"$B" --data-dir "$D" connection add --name stall --host "$BILLORA_TEST_MARIADB_HOST" --port "$BILLORA_TEST_MARIADB_PORT" \
    --user "$BILLORA_TEST_MARIADB_USER" --database "$DB" --password-env BENCH_PW --tls-mode disabled >/dev/null
S=$(echo '{"name":"stall","cron_expression":"@daily","backup_type":"full"}' | "$B" --data-dir "$D" schedule create --json - \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

TOOLS=$(python3 - "$B" "$D" "$S" "$BILLORA_TEST_MARIADB_HOST" "$BILLORA_TEST_MARIADB_PORT" "$BILLORA_TEST_MARIADB_USER" "$BILLORA_TEST_MARIADB_PASSWORD" "$DB" "$WORK" <<'PY'
import json, sys
b, d, s, host, port, user, pw, db, work = sys.argv[1:]
print(json.dumps([
    ["billora-backup (2 readers)", [b, "--data-dir", d, "schedule", "run", s]],
    ["mariadb-dump --single-transaction", ["bash", "-c", f"mariadb-dump --no-defaults -h {host} -P {port} -u {user} --single-transaction {db} > /dev/null"]],
    ["mydumper -t 2", ["bash", "-c", f"rm -rf {work}/md && mydumper -h {host} -P {port} -u {user} -p \"$MYSQL_PWD\" -t 2 -B {db} -o {work}/md"]],
]))
PY
)
echo "($(nproc) cores, $(date -u +%F), $("${M[@]}" -N -e 'SELECT @@version'))"
"$PYTHON" bench/stall_bench.py "$BILLORA_TEST_MARIADB_HOST" "$BILLORA_TEST_MARIADB_PORT" "$BILLORA_TEST_MARIADB_USER" \
    "$BILLORA_TEST_MARIADB_PASSWORD" "$DB" "$TOOLS" "${BENCH_ROUNDS:-1}"
