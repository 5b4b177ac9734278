// The connection form's SSH tunnel: what it sends to the engine, and the host key a
// HostKeyChanged refusal offers to accept.
import { describe, expect, it, vi } from "vitest";

vi.mock("./api", () => ({
  call: async () => {
    throw new Error("no command is called by these tests");
  },
  on: async () => () => undefined,
  toEngineError: (e: unknown) => e,
}));

import { h } from "./dom";
import { checkbox, field } from "./forms";
import { changedHostKey, readConnection } from "./views/connections";

function form(tunnel: boolean, keyFile: string) {
  const input = (name: string, value: string) => field(name, name, h("input", { type: "text", value }));
  return h(
    "form",
    {},
    input("name", "office"),
    input("host", "127.0.0.1"),
    input("port", "3306"),
    input("username", "backup"),
    input("database", "billora"),
    h("select", { name: "tls_mode" }, h("option", { value: "pinned", text: "pinned" })),
    checkbox("ssh_enabled", "ssh", tunnel),
    input("ssh_host", "server.example.com"),
    input("ssh_port", "2222"),
    input("ssh_username", "admin"),
    input("ssh_key_file", keyFile),
  );
}

describe("the SSH tunnel in the connection form", () => {
  it("sends the tunnel only when it is switched on, and a key file only when one is given", () => {
    expect(readConnection(form(false, "/k")).ssh, "no tunnel unless switched on").toBeUndefined();
    expect(readConnection(form(true, "/home/a/.ssh/id_ed25519")).ssh, "the tunnel with its key file").toEqual({
      host: "server.example.com",
      port: 2222,
      username: "admin",
      key_file: "/home/a/.ssh/id_ed25519",
    });
    expect(readConnection(form(true, "")).ssh?.key_file, "no key file: the SSH password is used").toBeUndefined();
  });

  it("reads the new host key out of a HostKeyChanged refusal", () => {
    const message =
      "SSH tunnel through h:22: the SSH server presented a different host key than the one pinned for it (pinned SHA256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, now SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s); nothing was sent";
    expect(changedHostKey(message), "the key after `now` is the one to accept").toBe("SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s");
    expect(changedHostKey("a lost connection"), "no key in other messages").toBeNull();
  });
});
