// The only module that talks to Tauri. Every command is typed from the Rust types (generated
// into ./bindings by ts-rs), and every failure becomes an EngineError {code, message, field?, hint?}
// so views can put the message next to the right field.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type { DumpProgress } from "./bindings/DumpProgress";
import type { EngineError } from "./bindings/EngineError";
import type { RestoreProgress } from "./bindings/RestoreProgress";
import type { CommandName, Commands } from "./commands";

export { COMMAND_NAMES } from "./commands";
export type { CommandName, Commands } from "./commands";

/** Turns anything thrown by the IPC into an EngineError. */
export function toEngineError(err: unknown): EngineError {
  if (err && typeof err === "object" && "code" in err && "message" in err) {
    return err as EngineError;
  }
  return { code: "Io", message: String(err) };
}

/** Calls a command; rejects with an EngineError. */
export async function call<K extends CommandName>(
  name: K,
  ...args: Commands[K][0] extends Record<string, never> ? [] : [Commands[K][0]]
): Promise<Commands[K][1]> {
  try {
    return await invoke<Commands[K][1]>(name, args[0] ?? {});
  } catch (err) {
    throw toEngineError(err);
  }
}

export interface RunEvent {
  schedule_id: number;
  status?: string;
  progress?: DumpProgress;
}

/** Events the shell pushes (no polling). */
export interface Events {
  "run-started": RunEvent;
  "run-progress": RunEvent;
  "run-finished": RunEvent;
  "restore-progress": RestoreProgress;
  "settings-changed": null;
}

export function on<K extends keyof Events>(name: K, handler: (payload: Events[K]) => void): Promise<UnlistenFn> {
  return listen<Events[K]>(name, (event) => handler(event.payload));
}
