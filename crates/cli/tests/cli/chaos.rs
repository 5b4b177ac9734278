//! Chaos: rounds of a backup of a ~50 MB database through the real `billora-backup`, each
//! hit at a random moment by a `kill -9` of the process or a cut of its database connection
//! (a TCP proxy), then a restart. After every round: no entry is left `running`, every
//! `success` has its file and the file matches its SHA-256, no partial file is left, and the
//! backup folder holds no file the history does not know.
//!
//! `BILLORA_CHAOS_ROUNDS` (default 3, the gate's short version; `scripts/chaos.sh 100` for the
//! long run) and `BILLORA_CHAOS_SEED` (printed, to replay a run).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{big_database, text, Harness};
use crate::support::{services, CuttingProxy};

/// A small deterministic generator (xorshift), so a seed replays a run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn sha256_hex(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    billora_engine::artifact::hex(&billora_engine::artifact::Sha256::digest(&bytes))
}

/// The invariants after a round (and its restart).
fn check(h: &Harness, round: usize, what: &str) {
    let runs = h.history();
    let running: Vec<&Value> = runs.iter().filter(|r| r["status"] == "running").collect();
    assert!(
        running.is_empty(),
        "round {round} ({what}): no entry is left running: {running:#?}"
    );
    let mut known = BTreeSet::new();
    for run in runs
        .iter()
        .filter(|r| r["status"] == "success" && r["deleted_at"].is_null())
    {
        let name = run["filename"].as_str().expect("a success has a file name");
        let path = h.dir.path().join("backups").join(name);
        assert!(
            path.is_file(),
            "round {round} ({what}): the backup of success {} exists",
            run["id"]
        );
        assert_eq!(
            Some(sha256_hex(&path).as_str()),
            run["checksum_sha256"].as_str(),
            "round {round} ({what}): {name} matches its recorded SHA-256"
        );
        known.insert(name.to_owned());
        known.insert(format!("{name}.manifest.json"));
    }
    for file in h.files() {
        assert!(
            !file.ends_with(".partial"),
            "round {round} ({what}): no partial file is left: {file}"
        );
        assert!(
            known.contains(&file),
            "round {round} ({what}): {file} is a file the history knows ({known:?})"
        );
    }
}

#[test]
fn random_kills_and_cuts_during_backups_leave_a_consistent_history_and_folder() {
    let rounds: usize = std::env::var("BILLORA_CHAOS_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("BILLORA_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    eprintln!("chaos: {rounds} rounds, seed {seed} (BILLORA_CHAOS_SEED={seed} replays it)");
    let mut dice = Dice(seed);
    let server = services();
    let db = big_database(server, "chaos", 230_000);
    let proxy = CuttingProxy::start((server.host.clone(), server.port));
    let mut through = server.clone();
    through.host = "127.0.0.1".into();
    through.port = proxy.port;
    let h = Harness::new(
        &through,
        &db,
        r#"{"name":"Chaos","cron_expression":"0 2 * * *","backup_type":"full","max_backups":3}"#,
    );
    let (mut kills, mut cuts, mut completed, mut failed) = (0, 0, 0, 0);
    let started = Instant::now();
    for round in 1..=rounds {
        let kill = dice.below(2) == 0;
        if kill {
            proxy.cut_after(u64::MAX);
        } else {
            proxy.cut_after(1 + dice.below(50_000_000));
        }
        let before = proxy.cuts.load(std::sync::atomic::Ordering::SeqCst);
        let mut child = h
            .cmd(&["schedule", "run", "1"])
            .spawn()
            .expect("a backup starts");
        let what = if kill {
            let delay = Duration::from_millis(dice.below(1_000));
            let deadline = Instant::now() + delay;
            while Instant::now() < deadline {
                if child.try_wait().expect("poll").is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = child.kill();
            let out = child.wait_with_output().expect("reaped");
            kills += 1;
            if out.status.success() {
                completed += 1;
            }
            format!("kill -9 after {delay:?}")
        } else {
            let out = child.wait_with_output().expect("the run ends");
            let was_cut = proxy.cuts.load(std::sync::atomic::Ordering::SeqCst) > before;
            if was_cut {
                cuts += 1;
                assert!(
                    !out.status.success(),
                    "round {round}: a cut run does not succeed: {}",
                    text(&out.stdout)
                );
                failed += 1;
            } else {
                completed += 1;
            }
            "a connection cut".to_owned()
        };
        // The restart: any command opens the data folder and recovers what the crash left.
        check(&h, round, &what);
    }
    let runs = h.history();
    let count = |status: &str| runs.iter().filter(|r| r["status"] == status).count();
    eprintln!(
        "chaos: {rounds} rounds in {:?}: {kills} kills, {cuts} cuts; {completed} completed, \
         {failed} failed by a cut; history: {} success, {} failed, {} interrupted, {} cancelled",
        started.elapsed(),
        count("success"),
        count("failed"),
        count("interrupted"),
        count("cancelled"),
    );
    let ended = count("success") + count("failed") + count("interrupted") + count("cancelled");
    assert!(
        ended <= rounds && ended >= cuts,
        "at most one entry per round (a process killed before it started records none), \
         every cut round recorded: {runs:#?}"
    );
    server.drop_db(&db);
}
