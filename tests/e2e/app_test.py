"""End to end through the real built app (tauri-driver + WebKitWebDriver), inside the desktop
session of tests/e2e/desktop-session.sh: a real keyring, a real notification daemon, the real
MariaDB of scripts/services.sh.

Run by tests/e2e/run.sh. Each step asserts what should hold, and screenshots of the main screens
are saved to $BILLORA_SCREENSHOTS.
"""

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support.ui import WebDriverWait

APP = os.environ["BILLORA_APP"]
DATA_DIR = Path(os.environ["BILLORA_BACKUP_DATA_DIR"])
PORT = os.environ["BILLORA_TEST_MARIADB_PORT"]
PASSWORD = os.environ["BILLORA_TEST_MARIADB_PASSWORD"]
DATABASE = os.environ["BILLORA_E2E_DATABASE"]
S3_ENDPOINT = os.environ["BILLORA_TEST_S3_ENDPOINT"]
S3_BUCKET = os.environ["BILLORA_TEST_S3_BUCKET"]
# Shared with recovery_test.py, which browses what this run copied there.
S3_PREFIX = os.environ.get("BILLORA_E2E_S3_PREFIX", f"e2e-{os.getpid()}")
SHOTS = Path(os.environ["BILLORA_SCREENSHOTS"])
NOTIFY_LOG = Path(os.environ["BILLORA_NOTIFY_LOG"])
DRIVER_URL = os.environ.get("BILLORA_DRIVER_URL", "http://127.0.0.1:4444")


def step(text):
    print(f"--- {text}", flush=True)


def by_testid(driver, testid):
    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def click(driver, testid):
    """Clicks an element by test id; screens re-render on run events, so retry a stale one."""
    def attempt(d):
        by_testid(d, testid).click()
        return True
    wait_for(driver, f"a clickable {testid}", attempt, timeout=15)


def wait_for(driver, what, predicate, timeout=30):
    """Waits until predicate(driver) is truthy; fails with `what` (what should have happened)."""
    def safe(d):
        try:
            return predicate(d)
        except (StaleElementReferenceException, WebDriverException):
            return False
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(safe)
    except Exception:
        shot(driver, "failure")
        raise AssertionError(f"timed out after {timeout}s waiting for: {what}") from None


def shot(driver, name):
    """A screenshot of the X display (WebKitWebDriver's own screenshot hangs under Xvfb), with
    nothing over the controls: the app's toast is hidden (desktop notifications appear at the
    bottom left, over the side bar's empty part: desktop-session.sh)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        driver.execute_script("document.querySelectorAll('.toast').forEach((t) => { t.hidden = true; });")
    except WebDriverException:
        pass
    time.sleep(0.3)  # Let the last render reach the screen.
    subprocess.run(
        ["import", "-window", "root", "-crop", "1120x760+0+0", "+repage", str(SHOTS / f"{name}.png")],
        check=True,
        timeout=30,
    )


def tick(driver, css, what):
    """Ticks a checkbox and waits until it shows ticked. A click that lands while the screen is
    being replaced is lost, as it would be for a person, who would click again: so does this."""
    def attempt(d):
        box = d.find_element(By.CSS_SELECTOR, css)
        if not box.is_selected():
            box.click()
        return box.is_selected()
    wait_for(driver, what, attempt)


def fill(driver, css, value):
    el = driver.find_element(By.CSS_SELECTOR, css)
    el.clear()
    el.send_keys(value)
    return el


def fill_steady(driver, values):
    """Fills fields ({css: value}) of a screen that may re-render meanwhile (an event after a
    save): until every one holds its value, the replaced ones are found and filled again."""
    def attempt(d):
        for css, value in values.items():
            if d.find_element(By.CSS_SELECTOR, css).get_attribute("value") != value:
                fill(d, css, value)
        return all(d.find_element(By.CSS_SELECTOR, css).get_attribute("value") == v for css, v in values.items())
    wait_for(driver, f"{', '.join(values)} filled", attempt, timeout=15)


def set_select(driver, css, value):
    driver.execute_script(
        "const s = document.querySelector(arguments[0]); s.value = arguments[1];"
        "s.dispatchEvent(new Event('change', {bubbles: true}));",
        css,
        value,
    )


def field_error(driver, field):
    return driver.find_element(By.CSS_SELECTOR, f'.field[data-field="{field}"] .field-error')


def create_schedule(driver, name, cron, backup_type, tenant_id, days, max_backups, on_success, email):
    click(driver, "nav-schedules")
    click(driver, "new-schedule")
    form = wait_for(driver, "the schedule form", lambda d: by_testid(d, "schedule-form"))
    fill(driver, 'input[name="name"]', name)
    cron_input = fill(driver, 'input[name="cron_expression"]', cron)
    assert cron_input.get_attribute("value") == cron, "the cron field should hold what was typed"
    set_select(driver, 'select[name="backup_type"]', backup_type)
    if tenant_id is not None:
        fill(driver, 'input[name="tenant_id"]', str(tenant_id))
    fill(driver, 'input[name="retention_days"]', str(days))
    fill(driver, 'input[name="max_backups"]', str(max_backups))
    success = driver.find_element(By.CSS_SELECTOR, 'input[name="notify_on_success"]')
    if success.is_selected() != on_success:
        success.click()
    if email:
        fill(driver, 'input[name="notification_email"]', email)
    wait_for(
        driver,
        f"the live description of {cron!r}",
        lambda d: by_testid(d, "cron-description").text.strip() != "",
    )
    runs = by_testid(driver, "next-runs").find_elements(By.TAG_NAME, "li")
    assert len(runs) == 5, f"the editor should list the next 5 runs of {cron!r}, got {len(runs)}"
    if tenant_id is not None:
        preview = by_testid(driver, "filename-preview").text
        assert preview.startswith(f"backup_tenant_{tenant_id}_"), f"the file name preview should name the tenant: {preview}"
    click(driver, "save-schedule")
    wait_for(driver, f"the schedule list with {name!r}", lambda d: name in by_testid(d, "schedules-table").text)
    del form


MENU_PATH = "/org/ayatana/NotificationItem/tray_icon_tray_app_main/Menu"


def gdbus(*args):
    return subprocess.run(["gdbus", "call", "--session", *args], capture_output=True, text=True, timeout=20, check=False)


def tray_owner():
    """The bus name that exports the app's tray menu (com.canonical.dbusmenu)."""
    names = gdbus("--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus", "--method", "org.freedesktop.DBus.ListNames")
    for name in re.findall(r"':1\.\d+'", names.stdout):
        name = name.strip("'")
        if gdbus("--dest", name, "--object-path", MENU_PATH, "--method", "com.canonical.dbusmenu.GetLayout", "0", "--", "-1", "@as []").returncode == 0:
            return name
    raise AssertionError("the app should export its tray menu on the session bus")


def tray_menu(owner):
    """The tray menu as {label: id}, read through D-Bus as a desktop panel reads it."""
    out = gdbus("--dest", owner, "--object-path", MENU_PATH, "--method", "com.canonical.dbusmenu.GetLayout", "0", "--", "-1", "@as []").stdout
    items = {}
    for item_id, props in re.findall(r"\((\d+), \{([^{}]*)\}", out):
        label = re.search(r"'label': <'((?:[^'\\]|\\.)*)'>", props)
        if label:
            items[label.group(1)] = int(item_id)
    return items


def tray_click(owner, item_id):
    result = gdbus("--dest", owner, "--object-path", MENU_PATH, "--method", "com.canonical.dbusmenu.Event", str(item_id), "clicked", "<0>", "0")
    assert result.returncode == 0, f"clicking tray item {item_id} should work: {result.stderr}"


def poll(what, predicate, timeout=15):
    """Waits until predicate() is truthy (for what is outside the page: logs, X windows)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for: {what}")


def notified(text):
    return text in NOTIFY_LOG.read_text(errors="replace")


ITEM_PATH = "/org/ayatana/NotificationItem/tray_icon_tray_app_main"


def tray_icon_rgb(owner):
    """The colour of the tray icon's status badge (pixel 50,50 of the 64x64 icon), as a panel
    would draw it: the StatusNotifierItem's IconName is the PNG file the app wrote."""
    out = gdbus("--dest", owner, "--object-path", ITEM_PATH, "--method", "org.freedesktop.DBus.Properties.Get", "org.kde.StatusNotifierItem", "IconName").stdout
    match = re.search(r"'([^']+\.png)'", out)
    assert match, f"the tray item should name its icon file: {out}"
    pixel = subprocess.run(["convert", match.group(1), "-format", "%[pixel:p{50,50}]", "info:"], capture_output=True, text=True, check=True).stdout
    return tuple(int(float(v)) for v in re.findall(r"[\d.]+", pixel)[:3])


def wait_tray(owner, what, predicate, timeout=20):
    deadline = time.time() + timeout
    menu = {}
    while time.time() < deadline:
        menu = tray_menu(owner)
        if predicate(menu):
            return menu
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for the tray menu to show {what}: {sorted(menu)}")


def find_window():
    """The app's top-level X window (found by its title) with the X display, or None."""
    from Xlib import display as xdisplay

    disp = xdisplay.Display()

    def walk(window):
        try:
            if window.get_wm_name() == "Billora Backup":
                return window
        except Exception:  # A window that vanished meanwhile.
            return None
        for child in window.query_tree().children:
            found = walk(child)
            if found is not None:
                return found
        return None

    return disp, walk(disp.screen().root)


def app_window():
    disp, window = find_window()
    assert window is not None, "the app's window should exist on the X display"
    return disp, window


def window_viewable():
    from Xlib import X

    _disp, window = find_window()
    return window is not None and window.get_attributes().map_state == X.IsViewable


def close_window():
    """What the window's close button does: WM_DELETE_WINDOW to the app."""
    from Xlib import X
    from Xlib.protocol import event

    disp, window = app_window()
    protocols = disp.intern_atom("WM_PROTOCOLS")
    delete = disp.intern_atom("WM_DELETE_WINDOW")
    message = event.ClientMessage(window=window, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0]))
    window.send_event(message)
    disp.flush()


def start_server_daemon(folder):
    """A server, as `billora-backup daemon --listen` runs it: its own data folder with a
    connection to the test database, one schedule, an admin token and a self-signed
    certificate. Returns (process, port, token, certificate path)."""
    cli = str(Path(APP).with_name("billora-backup"))
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, BILLORA_TEST_PW=PASSWORD)

    def cli_run(*args, stdin=None):
        done = subprocess.run([cli, "--data-dir", str(folder), *args], input=stdin, capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, f"billora-backup {args[0]}: {done.stderr}"
        return done.stdout

    cli_run("connection", "add", "--name", "db", "--host", "127.0.0.1", "--port", PORT, "--user", "billora_test",
            "--database", DATABASE, "--password-env", "BILLORA_TEST_PW")
    cli_run("schedule", "create", "--json", "-", stdin='{"name":"Server nightly","cron_expression":"0 1 * * *","backup_type":"full"}')
    token = cli_run("token", "create", "--name", "desk", "--role", "admin").strip()
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    daemon = subprocess.Popen([cli, "--data-dir", str(folder), "daemon", "--listen", f"127.0.0.1:{port}",
                               "--tls-cert", str(cert), "--tls-key", str(key)],
                              env=env, stdout=subprocess.DEVNULL, stderr=open(folder / "daemon.log", "w"))
    poll("the server's daemon listens", lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, timeout=30)
    return daemon, port, token, cert


def remote_console(driver):
    daemon, port, token, cert = start_server_daemon(DATA_DIR.parent / "server")
    try:
        fingerprint = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", str(cert)],
                                     capture_output=True, text=True, check=True).stdout.strip().split("=", 1)[1]
        click(driver, "nav-settings")
        wait_for(driver, "Settings → Manage a server", lambda d: by_testid(d, "servers"))
        fill_steady(driver, {
            '[data-testid="server-name"]': "Office server",
            '[data-testid="server-url"]': f"https://localhost:{port}",
            '[data-testid="server-token"]': "bbk_not-the-token",
        })
        click(driver, "server-add")
        refused = wait_for(driver, "a wrong token refused next to its field",
                           lambda d: field_error(d, "token").is_displayed() and field_error(d, "token"))
        assert "refused the token" in refused.text, f"says the token was refused: {refused.text}"
        fill_steady(driver, {'[data-testid="server-token"]': token})
        click(driver, "server-add")
        listed = wait_for(driver, "the server listed with its certificate pinned",
                          lambda d: by_testid(d, "server-Office server"))
        assert fingerprint in listed.text, f"the pinned fingerprint is openssl's ({fingerprint}): {listed.text}"
        shot(driver, "15-manage-a-server")

        wait_for(driver, "the machine switcher offers the server",
                 lambda d: "Office server" in by_testid(d, "machine-switch").text)
        set_select(driver, '[data-testid="machine-switch"]', "Office server")
        wait_for(driver, "the server's schedules on show",
                 lambda d: "Server nightly" in by_testid(d, "schedules-table").text)
        banner = by_testid(driver, "machine-banner")
        assert banner.is_displayed() and "Office server" in banner.text, f"the app says which machine it shows: {banner.text}"
        assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="nav-restore"]'), "restore is this computer's, not offered"
        click(driver, "run-1")
        click(driver, "nav-history")
        done = wait_for(driver, "the server's run succeeded (read again while it runs)",
                        lambda d: by_testid(d, "history-row-1").get_attribute("data-status") == "success" and by_testid(d, "history-row-1"),
                        timeout=90)
        assert "Server nightly" in done.text, f"the history is the server's: {done.text}"
        shot(driver, "16-server-history")
        backups = list((DATA_DIR.parent / "server" / "backups").glob("backup_full_*"))
        assert backups, "the backup file was made on the server"

        set_select(driver, '[data-testid="machine-switch"]', "")
        wait_for(driver, "back to this computer", lambda d: by_testid(d, "nav-restore") and not by_testid(d, "machine-banner").is_displayed())
        return True
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


def main():
    options = ArgOptions()
    options.set_capability("browserName", "wry")
    options.set_capability("tauri:options", {"application": APP})
    driver = webdriver.Remote(command_executor=DRIVER_URL, options=options)
    try:
        run(driver)
    finally:
        driver.quit()


def several_databases(driver, client):
    """A schedule of two databases made in the editor (the server's databases listed to tick),
    run from the list: one history entry with a line and a file for each database."""
    second = f"{DATABASE}_second"
    subprocess.run(
        client
        + [
            f"DROP DATABASE IF EXISTS `{second}`; CREATE DATABASE `{second}` CHARACTER SET utf8mb4; "
            f"CREATE TABLE `{second}`.notes (id INT PRIMARY KEY, body TEXT); "
            f"INSERT INTO `{second}`.notes VALUES (1, 'สวัสดี')"
        ],
        check=True,
    )
    click(driver, "nav-schedules")
    click(driver, "new-schedule")
    wait_for(driver, "the schedule form", lambda d: by_testid(d, "schedule-form"))
    fill(driver, 'input[name="name"]', "Two databases")
    fill(driver, 'input[name="cron_expression"]', "0 5 * * *")
    set_select(driver, '[data-testid="databases-mode"]', "list")
    click(driver, "databases-load")
    for name in (DATABASE, second):
        tick(driver, f'[data-testid="databases-picks"] input[value="{name}"]', f"{name} ticked in the server's list")
    wait_for(driver, "the ticked databases in the list", lambda d: by_testid(d, "databases-list").get_attribute("value") == f"{DATABASE}, {second}")
    picks = wait_for(driver, "the server's databases listed", lambda d: by_testid(d, "databases-picks").text)
    assert "mysql" not in picks.split() and "information_schema" not in picks, f"the server's own databases are not offered: {picks}"
    driver.execute_script("document.querySelector('[data-testid=\"databases-mode\"]').scrollIntoView({block: 'center'})")
    shot(driver, "09c-databases")
    click(driver, "save-schedule")
    wait_for(driver, "the schedule list with the new schedule", lambda d: "Two databases" in by_testid(d, "schedules-table").text)
    with sqlite3.connect(DATA_DIR / "billora.db") as db:
        schedule_id, databases = db.execute("SELECT id, databases FROM schedules WHERE name = 'Two databases'").fetchone()
    assert json.loads(databases) == [DATABASE, second], f"the store holds both databases: {databases}"
    wait_for(driver, "the list saying which databases it backs up", lambda d: second in by_testid(d, f"schedule-row-{schedule_id}").text)
    click(driver, f"run-{schedule_id}")

    def entry():
        with sqlite3.connect(DATA_DIR / "billora.db") as db:
            return db.execute(
                "SELECT id, status FROM runs WHERE schedule_id = ? AND part_of IS NULL AND status != 'running'", (schedule_id,)
            ).fetchone()

    poll("the run of both databases finished", lambda: entry() is not None, timeout=120)
    entry_id, status = entry()
    assert status == "success", f"both databases are backed up: {status}"
    with sqlite3.connect(DATA_DIR / "billora.db") as db:
        parts = db.execute("SELECT id, database, filename, status FROM runs WHERE part_of = ? ORDER BY id", (entry_id,)).fetchall()
    assert [(p[1], p[3]) for p in parts] == [(DATABASE, "success"), (second, "success")], f"one part per database: {parts}"
    for _, name, filename, _ in parts:
        assert filename.startswith(f"backup_full_{name}_"), f"each file names its database: {filename}"
    click(driver, "nav-history")
    wait_for(driver, "the entry saying how many databases", lambda d: "2 databases" in by_testid(d, f"history-row-{entry_id}").text)
    wait_for(driver, "each database's line under the entry", lambda d: f"↳ {second}" in by_testid(d, f"history-row-{parts[1][0]}").text)
    wait_for(driver, "a database's backup verified on its own", lambda d: d.find_elements(By.CSS_SELECTOR, f'[data-testid="verify-{parts[1][0]}"]'))
    shot(driver, "09d-history-databases")
    click(driver, "nav-schedules")
    click(driver, f"delete-{schedule_id}")
    click(driver, "confirm-yes")
    wait_for(driver, "the schedule deleted again", lambda d: "Two databases" not in by_testid(d, "schedules-table").text)
    subprocess.run(client + [f"DROP DATABASE `{second}`"], check=True)


def run(driver):
    step("first launch: a welcome screen with one main button")
    welcome = wait_for(driver, "the welcome screen", lambda d: by_testid(d, "welcome"))
    assert "Add your database" in welcome.text, "the welcome screen should offer to add the database"
    shot(driver, "01-welcome")
    welcome.find_element(By.CSS_SELECTOR, "button.primary").click()

    step("add a connection to the real MariaDB; test it before saving")
    wait_for(driver, "the connection form", lambda d: by_testid(d, "connection-form"))
    fill(driver, '[data-testid="conn-name"]', "billora")
    fill(driver, '[data-testid="conn-host"]', "127.0.0.1")
    fill(driver, '[data-testid="conn-port"]', PORT)
    fill(driver, '[data-testid="conn-user"]', "billora_test")
    fill(driver, '[data-testid="conn-password"]', "wrong-password")
    fill(driver, '[data-testid="conn-database"]', DATABASE)
    click(driver, "test-draft")
    refused = wait_for(
        driver,
        "a wrong password refused next to the password field",
        lambda d: field_error(d, "password").is_displayed() and field_error(d, "password"),
    )
    assert "refused the user name or password" in refused.text, f"the error should say what is wrong: {refused.text}"
    fill(driver, '[data-testid="conn-password"]', PASSWORD)
    click(driver, "test-draft")
    result = wait_for(driver, "the test result", lambda d: "Connected" in by_testid(d, "draft-result").text and by_testid(d, "draft-result"))
    assert "MariaDB" in result.text or "-" in result.text, f"the test should show the server version: {result.text}"
    assert "SHA-256" in result.text, f"the test should show the server certificate's fingerprint: {result.text}"
    shot(driver, "02-connection")
    click(driver, "save-connection")
    first = wait_for(driver, "the first-run screen after saving the first connection", lambda d: by_testid(d, "first-run"))
    assert "02:00" in first.text and "30" in first.text, f"it offers the daily preset: {first.text}"
    click(driver, "first-other")
    wait_for(driver, "the full editor for other settings", lambda d: by_testid(d, "schedule-form"))

    step("the password is in the real keyring and nowhere in the store")
    looked_up = subprocess.run(
        ["secret-tool", "lookup", "service", "billora-backup", "username", "connection:billora"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert looked_up.stdout.strip() == PASSWORD, "the connection's password should be in the Secret Service keyring"
    for path in DATA_DIR.glob("billora.db*"):
        assert PASSWORD.encode() not in path.read_bytes(), f"{path.name} must not contain the password"

    step("an invalid cron expression is refused next to its field")
    fill(driver, 'input[name="name"]', "Broken")
    fill(driver, 'input[name="cron_expression"]', "61 2 * * *")
    error = wait_for(driver, "the cron error next to the field", lambda d: field_error(d, "cron_expression").is_displayed() and field_error(d, "cron_expression"))
    assert "minute" in error.text.lower(), f"the error should name the minute field: {error.text}"
    assert not by_testid(driver, "save-schedule").is_enabled(), "saving should be disabled while the cron is invalid"
    shot(driver, "03-invalid-cron")
    fill(driver, 'input[name="cron_expression"]', "0 2 * * *")
    wait_for(driver, "the error gone once fixed", lambda d: not field_error(d, "cron_expression").is_displayed())

    step("the spec's three example schedules, created through the form")
    create_schedule(driver, "Daily Full Backup", "0 2 * * *", "full", None, 7, 10, False, "admin@example.com")
    create_schedule(driver, "Weekly Full Backup", "0 3 * * 0", "full", None, 30, 4, True, "admin@example.com")
    create_schedule(driver, "Tenant XYZ Backup", "0 4 * * *", "tenant", 5, 14, 14, False, "")
    with sqlite3.connect(DATA_DIR / "billora.db") as db:
        rows = db.execute("SELECT name, cron_expression, backup_type, tenant_id, retention_days, max_backups FROM schedules ORDER BY id").fetchall()
    assert rows == [
        ("Daily Full Backup", "0 2 * * *", "full", None, 7, 10),
        ("Weekly Full Backup", "0 3 * * 0", "full", None, 30, 4),
        ("Tenant XYZ Backup", "0 4 * * *", "tenant", 5, 14, 14),
    ], f"the store should hold the three schedules as typed: {rows}"
    shot(driver, "04-schedules")

    step("a duplicate name is refused next to the name field and changes nothing")
    click(driver, "new-schedule")
    wait_for(driver, "the schedule form", lambda d: by_testid(d, "schedule-form"))
    fill(driver, 'input[name="name"]', "daily full backup")
    live = wait_for(driver, "the name error while typing, before Save", lambda d: field_error(d, "name").is_displayed() and field_error(d, "name"))
    assert "already exists" in live.text, f"a taken name (in any case) is said while typing: {live.text}"
    wait_for(driver, "the cron preview", lambda d: by_testid(d, "cron-description").text.strip() != "")
    click(driver, "save-schedule")
    error = wait_for(driver, "the name error", lambda d: field_error(d, "name").is_displayed() and field_error(d, "name"))
    assert "exists" in error.text.lower(), f"the error should say the name is taken: {error.text}"
    with sqlite3.connect(DATA_DIR / "billora.db") as db:
        count = db.execute("SELECT COUNT(*) FROM schedules").fetchone()[0]
    assert count == 3, "a refused schedule must not be stored"
    shot(driver, "05-editor")

    step("toggle one schedule off")
    click(driver, "nav-schedules")
    toggle = wait_for(driver, "the toggle of schedule 1", lambda d: by_testid(d, "toggle-1"))
    assert toggle.is_selected(), "a new schedule should be on"
    toggle.click()
    wait_for(driver, "schedule 1 off", lambda d: not by_testid(d, "toggle-1").is_selected())

    def stored_state(_):
        with sqlite3.connect(DATA_DIR / "billora.db") as db:
            return db.execute("SELECT is_active, next_run_at FROM schedules WHERE id = 1").fetchone()
    # The switch flips at once; the store follows when the engine has answered.
    wait_for(driver, "schedule 1 stored as off", lambda d: stored_state(d)[0] == 0)
    active = stored_state(driver)
    assert active[0] == 0 and active[1] is None, f"a schedule turned off should be inactive with no next run: {active}"

    step("add an S3 destination: a wrong bucket is refused next to its field, the right one is tested and saved")
    click(driver, "nav-destinations")
    wait_for(driver, "the destination form", lambda d: by_testid(d, "destination-form"))
    fill(driver, '[data-testid="dest-name"]', "offsite")
    fill(driver, '[data-testid="dest-endpoint"]', S3_ENDPOINT)
    fill(driver, '[data-testid="dest-bucket"]', "no-such-bucket")
    fill(driver, '[data-testid="dest-prefix"]', S3_PREFIX)
    fill(driver, '[data-testid="dest-access-key"]', "e2e-key")
    fill(driver, '[data-testid="dest-secret"]', "e2e-secret-value")
    click(driver, "dest-test-draft")
    error = wait_for(driver, "the bucket error", lambda d: field_error(d, "bucket").is_displayed() and field_error(d, "bucket"))
    assert "no-such-bucket" in error.text or "NoSuchBucket" in error.text, f"the error should name the bucket: {error.text}"
    fill(driver, '[data-testid="dest-bucket"]', S3_BUCKET)
    click(driver, "dest-test-draft")
    wait_for(driver, "the test result", lambda d: "Works" in by_testid(d, "dest-draft-result").text)
    click(driver, "dest-save")
    listed = wait_for(driver, "the saved destination", lambda d: by_testid(d, "destination-offsite"))
    assert f"s3://{S3_BUCKET}/{S3_PREFIX}" in listed.text, f"the list shows where it is: {listed.text}"
    driver.execute_script("document.getElementById('screen').scrollTo(0, 0); window.scrollTo(0, 0);")
    shot(driver, "06a-destinations")
    looked_up = subprocess.run(
        ["secret-tool", "lookup", "service", "billora-backup", "username", "destination:offsite"],
        capture_output=True, text=True, check=False,
    )
    assert looked_up.stdout.strip() == "e2e-secret-value", "the S3 secret key should be in the Secret Service keyring"
    for path in DATA_DIR.glob("billora.db*"):
        assert b"e2e-secret-value" not in path.read_bytes(), f"{path.name} must not contain the S3 secret"

    step("the weekly schedule copies to it")
    click(driver, "nav-schedules")
    click(driver, "edit-2")
    tick(driver, 'input[name="copy_to"][value="offsite"]', "the destination ticked")
    click(driver, "save-schedule")
    wait_for(driver, "the schedule list", lambda d: by_testid(d, "schedule-row-2"))
    with sqlite3.connect(DATA_DIR / "billora.db") as db:
        copy_to = db.execute("SELECT copy_to FROM schedules WHERE id = 2").fetchone()[0]
    assert copy_to == '["offsite"]', f"the schedule copies to the destination: {copy_to}"

    step("run the weekly schedule now; history shows success and the file is on disk")
    click(driver, "nav-dashboard")
    wait_for(driver, "the dashboard card of schedule 2", lambda d: by_testid(d, "schedule-card-2"))
    shot(driver, "06-dashboard-before")
    click(driver, "run-now-2")
    click(driver, "nav-history")
    # The row turns `success` when the file is complete, and re-renders when the copy is
    # done; read it once both are there (wait_for retries a row replaced meanwhile).
    wait_for(driver, "the copy badge", lambda d: "copied to offsite" in d.find_element(By.CSS_SELECTOR, '[data-testid$="-offsite"].badge').text, timeout=120)
    filename = wait_for(
        driver,
        "a successful history row",
        lambda d: d.find_element(By.CSS_SELECTOR, '[data-testid="history-table"] tr[data-status="success"] td.file').text.strip(),
        timeout=30,
    )
    assert filename.startswith("backup_full_") and filename.endswith(".sql.zst"), f"the row should name the backup file: {filename}"
    backups = DATA_DIR / "backups"
    assert (backups / filename).is_file(), f"the backup file should be on disk in {backups}"
    assert (backups / filename).stat().st_size > 0, "the backup file should not be empty"
    badge_text = wait_for(driver, "the copy badge's text", lambda d: d.find_element(By.CSS_SELECTOR, '[data-testid$="-offsite"].badge').text)
    assert "copied to offsite" in badge_text, f"the history shows the copy: {badge_text}"
    import boto3  # the stock AWS SDK reads the bucket, not our code

    s3 = boto3.client("s3", endpoint_url=S3_ENDPOINT, region_name="us-east-1", aws_access_key_id="e2e-key", aws_secret_access_key="e2e-secret-value")
    remote = s3.get_object(Bucket=S3_BUCKET, Key=f"{S3_PREFIX}/{filename}")["Body"].read()
    assert remote == (backups / filename).read_bytes(), "the object in the bucket equals the backup file"
    shot(driver, "07-history")

    step("the desktop notification arrived (D-Bus Notify)")
    poll("a Notify call for the weekly backup's success on the session bus", lambda: notified("Backup succeeded"), timeout=30)
    assert notified("Weekly Full Backup"), "the notification names the schedule"
    assert notified(filename), f"and its body the file it made ({filename}), not the e-mail's first lines"

    step("the dashboard shows the good backup")
    click(driver, "nav-dashboard")
    card = wait_for(driver, "the weekly card", lambda d: by_testid(d, "schedule-card-2"))
    wait_for(driver, "the weekly card turns good", lambda d: "health-good" in by_testid(d, "schedule-card-2").get_attribute("class"))
    assert "OK" in card.text, f"the card should say OK: {card.text}"
    shot(driver, "08-dashboard")

    step("the tray menu: status lines, run now per schedule, pause and resume")
    owner = tray_owner()
    menu = wait_tray(owner, "the last backup", lambda m: any(k.startswith("Last: ✓ Weekly Full Backup") for k in m))
    # Which schedule is due first depends on the day: the daily 04:00 tenant backup, except
    # from Saturday 04:00 to Sunday 03:00, when the weekly one comes first. The store knows.
    with sqlite3.connect(DATA_DIR / "billora.db") as db:
        due = db.execute("SELECT name, next_run_at FROM schedules WHERE is_active = 1").fetchall()
    assert sorted(name for name, _ in due) == ["Tenant XYZ Backup", "Weekly Full Backup"] and all(at for _, at in due), f"two active schedules, each with a next run: {due}"
    first = min(due, key=lambda row: datetime.fromisoformat(row[1]))[0]
    assert any(k.startswith("Next: ") and first in k for k in menu), f"the Next line names {first}, due first: {sorted(menu)}"
    for label in ("Run now", "Pause all schedules", "Open Billora Backup", "Quit", "Weekly Full Backup", "Tenant XYZ Backup"):
        assert label in menu, f"the tray menu should have {label!r}: {sorted(menu)}"
    assert "Daily Full Backup" not in menu, "a schedule that is off is not offered in Run now"
    tray_click(owner, menu["Pause all schedules"])
    menu = wait_tray(owner, "Resume", lambda m: "Resume schedules" in m)
    assert any("paused" in k for k in menu), f"the status line says paused: {sorted(menu)}"
    poll("the grey 'paused' badge on the tray icon", lambda: abs(tray_icon_rgb(owner)[0] - 110) < 25 and tray_icon_rgb(owner)[2] < 170)
    wait_for(driver, "the paused banner on the dashboard", lambda d: by_testid(d, "paused-banner"))
    wait_for(driver, "the weekly card says Paused", lambda d: "Paused" in by_testid(d, "schedule-card-2").text)
    next_text = by_testid(driver, "next-2").text
    assert next_text == "none while paused", f"no countdown while paused: {next_text!r}"
    shot(driver, "08b-paused")
    tray_click(owner, menu["Resume schedules"])
    menu = wait_tray(owner, "Pause again", lambda m: "Pause all schedules" in m)
    poll("the plain blue tray icon once resumed and all good", lambda: tray_icon_rgb(owner)[2] > 200 and tray_icon_rgb(owner)[0] < 80)
    tray_click(owner, menu["Tenant XYZ Backup"])
    wait_tray(owner, "the tenant backup's success", lambda m: any(k.startswith("Last: ✓ Tenant XYZ Backup") for k in m), timeout=120)
    with sqlite3.connect(DATA_DIR / "billora.db") as db:
        tenant = db.execute("SELECT status, trigger, filename FROM runs WHERE schedule_id = 3").fetchall()
    assert len(tenant) == 1 and tenant[0][0] == "success" and tenant[0][1] == "manual", f"one manual tenant run from the tray: {tenant}"
    assert tenant[0][2].startswith("backup_tenant_5_"), f"the tenant backup's file names the tenant: {tenant}"

    step("restore the weekly backup into a new database through the Restore screen")
    click(driver, "nav-restore")
    wait_for(driver, "the restore form", lambda d: by_testid(d, "restore-form"))
    with sqlite3.connect(DATA_DIR / "billora.db") as db:
        weekly_run = db.execute("SELECT id FROM runs WHERE schedule_id = 2 AND status = 'success'").fetchone()[0]
    set_select(driver, '[data-testid="restore-run"]', str(weekly_run))
    restored = f"{DATABASE}_restored"
    fill(driver, '[data-testid="restore-database"]', restored)
    shot(driver, "09-restore")
    click(driver, "restore-start")
    wait_for(driver, "the confirmation", lambda d: by_testid(d, "confirm-dialog"))
    click(driver, "confirm-yes")
    done = wait_for(driver, "the restore's result", lambda d: "Restored into" in by_testid(d, "restore-status").text and by_testid(d, "restore-status"), timeout=120)
    assert restored in done.text, f"the result names the new database: {done.text}"
    client = ["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{PORT}", "-ubillora_test", f"-p{PASSWORD}", "--skip-ssl", "-N", "-e"]
    count = lambda db: subprocess.run(client + [f"SELECT COUNT(*) FROM {db}.invoices"], capture_output=True, text=True, check=True).stdout.strip()
    assert count(restored) == count(DATABASE), "the restored database has the same invoices as the source"
    subprocess.run(client + [f"DROP DATABASE `{restored}`"], check=True)

    step("verify the weekly backup from the history: a test restore, compared and dropped")
    click(driver, "nav-history")
    click(driver, f"verify-{weekly_run}")

    def verification():
        with sqlite3.connect(DATA_DIR / "billora.db") as db:
            return db.execute("SELECT verification FROM runs WHERE id = ?", (weekly_run,)).fetchone()[0]

    poll("the run marked verified", lambda: verification() is not None, timeout=120)
    assert verification() == "verified", f"the weekly backup verifies: {verification()}"
    wait_for(driver, "the verified badge", lambda d: "Verified" in by_testid(d, f"history-row-{weekly_run}").text)
    leftovers = subprocess.run(client + ["SHOW DATABASES LIKE 'billora_verify_%'"], capture_output=True, text=True, check=True).stdout.strip()
    assert leftovers == "", f"no scratch database is left: {leftovers}"

    step("keep a backup for ever from the history, and let it go again")
    click(driver, f"pin-{weekly_run}")
    wait_for(driver, "the kept-for-ever badge", lambda d: by_testid(d, f"pinned-{weekly_run}"))
    with sqlite3.connect(DATA_DIR / "billora.db") as db:
        assert db.execute("SELECT pinned FROM runs WHERE id = ?", (weekly_run,)).fetchone()[0] == 1, "the store says pinned"
    assert not driver.find_elements(By.CSS_SELECTOR, f'[data-testid="delete-backup-{weekly_run}"]'), "a pinned backup offers no Delete"
    click(driver, f"pin-{weekly_run}")
    wait_for(driver, "Delete offered again once unpinned", lambda d: d.find_elements(By.CSS_SELECTOR, f'[data-testid="delete-backup-{weekly_run}"]'))

    step("the history searches file names; the filter is cleared after")
    set_value = 'const e = document.querySelector(\'[data-testid="history-search"]\'); e.value = arguments[0]; e.dispatchEvent(new Event("change", {bubbles: true}));'
    driver.execute_script(set_value, "backup_tenant")

    def tenant_rows_only(d):
        cells = d.find_elements(By.CSS_SELECTOR, '[data-testid="history-table"] td.file')
        return cells and all(c.text.startswith("backup_tenant_") for c in cells if c.text != "—")

    wait_for(driver, "only the tenant backups listed", tenant_rows_only)
    driver.execute_script(set_value, "")
    wait_for(driver, "every backup listed again", lambda d: any("backup_full_" in c.text for c in d.find_elements(By.CSS_SELECTOR, "td.file")))

    step("the GFS preset previews which backups are kept and why")
    click(driver, "nav-schedules")
    click(driver, "edit-2")
    wait_for(driver, "the weekly schedule's editor", lambda d: by_testid(d, "schedule-form"))

    # The editor may be drawn again as run events arrive: press the preset until it shows.
    def gfs_filled(d):
        if by_testid(d, "gfs-keep_daily").get_attribute("value") == "7":
            return True
        by_testid(d, "preset-gfs").click()
        return False

    wait_for(driver, "the preset fills keep_daily", gfs_filled)
    # Read within the wait: the list is drawn again as the preview refreshes.
    reasons = wait_for(
        driver,
        "the kept list",
        lambda d: next((k.get_attribute("textContent") for k in d.find_elements(By.CSS_SELECTOR, '[data-testid="retention-kept"]')), None),
    )
    assert "the newest backup is always kept" in reasons, f"each kept backup says why: {reasons}"
    driver.execute_script(
        "const k = document.querySelector('[data-testid=\"retention-kept\"]');"
        "if (k) { k.closest('details').open = true; k.scrollIntoView({block: 'center'}); }"
    )
    shot(driver, "09b-gfs-preview")

    step("a schedule of two databases: the editor lists the server's databases to tick; one run, one entry, a file for each")
    several_databases(driver, client)
    click(driver, "nav-history")
    click(driver, "nav-connections")
    wait_for(driver, "the connection list", lambda d: by_testid(d, "connection-billora"))
    click(driver, "test-billora")
    wait_for(driver, "the saved connection's test", lambda d: "Connected" in by_testid(d, "conn-result-billora").text)
    listed = by_testid(driver, "connection-billora").text
    assert "certificate pinned" in listed, f"the certificate the test showed is pinned when saved: {listed}"
    shot(driver, "10-connections")

    step("edit the connection in place: a wrong password is refused and changes nothing, the right one is tested and saved")
    click(driver, "edit-conn-billora")
    # The screen is drawn again with the form in edit mode: wait for that form, not the old one.
    wait_for(driver, "the edit form, its name fixed", lambda d: by_testid(d, "conn-name").get_attribute("readonly") is not None)
    wait_for(driver, "the form showing the saved host", lambda d: by_testid(d, "conn-host").get_attribute("value") == "127.0.0.1")
    fill(driver, '[data-testid="conn-password"]', "wrong-password")
    click(driver, "save-connection")
    refused = wait_for(driver, "the wrong password refused on its field", lambda d: field_error(d, "password").is_displayed() and field_error(d, "password"))
    assert "refused the user name or password" in refused.text, f"says why: {refused.text}"
    fill(driver, '[data-testid="conn-password"]', PASSWORD)
    click(driver, "save-connection")
    wait_for(driver, "the add form again after saving", lambda d: by_testid(d, "conn-name").get_attribute("readonly") is None)
    click(driver, "test-billora")
    wait_for(driver, "the edited connection still connects", lambda d: "Connected" in by_testid(d, "conn-result-billora").text)
    click(driver, "nav-settings")
    wait_for(driver, "the settings", lambda d: by_testid(d, "smtp-form"))
    shot(driver, "11-settings")

    step("Settings → HTTP API: the app serves the spec's routes, to a token shown once")
    import socket
    import urllib.request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        api_port = s.getsockname()[1]
    tick(driver, "#f-http-enabled", "the HTTP API switch")
    fill(driver, '[data-testid="http-address"]', f"127.0.0.1:{api_port}")
    click(driver, "http-save")
    fill(driver, '[data-testid="token-name"]', "e2e-admin")
    click(driver, "token-create")
    token = wait_for(
        driver,
        "the new token, shown once",
        lambda d: (by_testid(d, "token-value").get_attribute("value") or "").startswith("bbk_") and by_testid(d, "token-value").get_attribute("value"),
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{api_port}/api/backup/schedules",
        headers={"Authorization": f"Bearer {token}"},
    )
    answer, deadline = None, time.time() + 15
    while answer is None:
        try:
            answer = json.loads(urllib.request.urlopen(request, timeout=5).read())
        except OSError as err:
            if time.time() > deadline:
                raise AssertionError(f"the app's HTTP API answers on {api_port}: {err}")
            time.sleep(0.2)
    names = [s["name"] for s in answer["schedules"]]
    assert len(names) >= 2, f"the app's API lists the schedules made in the app: {names}"
    shot(driver, "11b-settings-http-api")

    step("a connection through an SSH tunnel (the test OpenSSH server): the test shows its host key, pinned on save")
    click(driver, "nav-connections")
    wait_for(driver, "the add form", lambda d: by_testid(d, "conn-name").get_attribute("readonly") is None)
    fill(driver, '[data-testid="conn-name"]', "via-ssh")
    fill(driver, '[data-testid="conn-host"]', "127.0.0.1")
    fill(driver, '[data-testid="conn-port"]', PORT)
    fill(driver, '[data-testid="conn-user"]', "billora_test")
    fill(driver, '[data-testid="conn-password"]', PASSWORD)
    fill(driver, '[data-testid="conn-database"]', DATABASE)
    driver.execute_script("document.querySelector('[data-testid=\"conn-ssh\"]').open = true")
    tick(driver, "#f-ssh_enabled", "the SSH tunnel switch")
    fill(driver, '[data-testid="conn-ssh-host"]', os.environ["BILLORA_TEST_SFTP_HOST"])
    fill(driver, '[data-testid="conn-ssh-port"]', os.environ["BILLORA_TEST_SFTP_PORT"])
    fill(driver, '[data-testid="conn-ssh-user"]', os.environ["BILLORA_TEST_SFTP_USER"])
    fill(driver, '[data-testid="conn-ssh-key"]', os.environ["BILLORA_TEST_SFTP_KEY"] + ".missing")
    click(driver, "test-draft")
    missing = wait_for(driver, "a key file that is not there refused next to its field", lambda d: field_error(d, "ssh_key_file").is_displayed() and field_error(d, "ssh_key_file"))
    assert "cannot read the key file" in missing.text, f"says what is wrong with the key file: {missing.text}"
    # Typed as text: Selenium would otherwise take an existing file's path for an upload.
    from selenium.webdriver.remote.file_detector import UselessFileDetector
    with driver.file_detector_context(UselessFileDetector):
        fill(driver, '[data-testid="conn-ssh-key"]', os.environ["BILLORA_TEST_SFTP_KEY"])
    click(driver, "test-draft")
    result = wait_for(driver, "the test through the tunnel", lambda d: "SSH host key: SHA256:" in by_testid(d, "draft-result").text and by_testid(d, "draft-result"))
    assert "Connected" in result.text, f"the database answers through the tunnel: {result.text}"
    shot(driver, "10b-ssh-tunnel")
    click(driver, "save-connection")
    via = wait_for(driver, "the tunnelled connection listed", lambda d: by_testid(d, "conn-ssh-via-ssh"))
    assert "through SSH" in via.text and "host key pinned" in via.text, f"the list says how it is reached and that the key is pinned: {via.text}"
    click(driver, "test-via-ssh")
    wait_for(driver, "the saved tunnelled connection's test", lambda d: "Connected" in by_testid(d, "conn-result-via-ssh").text)
    click(driver, "nav-settings")
    wait_for(driver, "the settings again", lambda d: by_testid(d, "smtp-form"))

    step("the app as the console of a server's daemon: added over pinned HTTPS, switched to, a schedule run there")
    server_nightly = remote_console(driver)
    assert server_nightly, "the server's schedule ran from the app"
    click(driver, "nav-settings")
    wait_for(driver, "the settings again", lambda d: by_testid(d, "smtp-form"))

    step("Thai throughout once chosen")
    set_select(driver, '[data-testid="language"]', "th")
    wait_for(driver, "the Thai navigation", lambda d: by_testid(d, "nav-dashboard").text == "ภาพรวม")
    click(driver, "nav-dashboard")
    wait_for(driver, "the Thai dashboard", lambda d: "ปกติ" in by_testid(d, "schedule-card-2").text)
    shot(driver, "12-dashboard-th")
    click(driver, "nav-schedules")
    wait_for(driver, "the Thai schedule list", lambda d: by_testid(d, "schedules-table"))
    shot(driver, "13-schedules-th")
    click(driver, "nav-restore")
    wait_for(driver, "the Thai restore screen with its recovery part", lambda d: "กู้คืนหลังคอมพิวเตอร์เครื่องเดิมเสีย" in by_testid(d, "recovery").text)
    shot(driver, "14-restore-th")
    step("closing the window leaves the app in the tray; it keeps running and says so once")
    assert window_viewable(), "the window is shown before closing"
    close_window()
    poll("closing to close the window", lambda: not window_viewable())
    poll("a notification that the app is still in the tray (in Thai, the chosen language)", lambda: notified("ถาดระบบ"))
    menu = tray_menu(owner)
    assert "เปิด Billora Backup" in menu, f"the tray still answers, in Thai now: {sorted(menu)}"
    tray_click(owner, menu["เปิด Billora Backup"])
    poll("Open in the tray menu to show the window again", window_viewable)
    print("all end-to-end steps passed", flush=True)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        sys.exit(1)
