// Database connections: add (with a test before saving), test, remove. The password goes to the
// OS keyring through the engine; when the keyring is unavailable or locked the engine's error
// says so, and it shows next to the password field.
import { call, toEngineError } from "../api";
import type { ConnectionCheck } from "../api/bindings/ConnectionCheck";
import type { NewConnection } from "../api/bindings/NewConnection";
import { h, mount } from "../dom";
import { clearErrors, clearFieldError, confirmDialog, field, formError, inputValue, showError } from "../forms";
import { errorText, t } from "../i18n";
import type { Nav } from "../main";

export function checkText(check: ConnectionCheck): string {
  const ok = t("conn_ok", { version: check.server_version, tables: check.tables, tls: check.tls ? t("conn_tls") : "" });
  return check.missing_privileges.length ? `${ok} ${t("conn_missing", { list: check.missing_privileges.join("; ") })}` : ok;
}

export async function renderConnections(root: HTMLElement, nav: Nav): Promise<void> {
  const connections = await call("list_connections");
  const list = connections.map((c) => {
    const result = h("p", { class: "result", "aria-live": "polite", "data-testid": `conn-result-${c.name}` });
    return h(
      "li",
      { class: "conn", "data-testid": `connection-${c.name}` },
      h("div", {}, h("strong", { text: c.name }), h("div", { class: "muted", text: `${c.username}@${c.host}:${c.port} / ${c.database} · TLS ${c.tls_mode}` })),
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
              result.textContent = e.hint ? `${errorText(e)} — ${e.hint}` : errorText(e);
              result.classList.add("error-text");
            }
          },
        }),
        h("button", {
          type: "button",
          class: "danger",
          text: t("conn_remove"),
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
  mount(
    root,
    h("header", { class: "screen-head" }, h("h1", { text: t("conn_title") })),
    connections.length ? h("ul", { class: "connections", role: "list" }, list) : h("p", { class: "empty", text: t("conn_empty") }),
    h("h2", { text: t("conn_add") }),
    addForm(nav, connections.length === 0),
  );
}

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
  return request;
}

function addForm(nav: Nav, first: boolean): HTMLFormElement {
  const result = h("p", { class: "result", "aria-live": "polite", "data-testid": "draft-result" });
  const tls = h(
    "select",
    {},
    (["preferred", "required", "verify-ca", "disabled"] as const).map((m) => h("option", { value: m, text: t(`tls_${m}`) })),
  );
  const password = h("input", { type: "password", autocomplete: "new-password", "data-testid": "conn-password" });
  const form: HTMLFormElement = h(
    "form",
    {
      class: "editor",
      "data-testid": "connection-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        clearErrors(form);
        try {
          await call("add_connection", { request: { connection: readConnection(form), password: password.value } });
          nav.toast(t("saved"));
          if (first) nav.go("schedules", { newSchedule: true });
          else nav.refresh();
        } catch (err) {
          showError(form, toEngineError(err));
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
      field("tls_mode", t("c_tls_mode"), tls),
      field("tls_ca_file", t("c_tls_ca_file"), h("input", { type: "text" })),
      field("tenant_column", t("c_tenant_column"), h("input", { type: "text", placeholder: "tenant_id" })),
      field("tenant_root_table", t("c_tenant_root_table"), h("input", { type: "text", placeholder: "tenants" })),
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
            result.textContent = checkText(await call("test_draft_connection", { request: { connection: readConnection(form), password: password.value } }));
            result.classList.add("ok");
          } catch (err) {
            result.textContent = "";
            showError(form, toEngineError(err));
          }
        },
      }),
      h("button", { type: "submit", class: "primary", text: t("conn_save"), "data-testid": "save-connection" }),
    ),
  );
  form.addEventListener("input", (ev) => {
    const name = (ev.target as HTMLInputElement).name;
    if (name) clearFieldError(form, name);
  });
  return form;
}
