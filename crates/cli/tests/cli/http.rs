//! The HTTP API of a real `billora-backup daemon --listen` on loopback, driven by a real HTTP
//! client (HTTP/1.1 over TCP, each request from a chosen loopback address so the per-address
//! limit of failed tokens can be tested on its own): the spec's bodies and routes, the rights
//! of every route for every kind of token, the CLI's bad input as bodies, 100 concurrent reads
//! while a backup runs.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Child;
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{big_database, text, Harness};
use crate::support::services;

/// One answer: status, headers (lower-case names) and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("the body is JSON ({e}): {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A request from `from` (a loopback address) to the daemon on `port`.
async fn call(
    port: u16,
    from: u8,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, String)>,
) -> Answer {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, from)),
            0,
        ))
        .expect("bind a loopback address");
    let mut stream = socket
        .connect(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
        .await
        .expect("connect to the daemon");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = match body {
        Some((content_type, body)) => {
            request.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
                body.len()
            ));
            body
        }
        None => {
            request.push_str("Content-Length: 0\r\n");
            String::new()
        }
    };
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read the answer");
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

fn json_body(value: Value) -> Option<(&'static str, String)> {
    Some(("application/json", value.to_string()))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A self-signed certificate for `localhost` (openssl), as an admin would make one.
pub fn self_signed(cert: &std::path::Path, key: &std::path::Path) {
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "a certificate: {}",
        text(&made.stderr)
    );
}

pub fn token(h: &Harness, name: &str, role: &str) -> String {
    let out = h.run(&["token", "create", "--name", name, "--role", role]);
    assert!(out.status.success(), "token created: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "the token alone on one line: {stdout}");
    lines[0].to_owned()
}

pub struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

pub async fn start_daemon(h: &Harness, port: u16, extra: &[&std::ffi::OsStr]) -> Daemon {
    let child = h
        .cmd(&["daemon", "--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("the daemon starts");
    let daemon = Daemon(child);
    let started = Instant::now();
    loop {
        let up = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok();
        if up {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the daemon listens on {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    daemon
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spec_routes_over_http_with_tokens_roles_and_the_clis_errors() {
    let server = services();
    let db = big_database(server, "http", 60_000);
    let h = Harness::new(
        server,
        &db,
        r#"{"name":"Seed","cron_expression":"0 1 * * *","backup_type":"full"}"#,
    );
    let admin = token(&h, "billora-admin", "admin");
    let monitor = token(&h, "grafana", "monitor");
    let revoked = token(&h, "old", "admin");
    let out = h.run(&["token", "revoke", "old"]);
    assert!(out.status.success(), "revoked: {}", text(&out.stderr));
    let listed = h.run(&["token", "list"]);
    let listed = text(&listed.stdout);
    assert!(
        listed.contains("billora-admin")
            && !listed.contains(&admin)
            && !listed.contains(&admin[4..]),
        "token list names tokens and never shows one: {listed}"
    );
    let store = std::fs::read(h.dir.path().join("billora.db")).expect("the store");
    assert!(
        !String::from_utf8_lossy(&store).contains(&admin[4..]),
        "the store keeps only a hash"
    );
    let port = free_port();
    let _daemon = start_daemon(&h, port, &[]).await;
    let api = |path: &str| format!("/api{path}");

    // /health answers anyone, with no details.
    let health = call(port, 1, "GET", &api("/health"), None, None).await;
    assert_eq!(health.status, 200, "health is open: {health:?}");
    assert_eq!(
        health.json(),
        json!({"status": "ok"}),
        "and says nothing more"
    );

    // The OpenAPI document, generated from the Rust types.
    let doc = call(port, 1, "GET", &api("/openapi.json"), None, None).await;
    assert_eq!(doc.status, 200, "the OpenAPI document is served: {doc:?}");
    let doc = doc.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
        "OpenAPI 3: {doc}"
    );
    for path in [
        "/backup/schedules",
        "/backup/schedules/{id}",
        "/backup/schedules/{id}/run",
        "/backup/history",
        "/backup/runs/{id}",
        "/metrics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "it describes {path}");
    }
    for schema in [
        "NewSchedule",
        "SchedulePatch",
        "Schedule",
        "Run",
        "EngineError",
    ] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "it describes {schema}"
        );
    }
    assert!(
        doc["components"]["schemas"]["NewSchedule"]["properties"]
            .get("cron_expression")
            .is_some(),
        "with the spec's field names"
    );

    // The spec's three bodies.
    let bodies = [
        json!({"name": "Daily Full Backup", "description": "สำรองข้อมูลทั้งหมดทุกวัน", "cron_expression": "0 2 * * *",
               "backup_type": "full", "retention_days": 7, "max_backups": 10, "notify_on_failure": true,
               "notification_email": "admin@example.com"}),
        json!({"name": "Weekly Full Backup", "description": "สำรองข้อมูลทุกวันอาทิตย์", "cron_expression": "0 3 * * 0",
               "backup_type": "full", "retention_days": 30, "max_backups": 4, "notify_on_success": true,
               "notify_on_failure": true, "notification_email": "admin@example.com"}),
        json!({"name": "Tenant XYZ Backup", "description": "สำรองข้อมูล Tenant XYZ ทุกวัน", "cron_expression": "0 4 * * *",
               "backup_type": "tenant", "tenant_id": 5, "retention_days": 14, "max_backups": 14}),
    ];
    for body in &bodies {
        let created = call(
            port,
            1,
            "POST",
            &api("/backup/schedules"),
            Some(&admin),
            json_body(body.clone()),
        )
        .await;
        assert_eq!(created.status, 201, "created: {created:?}");
        let data = &created.json()["data"];
        assert_eq!(data["name"], body["name"], "the schedule as sent: {data}");
        assert_eq!(data["is_active"], true, "active: {data}");
    }
    let list = call(
        port,
        1,
        "GET",
        &api("/backup/schedules"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(list.status, 200, "listed: {list:?}");
    let schedules = list.json()["schedules"]
        .as_array()
        .cloned()
        .expect("the spec's shape");
    assert_eq!(schedules.len(), 4, "the seed and the three: {schedules:?}");
    for field in [
        "id",
        "name",
        "description",
        "cron_expression",
        "backup_type",
        "tenant_id",
        "retention_days",
        "max_backups",
        "notify_on_success",
        "notify_on_failure",
        "notification_email",
        "is_active",
        "last_run_at",
        "next_run_at",
        "success_count",
        "failed_count",
    ] {
        assert!(
            schedules[1].get(field).is_some(),
            "a schedule shows `{field}`: {}",
            schedules[1]
        );
    }

    // A partial update, as the CLI's; toggle twice.
    let updated = call(
        port,
        1,
        "PUT",
        &api("/backup/schedules/2"),
        Some(&admin),
        json_body(json!({"retention_days": 9})),
    )
    .await;
    assert_eq!(updated.status, 200, "updated: {updated:?}");
    assert_eq!(
        updated.json()["data"]["retention_days"],
        9,
        "the field changed"
    );
    assert_eq!(
        updated.json()["data"]["max_backups"],
        10,
        "the others did not"
    );
    let off = call(
        port,
        1,
        "POST",
        &api("/backup/schedules/2/toggle"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        off.json()["data"]["is_active"],
        false,
        "toggled off: {off:?}"
    );
    let on = call(
        port,
        1,
        "POST",
        &api("/backup/schedules/2/toggle"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(on.json()["data"]["is_active"], true, "and on again");

    // Run now: 202 with the run's id; a monitor token follows the run; the history shows it.
    // The test holds a write lock on the table, so the backup is certainly running (waiting
    // for it) while the reads below are answered.
    let mut holder = server.conn(Some(&db));
    holder
        .query_drop("LOCK TABLES big WRITE")
        .expect("the table is locked");
    let run = call(
        port,
        1,
        "POST",
        &api("/backup/schedules/1/run"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(run.status, 202, "accepted: {run:?}");
    let run_id = run.json()["data"]["run_id"].as_i64().expect("the run's id");
    // 100 reads at once while the backup runs: all answered.
    let reads: Vec<_> = (0..100)
        .map(|i| {
            let admin = admin.clone();
            tokio::spawn(async move {
                call(
                    port,
                    2 + (i % 50) as u8,
                    "GET",
                    "/api/backup/schedules",
                    Some(&admin),
                    None,
                )
                .await
                .status
            })
        })
        .collect();
    let mut answered = 0;
    for read in reads {
        assert_eq!(
            read.await.expect("a read"),
            200,
            "every read is answered during the backup"
        );
        answered += 1;
    }
    assert_eq!(answered, 100, "100 reads answered");
    let during = call(
        port,
        1,
        "GET",
        &api(&format!("/backup/runs/{run_id}")),
        Some(&monitor),
        None,
    )
    .await;
    assert_eq!(
        during.json()["data"]["status"],
        "running",
        "the reads were answered while the backup ran: {during:?}"
    );
    holder
        .query_drop("UNLOCK TABLES")
        .expect("the table is released");
    drop(holder);
    let started = Instant::now();
    let status = loop {
        let state = call(
            port,
            1,
            "GET",
            &api(&format!("/backup/runs/{run_id}")),
            Some(&monitor),
            None,
        )
        .await;
        assert_eq!(state.status, 200, "a monitor token reads a run: {state:?}");
        let status = state.json()["data"]["status"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if status != "running" {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the run ends");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status, "success", "the backup succeeded");
    let history = call(
        port,
        1,
        "GET",
        &api("/backup/history?schedule_id=1"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(history.status, 200, "history: {history:?}");
    let history = history.json();
    assert_eq!(history["success"], true, "the spec's shape");
    let entry = &history["data"][0];
    for field in [
        "id",
        "schedule_id",
        "filename",
        "file_size",
        "status",
        "duration_seconds",
        "created_at",
    ] {
        assert!(
            entry.get(field).is_some(),
            "a history entry shows `{field}`: {entry}"
        );
    }
    assert_eq!(entry["id"], run_id, "the run that was started");

    // Paging: at most `limit`, and the next page after an entry.
    let page = call(
        port,
        1,
        "GET",
        &api("/backup/history?limit=1"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        page.json()["data"].as_array().map(Vec::len),
        Some(1),
        "one entry: {page:?}"
    );
    let zero = call(
        port,
        1,
        "GET",
        &api("/backup/history?limit=0"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(zero.status, 422, "a limit of 0 is refused: {zero:?}");
    assert_eq!(zero.json()["error"]["field"], "limit", "naming the limit");
    let next = call(
        port,
        1,
        "GET",
        &api(&format!("/backup/history?before_id={run_id}")),
        Some(&admin),
        None,
    )
    .await;
    assert!(
        next.json()["data"]
            .as_array()
            .is_some_and(|d| d.iter().all(|r| r["id"] != run_id)),
        "the next page starts after the entry: {next:?}"
    );
    // A search in file names, encoded as a browser encodes it (`%5F` is `_`), and dates.
    let count = |answer: &Answer| answer.json()["data"].as_array().map(Vec::len);
    let found = call(
        port,
        1,
        "GET",
        &api("/backup/history?search=backup%5Ffull&from=2000-01-01"),
        Some(&admin),
        None,
    )
    .await;
    assert!(
        count(&found).is_some_and(|n| n >= 1),
        "the full backup is found: {found:?}"
    );
    let none = call(
        port,
        1,
        "GET",
        &api("/backup/history?search=no+such+file"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(count(&none), Some(0), "nothing else matches: {none:?}");
    let bad_date = call(
        port,
        1,
        "GET",
        &api("/backup/history?to=yesterday"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (bad_date.status, bad_date.json()["error"]["field"].clone()),
        (422, json!("to")),
        "a date that is not a date is refused on its field: {bad_date:?}"
    );
    let metrics = call(port, 1, "GET", &api("/metrics"), Some(&monitor), None).await;
    assert_eq!(metrics.status, 200, "metrics for a monitor: {metrics:?}");
    assert!(
        metrics
            .body
            .contains("billora_backup_last_run_success{schedule_id=\"1\"")
            && metrics.body.contains("billora_backup_scheduler_up 1"),
        "Prometheus text per schedule: {}",
        metrics.body
    );
    let deleted = call(
        port,
        1,
        "DELETE",
        &api("/backup/schedules/4"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(deleted.status, 200, "deleted: {deleted:?}");

    // Every route × every kind of token. Each refused request comes from its own address, so
    // the limit on failed tokens does not mix in.
    let routes: [(&str, &str, Option<Value>, u16, u16); 10] = [
        ("GET", "/backup/schedules", None, 200, 403),
        (
            "POST",
            "/backup/schedules",
            Some(json!({"name": ""})),
            422,
            403,
        ),
        (
            "PUT",
            "/backup/schedules/999",
            Some(json!({"retention_days": 3})),
            404,
            403,
        ),
        ("DELETE", "/backup/schedules/999", None, 404, 403),
        ("POST", "/backup/schedules/999/toggle", None, 404, 403),
        ("POST", "/backup/schedules/999/run", None, 404, 403),
        ("GET", "/backup/history", None, 200, 403),
        ("GET", "/backup/runs/999", None, 404, 404),
        ("GET", "/metrics", None, 200, 200),
        ("GET", "/health", None, 200, 200),
    ];
    let mut from = 60u8;
    for (method, path, body, as_admin, as_monitor) in routes {
        let open = path == "/health";
        let body = || body.clone().and_then(json_body);
        for (who, token, expected) in [
            ("no token", None, if open { 200 } else { 401 }),
            (
                "an unknown token",
                Some("bbk_not-a-real-token"),
                if open { 200 } else { 401 },
            ),
            (
                "a revoked token",
                Some(revoked.as_str()),
                if open { 200 } else { 401 },
            ),
            ("a monitor token", Some(monitor.as_str()), as_monitor),
            ("an admin token", Some(admin.as_str()), as_admin),
        ] {
            from += 1;
            let answer = call(port, from, method, &api(path), token, body()).await;
            assert_eq!(
                answer.status, expected,
                "{method} {path} with {who}: {answer:?}"
            );
            if expected >= 400 {
                assert_eq!(
                    answer.json()["success"],
                    false,
                    "{method} {path} with {who}: a JSON error"
                );
            }
        }
    }

    // The CLI's bad input, as bodies: the field is named and nothing is stored.
    let before = call(
        port,
        1,
        "GET",
        &api("/backup/schedules"),
        Some(&admin),
        None,
    )
    .await
    .json()["schedules"]
        .as_array()
        .map(Vec::len);
    let bad = [
        (
            json_body(json!({"name": "X", "cron_expression": "61 * * * *", "backup_type": "full"})),
            422,
            "cron_expression",
        ),
        (
            json_body(
                json!({"name": "X", "cron_expression": "0 2 * * *", "backup_type": "tenant"}),
            ),
            422,
            "tenant_id",
        ),
        (
            json_body(
                json!({"name": "X", "cron_expression": "0 2 * * *", "backup_type": "full", "colour": "red"}),
            ),
            422,
            "colour",
        ),
        (
            Some(("application/json", "{\"name\": ".to_owned())),
            400,
            "body",
        ),
        (Some(("text/plain", "{}".to_owned())), 415, "content-type"),
        (
            Some((
                "application/json",
                format!("{{\"name\": \"{}\"}}", "x".repeat(70 * 1024)),
            )),
            413,
            "body",
        ),
    ];
    for (body, status, field) in bad {
        let answer = call(
            port,
            1,
            "POST",
            &api("/backup/schedules"),
            Some(&admin),
            body,
        )
        .await;
        assert_eq!(answer.status, status, "refused with {status}: {answer:?}");
        let error = &answer.json()["error"];
        assert!(
            error["field"].as_str().unwrap_or("").contains(field),
            "the error names `{field}`: {error}"
        );
    }
    let id = call(
        port,
        1,
        "DELETE",
        &api("/backup/schedules/abc"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(id.status, 400, "an id that is not a number: {id:?}");
    assert_eq!(id.json()["error"]["field"], "id", "names the id");
    let after = call(
        port,
        1,
        "GET",
        &api("/backup/schedules"),
        Some(&admin),
        None,
    )
    .await
    .json()["schedules"]
        .as_array()
        .map(Vec::len);
    assert_eq!(before, after, "nothing was stored by the refused requests");
    let filter = call(
        port,
        1,
        "GET",
        &api("/backup/history?colour=red"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(filter.status, 422, "an unknown filter: {filter:?}");
    assert_eq!(filter.json()["error"]["field"], "colour", "named");
    let filter = call(
        port,
        1,
        "GET",
        &api("/backup/history?schedule_id=1%20OR%201"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        filter.status, 400,
        "a schedule id that is not a number: {filter:?}"
    );
    assert_eq!(filter.json()["error"]["field"], "schedule_id", "named");
    let unknown = call(port, 1, "GET", &api("/backup/nothing"), Some(&admin), None).await;
    assert_eq!(unknown.status, 404, "an unknown route: {unknown:?}");

    // Too many wrong tokens from one address: refused for a while, with Retry-After.
    let mut last = None;
    for _ in 0..11 {
        last = Some(
            call(
                port,
                250,
                "GET",
                &api("/backup/schedules"),
                Some("bbk_guess"),
                None,
            )
            .await,
        );
    }
    let last = last.expect("answers");
    assert_eq!(
        last.status, 429,
        "the 11th wrong token in a minute is refused: {last:?}"
    );
    assert!(
        last.header("retry-after").is_some(),
        "saying when to try again"
    );
    let other = call(
        port,
        251,
        "GET",
        &api("/backup/schedules"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(other.status, 200, "other addresses are not affected");
    server.drop_db(&db);
}

#[test]
fn a_network_address_without_tls_is_refused_before_anything_starts() {
    let server = services();
    let h = Harness::new(
        server,
        "unused",
        r#"{"name":"Seed","cron_expression":"0 1 * * *","backup_type":"full"}"#,
    );
    let out = h.run(&["daemon", "--listen", "0.0.0.0:0"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "refused as input: {}",
        text(&out.stderr)
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("needs TLS") && stderr.contains("--insecure-http"),
        "saying why and what to do: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_the_given_certificate_and_no_plain_http_beside_it() {
    use std::sync::Arc;
    let server = services();
    let h = Harness::new(
        server,
        "unused",
        r#"{"name":"Seed","cron_expression":"0 1 * * *","backup_type":"full"}"#,
    );
    let dir = h.dir.path();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let missing = h
        .cmd(&["daemon", "--listen", "127.0.0.1:0"])
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .output()
        .expect("runs");
    assert_eq!(
        missing.status.code(),
        Some(2),
        "a missing certificate is refused as input"
    );
    assert!(
        text(&missing.stderr).contains("cannot read the certificate"),
        "saying which file: {}",
        text(&missing.stderr)
    );
    self_signed(&cert, &key);
    let port = free_port();
    let _daemon = start_daemon(
        &h,
        port,
        &[
            "--tls-cert".as_ref(),
            cert.as_os_str(),
            "--tls-key".as_ref(),
            key.as_os_str(),
        ],
    )
    .await;
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(&cert).expect("cert");
    use rustls::pki_types::pem::PemObject;
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(c.expect("a certificate")).expect("trusted");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("a name");
    let mut tls = connector
        .connect(name, tcp)
        .await
        .expect("the TLS handshake");
    tls.write_all(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("send");
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.contains("\"status\":\"ok\""),
        "the API answers over HTTPS: {answer}"
    );
    // Plain HTTP on the HTTPS port gets no answer.
    let plain = tokio::time::timeout(
        Duration::from_secs(15),
        call(port, 1, "GET", "/api/health", None, None),
    )
    .await;
    assert!(
        !matches!(&plain, Ok(a) if a.status == 200),
        "no plain HTTP beside HTTPS: {plain:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_only_for_the_origins_the_admin_names() {
    let server = services();
    let h = Harness::new(
        server,
        "unused",
        r#"{"name":"Seed","cron_expression":"0 1 * * *","backup_type":"full"}"#,
    );
    let refused = h.run(&["daemon", "--listen", "127.0.0.1:0", "--cors-origin", "*"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "`*` is refused: {}",
        text(&refused.stderr)
    );
    let port = free_port();
    let _daemon = start_daemon(
        &h,
        port,
        &[
            "--cors-origin".as_ref(),
            "https://admin.billora.example".as_ref(),
        ],
    )
    .await;
    let preflight = |origin: &'static str| async move {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let request = format!(
            "OPTIONS /api/backup/schedules HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {origin}\r\n\
             Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: authorization\r\n\
             Connection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        String::from_utf8_lossy(&raw).to_ascii_lowercase()
    };
    let allowed = preflight("https://admin.billora.example").await;
    assert!(
        allowed.contains("access-control-allow-origin: https://admin.billora.example"),
        "the named origin may call: {allowed}"
    );
    let other = preflight("https://evil.example").await;
    assert!(
        !other.contains("access-control-allow-origin"),
        "another origin may not: {other}"
    );
}

/// The daemon keeps its read-only answers (the schedule list, history pages, the metrics'
/// per-schedule part, tokens found valid) in memory while the store is unchanged. A change
/// made by another process (the CLI beside the daemon) must show in the very next answer, and
/// a token revoked there must be refused at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_kept_in_memory_show_another_process_changes_at_once() {
    let server = services();
    let h = Harness::new(
        server,
        "unused",
        r#"{"name":"Seed","cron_expression":"0 1 * * *","backup_type":"full"}"#,
    );
    let admin = token(&h, "admin", "admin");
    let other = token(&h, "other", "admin");
    let port = free_port();
    let _daemon = start_daemon(&h, port, &[]).await;
    let names = |answer: &Answer| -> Vec<String> {
        answer.json()["schedules"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|s| s["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let get = |path: &'static str, token: String| async move {
        call(port, 1, "GET", path, Some(&token), None).await
    };
    // Asked twice, so that the second answer is the one kept.
    for _ in 0..2 {
        let list = get("/api/backup/schedules", admin.clone()).await;
        assert_eq!(names(&list), ["Seed"], "the seed alone: {list:?}");
        let history = get("/api/backup/history?limit=10", other.clone()).await;
        assert_eq!(history.status, 200, "the other token works: {history:?}");
    }
    let metrics = get("/api/metrics", admin.clone()).await;
    assert!(
        !metrics.body.contains("Night"),
        "no such schedule yet: {}",
        metrics.body
    );

    let mut create = h.cmd(&["schedule", "create", "--json", "-"]);
    let mut child = create
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the CLI starts");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(br#"{"name":"Night","cron_expression":"0 3 * * *","backup_type":"full"}"#)
            .expect("the body is written");
    }
    assert!(
        child.wait().expect("the CLI ends").success(),
        "the CLI created the schedule"
    );
    let list = get("/api/backup/schedules", admin.clone()).await;
    assert_eq!(
        names(&list),
        ["Seed", "Night"],
        "the schedule the CLI made is in the next answer: {list:?}"
    );
    let metrics = get("/api/metrics", admin.clone()).await;
    assert!(
        metrics.body.contains("schedule=\"Night\""),
        "and in the next scrape: {}",
        metrics.body
    );

    let out = h.run(&["token", "revoke", "other"]);
    assert!(out.status.success(), "revoked: {}", text(&out.stderr));
    let refused = get("/api/backup/history?limit=10", other.clone()).await;
    assert_eq!(
        refused.status, 401,
        "a token revoked by the CLI is refused at once, though it was just found valid: {refused:?}"
    );
    let still = get("/api/backup/history?limit=10", admin.clone()).await;
    assert_eq!(still.status, 200, "the other token still works: {still:?}");
}
