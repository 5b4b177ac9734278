//! Embeds the UI and declares the app's commands, so that each one is denied unless a
//! capability in `capabilities/` allows it (the app manifest).

/// Every command the shell registers; `scripts/test.sh` checks this list against the handler
/// list in `src/commands.rs` and the UI's typed command map.
const COMMANDS: &[&str] = &[
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
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("the Tauri build step failed");
}
