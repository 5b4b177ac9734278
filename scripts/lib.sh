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

# need_cargo_deny: cargo-deny (licenses, bans, sources of the dependency tree) in
# .test-services/tools, built from crates.io once.
CARGO_DENY_VERSION="0.20.2"
need_cargo_deny() {
    CARGO_DENY="$ROOT/.test-services/tools/bin/cargo-deny"
    if [ ! -x "$CARGO_DENY" ] || ! "$CARGO_DENY" --version | grep -q "$CARGO_DENY_VERSION"; then
        say "installing cargo-deny $CARGO_DENY_VERSION (built once, into .test-services/tools)"
        cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked --root "$ROOT/.test-services/tools"
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
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import cronsim, selenium, Xlib, moto.server' 2>/dev/null; then
        say "creating the test venv (cronsim, selenium, python-xlib, moto)"
        mkdir -p "$SERVICES_DIR"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$ROOT/tests/requirements.txt"
    fi
    PYTHON="$venv/bin/python"
}

# need_node: Node.js >= 20 with npm (the UI's build and tests). From apt when its version is
# new enough, else the official binary from nodejs.org into .test-services/node.
MIN_NODE=20
need_node() {
    local local_node="$SERVICES_DIR/node/bin"
    [ -x "$local_node/node" ] && export PATH="$local_node:$PATH"
    if command -v node >/dev/null && command -v npm >/dev/null \
        && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge "$MIN_NODE" ]; then
        return 0
    fi
    local candidate
    candidate="$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ {print $2}' | sed -E 's/^[0-9]+://' | cut -d. -f1)"
    if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] && [ "$candidate" -ge "$MIN_NODE" ] 2>/dev/null; then
        need_apt nodejs
        command -v npm >/dev/null || need_apt npm
        return 0
    fi
    need_apt curl ca-certificates xz-utils
    local version="v22.12.0" arch
    case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) die "no Node.js build for $(uname -m)" ;; esac
    say "installing Node.js $version into $SERVICES_DIR/node (the system's is older than $MIN_NODE)"
    mkdir -p "$SERVICES_DIR/node"
    curl -fsSL "https://nodejs.org/dist/$version/node-$version-linux-$arch.tar.xz" \
        | tar -xJ --strip-components=1 -C "$SERVICES_DIR/node"
    export PATH="$local_node:$PATH"
}

# The system packages of the desktop app: WebKitGTK, the tray (AppIndicator), SVG icons, and
# the D-Bus headers of the keyring and notifications.
need_app_build_deps() {
    need_build_deps
    need_apt libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev \
        libxdo-dev libssl-dev file
}

# need_ui: the UI's npm packages (exactly as locked) and a fresh build in ui/dist, which the
# app embeds (cargo builds of src-tauri need it).
need_ui() {
    need_node
    if [ ! -d "$ROOT/ui/node_modules" ] || [ "$ROOT/ui/package-lock.json" -nt "$ROOT/ui/node_modules/.package-lock.json" ]; then
        say "installing the UI's packages (npm ci)"
        (cd "$ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
    fi
    say "building the UI (ui/dist)"
    (cd "$ROOT/ui" && npm run --silent build >/dev/null)
}

# need_tauri_driver: the WebDriver bridge of Tauri apps, built once into .test-services/tools.
need_tauri_driver() {
    if [ ! -x "$SERVICES_DIR/tools/bin/tauri-driver" ]; then
        say "installing tauri-driver"
        cargo install --quiet --locked tauri-driver --version 2.1.0 --root "$SERVICES_DIR/tools"
    fi
}
