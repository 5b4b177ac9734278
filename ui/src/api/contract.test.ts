// The Rust side and the UI name the same commands: src-tauri/build.rs (the permission list),
// src-tauri/src/commands.rs (the handler) and COMMAND_NAMES here.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

import { COMMAND_NAMES } from "./index";

// Vitest runs in ui/; the Rust side is next to it.
const repo = (path: string) => resolve(process.cwd(), "..", path);

function quotedNames(text: string): string[] {
  return [...text.matchAll(/"([a-z_]+)"/g)].map((m) => m[1] ?? "");
}

describe("the command contract", () => {
  it("lists the same commands as build.rs", () => {
    const build = readFileSync(repo("src-tauri/build.rs"), "utf8");
    const block = build.slice(build.indexOf("const COMMANDS"), build.indexOf("];"));
    expect([...quotedNames(block)].sort(), "build.rs and the UI should name the same commands").toEqual([...COMMAND_NAMES].sort());
  });

  it("lists the same commands as the handler in commands.rs", () => {
    const commands = readFileSync(repo("src-tauri/src/commands.rs"), "utf8");
    const block = commands.slice(commands.indexOf("generate_handler!["), commands.lastIndexOf("]"));
    const names = block
      .replace("generate_handler![", "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    expect(names.sort(), "the registered handler and the UI should name the same commands").toEqual([...COMMAND_NAMES].sort());
  });

  it("allows exactly these commands in the window's capability", () => {
    const capability = JSON.parse(readFileSync(repo("src-tauri/capabilities/main.json"), "utf8")) as { permissions: string[] };
    const allowed = capability.permissions.filter((p) => p.startsWith("allow-")).map((p) => p.slice(6).replace(/-/g, "_"));
    expect(allowed.sort(), "every command, and only those, should be allowed").toEqual([...COMMAND_NAMES].sort());
    const others = capability.permissions.filter((p) => !p.startsWith("allow-"));
    expect(others, "beyond its commands the window may only listen to events").toEqual(["core:event:allow-listen", "core:event:allow-unlisten"]);
  });
});
