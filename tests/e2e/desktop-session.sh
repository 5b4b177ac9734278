#!/usr/bin/env bash
# Runs a command inside a throw-away desktop session: Xvfb, a D-Bus session bus, an unlocked
# gnome-keyring (the Secret Service), a notification daemon (dunst) and a D-Bus monitor that
# logs every desktop notification to $BILLORA_NOTIFY_LOG. HOME and the XDG folders are fresh
# temp folders, so nothing touches the machine's own keyring, autostart or settings.
#   tests/e2e/desktop-session.sh COMMAND [ARGS...]
set -euo pipefail

session="$(mktemp -d -t billora-desktop.XXXXXX)"
mkdir -p "$session/home" "$session/runtime" "$session/config" "$session/data"
chmod 700 "$session/runtime"
export HOME="$session/home" XDG_RUNTIME_DIR="$session/runtime" XDG_CONFIG_HOME="$session/config" \
    XDG_DATA_HOME="$session/data" BILLORA_DESKTOP_SESSION="$session"
export BILLORA_NOTIFY_LOG="${BILLORA_NOTIFY_LOG:-$session/notify.log}"
export NO_AT_BRIDGE=1 GDK_BACKEND=x11 WEBKIT_DISABLE_COMPOSITING_MODE=1 LIBGL_ALWAYS_SOFTWARE=1

display=99
while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp >"$session/xvfb.log" 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true; wait $xvfb 2>/dev/null || true; [ -n "${BILLORA_KEEP_SESSION:-}" ] || rm -rf "$session"' EXIT
export DISPLAY=":$display"
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done

dbus-run-session -- bash -c '
    set -euo pipefail
    eval "$(printf "session-pw" | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
    export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
    # Notifications at the bottom left, small, where the app has no controls (the screenshots
    # in the README show none over a button).
    printf "[global]\n    origin = bottom-left\n    offset = 8x40\n    width = 200\n    font = Noto Sans Thai 7\n" >"$BILLORA_DESKTOP_SESSION/dunstrc"
    dunst -config "$BILLORA_DESKTOP_SESSION/dunstrc" >"$BILLORA_DESKTOP_SESSION/dunst.log" 2>&1 &
    dbus-monitor --session "interface=org.freedesktop.Notifications,member=Notify" >"$BILLORA_NOTIFY_LOG" 2>&1 &
    sleep 0.5
    "$@"
' desktop-session "$@"
