// History: every run, filterable by schedule and result, with sizes and durations for people,
// the error and its hint, "show in folder", and "restore…" for a good backup.
import { call, toEngineError } from "../api";
import type { Run } from "../api/bindings/Run";
import { h, mount } from "../dom";
import { confirmDialog } from "../forms";
import { humanDuration, humanSize, wallTime } from "../format";
import { errorText, errorWithHint, hintText, type Key, lang, t } from "../i18n";
import type { Nav } from "../main";

const STATUSES = ["success", "failed", "interrupted", "cancelled", "skipped", "running"] as const;
/** Entries per page: the screen opens at once however long the history is. */
const PAGE = 200;
let filter: { schedule_id?: number; status?: string; from?: string; to?: string; search?: string } = {};

export async function renderHistory(root: HTMLElement, nav: Nav, opts: { scheduleId?: number }): Promise<void> {
  if (opts.scheduleId !== undefined) filter = { schedule_id: opts.scheduleId };
  const [runs, schedules] = await Promise.all([call("list_history", { query: { ...filter, limit: PAGE } }), call("list_schedules")]);
  const scheduleSelect = h(
    "select",
    { id: "hist-schedule", "aria-label": t("hist_col_schedule"), "data-testid": "history-schedule-filter" },
    h("option", { value: "", text: t("hist_all_schedules") }),
    schedules.map((s) => h("option", { value: String(s.id), text: s.name })),
  );
  scheduleSelect.value = filter.schedule_id?.toString() ?? "";
  const statusSelect = h(
    "select",
    { id: "hist-status", "aria-label": t("hist_col_status"), "data-testid": "history-status-filter" },
    h("option", { value: "", text: t("hist_all_statuses") }),
    STATUSES.map((st) => h("option", { value: st, text: t(`status_${st}` as Key) })),
  );
  statusSelect.value = filter.status ?? "";
  const fromInput = h("input", { type: "date", value: filter.from ?? "", "aria-label": t("hist_from"), title: t("hist_from"), "data-testid": "history-from" });
  const toInput = h("input", { type: "date", value: filter.to ?? "", "aria-label": t("hist_to"), title: t("hist_to"), "data-testid": "history-to" });
  const searchInput = h("input", { type: "search", value: filter.search ?? "", placeholder: t("hist_search"), "aria-label": t("hist_search"), "data-testid": "history-search" });
  const onFilter = () => {
    filter = {};
    if (scheduleSelect.value) filter.schedule_id = Number(scheduleSelect.value);
    if (statusSelect.value) filter.status = statusSelect.value;
    if (fromInput.value) filter.from = fromInput.value;
    if (toInput.value) filter.to = toInput.value;
    if (searchInput.value.trim()) filter.search = searchInput.value.trim();
    nav.go("history");
  };
  for (const control of [scheduleSelect, statusSelect, fromInput, toInput, searchInput]) control.addEventListener("change", onFilter);
  const exportButton = h("button", {
    type: "button",
    text: t("hist_export"),
    "data-testid": "history-export",
    onclick: async () => {
      try {
        const path = await call("export_history", { query: { ...filter } });
        if (path) nav.toast(t("hist_exported", { path }));
      } catch (err) {
        nav.toast(errorText(toEngineError(err)));
      }
    },
  });
  const tbody = h("tbody", {}, runs.map((r) => row(r, nav)));
  let last = runs.at(-1)?.id;
  const more: HTMLButtonElement = h("button", {
    type: "button",
    text: t("hist_more", { n: PAGE }),
    hidden: runs.length < PAGE,
    "data-testid": "history-more",
    onclick: async () => {
      more.disabled = true;
      try {
        const next = await call("list_history", { query: { ...filter, limit: PAGE, before_id: last } });
        tbody.append(...next.flatMap((r) => row(r, nav)));
        last = next.at(-1)?.id ?? last;
        more.hidden = next.length < PAGE;
      } catch (err) {
        nav.toast(errorText(toEngineError(err)));
      } finally {
        more.disabled = false;
      }
    },
  });
  // A server pushes no events to this app: while one of its runs goes, the list is read again.
  if (nav.machine() !== null && runs.some((r) => r.status === "running")) {
    setTimeout(() => {
      if (root.isConnected) nav.refresh();
    }, 2000);
  }
  mount(
    root,
    h(
      "header",
      { class: "screen-head" },
      h("h1", { text: t("hist_title") }),
      h("div", { class: "filters" }, scheduleSelect, statusSelect, fromInput, toInput, searchInput, nav.machine() === null ? exportButton : null),
    ),
    runs.length
      ? [
          h(
            "table",
            { class: "list history", "data-testid": "history-table" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                [t("hist_col_time"), t("hist_col_schedule"), t("hist_col_trigger"), t("hist_col_status"), t("hist_col_file"), t("hist_col_size"), t("hist_col_duration"), ""].map((c) =>
                  h("th", { text: c }),
                ),
              ),
            ),
            tbody,
          ),
          h("div", { class: "actions" }, more),
        ]
      : h("p", { class: "empty", text: t("hist_empty") }),
  );
}

/** A history entry's rows; an entry of several databases is followed by one row per database
 * (`part`), each with its own file and actions (restore and verify take one database). */
function row(run: Run, nav: Nav, part = false): HTMLElement[] {
  const l = lang();
  // `?? []`: a server running an older version sends no parts.
  const parts = run.parts ?? [];
  const group = parts.length > 0;
  const deleted = run.deleted_at !== null;
  const status = deleted && run.status === "success" ? "deleted" : run.status;
  // A backup deleted here can still be restored or verified from a destination's copy.
  const remoteCopy = run.copies.some((c) => c.status === "uploaded" && c.deleted_at === null);
  const restorable = run.status === "success" && (!deleted || remoteCopy);
  const main = h(
    "tr",
    { "data-testid": `history-row-${run.id}`, "data-status": run.status, class: part ? "part" : undefined },
    part ? h("td", { class: "part-of", text: `↳ ${run.database ?? ""}` }) : h("td", { text: wallTime(run.created_at, l) }),
    h("td", { text: part ? "" : run.schedule_name }),
    h("td", { text: t(`trigger_${run.trigger}` as Key) }),
    h(
      "td",
      {},
      h("span", { class: `badge ${run.status}`, text: t(`status_${status}` as Key) }),
      run.verification === "verified" ? [" ", h("span", { class: "badge success", title: t("verified"), text: `✓ ${t("verified")}` })] : null,
      run.verification?.startsWith("verify_failed") ? [" ", h("span", { class: "badge failed", title: run.verification, text: t("verify_failed") })] : null,
      run.pinned && !deleted ? [" ", h("span", { class: "badge pinned", "data-testid": `pinned-${run.id}`, text: `📌 ${t("hist_pinned")}` })] : null,
    ),
    h("td", { class: "file" }, group ? t("hist_databases", { n: parts.length }) : (run.filename ?? "—")),
    h("td", { text: humanSize(run.file_size) }),
    h("td", { text: humanDuration(run.duration_seconds, l) }),
    h(
      "td",
      { class: "row-actions" },
      // A server's backups are restored, verified and kept on that server (its own app or CLI).
      (restorable || (group && !deleted)) && nav.machine() === null
        ? [
            deleted || group
              ? null
              : h("button", {
                  type: "button",
                  class: "small",
                  text: t("show_in_folder"),
                  onclick: () => void call("show_in_folder", { runId: run.id }).catch((err) => nav.toast(errorText(toEngineError(err)))),
                }),
            group ? null : h("button", { type: "button", class: "small", text: t("restore_this"), onclick: () => nav.go("restore", { runId: run.id }) }),
            group ? null : h("button", {
              type: "button",
              class: "small",
              text: t("verify"),
              "data-testid": `verify-${run.id}`,
              onclick: async (ev) => {
                const button = ev.currentTarget as HTMLButtonElement;
                button.disabled = true;
                button.textContent = t("verifying");
                try {
                  const report = await call("verify_backup", { runId: run.id, from: null });
                  nav.toast(
                    report.verified
                      ? t("verify_done", { tables: report.tables_checked, rows: report.rows_checked.toLocaleString() })
                      : t("verify_differs", { tables: report.mismatches.map((m) => m.table).join(", ") }),
                  );
                } catch (err) {
                  nav.toast(errorText(toEngineError(err)));
                }
                nav.refresh();
              },
            }),
            deleted
              ? null
              : [
                  h("button", {
                    type: "button",
                    class: "small",
                    text: run.pinned ? t("hist_unkeep") : t("hist_keep"),
                    "aria-pressed": run.pinned ? "true" : "false",
                    "data-testid": `pin-${run.id}`,
                    onclick: async () => {
                      await call("pin_backup", { runId: run.id, pinned: !run.pinned }).catch((err) => nav.toast(errorText(toEngineError(err))));
                      nav.refresh();
                    },
                  }),
                  run.pinned
                    ? null
                    : h("button", {
                        type: "button",
                        class: "small danger",
                        text: t("hist_delete_backup"),
                        "data-testid": `delete-backup-${run.id}`,
                        onclick: async () => {
                          if (!(await confirmDialog(t("hist_delete_confirm", { file: run.filename ?? `#${run.id}` }), t("yes_delete")))) return;
                          await call("delete_backup", { runId: run.id }).catch((err) => nav.toast(errorText(toEngineError(err))));
                          nav.refresh();
                        },
                      }),
                ],
          ]
        : null,
    ),
  );
  const details: string[] = [];
  if (run.error) details.push(errorText(run.error));
  if (run.note) details.push(lang() === "th" && run.note_th ? run.note_th : run.note);
  if (deleted && run.deletion_reason) details.push(t("deleted_note", { reason: run.deletion_reason }));
  if (run.notification?.startsWith("failed: ")) details.push(t("notification_failed", { reason: run.notification.slice(8) }));
  const copies = run.copies.map((c) => {
    const text =
      c.deleted_at !== null
        ? t("copy_deleted", { name: c.destination })
        : c.status === "uploaded"
          ? `✓ ${t("copy_uploaded", { name: c.destination })}`
          : c.status === "failed"
            ? `✗ ${t("copy_failed", { name: c.destination })}`
            : t("copy_other", { name: c.destination, status: c.status });
    const cls = c.deleted_at !== null ? "badge" : c.status === "uploaded" ? "badge success" : "badge failed";
    return h("span", { class: cls, title: c.error ? errorText(c.error) : c.object_path, "data-testid": `copy-${run.id}-${c.destination}`, text });
  });
  const copyErrors = run.copies.filter((c) => c.error && c.deleted_at === null).map((c) => `${c.destination}: ${errorWithHint(c.error!)}`);
  const partRows = parts.flatMap((p) => row(p, nav, true));
  if (!details.length && !(run.error && hintText(run.error)) && !copies.length) return [main, ...partRows];
  const extra = h(
    "tr",
    { class: "details" },
    h(
      "td",
      { colspan: "8" },
      copies.length ? h("p", { class: "copies" }, copies) : null,
      copyErrors.map((d) => h("p", { class: "error-text", text: d })),
      details.map((d) => h("p", { class: run.error ? "error-text" : "muted", text: d })),
      run.error && hintText(run.error) ? h("p", { class: "hint", text: `${t("hint")}: ${hintText(run.error)}` }) : null,
    ),
  );
  return [main, extra, ...partRows];
}
