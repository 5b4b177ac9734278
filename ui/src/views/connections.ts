// Database connections: add (with a test before saving), test, remove. The password goes to the
// OS keyring through the engine; when the keyring is unavailable or locked the engine's error
// says so, and it shows next to the password field.
import { call, toEngineError } from "../api";
import type { ConnectionCheck } from "../api/bindings/ConnectionCheck";
import type { ConnectionProfile } from "../api/bindings/ConnectionProfile";
import type { NewConnection } from "../api/bindings/NewConnection";
import { h, mount } from "../dom";
import { cancelEditButton, checkbox, clearErrors, clearFieldError, confirmDialog, field, formError, inputValue, showError } from "../forms";
import { errorText, errorWithHint, t } from "../i18n";
import type { Nav } from "../main";

export function checkText(check: ConnectionCheck): string {
  const parts = [t("conn_ok", { version: check.server_version, tables: check.tables, tls: check.tls ? t("conn_tls") : "" })];
  if (check.certificate_sha256) parts.push(t("conn_cert", { fp: check.certificate_sha256 }));
  if (check.ssh_host_key) parts.push(t("conn_ssh_key", { fp: check.ssh_host_key }));
  if (check.missing_privileges.length) parts.push(t("conn_missing", { list: check.missing_privileges.join("; ") }));
  parts.push(...check.notices);
  return parts.join(" ");
}

/** What a profile's TLS line says: the mode in words, and whether its certificate is pinned. */
function tlsText(c: ConnectionProfile): string {
  const mode = t(`tls_${c.tls_mode}`);
  if (c.tls_mode !== "pinned") return mode;
  return `${mode} · ${c.tls_pin ? t("conn_pinned") : t("conn_pin_pending")}`;
}

/** The new fingerprint in a CertificateChanged message ("…, now AA:BB:…)"). */
function changedFingerprint(message: string): string | null {
  return /now ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/.exec(message)?.[1] ?? null;
}

/** The new host key in a HostKeyChanged message ("…, now SHA256:…)"). */
export function changedHostKey(message: string): string | null {
  return /now (SHA256:[A-Za-z0-9+/]{43})/.exec(message)?.[1] ?? null;
}

/** How a profile is reached through SSH, and whether its host key is pinned. */
function sshText(c: ConnectionProfile): string | null {
  if (!c.ssh) return null;
  const via = t("conn_ssh", { user: c.ssh.username, host: c.ssh.host, port: c.ssh.port });
  return `${via} · ${c.ssh.host_key ? t("conn_ssh_pinned") : t("conn_ssh_pin_pending")}`;
}

export async function renderConnections(root: HTMLElement, nav: Nav): Promise<void> {
  const connections = await call("list_connections");
  const list = connections.map((c) => {
    const result = h("p", { class: "result", "aria-live": "polite", "data-testid": `conn-result-${c.name}` });
    return h(
      "li",
      { class: "conn", "data-testid": `connection-${c.name}` },
      h(
        "div",
        {},
        h("strong", { text: c.name }),
        h("div", { class: "muted", text: `${c.username}@${c.host}:${c.port} / ${c.database} · ${tlsText(c)}` }),
        c.ssh ? h("div", { class: "muted", "data-testid": `conn-ssh-${c.name}`, text: sshText(c) ?? "" }) : null,
        c.tls_mode === "required" || c.tls_mode === "disabled" ? h("span", { class: "badge failed", text: t("conn_insecure") }) : null,
      ),
      h(
        "div",
        { class: "row-actions" },
        h("button", {
          type: "button",
          text: t("conn_test"),
          "data-testid": `test-${c.name}`,
          onclick: async () => {
            result.className = "result";
            result.textContent = t("loading");
            try {
              result.textContent = checkText(await call("test_connection", { name: c.name }));
              result.classList.add("ok");
            } catch (err) {
              const e = toEngineError(err);
              result.textContent = errorWithHint(e);
              result.classList.add("error-text");
              // A pin that no longer matches: accepted only after the admin confirms the new one.
              const trust = (text: string, testid: string, confirm: string, yes: string, accept: () => Promise<unknown>) =>
                h("button", {
                  type: "button",
                  text,
                  "data-testid": testid,
                  onclick: async () => {
                    if (!(await confirmDialog(confirm, yes, true))) return;
                    await accept().catch((err2) => nav.toast(errorText(toEngineError(err2))));
                    nav.refresh();
                  },
                });
              const key = e.code === "HostKeyChanged" ? changedHostKey(e.message) : null;
              if (key) {
                result.append(
                  trust(t("conn_trust_key"), `trust-key-${c.name}`, t("conn_trust_key_confirm", { name: c.name, fp: key }), t("conn_trust_key_yes"), () =>
                    call("trust_host_key", { request: { connection: c.name, fingerprint: key } }),
                  ),
                );
              }
              const fp = e.code === "CertificateChanged" ? changedFingerprint(e.message) : null;
              if (fp) {
                result.append(
                  trust(t("conn_trust_new"), `trust-${c.name}`, t("conn_trust_confirm", { name: c.name, fp }), t("conn_trust_yes"), () =>
                    call("trust_certificate", { request: { connection: c.name, fingerprint: fp } }),
                  ),
                );
              }
            }
          },
        }),
        h("button", {
          type: "button",
          text: t("edit"),
          "aria-label": t("edit_named", { name: c.name }),
          "data-testid": `edit-conn-${c.name}`,
          onclick: () => {
            editing = c.name;
            nav.refresh();
          },
        }),
        h("button", {
          type: "button",
          class: "danger",
          text: t("conn_remove"),
          "aria-label": t("delete_named", { name: c.name }),
          onclick: async () => {
            if (!(await confirmDialog(t("conn_remove_confirm", { name: c.name }), t("yes_delete")))) return;
            await call("remove_connection", { name: c.name }).catch((err) => nav.toast(errorText(toEngineError(err))));
            nav.refresh();
          },
        }),
      ),
      result,
    );
  });
  const profile = connections.find((c) => c.name === editing) ?? null;
  if (!profile) editing = null;
  mount(
    root,
    h("header", { class: "screen-head" }, h("h1", { text: t("conn_title") })),
    connections.length ? h("ul", { class: "connections", role: "list" }, list) : h("p", { class: "empty", text: t("conn_empty") }),
    h("h2", { text: profile ? t("conn_edit_title", { name: profile.name }) : t("conn_add") }),
    addForm(nav, connections.length === 0, profile),
  );
}

/** The profile being edited in place (by name), if any. */
let editing: string | null = null;

export function readConnection(form: ParentNode): NewConnection {
  const port = inputValue(form, "port");
  const request: NewConnection = {
    name: inputValue(form, "name"),
    host: inputValue(form, "host"),
    username: inputValue(form, "username"),
    database: inputValue(form, "database"),
    tls_mode: inputValue(form, "tls_mode") as NewConnection["tls_mode"],
  };
  if (port) request.port = Number(port);
  const ca = inputValue(form, "tls_ca_file");
  if (ca) request.tls_ca_file = ca;
  const column = inputValue(form, "tenant_column");
  if (column) request.tenant_column = column;
  const root = inputValue(form, "tenant_root_table");
  if (root) request.tenant_root_table = root;
  const tunnel = form.querySelector<HTMLInputElement>('[name="ssh_enabled"]');
  if (tunnel?.checked) {
    const sshPort = inputValue(form, "ssh_port");
    request.ssh = {
      host: inputValue(form, "ssh_host"),
      port: sshPort ? Number(sshPort) : 22,
      username: inputValue(form, "ssh_username"),
    };
    const key = inputValue(form, "ssh_key_file");
    if (key) request.ssh.key_file = key;
  }
  return request;
}

/** The form to add a profile, or with `profile` to edit that one in place: its name stays,
 *  an empty password keeps the saved one, and the engine tests the change before saving. */
function addForm(nav: Nav, first: boolean, profile: ConnectionProfile | null = null): HTMLFormElement {
  const result = h("p", { class: "result", "aria-live": "polite", "data-testid": "draft-result" });
  const tls = h(
    "select",
    {},
    (["pinned", "verify-identity", "verify-ca", "required", "disabled"] as const).map((m) => h("option", { value: m, text: t(`tls_${m}`) })),
  );
  const password = h("input", { type: "password", autocomplete: "new-password", "data-testid": "conn-password" });
  const sshSecret = h("input", { type: "password", autocomplete: "new-password", "data-testid": "conn-ssh-secret" });
  const keyFile = h("input", { type: "text", placeholder: "~/.ssh/id_ed25519", "data-testid": "conn-ssh-key" });
  const saveButton = h("button", { type: "submit", class: "primary", text: profile ? t("conn_save_change") : t("conn_save"), "data-testid": "save-connection" });
  // The certificate the last test showed, pinned on save when the form still says the same.
  let tested: { key: string; check: ConnectionCheck } | null = null;
  const formKey = () => JSON.stringify(readConnection(form));
  const form: HTMLFormElement = h(
    "form",
    {
      class: "editor",
      "data-testid": "connection-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        clearErrors(form);
        try {
          const connection = readConnection(form);
          const fp = tested && tested.key === formKey() && !tested.check.certificate_trusted_by_system ? tested.check.certificate_sha256 : null;
          if (fp && (connection.tls_mode ?? "pinned") === "pinned") connection.tls_pin = fp;
          // The SSH host key the test showed is pinned on save, as the certificate is.
          if (connection.ssh && tested && tested.key === formKey() && tested.check.ssh_host_key) connection.ssh.host_key = tested.check.ssh_host_key;
          const ssh_secret = connection.ssh ? sshSecret.value || undefined : undefined;
          if (profile) {
            // A password read from a variable or a file stays read from there.
            connection.password_source = profile.password_source;
            saveButton.disabled = true;
            result.className = "result";
            result.textContent = t("conn_testing_change");
            await call("update_connection", { request: { connection, password: password.value || null, ssh_secret } });
            editing = null;
            nav.toast(t("saved"));
            nav.refresh();
            return;
          }
          await call("add_connection", { request: { connection, password: password.value, ssh_secret } });
          nav.toast(t("saved"));
          if (first) nav.go("firstrun");
          else nav.refresh();
        } catch (err) {
          result.textContent = "";
          showError(form, toEngineError(err));
        } finally {
          saveButton.disabled = false;
        }
      },
    },
    formError(),
    h(
      "fieldset",
      {},
      field("name", t("c_name"), h("input", { type: "text", value: first ? "billora" : "", "data-testid": "conn-name" })),
      field("host", t("c_host"), h("input", { type: "text", value: "127.0.0.1", "data-testid": "conn-host" })),
      field("port", t("c_port"), h("input", { type: "number", min: "1", max: "65535", value: "3306", "data-testid": "conn-port" })),
      field("username", t("c_username"), h("input", { type: "text", autocomplete: "username", "data-testid": "conn-user" })),
      field("password", t("c_password"), password, t("c_password_help")),
      field("database", t("c_database"), h("input", { type: "text", value: first ? "billora" : "", "data-testid": "conn-database" })),
    ),
    h(
      "details",
      {},
      h("summary", { text: t("c_advanced") }),
      field("tls_mode", t("c_tls_mode"), tls, t("c_tls_help")),
      field("tls_ca_file", t("c_tls_ca_file"), h("input", { type: "text" })),
      field("tenant_column", t("c_tenant_column"), h("input", { type: "text", placeholder: t("default_value", { text: "tenant_id" }) })),
      field("tenant_root_table", t("c_tenant_root_table"), h("input", { type: "text", placeholder: t("default_value", { text: "tenants" }) })),
    ),
    h(
      "details",
      { "data-testid": "conn-ssh", open: Boolean(profile?.ssh) },
      h("summary", { text: t("c_ssh") }),
      checkbox("ssh_enabled", t("c_ssh_enabled"), Boolean(profile?.ssh)),
      h("p", { class: "help", text: t("c_ssh_help") }),
      field("ssh_host", t("c_ssh_host"), h("input", { type: "text", "data-testid": "conn-ssh-host" })),
      field("ssh_port", t("c_ssh_port"), h("input", { type: "number", min: "1", max: "65535", value: "22", "data-testid": "conn-ssh-port" })),
      field("ssh_username", t("c_ssh_username"), h("input", { type: "text", autocomplete: "off", "data-testid": "conn-ssh-user" })),
      field(
        "ssh_key_file",
        t("c_ssh_key_file"),
        keyFile,
        h(
          "span",
          {},
          t("c_ssh_key_help"),
          " ",
          h("button", {
            type: "button",
            text: t("c_browse"),
            onclick: async () => {
              const picked = await call("pick_file").catch(() => null);
              if (picked) keyFile.value = picked;
            },
          }),
        ),
      ),
      field("ssh_secret", t("c_ssh_secret"), sshSecret, t("c_ssh_secret_help")),
    ),
    result,
    h(
      "div",
      { class: "actions" },
      h("button", {
        type: "button",
        text: t("conn_test_draft"),
        "data-testid": "test-draft",
        onclick: async () => {
          clearErrors(form);
          result.className = "result";
          result.textContent = t("loading");
          try {
            const connection = readConnection(form);
            const ssh_secret = connection.ssh ? sshSecret.value || undefined : undefined;
            const check = await call("test_draft_connection", { request: { connection, password: password.value, ssh_secret } });
            tested = { key: formKey(), check };
            result.textContent = checkText(check);
            result.classList.add("ok");
          } catch (err) {
            result.textContent = "";
            showError(form, toEngineError(err));
          }
        },
      }),
      profile
        ? cancelEditButton(() => {
            editing = null;
            nav.refresh();
          })
        : null,
      saveButton,
    ),
  );
  if (profile) fill(form, profile, password);
  form.addEventListener("input", (ev) => {
    const name = (ev.target as HTMLInputElement).name;
    if (name) clearFieldError(form, name);
  });
  return form;
}

/** Puts a saved profile into the form for editing; the name cannot change (schedules use it). */
function fill(form: HTMLFormElement, profile: ConnectionProfile, password: HTMLInputElement): void {
  const set = (name: string, value: string) => {
    const el = form.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${name}"]`);
    if (el) el.value = value;
  };
  set("name", profile.name);
  set("host", profile.host);
  set("port", String(profile.port));
  set("username", profile.username);
  set("database", profile.database);
  set("tls_mode", profile.tls_mode);
  set("tls_ca_file", profile.tls_ca_file ?? "");
  set("tenant_column", profile.tenant_column);
  set("tenant_root_table", profile.tenant_root_table);
  if (profile.ssh) {
    set("ssh_host", profile.ssh.host);
    set("ssh_port", String(profile.ssh.port));
    set("ssh_username", profile.ssh.username);
    set("ssh_key_file", profile.ssh.key_file ?? "");
    const secret = form.querySelector<HTMLInputElement>('[name="ssh_secret"]');
    if (secret) secret.placeholder = t("conn_password_keep");
  }
  const name = form.querySelector<HTMLInputElement>('[name="name"]');
  if (name) name.readOnly = true;
  password.placeholder = t("conn_password_keep");
  // Editing is tested by the engine on save (with the kept password when none is typed).
  const testDraft = form.querySelector<HTMLElement>('[data-testid="test-draft"]');
  if (testDraft) testDraft.hidden = true;
}
