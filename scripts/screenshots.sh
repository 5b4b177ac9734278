#!/usr/bin/env bash
# Regenerates the README's screenshots from a run of the end-to-end tests (English and Thai,
# the real app under Xvfb, nothing over the controls: desktop notifications are closed and the
# app's toast hidden before each shot) and copies them into docs/screenshots/.
#   scripts/screenshots.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
need_app_build_deps
need_rust
need_python_venv
need_apt xvfb webkit2gtk-driver dunst imagemagick libglib2.0-bin gnome-keyring dbus-daemon dbus-bin libsecret-tools mariadb-client age
need_ui
need_tauri_driver
"$ROOT/scripts/services.sh" start
cargo build --locked -p billora-app
shots="$(mktemp -d -t billora-shots.XXXXXX)"
trap 'rm -rf "$shots"' EXIT
BILLORA_SCREENSHOTS="$shots" tests/e2e/run.sh "$PYTHON"
mkdir -p docs/screenshots
# Every shot the README shows, plus the rest of the run for reference.
for png in "$shots"/*.png; do
    name="$(basename "$png")"
    [ "$name" = "failure.png" ] && continue
    cp "$png" "docs/screenshots/$name"
done
say "screenshots in docs/screenshots: $(ls docs/screenshots | wc -l)"
