#!/usr/bin/env bash
# The end-to-end test of the real app: loads the fixture into a fresh database on the test
# MariaDB, then, inside a throw-away desktop session, starts tauri-driver and runs app_test.py
# against target/debug/billora-app, then recovery_test.py (a new computer, an empty data
# folder, restoring what the first run copied to S3). Needs the services started (scripts/services.sh start),
# the app built (cargo build -p billora-app) and the test venv (selenium).
#   tests/e2e/run.sh [PYTHON]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON="${1:-$ROOT/.test-services/venv/bin/python}"
. "$ROOT/.test-services/env"

export BILLORA_APP="$ROOT/target/debug/billora-app"
export BILLORA_SCREENSHOTS="${BILLORA_SCREENSHOTS:-$ROOT/target/e2e-screenshots}"
export BILLORA_E2E_DATABASE="billora_e2e_$$"
export BILLORA_E2E_S3_PREFIX="e2e-$$-$RANDOM"
export BILLORA_TEST_MARIADB_PORT BILLORA_TEST_MARIADB_PASSWORD BILLORA_TEST_S3_ENDPOINT BILLORA_TEST_S3_BUCKET \
    BILLORA_TEST_SFTP_HOST BILLORA_TEST_SFTP_PORT BILLORA_TEST_SFTP_USER BILLORA_TEST_SFTP_KEY
driver="${TAURI_DRIVER:-$ROOT/.test-services/tools/bin/tauri-driver}"
[ -x "$BILLORA_APP" ] || { echo "build the app first: cargo build -p billora-app" >&2; exit 1; }

client=(mariadb --no-defaults -h127.0.0.1 -P"$BILLORA_TEST_MARIADB_PORT" -ubillora_test -p"$BILLORA_TEST_MARIADB_PASSWORD" --skip-ssl)
"${client[@]}" -e "CREATE DATABASE \`$BILLORA_E2E_DATABASE\` CHARACTER SET utf8mb4"
"${client[@]}" "$BILLORA_E2E_DATABASE" < "$ROOT/tests/fixtures/billora_fixture.sql"
trap '"${client[@]}" -e "DROP DATABASE IF EXISTS \`$BILLORA_E2E_DATABASE\`" || true' EXIT

rm -rf "$BILLORA_SCREENSHOTS"
export driver PYTHON ROOT
"$ROOT/tests/e2e/desktop-session.sh" bash -c '
    set -euo pipefail
    # tauri-driver starts the app, which inherits its environment (the data folder): one driver
    # per scenario.
    start_driver() {
        read -r port native < <("$PYTHON" -c "import socket
ports = []
for _ in range(2):
    s = socket.socket(); s.bind((\"127.0.0.1\", 0)); ports.append(s.getsockname()[1]); s.close()
print(*ports)")
        export BILLORA_DRIVER_URL="http://127.0.0.1:$port"
        "$driver" --port "$port" --native-port "$native" --native-driver /usr/bin/WebKitWebDriver >>"$BILLORA_DESKTOP_SESSION/driver.log" 2>&1 &
        driver_pid=$!
        for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
    }
    trap "kill \$driver_pid 2>/dev/null || true" EXIT
    export BILLORA_BACKUP_DATA_DIR="$BILLORA_DESKTOP_SESSION/appdata"
    start_driver
    status=0
    "$PYTHON" "$ROOT/tests/e2e/app_test.py" || status=$?
    # Then a new computer: an empty data folder restores what the first one copied away.
    if [ $status -eq 0 ]; then
        kill "$driver_pid" 2>/dev/null || true
        wait "$driver_pid" 2>/dev/null || true
        # The first app may linger in the tray after its session; one instance runs at a time.
        pkill -f "$BILLORA_APP" 2>/dev/null || true
        for _ in $(seq 50); do pgrep -f "$BILLORA_APP" >/dev/null || break; sleep 0.1; done
        pkill -KILL -f "$BILLORA_APP" 2>/dev/null || true
        export BILLORA_BACKUP_DATA_DIR="$BILLORA_DESKTOP_SESSION/newcomputer"
        start_driver
        "$PYTHON" "$ROOT/tests/e2e/recovery_test.py" || status=$?
    fi
    if [ $status -ne 0 ]; then
        echo "--- tauri-driver and app log (tail)" >&2
        tail -n 40 "$BILLORA_DESKTOP_SESSION/driver.log" >&2 || true
    fi
    exit $status
'
