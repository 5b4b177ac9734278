// Every command of the app, once: its name, its arguments and its result. This file is the
// single definition: `commands.rs` expands it into the Tauri commands and the handler, and
// `build.rs` reads it (include!) to write the capability's permissions
// (capabilities/main.json) and the UI's typed command map (ui/src/api/commands.ts). Adding a
// command: one line here, one function in `commands.rs`.
command_table! {
    app_info() -> AppInfo;
    dashboard() -> Dashboard;
    list_schedules() -> Vec<Schedule>;
    create_schedule(request: NewSchedule) -> Schedule;
    update_schedule(id: i64, patch: SchedulePatch) -> Schedule;
    delete_schedule(id: i64) -> Schedule;
    toggle_schedule(id: i64) -> Schedule;
    run_schedule_now(id: i64) -> ();
    cancel_run(id: i64) -> ();
    set_paused(paused: bool) -> ();
    list_history(query: HistoryQuery) -> Vec<Run>;
    export_history(query: HistoryQuery) -> Option<String>;
    show_in_folder(run_id: i64) -> ();
    pin_backup(run_id: i64, pinned: bool) -> ();
    delete_backup(run_id: i64) -> AppliedDeletion;
    cron_preview(request: CronPreviewRequest) -> CronPreview;
    retention_preview(request: RetentionPreviewRequest) -> Vec<RetentionDecision>;
    list_connections() -> Vec<ConnectionProfile>;
    add_connection(request: AddConnectionRequest) -> ConnectionProfile;
    update_connection(request: UpdateConnectionRequest) -> ConnectionProfile;
    test_connection(name: String) -> ConnectionCheck;
    trust_certificate(request: TrustCertificateRequest) -> ConnectionProfile;
    trust_host_key(request: TrustHostKeyRequest) -> ConnectionProfile;
    test_draft_connection(request: TestDraftRequest) -> ConnectionCheck;
    remove_connection(name: String) -> ConnectionProfile;
    get_settings() -> Settings;
    set_language(language: Lang) -> ();
    set_default_folder(folder: Option<String>) -> ();
    pick_folder() -> Option<String>;
    pick_file() -> Option<String>;
    import_recovery_key(path: String) -> Vec<String>;
    import_recovery_text(text: String) -> Vec<String>;
    browse_destination(name: String) -> Vec<RemoteBackup>;
    import_from_destination(name: String) -> ImportReport;
    create_encryption_key() -> Option<String>;
    save_smtp(request: SaveSmtpRequest) -> ();
    send_test_email(to: String) -> ();
    get_autostart() -> bool;
    set_autostart(enabled: bool) -> ();
    restore_backup(form: RestoreForm) -> RestoreReport;
    check_passphrase(passphrase: String) -> ();
    set_schedule_passphrase(id: i64, passphrase: String) -> ();
    verify_backup(run_id: i64, from: Option<String>) -> VerifyReport;
    cancel_restore() -> ();
    list_destinations() -> Vec<Destination>;
    add_destination(form: DestinationForm) -> Destination;
    update_destination(form: DestinationForm) -> Destination;
    test_destination(name: String) -> DestinationCheck;
    test_destination_draft(form: DestinationForm) -> DestinationCheck;
    remove_destination(name: String) -> Destination;
    open_log_folder() -> ();
    get_http_api() -> HttpApiSettings;
    set_http_api(settings: HttpApiSettings) -> HttpApiSettings;
    list_tokens() -> Vec<TokenInfo>;
    create_token(name: String, role: Role) -> String;
    revoke_token(name: String) -> ();
    schedule_choices() -> ScheduleChoices;
    connection_databases(name: Option<String>) -> Vec<String>;
    list_daemons() -> Vec<RemoteDaemon>;
    add_daemon(request: AddDaemonRequest) -> RemoteDaemon;
    remove_daemon(name: String) -> RemoteDaemon;
    trust_daemon_certificate(request: TrustDaemonRequest) -> RemoteDaemon;
    view_machine(machine: Option<String>) -> Viewing;
    viewing() -> Viewing;
    resume_machine() -> Viewing;
}
