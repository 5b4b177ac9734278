// The only module that talks to Tauri. Every command is typed from the Rust types (generated
// into ./bindings by ts-rs), and every failure becomes an EngineError {code, message, field?, hint?}
// so views can put the message next to the right field.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type { AddConnectionRequest } from "./bindings/AddConnectionRequest";
import type { AppliedDeletion } from "./bindings/AppliedDeletion";
import type { ConnectionCheck } from "./bindings/ConnectionCheck";
import type { ConnectionProfile } from "./bindings/ConnectionProfile";
import type { CronPreview } from "./bindings/CronPreview";
import type { CronPreviewRequest } from "./bindings/CronPreviewRequest";
import type { Dashboard } from "./bindings/Dashboard";
import type { Destination } from "./bindings/Destination";
import type { DestinationCheck } from "./bindings/DestinationCheck";
import type { DestinationForm } from "./bindings/DestinationForm";
import type { DumpProgress } from "./bindings/DumpProgress";
import type { EngineError } from "./bindings/EngineError";
import type { HistoryQuery } from "./bindings/HistoryQuery";
import type { Lang } from "./bindings/Lang";
import type { NewSchedule } from "./bindings/NewSchedule";
import type { RestoreForm } from "./bindings/RestoreForm";
import type { RestoreProgress } from "./bindings/RestoreProgress";
import type { RestoreReport } from "./bindings/RestoreReport";
import type { RetentionPreviewRequest } from "./bindings/RetentionPreviewRequest";
import type { Run } from "./bindings/Run";
import type { SaveSmtpRequest } from "./bindings/SaveSmtpRequest";
import type { Schedule } from "./bindings/Schedule";
import type { SchedulePatch } from "./bindings/SchedulePatch";
import type { Settings } from "./bindings/Settings";
import type { TrustCertificateRequest } from "./bindings/TrustCertificateRequest";
import type { TestDraftRequest } from "./bindings/TestDraftRequest";
import type { VerifyReport } from "./bindings/VerifyReport";


export interface AppInfo {
  version: string;
  language: Lang;
  data_dir: string;
}

/** Every command: [arguments, result]. The names match src-tauri/build.rs (checked by the tests). */
export interface Commands {
  app_info: [Record<string, never>, AppInfo];
  dashboard: [Record<string, never>, Dashboard];
  list_schedules: [Record<string, never>, Schedule[]];
  create_schedule: [{ request: NewSchedule }, Schedule];
  update_schedule: [{ id: number; patch: SchedulePatch }, Schedule];
  delete_schedule: [{ id: number }, Schedule];
  toggle_schedule: [{ id: number }, Schedule];
  run_schedule_now: [{ id: number }, null];
  cancel_run: [{ id: number }, null];
  set_paused: [{ paused: boolean }, null];
  list_history: [{ query: HistoryQuery }, Run[]];
  show_in_folder: [{ runId: number }, null];
  cron_preview: [{ request: CronPreviewRequest }, CronPreview];
  retention_preview: [{ request: RetentionPreviewRequest }, AppliedDeletion[]];
  list_connections: [Record<string, never>, ConnectionProfile[]];
  add_connection: [{ request: AddConnectionRequest }, ConnectionProfile];
  test_connection: [{ name: string }, ConnectionCheck];
  trust_certificate: [{ request: TrustCertificateRequest }, ConnectionProfile];
  test_draft_connection: [{ request: TestDraftRequest }, ConnectionCheck];
  remove_connection: [{ name: string }, ConnectionProfile];
  get_settings: [Record<string, never>, Settings];
  set_language: [{ language: Lang }, null];
  set_default_folder: [{ folder: string | null }, null];
  pick_folder: [Record<string, never>, string | null];
  create_encryption_key: [Record<string, never>, string | null];
  save_smtp: [{ request: SaveSmtpRequest }, null];
  send_test_email: [{ to: string }, null];
  get_autostart: [Record<string, never>, boolean];
  set_autostart: [{ enabled: boolean }, null];
  restore_backup: [{ form: RestoreForm }, RestoreReport];
  check_passphrase: [{ passphrase: string }, null];
  set_schedule_passphrase: [{ id: number; passphrase: string }, null];
  verify_backup: [{ runId: number; from: string | null }, VerifyReport];
  list_destinations: [Record<string, never>, Destination[]];
  add_destination: [{ form: DestinationForm }, Destination];
  test_destination: [{ name: string }, DestinationCheck];
  test_destination_draft: [{ form: DestinationForm }, DestinationCheck];
  remove_destination: [{ name: string }, Destination];
  cancel_restore: [Record<string, never>, null];
}

export type CommandName = keyof Commands;

/** Every command name at run time (the contract test compares it with the Rust side). */
export const COMMAND_NAMES = [
  "app_info",
  "dashboard",
  "list_schedules",
  "create_schedule",
  "update_schedule",
  "delete_schedule",
  "toggle_schedule",
  "run_schedule_now",
  "cancel_run",
  "set_paused",
  "list_history",
  "show_in_folder",
  "cron_preview",
  "retention_preview",
  "list_connections",
  "add_connection",
  "test_connection",
  "trust_certificate",
  "test_draft_connection",
  "remove_connection",
  "get_settings",
  "set_language",
  "set_default_folder",
  "pick_folder",
  "create_encryption_key",
  "save_smtp",
  "send_test_email",
  "get_autostart",
  "set_autostart",
  "restore_backup",
  "check_passphrase",
  "set_schedule_passphrase",
  "verify_backup",
  "cancel_restore",
  "list_destinations",
  "add_destination",
  "test_destination",
  "test_destination_draft",
  "remove_destination",
] as const satisfies readonly CommandName[];

// Fails to compile when a command of the interface is missing from the list.
type Missing = Exclude<CommandName, (typeof COMMAND_NAMES)[number]>;
const everyCommandListed: Missing extends never ? true : Missing = true;
void everyCommandListed;

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
