// Every screen rendered in Thai against a fake of the API, with realistic data: any English
// word left on screen (text, placeholders, labels, tooltips) that is not data, a product name
// or a technical term fails the test, so an untranslated string cannot slip in.
import { beforeEach, describe, expect, it, vi } from "vitest";

const schedule = {
  id: 1, name: "ร้านสาขาหนึ่ง", description: "", cron_expression: "0 2 * * *", timezone: "Asia/Bangkok", backup_type: "full",
  tenant_id: null, connection: "billora", destination: null, compression: "zstd", retention_days: 30, max_backups: null,
  notify_on_success: false, notify_on_failure: true, notification_email: null, catch_up: true, is_active: true,
  encrypt_to: null, verify_after_backup: false, copy_to: ["nas"], keep_daily: 7, keep_weekly: null, keep_monthly: null, keep_yearly: null,
  last_run_at: "2026-12-06T02:00:00+07:00", next_run_at: "2026-12-08T02:00:00+07:00", success_count: 3, failed_count: 1,
  created_at: "2026-12-01T10:00:00+07:00", updated_at: "2026-12-01T10:00:00+07:00",
};
const run = (id: number, status: string) => ({
  id, schedule_id: 1, schedule_name: "ร้านสาขาหนึ่ง", backup_type: "full", tenant_id: null, trigger: "scheduled", status,
  filename: status === "success" ? `backup_full_2026-12-0${id}T02-00-00.sql.zst` : null, file_size: 123456, checksum_sha256: "ab", duration_seconds: 12.5,
  error: status === "failed" ? { code: "Unreachable", message: "ข้อความจากระบบ", hint: "check the network and that the server is running; the run is retried", hint_th: "ตรวจสอบเครือข่ายและว่าเซิร์ฟเวอร์ทำงานอยู่ ระบบจะลองใหม่อีกครั้ง" } : null,
  created_at: `2026-12-0${id}T02:00:00+07:00`, finished_at: null, deleted_at: null, deletion_reason: null, pinned: id === 3,
  note: id === 3 ? "catch-up of the 02:00 on 2026-12-03 slot" : null, note_th: id === 3 ? "สำรองย้อนหลังของรอบ 02:00 วันที่ 2026-12-03" : undefined,
  notification: null, verification: id === 2 ? "verified" : null,
  copies: [{ id, run_id: id, destination: "nas", object_path: "x", status: "uploaded", size: 1, duration_seconds: 1, error: null, created_at: "", finished_at: null, deleted_at: null, deletion_reason: null }],
});
const connection = {
  id: 1, name: "billora", host: "127.0.0.1", port: 3306, username: "backup", database: "billora", tls_mode: "pinned", tls_ca_file: null,
  tls_pin: "AA:BB", tenant_column: "tenant_id", tenant_root_table: "tenants", password_source: "keyring", created_at: "", updated_at: "",
  ssh: { host: "server.example.co.th", port: 22, username: "admin", key_file: "/home/office/.ssh/id_ed25519", host_key: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s" },
};
const destination = {
  id: 1, name: "nas", settings: { kind: "folder", path: "/mnt/nas" }, location: "/mnt/nas", retention_days: null, max_backups: null, used_by: ["ร้านสาขาหนึ่ง"], created_at: "", updated_at: "",
};
const answers: Record<string, (args: any) => unknown> = {
  dashboard: () => ({
    paused: false, scheduler_here: true, connections: 1, backup_folder: "/home/office/backups", free_bytes: 5_000_000_000,
    scheduler: { state: "running", reason: null, owner_role: null, owner_pid: null, last_tick: null, next_due_schedule_id: null, next_due_schedule_name: null, next_due_at: null, running: [], active_schedules: 1 },
    schedules: [{ schedule, summary: "ทุกวันเวลา 02:00", health: "failing", health_reason: "ข้อความจากระบบ", newest_success_at: "2026-12-05T02:00:00+07:00", last_run: run(4, "failed"), running: null, queued: false, recent_sizes: [100, 120, 130] }],
    recent_failures: [run(4, "failed")],
  }),
  list_schedules: () => [schedule],
  list_history: () => [run(4, "failed"), run(3, "success"), run(2, "success")],
  list_connections: () => [connection],
  schedule_choices: () => ({ connections: [connection], destinations: [destination], default_folder: "/home/office/backups", encryption_keys: [] }),
  list_daemons: () => [{ name: "สำนักงาน", url: "https://backup.example.com:8443/api", cert_sha256: "AB:CD", added_at: "2026-12-07T00:00:00Z" }],
  list_destinations: () => [destination],
  get_settings: () => ({ language: "th", smtp: null, default_folder: "/home/office/backups", default_folder_is_custom: false, paused: false, data_dir: "/home/office/.local/share/billora", encryption_keys: [] }),
  get_autostart: () => true,
  app_info: () => ({ version: "0.1.0", language: "th", data_dir: "/home/office/.local/share/billora" }),
  get_http_api: () => ({ enabled: false, address: "127.0.0.1:8787" }),
  list_tokens: () => [],
  cron_preview: () => ({ description: "ทุกวันเวลา 02:00", next_runs: ["2026-12-08T02:00:00+07:00"], timezone: "Asia/Bangkok" }),
  retention_preview: () => [{ run_id: 3, filename: "backup_full_2026-12-03T02-00-00.sql.zst", created_at: "2026-12-03T02:00:00+07:00", keep: true, reason: "the newest backup is always kept" }],
};

vi.mock("./api", () => ({
  call: async (name: string, args?: unknown) => {
    const answer = answers[name];
    if (!answer) throw new Error(`unexpected command ${name}`);
    return answer(args);
  },
  on: async () => () => undefined,
  toEngineError: (e: unknown) => e,
}));

import { setLang } from "./i18n";
import type { Nav } from "./main";
import { renderConnections } from "./views/connections";
import { renderDashboard } from "./views/dashboard";
import { renderDestinations } from "./views/destinations";
import { renderFirstRun } from "./views/firstrun";
import { renderHistory } from "./views/history";
import { renderRestore } from "./views/restore";
import { renderSchedules } from "./views/schedules";
import { renderSettings } from "./views/settings";

const nav: Nav = { go: vi.fn(), refresh: vi.fn(), toast: vi.fn(), relabel: vi.fn(), machine: () => null, machinesChanged: vi.fn() };

/** Words that are the same in Thai: names of products, formats and standards, units. */
const ALLOWED = new Set(
  `Billora Backup S3 SFTP WebDAV Google Drive NAS TLS SHA CSV GFS HTTP API URL OAuth ID age AGE SECRET KEY MySQL MariaDB
   mysqldump zstd gzip cron Cron KB MB GB TB Bangkok Asia UTC tenant Tenant Backblaze Wasabi Cloudflare MinIO AWS Nextcloud
   ownCloud Keychain Credential Manager GNOME Keyring KWallet SMTP STARTTLS SSH IP token admin monitor English Bearer
   OpenAPI Grafana Prometheus JSON checksum DEFINER INVOKER LOCAL INFILE Amazon USB`.split(/\s+/),
);

/** Strings that come from the (fake) engine: data, not UI text. */
function dataStrings(): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  for (const answer of Object.values(answers)) walk(answer({}));
  return out.filter((s) => s.length > 2).sort((a, b) => b.length - a.length);
}

function englishLeft(root: HTMLElement): string[] {
  const texts: string[] = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) texts.push(node.textContent ?? "");
  root.querySelectorAll("*").forEach((el) => {
    for (const attr of ["placeholder", "aria-label", "title"]) {
      const v = el.getAttribute(attr);
      if (v) texts.push(v);
    }
    if (el instanceof HTMLOptionElement) texts.push(el.text);
  });
  const data = dataStrings();
  const words: string[] = [];
  for (let text of texts) {
    for (const d of data) text = text.split(d).join(" ");
    // Examples and defaults in placeholders are values, not words; an English term in
    // parentheses after its Thai name ("เซิร์ฟเวอร์ (host)") is there on purpose, to match the
    // vendor's documentation.
    text = text.replace(/(เช่น|ค่าเริ่มต้น:) .*/u, " ").replace(/\([A-Za-z][A-Za-z .-]*\)/g, " ");
    // File names, paths, addresses, expressions and code are data too.
    text = text.replace(/\S*[_/\\:@.*]\S*/g, " ");
    for (const word of text.match(/[A-Za-z]{3,}/g) ?? []) if (!ALLOWED.has(word)) words.push(word);
  }
  return [...new Set(words)];
}

const screens: [string, (root: HTMLElement) => Promise<void>][] = [
  ["dashboard", (r) => renderDashboard(r, nav)],
  ["schedules", (r) => renderSchedules(r, nav, {})],
  ["the schedule editor", (r) => renderSchedules(r, nav, { scheduleId: 1 })],
  ["history", (r) => renderHistory(r, nav, {})],
  ["restore", (r) => renderRestore(r, nav, {})],
  ["connections", (r) => renderConnections(r, nav)],
  ["destinations", (r) => renderDestinations(r, nav)],
  ["settings", (r) => renderSettings(r, nav)],
  ["the first run", (r) => renderFirstRun(r, nav)],
];

describe("every screen in Thai", () => {
  beforeEach(() => setLang("th"));
  for (const [name, render] of screens) {
    it(`shows no English UI text: ${name}`, async () => {
      const root = document.createElement("main");
      document.body.append(root);
      await render(root);
      await new Promise((r) => setTimeout(r, 400));
      expect(englishLeft(root), `English words left on ${name} in Thai`).toEqual([]);
      root.remove();
    });
  }
});

describe("the engine's hints in Thai", () => {
  beforeEach(() => setLang("th"));
  it("shows a failure's what-to-do in Thai, not the English the engine also sends", async () => {
    const root = document.createElement("main");
    document.body.append(root);
    await renderDashboard(root, nav);
    await new Promise((r) => setTimeout(r, 400));
    const text = root.textContent ?? "";
    expect(text, "the Thai hint is on the dashboard's failure").toContain("ตรวจสอบเครือข่ายและว่าเซิร์ฟเวอร์ทำงานอยู่");
    expect(text, "the English hint is not shown in Thai").not.toContain("check the network");
    root.remove();
  });
  it("shows a run's note in Thai in the history", async () => {
    const root = document.createElement("main");
    document.body.append(root);
    await renderHistory(root, nav, {});
    await new Promise((r) => setTimeout(r, 400));
    const text = root.textContent ?? "";
    expect(text, "the Thai note").toContain("สำรองย้อนหลังของรอบ 02:00");
    expect(text, "not the English one").not.toContain("catch-up of the");
    root.remove();
  });
});
