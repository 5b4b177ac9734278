# Shared helpers for the project's scripts: install what is missing, never touch what is there.
# Sourced, not run.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Services and tools the tests start live here (ignored by git).
SERVICES_DIR="$ROOT/.test-services"
MIN_RUST="1.90"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "need root to run: $* (install sudo or run as root)"; fi
}

# need_apt PKG...: installs the Debian/Ubuntu packages that are not installed yet.
need_apt() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} by hand"
    say "installing ${missing[*]}"
    if [ -z "${BILLORA_APT_UPDATED:-}" ]; then
        as_root apt-get update -qq
        export BILLORA_APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# need_rust: a Rust toolchain of at least MIN_RUST with rustfmt and clippy.
need_rust() {
    [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
    if ! command -v cargo >/dev/null || ! version_ge "$(rustc --version | awk '{print $2}')" "$MIN_RUST"; then
        need_apt curl ca-certificates
        say "installing Rust (rustup, stable)"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
        . "$HOME/.cargo/env"
    fi
    if command -v rustup >/dev/null; then
        cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
        cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
    fi
}

# The system packages the build needs: a C compiler (SQLite, zstd), D-Bus headers (the Secret
# Service keyring backend).
need_build_deps() {
    need_apt build-essential pkg-config ca-certificates libdbus-1-dev
}

# need_python_venv: a venv in .test-services with the test-only Python packages.
need_python_venv() {
    need_apt python3 python3-venv
    local venv="$SERVICES_DIR/venv"
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import cronsim, selenium' 2>/dev/null; then
        say "creating the test venv (cronsim, selenium)"
        mkdir -p "$SERVICES_DIR"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$ROOT/tests/requirements.txt"
    fi
    PYTHON="$venv/bin/python"
}
