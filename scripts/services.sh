#!/usr/bin/env bash
# Starts and stops the real services the tests use, on loopback, in throw-away directories
# under .test-services/ (never the machine's own MariaDB or keyring).
#
#   scripts/services.sh start [mariadb] [faultfs] [s3] [webdav] [sftp] [gdrive]   # idempotent; default: all
#   scripts/services.sh stop
#   scripts/services.sh env               # the variables the tests read, as shell assignments
#
# MariaDB: a server of Debian's mariadb-server, its own datadir, TCP 127.0.0.1:$BILLORA_TEST_MARIADB_PORT
# (3407 by default), an admin user `root` on the socket and a test user `billora_test` with a password.
# Remote destinations: an S3-compatible server (moto, from PyPI) with a bucket `billora-test`,
# a WebDAV server (Debian's rclone) with basic auth, and an OpenSSH server (Debian's
# openssh-server) on its own port with key auth, and a stand-in for Google's OAuth and Drive
# endpoints (tests/gdrive/drive_standin.py); all on 127.0.0.1, their data under .test-services/.
. "$(dirname "$0")/lib.sh"

MARIADB_DIR="$SERVICES_DIR/mariadb"
MARIADB_PORT="${BILLORA_TEST_MARIADB_PORT:-3407}"
MARIADB_TEST_PASSWORD="billora-test-pw"
S3_PORT="${BILLORA_TEST_S3_PORT:-9123}"
WEBDAV_PORT="${BILLORA_TEST_WEBDAV_PORT:-9124}"
SFTP_PORT="${BILLORA_TEST_SFTP_PORT:-2223}"
GDRIVE_PORT="${BILLORA_TEST_GDRIVE_PORT:-9125}"
GDRIVE_DIR="$SERVICES_DIR/gdrive"
S3_DIR="$SERVICES_DIR/s3"
WEBDAV_DIR="$SERVICES_DIR/webdav"
SFTP_DIR="$SERVICES_DIR/sftp"

mariadb_running() {
    [ -S "$MARIADB_DIR/sock" ] && mariadb-admin --no-defaults --socket="$MARIADB_DIR/sock" -uroot ping >/dev/null 2>&1
}

start_mariadb() {
    need_apt mariadb-server mariadb-client
    mariadb_running && return 0
    mkdir -p "$MARIADB_DIR"
    local user_opt=()
    [ "$(id -u)" -eq 0 ] && user_opt=(--user=root)
    if [ ! -d "$MARIADB_DIR/data/mysql" ]; then
        say "initialising a MariaDB datadir in $MARIADB_DIR"
        rm -rf "$MARIADB_DIR/data"
        mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$MARIADB_DIR/data" \
            --auth-root-authentication-method=socket --skip-test-db >"$MARIADB_DIR/install.log" 2>&1 \
            || { cat "$MARIADB_DIR/install.log" >&2; die "mariadb-install-db failed"; }
    fi
    # TLS with a private CA, so the TLS modes are tested for real. The certificate names
    # `localhost` only: connecting as 127.0.0.1 is a host name mismatch for verify-identity.
    local tls="$MARIADB_DIR/tls"
    if [ ! -f "$tls/server.pem" ] || grep -q 'IP:127' "$tls/ext.cnf" 2>/dev/null; then
        need_apt openssl
        mkdir -p "$tls"
        ( cd "$tls" &&
          openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Billora Test CA" -keyout ca.key -out ca.pem &&
          openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr &&
          printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost\n' > ext.cnf &&
          openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -extfile ext.cnf -out server.pem
        ) >/dev/null 2>&1 || die "could not make the test TLS certificates"
    fi
    say "starting MariaDB on 127.0.0.1:$MARIADB_PORT"
    # Detached from this shell so it outlives the test command that started it.
    setsid mariadbd --no-defaults "${user_opt[@]}" --datadir="$MARIADB_DIR/data" --socket="$MARIADB_DIR/sock" \
        --port="$MARIADB_PORT" --bind-address=127.0.0.1 --pid-file="$MARIADB_DIR/mariadb.pid" \
        --log-error="$MARIADB_DIR/error.log" --skip-name-resolve --innodb-buffer-pool-size=256M \
        --max-allowed-packet=64M --innodb-log-file-size=256M --event-scheduler=OFF \
        --ssl-ca="$tls/ca.pem" --ssl-cert="$tls/server.pem" --ssl-key="$tls/server.key" \
        </dev/null >/dev/null 2>&1 9>&- &
    for _ in $(seq 1 60); do mariadb_running && break; sleep 0.5; done
    mariadb_running || { tail -20 "$MARIADB_DIR/error.log" >&2; die "MariaDB did not start"; }
    mariadb --no-defaults --socket="$MARIADB_DIR/sock" -uroot <<SQL
CREATE USER IF NOT EXISTS 'billora_test'@'127.0.0.1' IDENTIFIED BY '$MARIADB_TEST_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO 'billora_test'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'billora_test'@'localhost' IDENTIFIED BY '$MARIADB_TEST_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO 'billora_test'@'localhost' WITH GRANT OPTION;
SQL
}

# A tiny file system (256 KiB) that fills up, and a read-only one, for the disk-full and
# not-writable fault tests. Mounting needs root (sudo is used when not root).
start_faultfs() {
    local full="$SERVICES_DIR/fullfs" ro="$SERVICES_DIR/rofs"
    mkdir -p "$full" "$ro"
    mountpoint -q "$full" || as_root mount -t tmpfs -o size=256k,mode=0777 billora-fullfs "$full"
    mountpoint -q "$ro" || as_root mount -t tmpfs -o ro,size=64k,mode=0777 billora-rofs "$ro"
}

stop_faultfs() {
    for d in "$SERVICES_DIR/fullfs" "$SERVICES_DIR/rofs"; do
        mountpoint -q "$d" && as_root umount "$d" || true
    done
}

port_open() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(0.3)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
}

wait_port() {
    for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
    return 1
}

# S3: moto in server mode (in memory; a restart empties it), then the test bucket.
start_s3() {
    need_python_venv
    mkdir -p "$S3_DIR"
    if ! port_open "$S3_PORT"; then
        say "starting an S3-compatible server (moto) on 127.0.0.1:$S3_PORT"
        setsid "$SERVICES_DIR/venv/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT" \
            </dev/null >"$S3_DIR/moto.log" 2>&1 9>&- &
        echo $! >"$S3_DIR/pid"
        wait_port "$S3_PORT" || { tail -20 "$S3_DIR/moto.log" >&2; die "moto did not start"; }
    fi
    # moto does not check signatures: a plain PUT creates the bucket (idempotent).
    python3 -c "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:$S3_PORT/billora-test', method='PUT'))" \
        || die "could not create the test bucket"
}

# WebDAV: rclone serving a folder, user `billora` with a password.
start_webdav() {
    need_apt rclone
    mkdir -p "$WEBDAV_DIR/root"
    port_open "$WEBDAV_PORT" && return 0
    say "starting a WebDAV server (rclone) on 127.0.0.1:$WEBDAV_PORT"
    setsid rclone serve webdav "$WEBDAV_DIR/root" --addr "127.0.0.1:$WEBDAV_PORT" --user billora --pass webdav-test-pw \
        </dev/null >"$WEBDAV_DIR/rclone.log" 2>&1 9>&- &
    echo $! >"$WEBDAV_DIR/pid"
    wait_port "$WEBDAV_PORT" || { tail -20 "$WEBDAV_DIR/rclone.log" >&2; die "rclone did not start"; }
}

# SFTP: the distribution's sshd with its own config, host key and port; key auth only. The
# host key is kept across runs (ssh remembers it in known_hosts).
start_sftp() {
    need_apt openssh-server openssh-client
    mkdir -p "$SFTP_DIR/root"
    if [ ! -f "$SFTP_DIR/host_key" ]; then
        ssh-keygen -q -t ed25519 -N '' -f "$SFTP_DIR/host_key"
        # A new test server key: forget the one an earlier .test-services had on this port.
        ssh-keygen -R "[127.0.0.1]:$SFTP_PORT" >/dev/null 2>&1 || true
    fi
    [ -f "$SFTP_DIR/client_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$SFTP_DIR/client_key"
    chmod 600 "$SFTP_DIR/host_key" "$SFTP_DIR/client_key"
    cat >"$SFTP_DIR/sshd_config" <<CFG
Port $SFTP_PORT
ListenAddress 127.0.0.1
HostKey $SFTP_DIR/host_key
PidFile $SFTP_DIR/sshd.pid
AuthorizedKeysFile $SFTP_DIR/client_key.pub
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
CFG
    port_open "$SFTP_PORT" && return 0
    say "starting an SFTP server (OpenSSH) on 127.0.0.1:$SFTP_PORT"
    as_root mkdir -p /run/sshd
    setsid /usr/sbin/sshd -D -e -f "$SFTP_DIR/sshd_config" </dev/null >"$SFTP_DIR/sshd.log" 2>&1 9>&- &
    wait_port "$SFTP_PORT" || { tail -20 "$SFTP_DIR/sshd.log" >&2; die "sshd did not start"; }
}

# Google Drive: a stand-in of the token and Drive v3 endpoints (Python's standard library).
start_gdrive() {
    need_apt python3
    mkdir -p "$GDRIVE_DIR"
    port_open "$GDRIVE_PORT" && return 0
    say "starting a Google Drive stand-in on 127.0.0.1:$GDRIVE_PORT"
    setsid python3 "$ROOT/tests/gdrive/drive_standin.py" "$GDRIVE_PORT" </dev/null >"$GDRIVE_DIR/standin.log" 2>&1 9>&- &
    echo $! >"$GDRIVE_DIR/pid"
    wait_port "$GDRIVE_PORT" || { tail -20 "$GDRIVE_DIR/standin.log" >&2; die "the Drive stand-in did not start"; }
}

stop_pid_file() {
    [ -f "$1" ] && kill "$(cat "$1")" 2>/dev/null || true
    rm -f "$1"
}

stop_remotes() {
    stop_pid_file "$S3_DIR/pid"
    stop_pid_file "$WEBDAV_DIR/pid"
    stop_pid_file "$SFTP_DIR/sshd.pid"
    stop_pid_file "$GDRIVE_DIR/pid"
}

stop_mariadb() {
    if mariadb_running; then
        mariadb-admin --no-defaults --socket="$MARIADB_DIR/sock" -uroot shutdown || true
    fi
}

print_env() {
    cat <<ENV
BILLORA_TEST_MARIADB_HOST=127.0.0.1
BILLORA_TEST_MARIADB_PORT=$MARIADB_PORT
BILLORA_TEST_MARIADB_USER=billora_test
BILLORA_TEST_MARIADB_PASSWORD=$MARIADB_TEST_PASSWORD
BILLORA_TEST_MARIADB_SOCKET=$MARIADB_DIR/sock
BILLORA_TEST_MARIADB_CA=$MARIADB_DIR/tls/ca.pem
BILLORA_TEST_FULLFS=$SERVICES_DIR/fullfs
BILLORA_TEST_ROFS=$SERVICES_DIR/rofs
BILLORA_TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT
BILLORA_TEST_S3_BUCKET=billora-test
BILLORA_TEST_WEBDAV_URL=http://127.0.0.1:$WEBDAV_PORT
BILLORA_TEST_WEBDAV_USER=billora
BILLORA_TEST_WEBDAV_PASSWORD=webdav-test-pw
BILLORA_TEST_WEBDAV_ROOT=$WEBDAV_DIR/root
BILLORA_TEST_SFTP_HOST=127.0.0.1
BILLORA_TEST_SFTP_PORT=$SFTP_PORT
BILLORA_TEST_SFTP_USER=$(id -un)
BILLORA_TEST_SFTP_KEY=$SFTP_DIR/client_key
BILLORA_TEST_SFTP_ROOT=$SFTP_DIR/root
BILLORA_TEST_GDRIVE_BASE=http://127.0.0.1:$GDRIVE_PORT
BILLORA_TEST_GDRIVE_CLIENT_ID=billora-test-client
BILLORA_TEST_GDRIVE_CLIENT_SECRET=gdrive-test-secret
ENV
}

cmd="${1:-start}"
shift || true
mkdir -p "$SERVICES_DIR"
# One caller at a time: parallel tests may all ask for the server at once.
exec 9>"$SERVICES_DIR/.lock"
flock 9
case "$cmd" in
    start)
        for svc in "${@:-mariadb faultfs s3 webdav sftp gdrive}"; do for one in $svc; do "start_$one"; done; done
        print_env >"$SERVICES_DIR/env"
        ;;
    stop) stop_mariadb; stop_faultfs; stop_remotes ;;
    env) print_env ;;
    *) die "usage: $0 start [mariadb] [faultfs] [s3] [webdav] [sftp] [gdrive] | stop | env" ;;
esac
