// Settings: language, start at login, the default backup folder (with the OS folder picker),
// pause, and email (SMTP, with a test email). The SMTP password goes to the keyring only.
import { call, toEngineError } from "../api";
import type { SmtpSettings } from "../api/bindings/SmtpSettings";
import type { TokenInfo } from "../api/bindings/TokenInfo";
import { h, mount } from "../dom";
import { clearErrors, field, formError, inputValue, showError } from "../forms";
import { lang, t } from "../i18n";
import type { Nav } from "../main";

export async function renderSettings(root: HTMLElement, nav: Nav): Promise<void> {
  const [settings, autostart, info] = await Promise.all([
    call("get_settings"),
    call("get_autostart").catch(() => false),
    call("app_info"),
  ]);
  const general = h("form", { class: "editor", onsubmit: (ev) => ev.preventDefault() }, formError());
  const language = h("select", { "data-testid": "language" }, h("option", { value: "en", text: "English" }), h("option", { value: "th", text: "ไทย" }));
  language.value = lang();
  language.addEventListener("change", async () => {
    const value = language.value === "th" ? "th" : "en";
    await call("set_language", { language: value }).catch((err) => showError(general, toEngineError(err)));
    nav.relabel(value);
  });
  const start = h("input", { type: "checkbox", id: "f-autostart", checked: autostart });
  start.addEventListener("change", async () => {
    try {
      await call("set_autostart", { enabled: start.checked });
      nav.toast(t("saved"));
    } catch (err) {
      start.checked = !start.checked;
      showError(general, toEngineError(err));
    }
  });
  const paused = h("input", { type: "checkbox", id: "f-paused", checked: settings.paused });
  paused.addEventListener("change", async () => {
    await call("set_paused", { paused: paused.checked }).catch((err) => showError(general, toEngineError(err)));
  });
  const folder = h("input", { type: "text", value: settings.default_folder_is_custom ? settings.default_folder : "", placeholder: t("default_value", { text: settings.default_folder }) });
  const saveFolder = async (value: string | null) => {
    clearErrors(general);
    try {
      await call("set_default_folder", { folder: value });
      nav.toast(t("saved"));
      nav.refresh();
    } catch (err) {
      showError(general, toEngineError(err));
    }
  };
  folder.addEventListener("change", () => void saveFolder(folder.value.trim() || null));
  mount(
    general,
    formError(),
    field("language", t("set_language"), language),
    h("div", { class: "field check" }, start, h("label", { for: "f-autostart", text: t("set_autostart") })),
    h("div", { class: "field check" }, paused, h("label", { for: "f-paused", text: t("set_paused") })),
    field(
      "default_folder",
      t("set_folder"),
      folder,
      h(
        "span",
        {},
        h("button", {
          type: "button",
          class: "small",
          text: t("browse"),
          onclick: async () => {
            const picked = await call("pick_folder").catch(() => null);
            if (picked) {
              folder.value = picked;
              await saveFolder(picked);
            }
          },
        }),
        " ",
        h("button", { type: "button", class: "small", text: t("set_folder_reset"), onclick: () => void saveFolder(null) }),
      ),
    ),
  );
  mount(
    root,
    h("header", { class: "screen-head" }, h("h1", { text: t("set_title") })),
    general,
    h("h2", { text: t("set_encryption") }),
    encryptionSection(settings.encryption_keys, nav),
    h("h2", { text: t("set_http") }),
    await httpSection(nav),
    h("h2", { text: t("srv_title") }),
    await serversSection(nav),
    h("h2", { text: t("set_email") }),
    h("p", { class: "help", text: t("set_email_help") }),
    smtpForm(settings.smtp, nav),
    h(
      "dl",
      { class: "about" },
      h("dt", { text: t("set_data_dir") }),
      h(
        "dd",
        {},
        h("code", { text: settings.data_dir }),
        " ",
        h("button", {
          type: "button",
          text: t("set_open_logs"),
          "data-testid": "open-logs",
          onclick: () => void call("open_log_folder").catch((err: unknown) => nav.toast(toEngineError(err).message)),
        }),
      ),
      h("dt", { text: t("set_version") }),
      h("dd", { text: info.version }),
    ),
  );
}

function encryptionSection(keys: string[], nav: Nav): HTMLElement {
  const box = h("div", { class: "editor" }, formError());
  mount(
    box,
    formError(),
    h("p", { class: "help", text: t("set_encryption_help") }),
    keys.length ? [h("div", { class: "muted", text: t("set_keys") }), h("ul", {}, keys.map((k) => h("li", {}, h("code", { text: k }))))] : null,
    h(
      "div",
      { class: "actions" },
      h("button", {
        type: "button",
        text: t("set_create_key"),
        onclick: async () => {
          clearErrors(box);
          try {
            const key = await call("create_encryption_key");
            if (key) {
              nav.toast(t("set_key_created"));
              nav.refresh();
            }
          } catch (err) {
            showError(box, toEngineError(err));
          }
        },
      }),
    ),
  );
  return box;
}

export function readSmtp(form: ParentNode): SmtpSettings {
  const smtp: SmtpSettings = {
    host: inputValue(form, "host"),
    port: Number(inputValue(form, "port") || "587"),
    security: inputValue(form, "security") as SmtpSettings["security"],
    from: inputValue(form, "from"),
    password_source: { kind: "keyring" },
  };
  const user = inputValue(form, "username");
  if (user) smtp.username = user;
  const ca = inputValue(form, "ca_file");
  if (ca) smtp.ca_file = ca;
  return smtp;
}

function smtpForm(current: SmtpSettings | null, nav: Nav): HTMLFormElement {
  const security = h(
    "select",
    {},
    (["starttls", "tls", "none"] as const).map((s) => h("option", { value: s, text: t(`sec_${s}`) })),
  );
  security.value = current?.security ?? "starttls";
  const password = h("input", { type: "password", autocomplete: "new-password", placeholder: current?.username ? t("s_password_keep") : "" });
  const to = h("input", { type: "email", "data-testid": "test-email-to" });
  const result = h("p", { class: "result", "aria-live": "polite" });
  const form: HTMLFormElement = h(
    "form",
    {
      class: "editor",
      "data-testid": "smtp-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        clearErrors(form);
        try {
          await call("save_smtp", { request: { smtp: readSmtp(form), password: password.value || undefined } });
          password.value = "";
          nav.toast(t("saved"));
        } catch (err) {
          showError(form, toEngineError(err));
        }
      },
    },
    formError(),
    field("host", t("s_host"), h("input", { type: "text", value: current?.host ?? "" })),
    field("port", t("s_port"), h("input", { type: "number", min: "1", max: "65535", value: String(current?.port ?? 587) })),
    field("security", t("s_security"), security),
    field("username", t("s_username"), h("input", { type: "text", value: current?.username ?? "", autocomplete: "off" })),
    field("password", t("s_password"), password),
    field("from", t("s_from"), h("input", { type: "email", value: current?.from ?? "" })),
    field("ca_file", t("s_ca_file"), h("input", { type: "text", value: current?.ca_file ?? "" })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: t("set_save_email") })),
    field("to", t("set_test_to"), to),
    result,
    h(
      "div",
      { class: "actions" },
      h("button", {
        type: "button",
        text: t("set_send_test"),
        onclick: async () => {
          clearErrors(form);
          result.textContent = t("loading");
          try {
            await call("send_test_email", { to: to.value.trim() });
            result.textContent = t("set_test_sent", { to: to.value.trim() });
          } catch (err) {
            result.textContent = "";
            showError(form, toEngineError(err));
          }
        },
      }),
    ),
  );
  return form;
}

/** Settings → HTTP API: serve the spec's routes on this computer, and the tokens that may call them. */
async function httpSection(nav: Nav): Promise<HTMLElement> {
  const [settings, tokens] = await Promise.all([call("get_http_api"), call("list_tokens")]);
  const box = h("form", { class: "editor", "data-testid": "http-api", onsubmit: (ev) => ev.preventDefault() }, formError());
  const enabled = h("input", { type: "checkbox", id: "f-http-enabled", checked: settings.enabled });
  const address = h("input", { type: "text", value: settings.address, "data-testid": "http-address" });
  const save = async () => {
    clearErrors(box);
    try {
      const saved = await call("set_http_api", { settings: { enabled: enabled.checked, address: address.value } });
      address.value = saved.address;
      nav.toast(t("saved"));
    } catch (err) {
      showError(box, toEngineError(err));
    }
  };
  const list = h(
    "ul",
    { class: "tokens", "data-testid": "tokens" },
    tokens.map((tok: TokenInfo) =>
      h(
        "li",
        {},
        h("strong", { text: tok.name }),
        ` (${tok.role}) `,
        h("span", { class: "muted", text: tok.revoked_at ? t("set_token_revoked") : t("set_token_created", { when: tok.created_at.slice(0, 16) }) }),
        tok.revoked_at
          ? null
          : h("button", {
              type: "button",
              class: "small danger",
              text: t("set_token_revoke", { name: tok.name }),
              onclick: async () => {
                await call("revoke_token", { name: tok.name }).catch((err) => showError(box, toEngineError(err)));
                nav.refresh();
              },
            }),
      ),
    ),
  );
  const name = h("input", { type: "text", "data-testid": "token-name", placeholder: t("set_token_name_hint") });
  const role = h("select", {}, h("option", { value: "admin", text: "admin" }), h("option", { value: "monitor", text: "monitor" }));
  const shown = h("div", { class: "token-once", hidden: true });
  const create = async () => {
    clearErrors(box);
    try {
      const token = await call("create_token", { name: name.value, role: role.value === "monitor" ? "monitor" : "admin" });
      const value = h("input", { type: "text", value: token, "data-testid": "token-value" });
      value.readOnly = true;
      mount(
        shown,
        h("p", { class: "warn", text: t("set_token_once") }),
        value,
        h("button", { type: "button", class: "small", text: t("copy"), onclick: () => void navigator.clipboard.writeText(token) }),
      );
      shown.hidden = false;
      name.value = "";
    } catch (err) {
      showError(box, toEngineError(err));
    }
  };
  mount(
    box,
    formError(),
    h("p", { class: "help", text: t("set_http_help") }),
    h("div", { class: "field check" }, enabled, h("label", { for: "f-http-enabled", text: t("set_http_enabled") })),
    field("address", t("set_http_address"), address),
    h("div", { class: "actions" }, h("button", { type: "button", class: "primary", text: t("save"), "data-testid": "http-save", onclick: () => void save() })),
    h("h3", { text: t("set_tokens") }),
    tokens.length ? list : h("p", { class: "muted", text: t("set_no_tokens") }),
    field("name", t("set_token_name"), name),
    field("role", t("set_token_role"), role),
    h("div", { class: "actions" }, h("button", { type: "button", text: t("set_token_create"), "data-testid": "token-create", onclick: () => void create() })),
    shown,
  );
  return box;
}

/** Settings → Manage a server: other machines' daemons this app is the console of. */
async function serversSection(nav: Nav): Promise<HTMLElement> {
  const daemons = await call("list_daemons");
  const box = h("form", { class: "editor", "data-testid": "servers", onsubmit: (ev) => ev.preventDefault() });
  const list = h(
    "ul",
    { class: "tokens", "data-testid": "server-list" },
    daemons.map((d) => {
      const fp = h("input", { type: "text", autocomplete: "off", "aria-label": `${t("srv_new_fp")}: ${d.name}`, placeholder: t("srv_new_fp") });
      return h(
        "li",
        { "data-testid": `server-${d.name}` },
        h("strong", { text: d.name }),
        ` ${d.url} `,
        h("div", { class: "muted", "data-testid": "server-pin", text: d.cert_sha256 ? t("srv_pinned", { fp: d.cert_sha256 }) : t("srv_plain") }),
        d.cert_sha256
          ? h(
              "details",
              {},
              h("summary", { text: t("srv_accept") }),
              fp,
              h("button", {
                type: "button",
                class: "small",
                text: t("srv_accept"),
                onclick: async () => {
                  clearErrors(box);
                  try {
                    await call("trust_daemon_certificate", { request: { name: d.name, cert_sha256: fp.value } });
                    nav.toast(t("saved"));
                    nav.refresh();
                  } catch (err) {
                    showError(box, toEngineError(err));
                  }
                },
              }),
            )
          : null,
        h("button", {
          type: "button",
          class: "small danger",
          text: t("srv_remove", { name: d.name }),
          onclick: async () => {
            await call("remove_daemon", { name: d.name }).catch((err) => showError(box, toEngineError(err)));
            await nav.machinesChanged();
          },
        }),
      );
    }),
  );
  const name = h("input", { type: "text", id: "f-srv-name", autocomplete: "off", "data-testid": "server-name" });
  const url = h("input", { type: "text", id: "f-srv-url", autocomplete: "off", placeholder: "https://backup.example.com:8443/api", "data-testid": "server-url" });
  const token = h("input", { type: "password", id: "f-srv-token", autocomplete: "off", "data-testid": "server-token" });
  const add = async () => {
    clearErrors(box);
    try {
      const added = await call("add_daemon", { request: { name: name.value, url: url.value, token: token.value } });
      nav.toast(t("srv_added", { name: added.name, fp: added.cert_sha256 ?? t("srv_plain") }));
      await nav.machinesChanged();
    } catch (err) {
      showError(box, toEngineError(err));
    }
  };
  mount(
    box,
    formError(),
    h("p", { class: "help", text: t("srv_help") }),
    daemons.length ? list : h("p", { class: "muted", text: t("srv_empty") }),
    field("name", t("srv_name"), name),
    field("url", t("srv_url"), url, t("srv_url_help")),
    field("token", t("srv_token"), token, t("srv_token_help")),
    h("div", { class: "actions" }, h("button", { type: "button", class: "primary", text: t("srv_add"), "data-testid": "server-add", onclick: () => void add() })),
  );
  return box;
}
