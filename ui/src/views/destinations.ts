// Destinations: the other places each backup is copied to (a network folder, S3-compatible
// storage, an SFTP server or NAS, WebDAV). Add with a test first (the engine refuses to save a
// destination it cannot write to), test again, remove. Secrets go to the OS keyring through
// the engine and are never shown again.
import { call, toEngineError } from "../api";
import type { Destination } from "../api/bindings/Destination";
import type { DestinationCheck } from "../api/bindings/DestinationCheck";
import type { DestinationSettings } from "../api/bindings/DestinationSettings";
import type { NewDestination } from "../api/bindings/NewDestination";
import { h, mount } from "../dom";
import { cancelEditButton, clearErrors, confirmDialog, field, formError, inputValue, optionalInt, showError } from "../forms";
import { errorWithHint, type Key, t } from "../i18n";
import type { Nav } from "../main";

export type Kind = DestinationSettings["kind"];
export const KINDS: Kind[] = ["s3", "sftp", "webdav", "gdrive", "folder"];

export function checkText(check: DestinationCheck): string {
  return t("dest_ok", { location: check.location, ms: check.round_trip_ms });
}

function keepText(d: Destination): string {
  const parts: string[] = [];
  if (d.retention_days != null) parts.push(t("dest_keep_days", { n: d.retention_days }));
  if (d.max_backups != null) parts.push(t("dest_keep_count", { n: d.max_backups }));
  return parts.length ? parts.join(", ") : t("dest_keep_schedule");
}

export async function renderDestinations(root: HTMLElement, nav: Nav): Promise<void> {
  const destinations = await call("list_destinations");
  const list = destinations.map((d) => {
    const result = h("p", { class: "result", "aria-live": "polite", "data-testid": `dest-result-${d.name}` });
    return h(
      "li",
      { class: "conn", "data-testid": `destination-${d.name}` },
      h(
        "div",
        {},
        h("strong", { text: d.name }),
        h("span", { class: "badge", text: t(`dest_kind_${d.settings.kind}` as Key) }),
        h("div", { class: "muted", text: d.location }),
        h("div", { class: "muted", text: `${t("dest_keep")}: ${keepText(d)}` }),
        h("div", { class: "muted", text: d.used_by.length ? t("dest_used_by", { list: d.used_by.join(", ") }) : t("dest_unused") }),
      ),
      h(
        "div",
        { class: "row-actions" },
        h("button", {
          type: "button",
          text: t("edit"),
          "aria-label": t("edit_named", { name: d.name }),
          "data-testid": `dest-edit-${d.name}`,
          onclick: () => {
            editing = d.name;
            nav.refresh();
          },
        }),
        h("button", {
          type: "button",
          text: t("conn_test"),
          "data-testid": `dest-test-${d.name}`,
          onclick: async () => {
            result.className = "result";
            result.textContent = t("loading");
            try {
              result.textContent = checkText(await call("test_destination", { name: d.name }));
              result.classList.add("ok");
            } catch (err) {
              const e = toEngineError(err);
              result.textContent = errorWithHint(e);
              result.classList.add("error-text");
            }
          },
        }),
        h("button", {
          type: "button",
          class: "danger",
          text: t("conn_remove"),
          onclick: async () => {
            if (!(await confirmDialog(t("dest_remove_confirm", { name: d.name }), t("yes_delete")))) return;
            try {
              await call("remove_destination", { name: d.name });
              nav.refresh();
            } catch (err) {
              const e = toEngineError(err);
              result.className = "result error-text";
              result.textContent = errorWithHint(e);
            }
          },
        }),
      ),
      result,
    );
  });
  const current = destinations.find((d) => d.name === editing) ?? null;
  if (!current) editing = null;
  mount(
    root,
    h("header", { class: "screen-head" }, h("h1", { text: t("dest_title") })),
    h("p", { class: "muted", text: t("dest_intro") }),
    destinations.length ? h("ul", { class: "connections", role: "list" }, list) : h("p", { class: "empty", text: t("dest_empty") }),
    h("h2", { text: current ? t("dest_edit_title", { name: current.name }) : t("dest_add") }),
    addForm(nav, current),
  );
}

/** The destination being edited in place (by name), if any. */
let editing: string | null = null;

/** The settings of the kind chosen in the form, from its fields. */
export function readSettings(form: ParentNode, kind: Kind): DestinationSettings {
  const blank = (name: string) => inputValue(form, name) || null;
  switch (kind) {
    case "folder":
      return { kind, path: inputValue(form, "path") };
    case "s3":
      return {
        kind,
        endpoint: blank("endpoint"),
        region: blank("region"),
        bucket: inputValue(form, "bucket"),
        prefix: inputValue(form, "prefix"),
        path_style: !(form.querySelector<HTMLInputElement>('[name="virtual_host_style"]')?.checked ?? false),
        access_key_id: inputValue(form, "access_key_id"),
      };
    case "sftp": {
      const port = inputValue(form, "port");
      return {
        kind,
        host: inputValue(form, "host"),
        port: port ? Number(port) : null,
        username: inputValue(form, "username"),
        folder: inputValue(form, "folder"),
        key_file: inputValue(form, "key_file"),
        known_hosts: "accept-new",
      };
    }
    case "webdav":
      return { kind, url: inputValue(form, "url"), username: blank("username"), folder: inputValue(form, "folder") };
    case "gdrive":
      return { kind, client_id: inputValue(form, "client_id"), folder: inputValue(form, "folder"), api_base: null };
  }
}

export function readDestination(form: ParentNode, kind: Kind): NewDestination {
  const request: NewDestination = { name: inputValue(form, "name"), settings: readSettings(form, kind) };
  const days = optionalInt(inputValue(form, "retention_days"));
  if (days !== null) request.retention_days = days;
  const max = optionalInt(inputValue(form, "max_backups"));
  if (max !== null) request.max_backups = max;
  return request;
}

/** The fields of one kind; only the chosen kind's fields are in the form at a time. */
export function kindFields(kind: Kind): HTMLElement[] {
  // Placeholders are examples, and say so.
  const text = (testid: string, example = "") => h("input", { type: "text", placeholder: example ? t("example", { text: example }) : "", "data-testid": testid });
  switch (kind) {
    case "folder":
      return [field("path", t("dest_path"), text("dest-path", "/mnt/nas/billora"), t("dest_path_help"))];
    case "s3":
      return [
        field("endpoint", t("dest_endpoint"), text("dest-endpoint", "https://s3.us-west-004.backblazeb2.com"), t("dest_endpoint_help")),
        field("region", t("dest_region"), text("dest-region", "us-east-1")),
        field("bucket", t("dest_bucket"), text("dest-bucket")),
        field("prefix", t("dest_prefix"), text("dest-prefix", "billora/office")),
        field("access_key_id", t("dest_access_key_id"), text("dest-access-key")),
        field("secret", t("dest_secret_key"), h("input", { type: "password", autocomplete: "new-password", "data-testid": "dest-secret" }), t("dest_secret_help")),
        h(
          "div",
          { class: "field check", "data-field": "virtual_host_style" },
          h("input", { type: "checkbox", id: "f-virtual_host_style", name: "virtual_host_style" }),
          h("label", { for: "f-virtual_host_style", text: t("dest_virtual_host") }),
        ),
      ];
    case "sftp":
      return [
        field("host", t("c_host"), text("dest-host", "nas.local")),
        field("port", t("c_port"), h("input", { type: "number", min: "1", max: "65535", value: "22", "data-testid": "dest-port" })),
        field("username", t("c_username"), text("dest-user")),
        field("folder", t("dest_folder"), text("dest-folder", "backups/billora")),
        field("key_file", t("dest_key_file"), text("dest-key-file", "/home/office/.ssh/id_ed25519"), t("dest_key_file_help")),
      ];
    case "webdav":
      return [
        field("url", t("dest_url"), text("dest-url", "https://cloud.example.com/remote.php/dav/files/office"), t("dest_url_help")),
        field("username", t("c_username"), text("dest-user")),
        field("secret", t("c_password"), h("input", { type: "password", autocomplete: "new-password", "data-testid": "dest-secret" }), t("dest_secret_help")),
        field("folder", t("dest_folder"), text("dest-folder", "Billora")),
      ];
    case "gdrive":
      return [
        h("p", { class: "help", text: t("dest_gdrive_intro") }),
        field("client_id", t("dest_client_id"), text("dest-client-id", "1234-abc.apps.googleusercontent.com"), t("dest_client_id_help")),
        field("secret", t("dest_client_secret"), h("input", { type: "password", autocomplete: "off", "data-testid": "dest-secret" }), t("dest_secret_help")),
        field("folder", t("dest_folder_drive"), text("dest-folder", "Billora Backups")),
      ];
  }
}

/** The form to add a destination, or with `current` to edit that one in place: its name and
 *  kind stay, an empty secret keeps the saved one, and the engine tests the change on save. */
function addForm(nav: Nav, current: Destination | null = null): HTMLFormElement {
  const result = h("p", { class: "result", "aria-live": "polite", "data-testid": "dest-draft-result" });
  let kind: Kind = current?.settings.kind ?? "s3";
  const kindBox = h("fieldset", { class: "kind-fields", "data-testid": "dest-kind-fields" });
  const testButton = h("button", {
    type: "button",
    text: t("dest_test_draft"),
    "data-testid": "dest-test-draft",
    onclick: async () => {
      clearErrors(form);
      result.className = "result";
      result.textContent = t("dest_testing");
      try {
        result.textContent = checkText(await call("test_destination_draft", { form: formValue() }));
        result.classList.add("ok");
      } catch (err) {
        result.textContent = "";
        showError(form, toEngineError(err));
      }
    },
  });
  const saveButton = h("button", { type: "submit", class: "primary", text: t("dest_save"), "data-testid": "dest-save" });
  // Google Drive is tested as part of connecting (the browser asks for consent first).
  const showKind = () => {
    mount(kindBox, kindFields(kind));
    testButton.hidden = kind === "gdrive" || current !== null;
    saveButton.textContent = current ? t("dest_save_change") : kind === "gdrive" ? t("dest_connect_save") : t("dest_save");
  };
  const kindSelect = h(
    "select",
    {
      "data-testid": "dest-kind",
      onchange: () => {
        kind = kindSelect.value as Kind;
        showKind();
      },
    },
    KINDS.map((k) => h("option", { value: k, text: t(`dest_kind_${k}` as Key) })),
  );
  const formValue = () => {
    const secret = inputValue(form, "secret");
    const destination = readDestination(form, kind);
    // The SFTP server's key policy is not in the form: an edit keeps it.
    if (current?.settings.kind === "sftp" && destination.settings.kind === "sftp") destination.settings.known_hosts = current.settings.known_hosts;
    return { destination, secret: secret || null };
  };
  const form: HTMLFormElement = h(
    "form",
    {
      class: "editor",
      "data-testid": "destination-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        clearErrors(form);
        result.className = "result";
        result.textContent = kind === "gdrive" ? t("dest_connecting") : t("dest_testing");
        try {
          if (current) {
            await call("update_destination", { form: formValue() });
            editing = null;
          } else {
            await call("add_destination", { form: formValue() });
          }
          nav.toast(t("saved"));
          nav.refresh();
        } catch (err) {
          result.textContent = "";
          showError(form, toEngineError(err));
        }
      },
    },
    formError(),
    h(
      "fieldset",
      {},
      field("name", t("c_name"), h("input", { type: "text", "data-testid": "dest-name", placeholder: t("example", { text: "offsite" }) })),
      field("kind", t("dest_kind"), kindSelect),
    ),
    kindBox,
    h(
      "details",
      {},
      h("summary", { text: t("dest_keep_override") }),
      field("retention_days", t("f_retention_days"), h("input", { type: "number", min: "1", max: "3650", "data-testid": "dest-retention-days" })),
      field("max_backups", t("f_max_backups"), h("input", { type: "number", min: "1", max: "10000", "data-testid": "dest-max-backups" })),
    ),
    result,
    h(
      "div",
      { class: "actions" },
      current
        ? cancelEditButton(() => {
            editing = null;
            nav.refresh();
          })
        : null,
      testButton,
      saveButton,
    ),
  );
  showKind();
  if (current) fillDestination(form, current, kindSelect);
  return form;
}

/** Puts a saved destination into the form for editing: its name and kind cannot change. */
function fillDestination(form: HTMLFormElement, d: Destination, kindSelect: HTMLSelectElement): void {
  kindSelect.value = d.settings.kind;
  kindSelect.disabled = true;
  const set = (name: string, value: string) => {
    const el = form.querySelector<HTMLInputElement>(`[name="${name}"]`);
    if (el) el.value = value;
  };
  set("name", d.name);
  for (const [key, value] of Object.entries(d.settings)) {
    if (typeof value === "string" || typeof value === "number") set(key, String(value));
  }
  if (d.settings.kind === "s3") {
    const box = form.querySelector<HTMLInputElement>('[name="virtual_host_style"]');
    if (box) box.checked = !d.settings.path_style;
  }
  set("retention_days", d.retention_days?.toString() ?? "");
  set("max_backups", d.max_backups?.toString() ?? "");
  const name = form.querySelector<HTMLInputElement>('[name="name"]');
  if (name) name.readOnly = true;
  const secret = form.querySelector<HTMLInputElement>('[name="secret"]');
  if (secret) secret.placeholder = t("dest_secret_keep");
}
