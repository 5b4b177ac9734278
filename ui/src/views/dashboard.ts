// The first screen: each schedule's health (age of the newest good backup, green/amber/red),
// its next run, a live progress bar while it runs, and the latest failures with their reasons.
// With no database yet it is a welcome screen with one main button.
import { call, toEngineError } from "../api";
import type { SchedulerState } from "../api/bindings/SchedulerState";
import type { DumpProgress } from "../api/bindings/DumpProgress";
import type { LiveRun } from "../api/bindings/LiveRun";
import type { Run } from "../api/bindings/Run";
import type { ScheduleState } from "../api/bindings/ScheduleState";
import { h, mount } from "../dom";
import { confirmDialog } from "../forms";
import { humanDuration, humanSize, relativeTime, wallTime } from "../format";
import { errorText, hintText, type Key, lang, t } from "../i18n";
import type { Nav } from "../main";

export async function renderDashboard(root: HTMLElement, nav: Nav): Promise<void> {
  const board = await call("dashboard");
  // A server's dashboard: its daemon runs its schedules; pausing and cancelling are done there.
  const remote = nav.machine() !== null;
  if (remote && board.schedules.some((s) => s.running !== null)) {
    setTimeout(() => {
      if (root.isConnected) nav.refresh();
    }, 2000);
  }
  // Schedules made without a connection (by the CLI, or over the HTTP API) are shown, marked as
  // needing a database, rather than hidden behind the welcome screen.
  if (board.connections === 0 && board.schedules.length === 0) {
    mount(
      root,
      h(
        "section",
        { class: "welcome", "data-testid": "welcome" },
        h("h1", { text: t("welcome_title") }),
        h("p", { text: t("welcome_text") }),
        h("button", { type: "button", class: "primary big", text: t("welcome_button"), onclick: () => nav.go("connections") }),
        h("p", { class: "muted", text: t("welcome_then") }),
        h("button", { type: "button", text: t("welcome_recover"), "data-testid": "welcome-recover", onclick: () => nav.go("restore") }),
      ),
    );
    return;
  }
  const banners = [
    board.connections === 0
      ? h(
          "div",
          { class: "banner warn", role: "status", "data-testid": "needs-database" },
          h("span", { text: t("dash_needs_database") }),
          h("button", { type: "button", class: "primary", text: t("welcome_button"), onclick: () => nav.go("connections") }),
        )
      : null,
    board.paused
      ? h(
          "div",
          { class: "banner warn", role: "status", "data-testid": "paused-banner" },
          t("dash_paused"),
          h("button", { type: "button", text: t("dash_resume"), onclick: () => void setPaused(nav, false) }),
        )
      : null,
    board.scheduler_here || remote ? null : h("div", { class: "banner info", role: "status", text: t("dash_not_here") }),
    schedulerBanner(board.scheduler),
  ];
  const cards = board.schedules.length
    ? h("div", { class: "cards" }, board.schedules.map((s) => card(s, nav, board.paused)))
    : h(
        "div",
        { class: "empty" },
        h("p", { text: t("dash_no_schedules") }),
        h("button", { type: "button", class: "primary", text: t("dash_new_schedule"), onclick: () => nav.go("schedules", { newSchedule: true }) }),
      );
  mount(
    root,
    h(
      "header",
      { class: "screen-head" },
      h("h1", { text: t("nav_dashboard") }),
      board.paused || remote
        ? null
        : h("button", {
            type: "button",
            text: t("dash_pause"),
            "data-testid": "pause-all",
            onclick: async () => {
              if (await confirmDialog(t("dash_pause_confirm"), t("dash_pause_yes"))) await setPaused(nav, true);
            },
          }),
    ),
    banners,
    cards,
    board.free_bytes !== null ? h("p", { class: "muted", "data-testid": "free-space", text: t("dash_free", { free: humanSize(board.free_bytes), folder: board.backup_folder }) }) : null,
    h("h2", { text: t("dash_failures") }),
    board.recent_failures.length
      ? h("ul", { class: "failures", "data-testid": "recent-failures" }, board.recent_failures.map(failure))
      : h("p", { class: "muted", text: t("dash_no_failures") }),
  );
}

async function setPaused(nav: Nav, paused: boolean): Promise<void> {
  try {
    await call("set_paused", { paused });
  } catch (err) {
    nav.toast(errorText(toEngineError(err)));
  }
  nav.refresh();
}

const HEALTH_KEY: Record<ScheduleState["health"], Key> = {
  good: "health_good",
  pending: "health_pending",
  late: "health_late",
  failing: "health_failing",
  off: "health_off",
};

/** A schedule's card. While everything is paused it says so instead of "OK" and a countdown;
 *  a failure keeps its colour and reason. */
function card(state: ScheduleState, nav: Nav, paused: boolean): HTMLElement {
  const s = state.schedule;
  const l = lang();
  const badge = paused && state.health !== "failing" ? h("span", { class: "badge off", text: t("health_paused") }) : h("span", { class: `badge ${state.health}`, text: t(HEALTH_KEY[state.health]) });
  const next = paused ? t("dash_next_paused") : s.next_run_at ? `${wallTime(s.next_run_at, l)} (${relativeTime(s.next_run_at, l)})` : "—";
  const runButton = h("button", {
    type: "button",
    class: "primary",
    text: state.running ? t("running") : t("run_now"),
    disabled: Boolean(state.running) || state.queued,
    "aria-label": t("run_named", { name: s.name }),
    "data-testid": `run-now-${s.id}`,
    onclick: async () => {
      runButton.disabled = true;
      try {
        await call("run_schedule_now", { id: s.id });
      } catch (err) {
        nav.toast(errorText(toEngineError(err)));
        runButton.disabled = false;
      }
    },
  });
  return h(
    "article",
    { class: `card health-${state.health}`, "data-testid": `schedule-card-${s.id}` },
    h(
      "header",
      {},
      h("span", { class: `dot ${state.health}`, "aria-hidden": "true" }),
      h("h3", { text: s.name }),
      badge,
    ),
    h("p", { class: "summary", text: state.summary }),
    state.health_reason ? h("p", { class: "reason", text: state.health_reason }) : null,
    h(
      "dl",
      {},
      h("dt", { text: t("dash_newest") }),
      h("dd", {
        text: state.newest_success_at ? `${relativeTime(state.newest_success_at, l)} (${wallTime(state.newest_success_at, l)})` : t("never"),
      }),
      h("dt", { text: t("dash_next") }),
      h("dd", { text: next, "data-testid": `next-${s.id}` }),
    ),
    sizeRow(state.recent_sizes),
    state.running ? progress(state.running, nav, nav.machine() === null) : null,
    state.queued ? h("p", { class: "muted", text: t("queued") }) : null,
    h("div", { class: "actions" }, runButton),
  );
}

function progressParts(p: DumpProgress, eta: number | null): [string, string][] {
  const l = lang();
  const percent = p.rows_estimated > 0 ? Math.min(100, Math.round((100 * p.rows_done) / p.rows_estimated)) : null;
  return [
    [t("progress_table"), `${p.table || "…"} (${p.tables_done}/${p.tables_total})`],
    [t("progress_rows"), `${p.rows_done.toLocaleString()} / ~${p.rows_estimated.toLocaleString()}${percent === null ? "" : ` (${percent}%)`}`],
    [t("progress_written"), humanSize(p.bytes_done)],
    [t("progress_eta"), eta === null ? "…" : humanDuration(eta, l)],
  ];
}

function progress(run: LiveRun, nav: Nav, cancellable: boolean): HTMLElement {
  const p = run.progress;
  const percent = p.rows_estimated > 0 ? Math.min(100, (100 * p.rows_done) / p.rows_estimated) : 0;
  return h(
    "div",
    { class: "progress", "data-progress": String(run.schedule_id), "data-testid": `progress-${run.schedule_id}` },
    h("progress", { max: "100", value: String(percent), "aria-label": t("running") }),
    h("dl", { class: "progress-facts" }, progressParts(p, run.eta_seconds).map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])),
    cancellable
      ? h("button", {
          type: "button",
          class: "danger small",
          text: t("cancel_backup"),
          onclick: async () => {
            await call("cancel_run", { id: run.schedule_id }).catch((err) => nav.toast(errorText(toEngineError(err))));
          },
        })
      : null,
  );
}

/** When the UI first saw each running backup's progress, for the time left between renders. */
const firstSeen = new Map<number, { at: number; rows: number }>();

/** Seconds left from the rate seen so far (null until there is a rate). */
export function etaSeconds(scheduleId: number, p: DumpProgress, now: number = Date.now()): number | null {
  const first = firstSeen.get(scheduleId);
  if (!first || p.rows_done < first.rows) {
    firstSeen.set(scheduleId, { at: now, rows: p.rows_done });
    return null;
  }
  const rows = p.rows_done - first.rows;
  const seconds = (now - first.at) / 1000;
  if (rows <= 0 || seconds <= 0 || p.rows_estimated <= p.rows_done) return null;
  return ((p.rows_estimated - p.rows_done) * seconds) / rows;
}

/** Updates a running card's bar in place (no re-render, so focus stays where it is). */
export function updateProgress(root: HTMLElement, scheduleId: number, p: DumpProgress): void {
  const box = root.querySelector<HTMLElement>(`[data-progress="${scheduleId}"]`);
  if (!box) return;
  const bar = box.querySelector("progress");
  if (bar && p.rows_estimated > 0) bar.value = Math.min(100, (100 * p.rows_done) / p.rows_estimated);
  const facts = box.querySelector(".progress-facts");
  if (facts) {
    mount(facts, progressParts(p, etaSeconds(scheduleId, p)).map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]));
  }
}

function failure(run: Run): HTMLElement {
  const l = lang();
  return h(
    "li",
    {},
    h("strong", { text: run.schedule_name }),
    " · ",
    h("span", { text: wallTime(run.created_at, l) }),
    h("p", { class: "error-text", text: run.error ? errorText(run.error) : t(`status_${run.status}` as Key) }),
    run.error && hintText(run.error) ? h("p", { class: "hint", text: `${t("hint")}: ${hintText(run.error)}` }) : null,
  );
}

/** Red when schedules are active and nothing runs them, or the scheduler cannot use its store. */
function schedulerBanner(state: SchedulerState): HTMLElement | null {
  if (state.state === "running" || state.active_schedules === 0) return null;
  const text = state.state === "degraded" ? t("dash_scheduler_degraded") : t("dash_scheduler_stopped");
  return h(
    "div",
    { class: "banner bad", role: "alert", "data-testid": "scheduler-banner" },
    h("span", {}, h("strong", { text }), state.reason ? h("span", { class: "muted", text: ` (${state.reason})` }) : null),
  );
}

/** The sizes of the schedule's last good backups as a small line (oldest left): a sudden drop
 *  is the early sign of a broken dump. Nothing with fewer than two. */
export function sizeRow(sizes: number[]): HTMLElement | null {
  if (sizes.length < 2) return null;
  const width = 120;
  const height = 28;
  const max = Math.max(...sizes) || 1;
  const x = (i: number) => 2 + (i * (width - 4)) / (sizes.length - 1);
  const y = (v: number) => height - 2 - (v / max) * (height - 4);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("class", "sizes-chart");
  svg.setAttribute("role", "img");
  const last = sizes[sizes.length - 1] ?? 0;
  const label = t("dash_sizes", { n: sizes.length, min: humanSize(Math.min(...sizes)), max: humanSize(max), last: humanSize(last) });
  svg.setAttribute("aria-label", label);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", sizes.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "currentColor");
  line.setAttribute("stroke-width", "1.5");
  const dot = document.createElementNS(ns, "circle");
  dot.setAttribute("cx", x(sizes.length - 1).toFixed(1));
  dot.setAttribute("cy", y(last).toFixed(1));
  dot.setAttribute("r", "2.5");
  dot.setAttribute("fill", "currentColor");
  const title = document.createElementNS(ns, "title");
  title.textContent = label;
  svg.append(title, line, dot);
  return h("div", { class: "sizes", "data-testid": "size-chart" }, h("span", { class: "muted", text: t("dash_size") }), svg, h("span", { text: humanSize(last) }));
}
