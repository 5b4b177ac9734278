// Schedules: the list (toggle, run now, edit, delete with confirmation) and the editor with
// every field of the spec, presets, a live description and the next 5 runs in the schedule's
// zone, a retention preview, the file-name preview, and the engine's errors next to each field.
import { call, toEngineError } from "../api";
import type { ConnectionChoice } from "../api/bindings/ConnectionChoice";
import type { EngineError } from "../api/bindings/EngineError";
import type { NewSchedule } from "../api/bindings/NewSchedule";
import type { Schedule } from "../api/bindings/Schedule";
import { debounce, h, mount } from "../dom";
import { previewFilename, wallTime } from "../format";
import { checkbox, clearErrors, clearFieldError, confirmDialog, field, formError, inputValue, checked, optionalInt, showError } from "../forms";
import { errorText, lang, t, type Key } from "../i18n";
import type { Nav } from "../main";

export const PRESETS: [string, Parameters<typeof t>[0]][] = [
  ["0 2 * * *", "preset_daily"],
  ["0 */6 * * *", "preset_6h"],
  ["0 3 * * 0", "preset_weekly"],
  ["0 1 1 * *", "preset_monthly"],
];

export async function renderSchedules(root: HTMLElement, nav: Nav, opts: { scheduleId?: number; newSchedule?: boolean }): Promise<void> {
  if (opts.newSchedule) return renderEditor(root, nav, null);
  if (opts.scheduleId !== undefined) {
    const schedule = (await call("list_schedules")).find((s) => s.id === opts.scheduleId) ?? null;
    return renderEditor(root, nav, schedule);
  }
  const board = await call("dashboard");
  const schedules = board.schedules.map((state) => state.schedule);
  const summaries = new Map(board.schedules.map((state) => [state.schedule.id, state.summary]));
  const l = lang();
  const rows = schedules.map((s) =>
    h(
      "tr",
      { "data-testid": `schedule-row-${s.id}` },
      h("td", {}, h("strong", { text: s.name }), s.description ? h("div", { class: "muted", text: s.description }) : null),
      h("td", {}, h("div", { text: summaries.get(s.id) ?? "" }), h("code", { class: "cron", text: s.cron_expression }), h("span", { class: "muted", text: ` ${s.timezone}` })),
      h("td", { text: backupKind(s) }),
      h("td", { text: s.is_active ? wallTime(s.next_run_at, l) : "—" }),
      h("td", { text: t("results", { ok: s.success_count, failed: s.failed_count }) }),
      h(
        "td",
        {},
        h("input", {
          type: "checkbox",
          class: "switch",
          checked: s.is_active,
          "aria-label": `${t("sched_col_active")}: ${s.name}`,
          "data-testid": `toggle-${s.id}`,
          onchange: async () => {
            await call("toggle_schedule", { id: s.id }).catch((err) => nav.toast(errorText(toEngineError(err))));
            nav.refresh();
          },
        }),
      ),
      h(
        "td",
        { class: "row-actions" },
        h("button", {
          type: "button",
          text: t("run_now"),
          "aria-label": t("run_named", { name: s.name }),
          "data-testid": `run-${s.id}`,
          onclick: async () => {
            try {
              await call("run_schedule_now", { id: s.id });
              nav.toast(`${s.name}: ${t("running")}`);
            } catch (err) {
              nav.toast(errorText(toEngineError(err)));
            }
          },
        }),
        h("button", { type: "button", text: t("edit"), "aria-label": t("edit_named", { name: s.name }), "data-testid": `edit-${s.id}`, onclick: () => nav.go("schedules", { scheduleId: s.id }) }),
        h("button", {
          type: "button",
          class: "danger",
          text: t("delete"),
          "aria-label": t("delete_named", { name: s.name }),
          "data-testid": `delete-${s.id}`,
          onclick: async () => {
            if (!(await confirmDialog(t("sched_delete_confirm", { name: s.name }), t("yes_delete")))) return;
            await call("delete_schedule", { id: s.id }).catch((err) => nav.toast(errorText(toEngineError(err))));
            nav.refresh();
          },
        }),
      ),
    ),
  );
  mount(
    root,
    h(
      "header",
      { class: "screen-head" },
      h("h1", { text: t("sched_title") }),
      h("button", { type: "button", class: "primary", text: t("sched_new"), "data-testid": "new-schedule", onclick: () => nav.go("schedules", { newSchedule: true }) }),
    ),
    schedules.length
      ? h(
          "table",
          { class: "list", "data-testid": "schedules-table" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              [t("sched_col_name"), t("sched_col_when"), t("sched_col_type"), t("sched_col_next"), t("sched_col_results"), t("sched_col_active"), ""].map((c) => h("th", { text: c })),
            ),
          ),
          h("tbody", {}, rows),
        )
      : h("p", { class: "empty", text: t("sched_empty") }),
  );
}

/** What a schedule backs up, in words: a tenant, its connection's database, every database,
 * or the databases it lists. */
function backupKind(s: Schedule): string {
  if (s.backup_type === "tenant") return t("type_tenant", { id: s.tenant_id ?? "?" });
  const databases = s.databases ?? [];
  if (databases.includes("*")) return t("type_all_databases");
  if (databases.length) return t("type_databases", { names: databases.join(", ") });
  return t("type_full");
}

/** The grandfather-father-son counts, as the engine names them. */
const GFS_FIELDS = ["keep_daily", "keep_weekly", "keep_monthly", "keep_yearly"] as const;

/** The form's values as a create request (numbers checked by the engine, not here). */
export function readForm(form: ParentNode): NewSchedule {
  const backupType = inputValue(form, "backup_type") === "tenant" ? "tenant" : "full";
  const email = inputValue(form, "notification_email");
  const request: NewSchedule = {
    name: inputValue(form, "name"),
    description: inputValue(form, "description"),
    cron_expression: inputValue(form, "cron_expression"),
    timezone: inputValue(form, "timezone") || undefined,
    backup_type: backupType,
    compression: inputValue(form, "compression") as NewSchedule["compression"],
    notify_on_success: checked(form, "notify_on_success"),
    notify_on_failure: checked(form, "notify_on_failure"),
    catch_up: checked(form, "catch_up"),
    verify_after_backup: checked(form, "verify_after_backup"),
    is_active: checked(form, "is_active"),
  };
  const tenant = optionalInt(inputValue(form, "tenant_id"));
  if (backupType === "tenant" && tenant !== null) request.tenant_id = tenant;
  const days = optionalInt(inputValue(form, "retention_days"));
  if (days !== null) request.retention_days = days;
  const max = optionalInt(inputValue(form, "max_backups"));
  if (max !== null) request.max_backups = max;
  for (const name of GFS_FIELDS) {
    const n = optionalInt(inputValue(form, name));
    if (n !== null) request[name] = n;
  }
  if (email) request.notification_email = email;
  const connection = inputValue(form, "connection");
  if (connection) request.connection = connection;
  const destination = inputValue(form, "destination");
  if (destination) request.destination = destination;
  const encryptTo = inputValue(form, "encrypt_to");
  if (encryptTo) request.encrypt_to = encryptTo;
  request.copy_to = Array.from(form.querySelectorAll<HTMLInputElement>('input[name="copy_to"]:checked')).map((c) => c.value);
  request.databases = readDatabases(form, backupType);
  return request;
}

/** `databases` as the engine takes it: [] the connection's, ["*"] every one, or the names. */
function readDatabases(form: ParentNode, backupType: "full" | "tenant"): string[] {
  const mode = inputValue(form, "databases_mode");
  if (backupType === "tenant" || mode === "one" || mode === "") return [];
  if (mode === "all") return ["*"];
  return inputValue(form, "databases")
    .split(",")
    .map((d) => d.trim())
    .filter((d) => d !== "");
}

/** A numeric field the browser could not read as a whole number: say so before the engine. */
function numberError(form: ParentNode, request: NewSchedule): EngineError | null {
  for (const name of ["tenant_id", "retention_days", "max_backups", ...GFS_FIELDS] as const) {
    const value = request[name];
    if (value !== undefined && value !== null && Number.isNaN(value)) {
      return { code: "InvalidInput", message: lang() === "th" ? "ใส่ตัวเลขจำนวนเต็ม" : "enter a whole number", field: name };
    }
  }
  void form;
  return null;
}

async function renderEditor(root: HTMLElement, nav: Nav, schedule: Schedule | null): Promise<void> {
  // From the machine the schedule runs on: this computer, or the server the app shows.
  const [choices, existing] = await Promise.all([call("schedule_choices"), call("list_schedules")]);
  const { connections, destinations } = choices;
  const settings = { default_folder: choices.default_folder, encryption_keys: choices.encryption_keys };
  const remote = nav.machine() !== null;
  const s = schedule;
  // Names are unique regardless of case (as the store compares them): said while typing.
  const takenNames = new Set(existing.filter((other) => other.id !== s?.id).map((other) => other.name.trim().toLowerCase()));
  const nameInput = h("input", { type: "text", value: s?.name ?? "", required: true, autocomplete: "off", "data-testid": "name-input" });
  nameInput.addEventListener("input", () => {
    const name = nameInput.value.trim();
    if (name && takenNames.has(name.toLowerCase())) {
      showError(form, { code: "Conflict", message: t("sched_name_taken", { name }), field: "name" });
      nameInput.focus();
    } else {
      clearFieldError(form, "name");
    }
  });
  const tzInput = h("input", { type: "text", value: s?.timezone ?? "", placeholder: t("default_value", { text: Intl.DateTimeFormat().resolvedOptions().timeZone }), list: "zones", autocomplete: "off" });
  const cronInput = h("input", { type: "text", value: s?.cron_expression ?? "0 2 * * *", autocomplete: "off", "data-testid": "cron-input" });
  const description = h("p", { class: "cron-description", "aria-live": "polite", "data-testid": "cron-description" });
  const nextRuns = h("ol", { class: "next-runs", "data-testid": "next-runs" });
  const filenamePreview = h("code", { "data-testid": "filename-preview" });
  const retentionBox = h("div", { class: "retention-preview", "aria-live": "polite" });
  const form = h("form", { class: "editor", "data-testid": "schedule-form", onsubmit: (ev) => void save(ev) });
  const saveButton = h("button", { type: "submit", class: "primary", text: t("save"), "data-testid": "save-schedule" });
  let cronValid = true;

  const typeSelect = h(
    "select",
    { "data-testid": "backup-type" },
    h("option", { value: "full", text: t("type_full") }),
    h("option", { value: "tenant", text: t("type_tenant", { id: "…" }).replace(" (tenant …)", "") }),
  );
  typeSelect.value = s?.backup_type ?? "full";
  const tenantField = field("tenant_id", t("f_tenant_id"), h("input", { type: "number", min: "1", value: s?.tenant_id?.toString() ?? "" }));
  // Which databases: the connection's (none listed), a list, or every one (`*`).
  const saved = s?.databases ?? [];
  const databasesMode = h(
    "select",
    { name: "databases_mode", "data-testid": "databases-mode" },
    h("option", { value: "one", text: t("db_mode_one") }),
    h("option", { value: "list", text: t("db_mode_list") }),
    h("option", { value: "all", text: t("db_mode_all") }),
  );
  databasesMode.value = saved.length === 0 ? "one" : saved.includes("*") ? "all" : "list";
  const databasesList = h("input", {
    type: "text",
    name: "databases",
    class: "db-list",
    "data-testid": "databases-list",
    "aria-label": t("f_databases_list"),
    placeholder: t("f_databases_list"),
    value: saved.includes("*") ? "" : saved.join(", "),
  });
  // The server's databases to tick (this computer's connections only): a ticked name is
  // added to the list, an unticked one taken out; names typed by hand stay.
  const databasePicks = h("div", { class: "db-picks", "data-testid": "databases-picks" });
  const listed = () =>
    databasesList.value
      .split(",")
      .map((d) => d.trim())
      .filter((d) => d !== "");
  const loadDatabases = h("button", {
    type: "button",
    class: "small",
    text: t("db_load"),
    "data-testid": "databases-load",
    hidden: remote,
    onclick: async () => {
      clearFieldError(form, "databases");
      try {
        const names = await call("connection_databases", { name: connectionSelect.value || null });
        mount(
          databasePicks,
          names.length
            ? names.map((name) =>
                h(
                  "label",
                  { class: "check-inline" },
                  h("input", {
                    type: "checkbox",
                    value: name,
                    checked: listed().includes(name),
                    title: name,
                    onchange: (ev: Event) => {
                      const box = ev.currentTarget as HTMLInputElement;
                      const rest = listed().filter((d) => d !== name);
                      databasesList.value = (box.checked ? [...rest, name] : rest).join(", ");
                    },
                  }),
                  ` ${name}`,
                ),
              )
            : h("p", { class: "muted", text: t("db_none_seen") }),
        );
      } catch (err) {
        mount(databasePicks);
        showError(form, toEngineError(err));
      }
    },
  });
  const databasesField = field("databases", t("f_databases"), databasesMode, [
    databasesList,
    loadDatabases,
    databasePicks,
    h("div", { text: t("f_databases_help") }),
  ]);
  const showDatabases = () => {
    databasesField.hidden = typeSelect.value === "tenant";
    const list = databasesMode.value === "list";
    databasesList.hidden = !list;
    loadDatabases.hidden = !list || remote;
    databasePicks.hidden = !list;
  };
  databasesMode.addEventListener("change", showDatabases);
  showDatabases();
  const compression = h(
    "select",
    {},
    h("option", { value: "zstd", text: t("comp_zstd") }),
    h("option", { value: "gzip", text: t("comp_gzip") }),
    h("option", { value: "none", text: t("comp_none") }),
  );
  compression.value = s?.compression ?? "zstd";
  const connectionSelect = connectionChoice(connections, s?.connection ?? null);
  const destination = h("input", { type: "text", value: s?.destination ?? "", placeholder: t("default_value", { text: settings.default_folder }) });
  const encryptTo = h("input", { type: "text", value: s?.encrypt_to ?? "", placeholder: t("example", { text: "age1…" }), autocomplete: "off" });
  const passphrase = h("input", { type: "password", autocomplete: "new-password", "data-testid": "passphrase-input" });
  const passphraseField = field("passphrase", t("f_passphrase"), passphrase, t("f_passphrase_help"));
  passphraseField.hidden = s?.encrypt_to !== "passphrase";
  const retentionDays = h("input", { type: "number", min: "1", value: s?.retention_days?.toString() ?? "" });
  const maxBackups = h("input", { type: "number", min: "1", value: s?.max_backups?.toString() ?? "" });
  const gfsInputs = GFS_FIELDS.map((name) => h("input", { type: "number", min: "1", value: s?.[name]?.toString() ?? "", "data-testid": `gfs-${name}` }));
  const gfsValue = (i: number): number | null => {
    const n = optionalInt(gfsInputs[i]?.value.trim() ?? "");
    return Number.isNaN(n) ? null : n;
  };

  const updatePreviewName = () => {
    const tenant = optionalInt(inputValue(form, "tenant_id"));
    filenamePreview.textContent =
      previewFilename(typeSelect.value as "full" | "tenant", Number.isNaN(tenant) ? null : tenant, compression.value as "zstd" | "gzip" | "none") +
      (inputValue(form, "encrypt_to") ? ".age" : "");
    tenantField.hidden = typeSelect.value !== "tenant";
    showDatabases();
  };

  const refreshCron = debounce(async () => {
    try {
      const preview = await call("cron_preview", { request: { cron_expression: cronInput.value, timezone: tzInput.value || undefined } });
      cronValid = true;
      clearFieldError(form, "cron_expression");
      clearFieldError(form, "timezone");
      description.textContent = preview.description;
      mount(nextRuns, preview.next_runs.map((r) => h("li", { text: wallTime(r, lang()) })));
    } catch (err) {
      cronValid = false;
      description.textContent = "";
      mount(nextRuns);
      showError(form, toEngineError(err));
    }
    saveButton.disabled = !cronValid;
  }, 250);

  const refreshRetention = debounce(async () => {
    // The preview reads this computer's history: not offered for a server's schedule.
    if (!s || remote) return;
    const days = optionalInt(retentionDays.value.trim());
    const max = optionalInt(maxBackups.value.trim());
    if (Number.isNaN(days) || Number.isNaN(max)) return;
    try {
      const decisions = await call("retention_preview", {
        request: {
          schedule_id: s.id,
          retention_days: days ?? undefined,
          max_backups: max ?? undefined,
          gfs: { keep_daily: gfsValue(0), keep_weekly: gfsValue(1), keep_monthly: gfsValue(2), keep_yearly: gfsValue(3) },
        },
      });
      const doomed = decisions.filter((d) => !d.keep);
      const kept = decisions.filter((d) => d.keep);
      const line = (d: (typeof decisions)[number]) => h("li", { text: `${wallTime(d.created_at, lang())} · ${d.filename ?? "#" + d.run_id}: ${d.reason}` });
      mount(
        retentionBox,
        doomed.length ? [h("p", { text: t("ret_would_delete", { n: doomed.length }) }), h("ul", { "data-testid": "retention-deleted" }, doomed.map(line))] : h("p", { class: "muted", text: t("ret_would_keep") }),
        kept.length ? h("details", {}, h("summary", { text: t("ret_keeps", { n: kept.length }) }), h("ul", { "data-testid": "retention-kept" }, kept.map(line))) : null,
      );
    } catch (err) {
      mount(retentionBox);
      showError(form, toEngineError(err));
    }
  }, 300);

  const retentionPreset = (days: number | null, max: number | null, gfs: (number | null)[] = []) => {
    retentionDays.value = days?.toString() ?? "";
    maxBackups.value = max?.toString() ?? "";
    gfsInputs.forEach((input, i) => (input.value = gfs[i]?.toString() ?? ""));
    refreshRetention();
  };

  mount(
    form,
    h("datalist", { id: "zones" }, zoneList().map((z) => h("option", { value: z }))),
    formError(),
    h(
      "fieldset",
      {},
      field("name", t("f_name"), nameInput),
      field("description", t("f_description"), h("input", { type: "text", value: s?.description ?? "" })),
    ),
    h(
      "fieldset",
      {},
      h("legend", { text: t("f_cron") }),
      h(
        "div",
        { class: "presets", role: "group", "aria-label": t("f_presets") },
        PRESETS.map(([expr, key]) =>
          h("button", {
            type: "button",
            class: "chip",
            text: t(key),
            onclick: () => {
              cronInput.value = expr;
              refreshCron();
            },
          }),
        ),
      ),
      field("cron_expression", t("f_cron"), cronInput, t("f_cron_help")),
      description,
      h("div", { class: "muted", text: t("f_next_runs") }),
      nextRuns,
      field("timezone", t("f_timezone"), tzInput),
    ),
    h(
      "fieldset",
      {},
      field("backup_type", t("f_backup_type"), typeSelect),
      tenantField,
      field("connection", t("f_connection"), connectionSelect),
      databasesField,
      h(
        "div",
        { class: "field", "data-field": "copy_to" },
        h("label", { text: t("f_copy_to") }),
        destinations.length
          ? h(
              "div",
              { class: "checks", "data-testid": "copy-to" },
              destinations.map((d) =>
                h(
                  "label",
                  { class: "check-inline" },
                  h("input", { type: "checkbox", name: "copy_to", value: d.name, checked: s?.copy_to.includes(d.name) ?? false }),
                  ` ${d.name} `,
                  h("span", { class: "muted", text: d.location }),
                ),
              ),
            )
          : h("p", { class: "help", text: t("f_copy_to_none") }),
        h("p", { class: "field-error", id: "f-copy_to-err", role: "alert", hidden: true }),
      ),
      // Where the file goes, how it is packed and locked: folded unless already changed.
      h(
        "details",
        { class: "more", open: Boolean(s && (s.destination || s.encrypt_to || s.compression !== "zstd")), "data-testid": "more-options" },
        h("summary", { text: t("f_more_options") }),
      field(
        "destination",
        t("f_destination"),
        destination,
        // The picker shows this computer's folders: typed instead for a server.
        remote
          ? undefined
          : h("button", {
              type: "button",
              class: "small",
              text: t("browse"),
              onclick: async () => {
                const folder = await call("pick_folder").catch(() => null);
                if (folder) destination.value = folder;
              },
            }),
      ),
      field("compression", t("f_compression"), compression),
      passphraseField,
      field("encrypt_to", t("f_encrypt_to"), encryptTo, [
        t("f_encrypt_help"),
        // A passphrase is kept in this computer's keyring: not for a server's schedule.
        remote
          ? null
          : h("button", {
          type: "button",
          class: "chip",
          text: t("use_passphrase"),
          onclick: () => {
            encryptTo.value = "passphrase";
            passphraseField.hidden = false;
            updatePreviewName();
          },
        }),
        settings.encryption_keys.length
          ? h("button", {
              type: "button",
              class: "chip",
              text: t("use_my_key"),
              onclick: () => {
                encryptTo.value = settings.encryption_keys.join(", ");
                updatePreviewName();
              },
            })
          : null,
      ]),
      ),
      h("div", { class: "muted" }, t("f_filename"), " ", filenamePreview),
    ),
    h(
      "fieldset",
      {},
      h("legend", { text: t("f_retention") }),
      h(
        "div",
        { class: "presets" },
        h("button", { type: "button", class: "chip", text: t("ret_7d"), onclick: () => retentionPreset(7, null) }),
        h("button", { type: "button", class: "chip", text: t("ret_30d"), onclick: () => retentionPreset(30, null) }),
        h("button", { type: "button", class: "chip", text: t("ret_last10"), onclick: () => retentionPreset(null, 10) }),
        h("button", { type: "button", class: "chip", text: t("ret_gfs"), "data-testid": "preset-gfs", onclick: () => retentionPreset(null, null, [7, 4, 12, null]) }),
        h("button", { type: "button", class: "chip", text: t("ret_forever"), onclick: () => retentionPreset(null, null) }),
      ),
      field("retention_days", t("f_retention_days"), retentionDays),
      field("max_backups", t("f_max_backups"), maxBackups),
      h("p", { class: "help", text: t("f_retention_help") }),
      h(
        "div",
        { class: "gfs", role: "group", "aria-label": t("f_gfs") },
        GFS_FIELDS.map((name, i) => field(name, t(`f_${name}` as Key), gfsInputs[i] as HTMLInputElement)),
      ),
      h("p", { class: "help", text: t("f_gfs_help") }),
      retentionBox,
    ),
    h(
      "fieldset",
      {},
      h("legend", { text: t("f_notify") }),
      checkbox("notify_on_failure", t("f_notify_failure"), s?.notify_on_failure ?? true),
      checkbox("notify_on_success", t("f_notify_success"), s?.notify_on_success ?? false),
      field("notification_email", t("f_email"), h("input", { type: "text", value: s?.notification_email ?? "", autocomplete: "off" })),
      checkbox("catch_up", t("f_catch_up"), s?.catch_up ?? true),
      checkbox("verify_after_backup", t("f_verify_after"), s?.verify_after_backup ?? false),
      checkbox("is_active", t("f_active"), s?.is_active ?? true),
    ),
    h(
      "div",
      { class: "actions sticky" },
      h("button", { type: "button", text: t("cancel"), onclick: () => nav.go("schedules") }),
      saveButton,
    ),
  );

  async function save(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    clearErrors(form);
    const request = readForm(form);
    const early = numberError(form, request);
    if (early) {
      showError(form, early);
      return;
    }
    saveButton.disabled = true;
    const secret = passphrase.value;
    try {
      if (secret) {
        // Checked by the engine before anything is saved; kept in the keyring only.
        await call("check_passphrase", { passphrase: secret });
        request.encrypt_to = "passphrase";
      }
      let saved: { id: number };
      if (s) {
        saved = await call("update_schedule", {
          id: s.id,
          patch: {
            ...request,
            description: request.description ?? "",
            timezone: request.timezone ?? null,
            tenant_id: request.tenant_id ?? null,
            connection: request.connection ?? null,
            destination: request.destination ?? null,
            retention_days: request.retention_days ?? null,
            max_backups: request.max_backups ?? null,
            keep_daily: request.keep_daily ?? null,
            keep_weekly: request.keep_weekly ?? null,
            keep_monthly: request.keep_monthly ?? null,
            keep_yearly: request.keep_yearly ?? null,
            notification_email: request.notification_email ?? null,
            encrypt_to: request.encrypt_to ?? null,
          },
        });
      } else {
        saved = await call("create_schedule", { request });
      }
      if (secret) await call("set_schedule_passphrase", { id: saved.id, passphrase: secret });
      nav.toast(t("saved"));
      nav.go("schedules");
    } catch (err) {
      showError(form, toEngineError(err));
    } finally {
      saveButton.disabled = !cronValid;
    }
  }

  form.addEventListener("input", (ev) => {
    const target = ev.target as HTMLInputElement;
    // The name's own listener says whether it is taken; clearing here would hide that.
    if (target.name && target !== nameInput) clearFieldError(form, target.name);
    if (target === cronInput || target === tzInput) refreshCron();
    if (target === retentionDays || target === maxBackups || gfsInputs.includes(target)) refreshRetention();
    updatePreviewName();
  });
  form.addEventListener("change", updatePreviewName);
  mount(root, h("header", { class: "screen-head" }, h("h1", { text: s ? t("ed_edit") : t("ed_new") })), form);
  updatePreviewName();
  refreshCron();
  if (s) refreshRetention();
  // Focused once the screen is on show (main.ts): it is built detached.
  form.querySelector<HTMLInputElement>('[name="name"]')?.setAttribute("data-focus", "");
}

function connectionChoice(connections: ConnectionChoice[], chosen: string | null): HTMLSelectElement {
  const select = h("select", {});
  if (connections.length <= 1) select.append(h("option", { value: "", text: connections[0]?.name ?? t("f_connection_default") }));
  else for (const c of connections) select.append(h("option", { value: c.name, text: `${c.name} (${c.database}@${c.host})` }));
  if (chosen) {
    if (![...select.options].some((o) => o.value === chosen)) select.append(h("option", { value: chosen, text: chosen }));
    select.value = chosen;
  }
  return select;
}

/** Zones offered in the time-zone field (any IANA name may be typed). */
function zoneList(): string[] {
  const withValues = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return withValues.supportedValuesOf?.("timeZone") ?? ["Asia/Bangkok", "UTC"];
  } catch {
    return ["Asia/Bangkok", "UTC"];
  }
}
