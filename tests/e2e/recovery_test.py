"""The day the computer dies, end to end: the real app on an empty data folder (a new
computer), after app_test.py copied its weekly backup to the S3 server. The welcome screen's
recovery path, the recovery key pasted into the real keyring, the guided first run, the
connection and the same destination added again, its backups listed by schedule and imported
into the history, one restored from the destination's copy into the real MariaDB server, and
a backup file restored from its path."""
import subprocess
import sys

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions

import app_test as e2e
from app_test import by_testid, click, fill, set_select, shot, step, wait_for


def run(driver):
    step("a new computer: the welcome screen offers to restore after a computer failure")
    wait_for(driver, "the welcome screen", lambda d: by_testid(d, "welcome"))
    click(driver, "welcome-recover")
    wait_for(driver, "the restore screen asks for the server first", lambda d: by_testid(d, "restore-needs-connection"))
    shot(driver, "20-recovery-start")

    step("a recovery key pasted from a printed sheet goes to the real keyring")
    keygen = subprocess.run(["age-keygen"], capture_output=True, text=True, check=True).stdout
    secret = next(line for line in keygen.splitlines() if line.startswith("AGE-SECRET-KEY-"))
    public = next(line.split(": ", 1)[1] for line in keygen.splitlines() if line.startswith("# public key: "))
    fill(driver, '[data-testid="recovery-key-text"]', "  " + secret + "\n")
    click(driver, "import-key-text")
    result = wait_for(driver, "the key imported", lambda d: public in by_testid(d, "recovery-key-result").text and by_testid(d, "recovery-key-result"))
    assert "imported" in result.text.lower(), f"says so: {result.text}"
    kept = subprocess.run(
        ["secret-tool", "lookup", "service", "billora-backup", "username", f"age-identity:{public}"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()
    assert kept == secret, "the identity is in the Secret Service keyring under its public key"

    step("the server to restore to, and the destination the old computer copied to")
    click(driver, "nav-connections")
    wait_for(driver, "the connection form", lambda d: by_testid(d, "connection-form"))
    fill(driver, '[data-testid="conn-name"]', "billora")
    fill(driver, '[data-testid="conn-host"]', "127.0.0.1")
    fill(driver, '[data-testid="conn-port"]', e2e.PORT)
    fill(driver, '[data-testid="conn-user"]', "billora_test")
    fill(driver, '[data-testid="conn-password"]', e2e.PASSWORD)
    fill(driver, '[data-testid="conn-database"]', e2e.DATABASE)
    click(driver, "save-connection")

    step("the guided first run: the daily preset created and backed up at once, then the file and the next run")
    wait_for(driver, "the first-run screen", lambda d: by_testid(d, "first-run"))
    shot(driver, "20b-first-run")
    click(driver, "first-start")
    done = wait_for(driver, "the first backup done", lambda d: by_testid(d, "first-done"), timeout=120)
    assert "backup_full_" in done.text and "02:00" in done.text, f"the file and the next run at 02:00: {done.text}"
    shot(driver, "20c-first-run-done")
    click(driver, "nav-destinations")
    wait_for(driver, "the destination form", lambda d: by_testid(d, "destination-form"))
    fill(driver, '[data-testid="dest-name"]', "offsite")
    fill(driver, '[data-testid="dest-endpoint"]', e2e.S3_ENDPOINT)
    fill(driver, '[data-testid="dest-bucket"]', e2e.S3_BUCKET)
    fill(driver, '[data-testid="dest-prefix"]', e2e.S3_PREFIX)
    fill(driver, '[data-testid="dest-access-key"]', "e2e-key")
    fill(driver, '[data-testid="dest-secret"]', "e2e-secret-value")
    click(driver, "dest-save")
    wait_for(driver, "the destination saved", lambda d: by_testid(d, "destination-offsite"))

    step("its backups listed by schedule and date, then imported into the history")
    click(driver, "nav-restore")
    wait_for(driver, "the recovery panel", lambda d: by_testid(d, "recovery"))
    set_select(driver, '[data-testid="browse-destination"]', "offsite")
    click(driver, "browse")
    listed = wait_for(driver, "the weekly backup listed under its schedule", lambda d: "Weekly Full Backup" in by_testid(d, "remote-backups").text and by_testid(d, "remote-backups"))
    assert "backup_full_" in listed.text, f"with its file: {listed.text}"
    shot(driver, "21-recovery-browse")
    click(driver, "import-destination")

    def imported_option(d):
        options = d.find_elements(By.CSS_SELECTOR, '[data-testid="restore-run"] option')
        return next((o for o in options if "Weekly Full Backup" in o.text), None)

    option = wait_for(driver, "the imported backup offered for restore", imported_option)
    run_id = option.get_attribute("value")

    step("an imported backup restores from the destination's copy")
    set_select(driver, '[data-testid="restore-run"]', run_id)
    restored = f"{e2e.DATABASE}_recovered"
    fill(driver, '[data-testid="restore-database"]', restored)
    click(driver, "restore-start")
    wait_for(driver, "the confirmation", lambda d: by_testid(d, "confirm-dialog"))
    click(driver, "confirm-yes")
    done = wait_for(driver, "the restore's result", lambda d: "Restored into" in by_testid(d, "restore-status").text and by_testid(d, "restore-status"), timeout=120)
    assert restored in done.text, f"the result names the new database: {done.text}"
    shot(driver, "22-recovery-restored")
    client = ["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{e2e.PORT}", "-ubillora_test", f"-p{e2e.PASSWORD}", "--skip-ssl", "-N", "-e"]
    count = lambda db: subprocess.run(client + [f"SELECT COUNT(*) FROM {db}.invoices"], capture_output=True, text=True, check=True).stdout.strip()
    assert count(restored) == count(e2e.DATABASE), "the recovered database has the same invoices as the source"
    subprocess.run(client + [f"DROP DATABASE `{restored}`"], check=True)

    step("a backup file at hand (the old computer's folder, as if on a USB stick) restores too")
    old_backups = e2e.DATA_DIR.parent / "appdata" / "backups"
    # A backup of the whole e2e database (`backup_full_<date>`; not a schedule of several
    # databases' `backup_full_<database>_<date>`).
    files = sorted(old_backups.glob("backup_full_[0-9]*.sql.zst"))
    assert files, f"the first run left its backups in {old_backups}"
    click(driver, "nav-restore")
    wait_for(driver, "the restore form", lambda d: by_testid(d, "restore-form"))
    set_select(driver, '[data-testid="restore-source"]', "file")
    wait_for(driver, "the file field", lambda d: by_testid(d, "restore-file").is_displayed())
    # Typed as a person would paste it (send_keys would try to upload a path that exists).
    driver.execute_script(
        "const e = document.querySelector('[data-testid=\"restore-file\"]'); e.value = arguments[0];"
        "e.dispatchEvent(new Event('input', {bubbles: true}));",
        str(files[-1]),
    )
    from_file = f"{e2e.DATABASE}_from_file"
    fill(driver, '[data-testid="restore-database"]', from_file)
    click(driver, "restore-start")
    wait_for(driver, "the confirmation", lambda d: by_testid(d, "confirm-dialog"))
    click(driver, "confirm-yes")
    done = wait_for(driver, "the file's restore", lambda d: "Restored into" in by_testid(d, "restore-status").text and by_testid(d, "restore-status"), timeout=120)
    assert from_file in done.text, f"the result names the new database: {done.text}"
    assert count(from_file) == count(e2e.DATABASE), "restored from the file, the same invoices"
    subprocess.run(client + [f"DROP DATABASE `{from_file}`"], check=True)
    print("all recovery steps passed", flush=True)


def main():
    options = ArgOptions()
    options.set_capability("browserName", "wry")
    options.set_capability("tauri:options", {"application": e2e.APP})
    driver = webdriver.Remote(command_executor=e2e.DRIVER_URL, options=options)
    try:
        run(driver)
    finally:
        driver.quit()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        sys.exit(1)
