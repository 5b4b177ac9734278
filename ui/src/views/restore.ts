// Restore: pick a backup (from the history, or a file) → target connection and database (or
// replace one tenant) → confirm → progress → result. The engine verifies the file's checksum
// before anything reaches a server. After a computer failure, the same screen imports the
// recovery key and the backups a destination holds, with no history on this computer.
import { call, on, toEngineError } from "../api";
import type { Run } from "../api/bindings/Run";
import type { RemoteBackup } from "../api/bindings/RemoteBackup";
import { h, mount } from "../dom";
import { humanDuration, humanSize, wallTime } from "../format";
import { clearErrors, confirmDialog, field, formError, showError } from "../forms";
import { errorText, errorWithHint, lang, t } from "../i18n";
import type { Nav } from "../main";

export async function renderRestore(root: HTMLElement, nav: Nav, opts: { runId?: number }): Promise<void> {
  // Entries that ended otherwise too: in a run of several databases, those done before a
  // failure, a cancel or a stop are good backups.
  const [good, failed, cancelled, interrupted, connections, destinations] = await Promise.all([
    call("list_history", { query: { status: "success" } }),
    call("list_history", { query: { status: "failed" } }),
    call("list_history", { query: { status: "cancelled" } }),
    call("list_history", { query: { status: "interrupted" } }),
    call("list_connections"),
    call("list_destinations"),
  ]);
  const hasCopy = (r: Run) => r.copies.some((c) => c.status === "uploaded" && c.deleted_at === null);
  // An entry of several databases is restored one database at a time.
  const backups = [...good, ...failed, ...cancelled, ...interrupted]
    .flatMap((r) => (r.parts?.length ? r.parts : [r]))
    .filter((r) => r.status === "success")
    .sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id);
  // Restorable: the local file is still there, or a destination holds a copy.
  const available = backups.filter((r) => r.filename && (r.deleted_at === null || hasCopy(r)));
  const head = [h("header", { class: "screen-head" }, h("h1", { text: t("rest_title") })), h("p", { class: "help", text: t("rest_intro") })];
  const recovery = recoveryPanel(nav, destinations.map((d) => d.name));
  if (!connections.length) {
    mount(
      root,
      head,
      h(
        "div",
        { class: "banner info", role: "status", "data-testid": "restore-needs-connection" },
        h("span", { text: t("rest_need_connection") }),
        h("button", { type: "button", class: "primary", text: t("rest_add_connection"), onclick: () => nav.go("connections") }),
      ),
      recovery,
    );
    return;
  }
  mount(root, head, restoreForm(nav, available, connections, opts), recovery);
}

type Connection = Awaited<ReturnType<typeof listConnections>>[number];
const listConnections = () => call("list_connections");

function restoreForm(nav: Nav, available: Run[], connections: Connection[], opts: { runId?: number }): HTMLFormElement {
  const l = lang();
  // Where the backup comes from: the history, or a file on this computer.
  const source = h(
    "select",
    { "data-testid": "restore-source" },
    h("option", { value: "history", text: t("rest_source_history") }),
    h("option", { value: "file", text: t("rest_source_file") }),
  );
  source.value = available.length ? "history" : "file";
  const backup = h(
    "select",
    { "data-testid": "restore-run" },
    available.map((r) =>
      h("option", {
        value: String(r.id),
        text: `${wallTime(r.created_at, l)} · ${r.schedule_name} · ${r.filename} (${humanSize(r.file_size)})`,
      }),
    ),
  );
  if (opts.runId !== undefined) backup.value = String(opts.runId);
  const file = h("input", { type: "text", "data-testid": "restore-file", placeholder: t("example", { text: "/media/usb/backup_full_2026-12-01T02-00-00.sql.zst" }) });
  const passphrase = h("input", { type: "password", autocomplete: "off", "data-testid": "restore-passphrase" });
  const target = h("select", {}, connections.map((c) => h("option", { value: c.name, text: `${c.name} (${c.host}:${c.port})` })));
  const database = h("input", { type: "text", "data-testid": "restore-database" });
  const mode = h(
    "select",
    {},
    h("option", { value: "new", text: t("rest_mode_new") }),
    h("option", { value: "replace", text: t("rest_mode_replace") }),
  );
  const force = h("input", { type: "checkbox", id: "f-force" });
  const from = h("select", { "data-testid": "restore-from" });
  const status = h("div", { class: "result", "aria-live": "polite", "data-testid": "restore-status" });
  const bar = h("progress", { max: "100", hidden: true });
  const chosen = () => (source.value === "history" ? available.find((r) => String(r.id) === backup.value) : undefined);
  const fillFrom = () => {
    const run = chosen();
    const copies = (run?.copies ?? []).filter((c) => c.status === "uploaded" && c.deleted_at === null);
    mount(
      from,
      run?.deleted_at === null ? h("option", { value: "", text: t("restore_from_local") }) : null,
      copies.map((c) => h("option", { value: c.destination, text: c.destination })),
    );
  };
  const suggest = () => {
    const run = chosen();
    const isTenant = run?.backup_type === "tenant";
    mode.disabled = !isTenant;
    if (!isTenant) mode.value = "new";
    const conn = connections.find((c) => c.name === target.value);
    if (mode.value === "replace") database.value = conn?.database ?? "";
    else if (!database.value || database.dataset.suggested === database.value) {
      const stamp = (run?.created_at ?? new Date().toISOString()).slice(0, 10).replace(/-/g, "");
      database.value = `${run?.database ?? conn?.database ?? "billora"}_restore_${stamp}`;
      database.dataset.suggested = database.value;
    }
  };
  const historyFields = [field("run_id", t("rest_pick"), backup), field("from", t("restore_from"), from)];
  const fileFields = [
    field("file", t("rest_file"), file, [
      h("button", {
        type: "button",
        class: "small",
        text: t("browse"),
        "data-testid": "restore-pick-file",
        onclick: async () => {
          const picked = await call("pick_file").catch(() => null);
          if (picked) file.value = picked;
        },
      }),
    ]),
    field("passphrase", t("rest_passphrase"), passphrase, t("rest_passphrase_help")),
  ];
  const showSource = () => {
    const fromFile = source.value === "file";
    historyFields.forEach((f) => (f.hidden = fromFile));
    fileFields.forEach((f) => (f.hidden = !fromFile));
    suggest();
  };
  backup.addEventListener("change", suggest);
  backup.addEventListener("change", fillFrom);
  source.addEventListener("change", showSource);
  target.addEventListener("change", suggest);
  mode.addEventListener("change", suggest);
  // Cancel shows only while a restore runs; Start is off meanwhile.
  const cancel = h("button", {
    type: "button",
    class: "danger",
    text: t("cancel_restore"),
    hidden: true,
    "data-testid": "restore-cancel",
    onclick: () => void call("cancel_restore").catch(() => undefined),
  });
  const start = h("button", { type: "submit", class: "primary", text: t("rest_start"), "data-testid": "restore-start" });
  const running = (yes: boolean) => {
    cancel.hidden = !yes;
    start.disabled = yes;
  };
  const form: HTMLFormElement = h(
    "form",
    {
      class: "editor",
      "data-testid": "restore-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        clearErrors(form);
        const fromFile = source.value === "file";
        const run = chosen();
        if (!fromFile && !run) return;
        const what = fromFile ? file.value.trim() : (run?.filename ?? "");
        const replace = mode.value === "replace";
        let message = t("rest_confirm", { file: what, db: database.value, conn: target.value });
        if (replace) message += `\n\n${t("rest_confirm_replace", { tenant: run?.tenant_id ?? "?", db: database.value })}`;
        if (!(await confirmDialog(message, t("rest_yes"), replace))) return;
        bar.hidden = false;
        bar.removeAttribute("value");
        running(true);
        const started = Date.now();
        const unlisten = await on("restore-progress", (p) => {
          if (p.sql_bytes_total) bar.value = (100 * p.sql_bytes_done) / p.sql_bytes_total;
          // Time left from the rate so far (bytes of SQL, which the manifest knows in total).
          const seconds = (Date.now() - started) / 1000;
          const left = p.sql_bytes_total && p.sql_bytes_done > 0 && seconds > 1 ? ((p.sql_bytes_total - p.sql_bytes_done) * seconds) / p.sql_bytes_done : null;
          status.textContent = t("rest_progress_full", {
            table: p.table ? `${p.table} (${p.tables_done}${p.tables_total ? `/${p.tables_total}` : ""})` : "…",
            rows: p.rows_total ? `${p.rows_done.toLocaleString()}/${p.rows_total.toLocaleString()}` : p.rows_done.toLocaleString(),
            done: humanSize(p.sql_bytes_done),
            total: p.sql_bytes_total ? humanSize(p.sql_bytes_total) : "?",
            left: left === null ? "…" : humanDuration(left, l),
          });
        });
        const restoreWith = (forceIt: boolean) =>
          call("restore_backup", {
            form: {
              run_id: fromFile ? null : (run?.id ?? null),
              file: fromFile ? what : undefined,
              passphrase: fromFile && passphrase.value ? passphrase.value : undefined,
              connection: target.value,
              database: database.value,
              replace_tenant: replace,
              force: forceIt,
              keep_sql_security: false,
              enable_events: false,
              from: fromFile ? null : from.value || null,
            },
          });
        try {
          let report;
          try {
            report = await restoreWith(force.checked);
          } catch (err) {
            // A replace the engine finds risky (tables added since the backup, tables that
            // cannot be rolled back) is listed first and only done when confirmed.
            const e = toEngineError(err);
            if (!(replace && e.code === "Conflict" && e.field === "mode")) throw err;
            if (!(await confirmDialog(t("rest_replace_problems", { problems: e.message }), t("rest_replace_anyway"), true))) {
              status.textContent = "";
              return;
            }
            report = await restoreWith(true);
          }
          status.className = "result ok";
          status.textContent = t("rest_done", { db: report.database, statements: report.statements.toLocaleString() });
          const notes = [...report.warnings, ...report.notices];
          if (notes.length) status.append(h("ul", {}, notes.map((w) => h("li", { text: w }))));
        } catch (err) {
          status.textContent = "";
          showError(form, toEngineError(err));
        } finally {
          unlisten();
          bar.hidden = true;
          running(false);
        }
      },
    },
    formError(),
    field("source", t("rest_source"), source),
    historyFields,
    fileFields,
    field("connection", t("rest_target"), target),
    field("mode", t("rest_mode"), mode),
    field("database", t("rest_database"), database),
    h("div", { class: "field check", "data-field": "force" }, force, h("label", { for: "f-force", text: t("rest_force") })),
    bar,
    status,
    h("div", { class: "actions" }, cancel, start),
  );
  showSource();
  fillFrom();
  void nav;
  return form;
}

/** After a computer failure: the recovery key back into the keyring, and a destination's
 *  backups listed and imported into the history (then restored like any other). */
function recoveryPanel(nav: Nav, destinations: string[]): HTMLElement {
  const list = h("div", { "data-testid": "remote-backups" });
  const pick = h(
    "select",
    { "data-testid": "browse-destination", "aria-label": t("rest_browse_pick") },
    destinations.map((d) => h("option", { value: d, text: d })),
  );
  const browse = async () => {
    mount(list, h("p", { class: "muted", text: t("loading") }));
    try {
      const found = await call("browse_destination", { name: pick.value });
      mount(list, remoteList(nav, pick.value, found));
    } catch (err) {
      const e = toEngineError(err);
      mount(list, h("p", { class: "error-text", text: errorWithHint(e) }));
    }
  };
  return h(
    "section",
    { class: "recovery", "data-testid": "recovery" },
    h("h2", { text: t("rest_recovery_title") }),
    h("p", { class: "help", text: t("rest_recovery_intro") }),
    keyImport(),
    destinations.length
      ? h(
          "div",
          { class: "filters" },
          pick,
          h("button", { type: "button", text: t("rest_browse"), "data-testid": "browse", onclick: () => void browse() }),
        )
      : h(
          "p",
          { class: "muted" },
          t("rest_browse_none"),
          " ",
          h("button", { type: "button", class: "small", text: t("dest_add"), onclick: () => nav.go("destinations") }),
        ),
    list,
  );
}

function remoteList(nav: Nav, destination: string, found: RemoteBackup[]): HTMLElement[] {
  if (!found.length) return [h("p", { class: "empty", text: t("rest_browse_empty") })];
  const l = lang();
  // By schedule (or, for backups made before names were recorded, by database and kind).
  const groups = new Map<string, RemoteBackup[]>();
  for (const b of found) {
    const key = b.schedule_name ?? `${b.database ?? "?"} · ${b.backup_type === "tenant" ? t("type_tenant", { id: b.tenant_id ?? "?" }) : t("type_full")}`;
    groups.set(key, [...(groups.get(key) ?? []), b]);
  }
  const importAll = h("button", {
    type: "button",
    class: "primary",
    text: t("rest_import_all", { n: found.length }),
    "data-testid": "import-destination",
    onclick: async () => {
      importAll.disabled = true;
      try {
        const report = await call("import_from_destination", { name: destination });
        nav.toast(t("rest_imported", { imported: report.imported, known: report.already_known, skipped: report.skipped.length }));
        nav.refresh();
      } catch (err) {
        nav.toast(errorText(toEngineError(err)));
        importAll.disabled = false;
      }
    },
  });
  return [
    ...[...groups].map(([name, backups]) =>
      h(
        "details",
        { open: true },
        h("summary", { text: `${name} (${backups.length})` }),
        h(
          "ul",
          { class: "remote-list" },
          backups.map((b) =>
            h(
              "li",
              { "data-testid": `remote-${b.object}` },
              `${b.created_at ? wallTime(b.created_at, l) : "—"} · ${b.object} · ${humanSize(b.size)}${b.encrypted ? ` · 🔒 ${t("rest_encrypted")}` : ""}`,
              b.problem ? h("span", { class: "error-text", text: ` — ${b.problem}` }) : null,
            ),
          ),
        ),
      ),
    ),
    h("div", { class: "actions" }, importAll),
  ];
}

/** The recovery key back into the keyring: its file, or its text pasted (a printed sheet). */
function keyImport(): HTMLElement {
  const text = h("textarea", { rows: "2", "data-testid": "recovery-key-text", placeholder: t("example", { text: "AGE-SECRET-KEY-1…" }) });
  const result = h("p", { class: "result", "aria-live": "polite", "data-testid": "recovery-key-result" });
  const done = (keys: string[]) => {
    result.className = "result ok";
    result.textContent = t("rest_key_imported", { keys: keys.join(", ") });
    text.value = "";
  };
  const failed = (err: unknown) => {
    const e = toEngineError(err);
    result.className = "result error-text";
    result.textContent = errorWithHint(e);
  };
  return h(
    "div",
    { class: "field", "data-field": "key" },
    h("label", { for: "f-recovery-key", text: t("rest_key_label") }),
    Object.assign(text, { id: "f-recovery-key" }),
    h(
      "div",
      { class: "presets" },
      h("button", {
        type: "button",
        text: t("rest_import_key_text"),
        "data-testid": "import-key-text",
        onclick: async () => {
          if (!text.value.trim()) return;
          await call("import_recovery_text", { text: text.value }).then(done, failed);
        },
      }),
      h("button", {
        type: "button",
        text: t("rest_import_key"),
        "data-testid": "import-key",
        onclick: async () => {
          const path = await call("pick_file").catch(() => null);
          if (path) await call("import_recovery_key", { path }).then(done, failed);
        },
      }),
    ),
    result,
  );
}
