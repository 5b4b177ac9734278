// The schedule editor against a fake of the API module (the real IPC is covered end to end).
import { beforeEach, describe, expect, it, vi } from "vitest";

const calls: { name: string; args: unknown }[] = [];
let answers: Record<string, (args: any) => unknown> = {};

vi.mock("../api", () => ({
  call: async (name: string, args?: unknown) => {
    calls.push({ name, args });
    const answer = answers[name];
    if (!answer) throw new Error(`unexpected command ${name}`);
    return answer(args);
  },
  toEngineError: (e: unknown) => e,
}));

import { setLang } from "../i18n";
import type { Nav } from "../main";
import { readForm, renderSchedules } from "./schedules";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nav: Nav = { go: vi.fn(), refresh: vi.fn(), toast: vi.fn(), relabel: vi.fn(), machine: () => null, machinesChanged: vi.fn() };

function setValue(root: HTMLElement, name: string, value: string) {
  const el = root.querySelector<HTMLInputElement>(`[name="${name}"]`);
  if (!el) throw new Error(`no field ${name}`);
  el.value = value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

beforeEach(() => {
  setLang("en");
  calls.length = 0;
  answers = {
    schedule_choices: () => ({ connections: [], destinations: [{ name: "offsite", location: "s3://b/p" }], default_folder: "/data/backups", encryption_keys: [] }),
    list_connections: () => [],
    list_schedules: () => [{ id: 9, name: "Nightly" }],
    list_destinations: () => [{ name: "offsite", location: "s3://b/p", settings: { kind: "s3" }, used_by: [], retention_days: null, max_backups: null }],
    get_settings: () => ({ default_folder: "/data/backups", default_folder_is_custom: false, paused: false, language: null, smtp: null, data_dir: "/data", encryption_keys: [] }),
    cron_preview: () => ({ description: "At 02:00 every day", next_runs: ["2026-02-02T02:00:00+07:00", "2026-02-03T02:00:00+07:00", "2026-02-04T02:00:00+07:00", "2026-02-05T02:00:00+07:00", "2026-02-06T02:00:00+07:00"], timezone: "Asia/Bangkok" }),
  };
});

describe("the schedule editor", () => {
  it("says a name is taken while it is typed, in any case", async () => {
    const root = document.createElement("main");
    document.body.append(root);
    await renderSchedules(root, nav, { newSchedule: true });
    setValue(root, "name", "NIGHTLY ");
    const error = root.querySelector<HTMLElement>('[data-field="name"] .field-error');
    expect(error?.hidden, "the error shows before Save").toBe(false);
    expect(error?.textContent, "saying the name exists").toContain("already exists");
    setValue(root, "name", "Nightly 2");
    expect(error?.hidden, "and goes when the name is free").toBe(true);
    root.remove();
  });

  it("shows the cron expression in words and the next five runs", async () => {
    const root = document.createElement("main");
    await renderSchedules(root, nav, { newSchedule: true });
    await sleep(300);
    expect(root.querySelector('[data-testid="cron-description"]')?.textContent, "the description from the engine").toBe("At 02:00 every day");
    expect(root.querySelectorAll('[data-testid="next-runs"] li').length, "five next runs").toBe(5);
    expect(root.querySelector('[data-testid="filename-preview"]')?.textContent, "the file name preview").toMatch(/^backup_full_.*\.sql\.zst$/);
  });

  it("puts the engine's cron error next to the cron field and disables saving", async () => {
    answers.cron_preview = () => {
      throw { code: "InvalidCron", message: "minute: 61 is out of range 0-59", field: "cron_expression" };
    };
    const root = document.createElement("main");
    document.body.append(root);
    await renderSchedules(root, nav, { newSchedule: true });
    setValue(root, "cron_expression", "61 2 * * *");
    await sleep(300);
    const slot = root.querySelector<HTMLElement>('[data-field="cron_expression"] .field-error');
    expect(slot?.hidden, "the cron field's error is shown").toBe(false);
    expect(slot?.textContent, "with the engine's message").toContain("out of range");
    expect(root.querySelector<HTMLButtonElement>('[data-testid="save-schedule"]')?.disabled, "save is disabled").toBe(true);
  });

  it("sends every field of the spec and shows a refusal next to its field", async () => {
    answers.create_schedule = () => {
      throw { code: "Conflict", message: "a schedule named `Daily Full Backup` already exists", field: "name" };
    };
    const root = document.createElement("main");
    document.body.append(root);
    await renderSchedules(root, nav, { newSchedule: true });
    setValue(root, "name", "Daily Full Backup");
    setValue(root, "retention_days", "7");
    setValue(root, "max_backups", "10");
    setValue(root, "notification_email", "admin@example.com");
    await sleep(300);
    const form = root.querySelector("form");
    if (!form) throw new Error("no form");
    expect(readForm(form), "the request carries the spec's field names").toMatchObject({
      name: "Daily Full Backup",
      cron_expression: "0 2 * * *",
      backup_type: "full",
      retention_days: 7,
      max_backups: 10,
      notify_on_failure: true,
      notify_on_success: false,
      notification_email: "admin@example.com",
      copy_to: [],
    });
    root.querySelector<HTMLInputElement>('input[name="copy_to"][value="offsite"]')?.click();
    expect(readForm(form).copy_to, "a ticked destination is sent in copy_to").toEqual(["offsite"]);
    form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await sleep(50);
    expect(calls.some((c) => c.name === "create_schedule"), "the form was sent").toBe(true);
    const slot = root.querySelector<HTMLElement>('[data-field="name"] .field-error');
    expect(slot?.textContent, "the conflict shows next to the name").toContain("already exists");
    expect(nav.go, "a refused form stays open").not.toHaveBeenCalled();
  });

  it("refuses a tenant id that is not a whole number before calling the engine", async () => {
    answers.create_schedule = () => ({});
    const root = document.createElement("main");
    document.body.append(root);
    await renderSchedules(root, nav, { newSchedule: true });
    const type = root.querySelector<HTMLSelectElement>('[name="backup_type"]');
    if (!type) throw new Error("no type");
    type.value = "tenant";
    type.dispatchEvent(new Event("change", { bubbles: true }));
    setValue(root, "name", "Tenant");
    setValue(root, "tenant_id", "5.5");
    await sleep(300);
    root.querySelector("form")?.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await sleep(20);
    expect(calls.some((c) => c.name === "create_schedule"), "nothing is sent").toBe(false);
    expect(root.querySelector('[data-field="tenant_id"] .field-error')?.textContent, "the field says why").toContain("whole number");
  });

  it("checks a passphrase with the engine before saving, and keeps it out of the schedule", async () => {
    answers.check_passphrase = (args: { passphrase: string }) => {
      if (args.passphrase.length < 12) throw { code: "InvalidInput", message: "use at least 12 characters", field: "passphrase" };
      return null;
    };
    answers.create_schedule = () => ({ id: 7 });
    answers.set_schedule_passphrase = () => null;
    const root = document.createElement("main");
    document.body.append(root);
    await renderSchedules(root, nav, { newSchedule: true });
    setValue(root, "name", "Secret");
    const chip = [...root.querySelectorAll("button")].find((b) => b.textContent === "Use a passphrase instead");
    chip?.click();
    setValue(root, "passphrase", "short");
    await sleep(300);
    root.querySelector("form")?.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await sleep(20);
    expect(calls.some((c) => c.name === "create_schedule"), "a refused passphrase saves nothing").toBe(false);
    expect(root.querySelector('[data-field="passphrase"] .field-error')?.textContent, "the reason is next to the field").toContain("12 characters");

    setValue(root, "passphrase", "a long enough passphrase");
    root.querySelector("form")?.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await sleep(20);
    const created = calls.find((c) => c.name === "create_schedule")?.args as { request: Record<string, unknown> };
    expect(created.request.encrypt_to, "the schedule encrypts with a passphrase").toBe("passphrase");
    expect(JSON.stringify(created.request), "the passphrase itself is not part of the schedule").not.toContain("a long enough passphrase");
    expect(calls.find((c) => c.name === "set_schedule_passphrase")?.args, "it goes to the keyring for schedule 7").toEqual({ id: 7, passphrase: "a long enough passphrase" });
  });

  it("offers nothing of this computer's for a server's schedule", async () => {
    const onServer: Nav = { ...nav, machine: () => "Office" };
    const root = document.createElement("main");
    await renderSchedules(root, onServer, { newSchedule: true });
    const buttons = [...root.querySelectorAll("button")].map((b) => b.textContent);
    expect(buttons, "no passphrase: it would be kept in this computer's keyring").not.toContain("Use a passphrase instead");
    expect(buttons, "no folder picker: it shows this computer's folders").not.toContain("Browse…");
    expect(root.querySelector('[data-testid="copy-to"]')?.textContent, "the server's destinations are offered").toContain("offsite");
    const mode = root.querySelector<HTMLSelectElement>('[data-testid="databases-mode"]');
    if (!mode) throw new Error("no databases field");
    mode.value = "list";
    mode.dispatchEvent(new Event("change", { bubbles: true }));
    expect(root.querySelector<HTMLElement>('[data-testid="databases-load"]')?.hidden, "no listing of databases through this computer's connections").toBe(true);
    expect(calls.some((c) => ["list_connections", "list_destinations", "get_settings"].includes(c.name)), "nothing is read from this computer's lists").toBe(false);
  });
});

describe("a schedule of several databases", () => {
  it("sends the connection's database, a list, or every database, and none for a tenant", async () => {
    const root = document.createElement("main");
    document.body.append(root);
    await renderSchedules(root, nav, { newSchedule: true });
    const form = root.querySelector("form");
    const mode = root.querySelector<HTMLSelectElement>('[data-testid="databases-mode"]');
    const list = root.querySelector<HTMLInputElement>('[data-testid="databases-list"]');
    if (!form || !mode || !list) throw new Error("no databases field");
    expect(readForm(form).databases, "by default: the connection's database").toEqual([]);
    expect(list.hidden, "no list to type until asked for").toBe(true);
    mode.value = "list";
    mode.dispatchEvent(new Event("change", { bubbles: true }));
    expect(list.hidden, "the list shows").toBe(false);
    list.value = " shop, shop_staging ,, ";
    expect(readForm(form).databases, "the names, trimmed, blanks dropped").toEqual(["shop", "shop_staging"]);
    answers.connection_databases = () => ["billora", "shop"];
    root.querySelector<HTMLButtonElement>('[data-testid="databases-load"]')?.click();
    await sleep(10);
    const boxes = Array.from(root.querySelectorAll<HTMLInputElement>('[data-testid="databases-picks"] input[type="checkbox"]'));
    expect(boxes.map((b) => [b.value, b.checked]), "the server's databases, those listed ticked").toEqual([
      ["billora", false],
      ["shop", true],
    ]);
    boxes[0]?.click();
    expect(readForm(form).databases, "a ticked database joins the list; a typed one stays").toEqual(["shop", "shop_staging", "billora"]);
    boxes[1]?.click();
    expect(readForm(form).databases, "an unticked one leaves it").toEqual(["shop_staging", "billora"]);
    mode.value = "all";
    expect(readForm(form).databases, "every database is `*`").toEqual(["*"]);
    const type = root.querySelector<HTMLSelectElement>('[name="backup_type"]');
    if (!type) throw new Error("no type");
    type.value = "tenant";
    type.dispatchEvent(new Event("change", { bubbles: true }));
    await sleep(10);
    expect(root.querySelector<HTMLElement>('[data-field="databases"]')?.hidden, "a tenant backup has one database").toBe(true);
    expect(readForm(form).databases, "and sends none").toEqual([]);
    root.remove();
  });

  it("lists each database's backup under its history entry, with the actions on one file there", async () => {
    const run = (id: number, database: string | null, filename: string | null, parts: unknown[] = []) => ({
      id, schedule_id: 9, schedule_name: "Everything", backup_type: "full", tenant_id: null, trigger: "manual", status: "success",
      filename, file_size: 1000, checksum_sha256: null, duration_seconds: 1,
      error: null, created_at: "2026-12-07T02:00:00+07:00", finished_at: null, deleted_at: null, deletion_reason: null,
      pinned: false, note: null, notification: null, verification: null, copies: [], database, parts,
    });
    answers.list_history = () => [
      run(1, null, null, [run(2, "shop", "backup_full_shop_2026-12-07T02-00-00.sql.zst"), run(3, "ร้าน", "backup_full_ร้าน_2026-12-07T02-00-00.sql.zst")]),
    ];
    answers.list_schedules = () => [];
    const { renderHistory } = await import("./history");
    const root = document.createElement("main");
    document.body.append(root);
    await renderHistory(root, nav, {});
    const entry = root.querySelector('[data-testid="history-row-1"]');
    expect(entry?.textContent, "the entry says how many databases").toContain("2 databases");
    expect(root.querySelector('[data-testid="verify-1"]'), "no verify of the entry as a whole").toBeNull();
    expect(root.querySelector('[data-testid="pin-1"]'), "keep for ever acts on the entry's files").not.toBeNull();
    expect(root.querySelector('[data-testid="history-row-3"]')?.textContent, "each database has its line").toContain("↳ ร้าน");
    expect(root.querySelector('[data-testid="verify-2"]'), "verify one database").not.toBeNull();
    root.remove();
  });
});

describe("the history of a server", () => {
  it("has no action of this computer's and reads itself again while a run goes", async () => {
    const run = (id: number, status: string) => ({
      id, schedule_id: 9, schedule_name: "Nightly", backup_type: "full", tenant_id: null, trigger: "manual", status,
      filename: "backup_full_2026-12-07T02-00-00.sql.zst", file_size: 1000, checksum_sha256: "ab", duration_seconds: 1,
      error: null, created_at: "2026-12-07T02:00:00+07:00", finished_at: null, deleted_at: null, deletion_reason: null,
      pinned: false, note: null, notification: null, verification: null, copies: [], database: "billora", parts: [],
    });
    answers.list_history = () => [run(2, "running"), run(1, "success")];
    const refresh = vi.fn();
    const onServer: Nav = { ...nav, refresh, machine: () => "Office" };
    const { renderHistory } = await import("./history");
    const root = document.createElement("main");
    document.body.append(root);
    await renderHistory(root, onServer, {});
    expect(root.querySelector('[data-testid="history-row-1"]'), "the server's runs are listed").not.toBeNull();
    expect(root.querySelector('[data-testid="verify-1"], [data-testid="pin-1"], [data-testid="delete-backup-1"]'), "verify, keep and delete are the server's to do").toBeNull();
    expect(root.querySelector('[data-testid="history-export"]'), "no export of this computer's history").toBeNull();
    await sleep(2100);
    expect(refresh, "read again while a run goes on the server").toHaveBeenCalled();
    root.remove();
  });
});

describe("the dashboard of a server", () => {
  it("shows its runs' progress, with no pause or cancel of this computer's, and reads itself again while one goes", async () => {
    const schedule = { id: 9, name: "Nightly", description: "", cron_expression: "0 2 * * *", timezone: "Asia/Bangkok", backup_type: "full", tenant_id: null, is_active: true, next_run_at: "2026-12-08T02:00:00+07:00", success_count: 1, failed_count: 0 };
    answers.dashboard = () => ({
      paused: false, scheduler_here: false, connections: 1, backup_folder: "", free_bytes: null, recent_failures: [],
      scheduler: { state: "running", reason: null, owner_role: "the daemon", owner_pid: null, last_tick: null, next_due_schedule_id: null, next_due_schedule_name: null, next_due_at: null, running: [], active_schedules: 1 },
      schedules: [{
        schedule, summary: "At 02:00 every day", health: "good", health_reason: null, newest_success_at: null, last_run: null, queued: false, recent_sizes: [],
        running: { schedule_id: 9, started_at: "2026-12-07T02:00:00Z", eta_seconds: 30, elapsed_seconds: 10, progress: { table: "invoices", tables_done: 1, tables_total: 4, rows_done: 500, rows_estimated: 1000, bytes_done: 4096 } },
      }],
    });
    const refresh = vi.fn();
    const onServer: Nav = { ...nav, refresh, machine: () => "Office" };
    const { renderDashboard } = await import("./dashboard");
    const root = document.createElement("main");
    document.body.append(root);
    await renderDashboard(root, onServer);
    expect(root.querySelector('[data-testid="progress-9"]')?.textContent, "the server's run and its table").toContain("invoices");
    const buttons = [...root.querySelectorAll("button")].map((b) => b.textContent);
    expect(buttons, "no cancel: the server's daemon runs it").not.toContain("Cancel backup");
    expect(root.querySelector('[data-testid="pause-all"]'), "no pause of this computer's scheduler").toBeNull();
    expect(root.textContent, "no note about this computer's data folder").not.toContain("another Billora Backup process");
    await sleep(2100);
    expect(refresh, "read again while the run goes").toHaveBeenCalled();
    root.remove();
  });
});
