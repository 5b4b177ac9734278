// The app: a side navigation and one screen at a time. Screens re-render from the engine's
// answers; the shell's events (run started, progress, finished) refresh what is on screen.
import "@fontsource/noto-sans-thai/400.css";
import "@fontsource/noto-sans-thai/600.css";
import "./style.css";

import { call, on, toEngineError } from "./api";
import type { Viewing } from "./api/bindings/Viewing";
import { h, mount } from "./dom";
import { errorText, setLang, t, type Key } from "./i18n";
import { renderConnections } from "./views/connections";
import { renderDashboard, updateProgress } from "./views/dashboard";
import { renderDestinations } from "./views/destinations";
import { renderFirstRun } from "./views/firstrun";
import { renderHistory } from "./views/history";
import { renderRestore } from "./views/restore";
import { renderSchedules } from "./views/schedules";
import { renderSettings } from "./views/settings";

/** The screens; `firstrun` (after the first connection) is not in the side navigation. */
export type Screen = "dashboard" | "schedules" | "history" | "restore" | "connections" | "destinations" | "settings" | "firstrun";

/** The screens a server's daemon can show (its HTTP API has schedules, runs and history). */
const REMOTE_SCREENS: Screen[] = ["dashboard", "schedules", "history", "settings"];

const SCREENS: [Screen, Key][] = [
  ["dashboard", "nav_dashboard"],
  ["schedules", "nav_schedules"],
  ["history", "nav_history"],
  ["restore", "nav_restore"],
  ["connections", "nav_connections"],
  ["destinations", "nav_destinations"],
  ["settings", "nav_settings"],
];

/** Where screens render and how they move to another screen. */
export interface Nav {
  go(screen: Screen, options?: { scheduleId?: number; runId?: number; newSchedule?: boolean }): void;
  refresh(): void;
  toast(text: string): void;
  /** Re-labels everything after the language changed in Settings. */
  relabel(language: "en" | "th"): void;
  /** The server whose schedules and history are shown; null: this computer. */
  machine(): string | null;
  /** Re-reads the servers (one was added or removed) and what is shown. */
  machinesChanged(): Promise<void>;
}

let viewing: Viewing = { machine: null, url: null };
const switcher = h("select", { "data-testid": "machine-switch", "aria-label": "machine" });
const banner = h("p", { class: "remote-banner", role: "note", "data-testid": "machine-banner", hidden: true });

let current: Screen = "dashboard";
let options: Parameters<Nav["go"]>[1] = {};
const newScreen = () => h("main", { id: "screen", tabindex: "-1" });
/** The screen on show. Each render builds a new one and swaps it in only if no later render
 *  started meanwhile, so a slow answer to an older render (a list refreshed by a run event)
 *  can never replace a newer screen (the editor the admin just opened). */
let main = newScreen();
let renders = 0;
/** The screen (and its options) `main` shows: a refresh of the same one keeps its scroll. */
let shown = "";
const navList = h("ul", { role: "list" });
const toastBox = h("div", { class: "toast", role: "status", "aria-live": "polite", hidden: true });

const nav: Nav = {
  go(screen, opts = {}) {
    current = screen;
    options = opts;
    void render();
  },
  refresh() {
    void render();
  },
  toast(text) {
    toastBox.textContent = text;
    toastBox.hidden = false;
    setTimeout(() => (toastBox.hidden = true), 4000);
  },
  machine() {
    return viewing.machine;
  },
  async machinesChanged() {
    viewing = await call("viewing");
    await fillSwitcher();
    void render();
  },
  relabel(language) {
    setLang(language);
    const brand = document.querySelector(".brand");
    if (brand) mount(brand, h("span", { class: "logo", "aria-hidden": "true" }), t("app_name"));
    void render();
  },
};

/** The machine switcher: This computer, then each server of Settings → Manage a server. */
async function fillSwitcher(): Promise<void> {
  const daemons = await call("list_daemons").catch(() => []);
  mount(
    switcher,
    h("option", { value: "", text: t("machine_here") }),
    daemons.map((d) => h("option", { value: d.name, text: d.name })),
  );
  switcher.value = viewing.machine ?? "";
  switcher.closest<HTMLElement>(".machine")?.toggleAttribute("hidden", daemons.length === 0 && !viewing.machine);
}

async function switchMachine(): Promise<void> {
  const wanted = switcher.value || null;
  try {
    viewing = await call("view_machine", { machine: wanted });
  } catch (err) {
    nav.toast(errorText(toEngineError(err)));
    switcher.value = viewing.machine ?? "";
    return;
  }
  // A server is looked at for its schedules; back on this computer, a screen it has stays.
  if (viewing.machine) current = "schedules";
  options = {};
  void render();
}

function renderNav(): void {
  banner.hidden = !viewing.machine;
  banner.textContent = viewing.machine ? t("machine_banner", { name: viewing.machine, url: viewing.url ?? "" }) : "";
  mount(
    navList,
    SCREENS.filter(([screen]) => !viewing.machine || REMOTE_SCREENS.includes(screen)).map(([screen, key]) =>
      h(
        "li",
        {},
        h("button", {
          type: "button",
          class: screen === current ? "nav active" : "nav",
          "aria-current": screen === current ? "page" : undefined,
          "data-testid": `nav-${screen}`,
          text: t(key),
          onclick: () => nav.go(screen),
        }),
      ),
    ),
  );
}

async function render(): Promise<void> {
  renderNav();
  const seq = ++renders;
  const next = newScreen();
  try {
    switch (current) {
      case "dashboard":
        await renderDashboard(next, nav);
        break;
      case "schedules":
        await renderSchedules(next, nav, options ?? {});
        break;
      case "history":
        await renderHistory(next, nav, options ?? {});
        break;
      case "restore":
        await renderRestore(next, nav, options ?? {});
        break;
      case "connections":
        await renderConnections(next, nav);
        break;
      case "destinations":
        await renderDestinations(next, nav);
        break;
      case "settings":
        await renderSettings(next, nav);
        break;
      case "firstrun":
        await renderFirstRun(next, nav);
        break;
    }
  } catch (err) {
    const e = toEngineError(err);
    mount(next, h("p", { class: "form-error", role: "alert", text: `${t("error")}: ${errorText(e)}` }));
  }
  if (seq !== renders) return;
  const showing = `${current}:${JSON.stringify(options ?? {})}`;
  const scrolled = shown === showing ? main.scrollTop : 0;
  main.replaceWith(next);
  main = next;
  shown = showing;
  next.scrollTop = scrolled;
  next.querySelector<HTMLElement>("[data-focus]")?.focus({ preventScroll: scrolled > 0 });
}

async function boot(): Promise<void> {
  const info = await call("app_info");
  setLang(info.language);
  const app = document.getElementById("app");
  if (!app) return;
  mount(
    app,
    h(
      "nav",
      { class: "side", "aria-label": "Billora Backup" },
      h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }), t("app_name")),
      h("label", { class: "machine", hidden: true }, h("span", { text: t("machine_label") }), switcher),
      banner,
      navList,
      h("div", { class: "version", text: `v${info.version}` }),
    ),
    main,
    toastBox,
  );
  switcher.addEventListener("change", () => void switchMachine());
  // The server shown when the app last closed, if it answers; else this computer, saying why.
  try {
    viewing = await call("resume_machine");
  } catch (err) {
    viewing = await call("viewing");
    nav.toast(errorText(toEngineError(err)));
  }
  if (viewing.machine && !REMOTE_SCREENS.includes(current)) current = "dashboard";
  await fillSwitcher();
  await render();
  // The shell pushes run events; screens that show runs re-render (progress updates in place).
  void on("run-progress", (e) => {
    if (current === "dashboard" && e.progress) updateProgress(main, e.schedule_id, e.progress);
  });
  for (const name of ["run-started", "run-finished", "settings-changed"] as const) {
    void on(name, () => {
      // Never under an open schedule editor: a backup finishing must not wipe what is typed.
      const editing = current === "schedules" && (options?.scheduleId !== undefined || options?.newSchedule);
      if (!editing && (current === "dashboard" || current === "history" || current === "schedules")) void render();
    });
  }
}

void boot();
