// The Rust side and the UI name the same commands. src-tauri/src/command_table.rs is their one
// definition; build.rs generates ./commands.ts and the capability from it (and fails when they
// are stale). These tests read the committed files as the app will use them.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

import { COMMAND_NAMES } from "./index";

// Vitest runs in ui/; the Rust side is next to it.
const repo = (path: string) => resolve(process.cwd(), "..", path);

describe("the command contract", () => {
  it("lists the commands of the table in src-tauri/src/command_table.rs", () => {
    const table = readFileSync(repo("src-tauri/src/command_table.rs"), "utf8");
    const names = [...table.matchAll(/^\s{4}([a-z_]+)\(/gm)].map((m) => m[1] ?? "");
    expect(names.length, "the table should list the commands").toBeGreaterThan(30);
    expect([...COMMAND_NAMES].sort(), "the UI should name exactly the table's commands").toEqual(names.sort());
  });

  it("allows exactly these commands in the window's capability", () => {
    const capability = JSON.parse(readFileSync(repo("src-tauri/capabilities/main.json"), "utf8")) as { permissions: string[] };
    const allowed = capability.permissions.filter((p) => p.startsWith("allow-")).map((p) => p.slice(6).replace(/-/g, "_"));
    expect(allowed.sort(), "every command, and only those, should be allowed").toEqual([...COMMAND_NAMES].sort());
    const others = capability.permissions.filter((p) => !p.startsWith("allow-"));
    expect(others, "beyond its commands the window may only listen to events").toEqual(["core:event:allow-listen", "core:event:allow-unlisten"]);
  });
});
