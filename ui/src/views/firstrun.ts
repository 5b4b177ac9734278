// The first run, after the first connection is saved: one preset schedule (every day at 02:00,
// kept 30 days, the whole database), created and backed up at once, then a done screen with
// the file and the next run. "Other settings…" opens the full editor instead.
import { call, on, toEngineError } from "../api";
import type { ConnectionProfile } from "../api/bindings/ConnectionProfile";
import type { Run } from "../api/bindings/Run";
import { h, mount } from "../dom";
import { humanDuration, humanSize, wallTime } from "../format";
import { errorText, errorWithHint, hintText, type Key, lang, t } from "../i18n";
import type { Nav } from "../main";

/** The preset the first run offers. */
export const FIRST_SCHEDULE = { cron_expression: "0 2 * * *", retention_days: 30 } as const;

export async function renderFirstRun(root: HTMLElement, nav: Nav): Promise<void> {
  const connections = await call("list_connections");
  const connection: ConnectionProfile | undefined = connections[0];
  const name = h("input", { type: "text", value: t("first_name"), "data-testid": "first-name", "aria-label": t("f_name") });
  const status = h("div", { class: "result", "aria-live": "polite", "data-testid": "first-status" });
  const bar = h("progress", { max: "100", hidden: true, "aria-label": t("running") });
  const start: HTMLButtonElement = h("button", {
    type: "button",
    class: "primary big",
    text: t("first_start"),
    "data-testid": "first-start",
    onclick: () => void createAndRun(),
  });
  const card = h(
    "section",
    { class: "welcome first-run", "data-testid": "first-run" },
    h("h1", { text: t("first_title") }),
    h("p", { text: t("first_text", { db: connection?.database ?? "" }) }),
    h("ul", { class: "first-facts" }, h("li", { text: t("first_when") }), h("li", { text: t("first_keep") }), h("li", { text: t("first_what") })),
    h("label", { for: "first-name-input", text: t("f_name") }),
    Object.assign(name, { id: "first-name-input" }),
    start,
    bar,
    status,
    h("button", { type: "button", text: t("first_other"), "data-testid": "first-other", onclick: () => nav.go("schedules", { newSchedule: true }) }),
  );
  mount(root, card);

  async function createAndRun(): Promise<void> {
    start.disabled = true;
    status.className = "result";
    status.textContent = t("loading");
    try {
      const schedule = await call("create_schedule", {
        request: {
          name: name.value.trim(),
          cron_expression: FIRST_SCHEDULE.cron_expression,
          backup_type: "full",
          retention_days: FIRST_SCHEDULE.retention_days,
          connection: connection?.name,
          notify_on_failure: true,
        },
      });
      // Listen before starting, so the end is never missed.
      const unlistenProgress = await on("run-progress", (e) => {
        if (e.schedule_id !== schedule.id || !e.progress) return;
        bar.hidden = false;
        const p = e.progress;
        if (p.rows_estimated > 0) bar.value = Math.min(100, (100 * p.rows_done) / p.rows_estimated);
        status.textContent = t("first_progress", { table: p.table || "…", done: p.tables_done, total: p.tables_total });
      });
      const finished = new Promise<void>((resolve) => {
        void on("run-finished", (e) => {
          if (e.schedule_id === schedule.id) resolve();
        }).then((unlisten) => finished.then(unlisten));
      });
      await call("run_schedule_now", { id: schedule.id });
      status.textContent = t("first_running");
      await finished;
      unlistenProgress();
      const [run] = await call("list_history", { query: { schedule_id: schedule.id, limit: 1 } });
      const saved = (await call("list_schedules")).find((s) => s.id === schedule.id);
      done(run, saved?.next_run_at ?? null);
    } catch (err) {
      const e = toEngineError(err);
      status.className = "result error-text";
      status.textContent = errorWithHint(e);
      start.disabled = false;
    }
  }

  function done(run: Run | undefined, next: string | null): void {
    const l = lang();
    const ok = run?.status === "success";
    mount(
      card,
      h("h1", { text: ok ? t("first_done") : t("first_failed") }),
      ok
        ? h(
            "dl",
            { class: "about", "data-testid": "first-done" },
            h("dt", { text: t("hist_col_file") }),
            h("dd", { class: "file", text: run?.filename ?? "—" }),
            h("dt", { text: t("hist_col_size") }),
            h("dd", { text: humanSize(run?.file_size) }),
            h("dt", { text: t("hist_col_duration") }),
            h("dd", { text: humanDuration(run?.duration_seconds, l) }),
            h("dt", { text: t("dash_next") }),
            h("dd", { text: next ? wallTime(next, l) : "—" }),
          )
        : h(
            "div",
            { "data-testid": "first-error" },
            h("p", { class: "error-text", text: run?.error ? errorText(run.error) : t(`status_${run?.status ?? "failed"}` as Key) }),
            run?.error && hintText(run.error) ? h("p", { class: "hint", text: `${t("hint")}: ${hintText(run.error)}` }) : null,
          ),
      h(
        "div",
        { class: "actions" },
        ok && run
          ? h("button", { type: "button", text: t("show_in_folder"), onclick: () => void call("show_in_folder", { runId: run.id }).catch(() => undefined) })
          : h("button", { type: "button", text: t("first_fix_connection"), onclick: () => nav.go("connections") }),
        h("button", { type: "button", class: "primary", text: t("first_to_dashboard"), "data-testid": "first-to-dashboard", onclick: () => nav.go("dashboard") }),
      ),
    );
  }
}
