// Restore: pick a backup → target connection and database (or replace one tenant) → confirm →
// progress → result. The engine verifies the file's checksum before anything reaches a server.
import { call, on, toEngineError } from "../api";
import { h, mount } from "../dom";
import { humanSize, wallTime } from "../format";
import { clearErrors, confirmDialog, field, formError, showError } from "../forms";
import { lang, t } from "../i18n";
import type { Nav } from "../main";

export async function renderRestore(root: HTMLElement, nav: Nav, opts: { runId?: number }): Promise<void> {
  const [runs, connections] = await Promise.all([call("list_history", { query: { status: "success" } }), call("list_connections")]);
  const hasCopy = (r: (typeof runs)[number]) => r.copies.some((c) => c.status === "uploaded" && c.deleted_at === null);
  // Restorable: the local file is still there, or a destination holds a copy.
  const available = runs.filter((r) => r.filename && (r.deleted_at === null || hasCopy(r)));
  if (!available.length) {
    mount(root, h("header", { class: "screen-head" }, h("h1", { text: t("rest_title") })), h("p", { class: "empty", text: t("rest_none") }));
    return;
  }
  const l = lang();
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
  const fillFrom = () => {
    const run = chosen();
    const copies = (run?.copies ?? []).filter((c) => c.status === "uploaded" && c.deleted_at === null);
    mount(
      from,
      run?.deleted_at === null ? h("option", { value: "", text: t("restore_from_local") }) : null,
      copies.map((c) => h("option", { value: c.destination, text: c.destination })),
    );
  };
  const status = h("div", { class: "result", "aria-live": "polite", "data-testid": "restore-status" });
  const bar = h("progress", { max: "100", hidden: true });
  const chosen = () => available.find((r) => String(r.id) === backup.value);
  const suggest = () => {
    const run = chosen();
    const isTenant = run?.backup_type === "tenant";
    mode.disabled = !isTenant;
    if (!isTenant) mode.value = "new";
    const conn = connections.find((c) => c.name === target.value);
    if (mode.value === "replace") database.value = conn?.database ?? "";
    else if (!database.value || database.dataset.suggested === database.value) {
      const stamp = (run?.created_at ?? "").slice(0, 10).replace(/-/g, "");
      database.value = `${conn?.database ?? "billora"}_restore_${stamp}`;
      database.dataset.suggested = database.value;
    }
  };
  backup.addEventListener("change", suggest);
  backup.addEventListener("change", fillFrom);
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
        const run = chosen();
        if (!run) return;
        const replace = mode.value === "replace";
        let message = t("rest_confirm", { file: run.filename ?? "", db: database.value, conn: target.value });
        if (replace) message += `\n\n${t("rest_confirm_replace", { tenant: run.tenant_id ?? "?", db: database.value })}`;
        if (!(await confirmDialog(message, t("rest_yes"), replace))) return;
        bar.hidden = false;
        bar.removeAttribute("value");
        running(true);
        const unlisten = await on("restore-progress", (p) => {
          if (p.sql_bytes_total) bar.value = (100 * p.sql_bytes_done) / p.sql_bytes_total;
          status.textContent = t("rest_progress", { statements: p.statements.toLocaleString() });
        });
        const restoreWith = (forceIt: boolean) =>
          call("restore_backup", {
            form: { run_id: run.id, connection: target.value, database: database.value, replace_tenant: replace, force: forceIt, keep_sql_security: false, enable_events: false, from: from.value || null },
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
    field("run_id", t("rest_pick"), backup),
    field("from", t("restore_from"), from),
    field("connection", t("rest_target"), target),
    field("mode", t("rest_mode"), mode),
    field("database", t("rest_database"), database),
    h("div", { class: "field check", "data-field": "force" }, force, h("label", { for: "f-force", text: t("rest_force") })),
    bar,
    status,
    h(
      "div",
      { class: "actions" },
      cancel,
      start,
    ),
  );
  mount(root, h("header", { class: "screen-head" }, h("h1", { text: t("rest_title") })), h("p", { class: "help", text: t("rest_intro") }), form);
  suggest();
  fillFrom();
  void nav;
}
