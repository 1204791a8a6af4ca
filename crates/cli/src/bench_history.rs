//! `parley bench history`: what history costs. `--activities` notices of two
//! parties on one line are loaded through the service itself (no HTTP, so
//! the load is fast) into a temporary SQLite store: all but `--live` of
//! them with windows that ended over the past year (so they retire), the
//! rest over the next 30 days (polygons and circles of 0.5–10 km, one to
//! three volumes, 15 min to 3 h, in a 1,000 km square). The service then
//! retires what ended, takes a snapshot and stops; a child `parley` process
//! starts a service on the same store (the restart, timed until it serves,
//! its RSS its own), and runs conflict checks (a notice decided against the
//! state, as the writer decides a dry run). The last line:
//! `bench history activities=N live=L load_s=... rss_mb=...
//! rss_kb_per_live_activity=... db_bytes_per_activity=... restart_s=...
//! check_p50_us_after_restart=...`.
//!
//! A large load takes long (10M notices: about 18 minutes), so `--keep DIR`
//! leaves its store in `DIR`, and `--reopen DIR/parley.db` measures the
//! restart alone again on it (`--resnapshot`: then saves a snapshot in this
//! build's format, for the next `--reopen` to start from).

use crate::bench::{activity_volumes, Rng};
use anyhow::{bail, ensure, Context, Result};
use parley_service::{
    system_clock, Actor, Category, Command, LineRules, Role, Service, Volumes, HOST,
};
use parley_store_sqlite::SqliteJournal;
use parley_wire::{format_timestamp, WireLimits};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Activities to load.
    #[arg(long, default_value_t = 20_000)]
    activities: usize,
    /// Of them, activities whose windows are still to come (the rest ended).
    #[arg(long, default_value_t = 1_000)]
    live: usize,
    /// Conflict checks after the restart.
    #[arg(long, default_value_t = 1_000)]
    checks: usize,
    /// Keep the store in this directory (created; must not hold one yet)
    /// instead of a temporary one removed at the end.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// Only restart on this store (one `--keep` left) and measure; prints
    /// `restart_s=... rss_mb=... check_p50_us=...`.
    #[arg(long)]
    reopen: Option<PathBuf>,
    /// With `--reopen`: save a snapshot before stopping.
    #[arg(long, requires = "reopen")]
    resnapshot: bool,
}

const HOUR_US: i64 = 3_600_000_000;
const DAY_US: i64 = 24 * HOUR_US;
/// Notices sent and not yet answered, at most (the writer commits up to
/// `MAX_BATCH` at a time).
const IN_FLIGHT: usize = 4_096;

/// The store's directory, removed when dropped unless kept.
struct Store {
    dir: PathBuf,
    keep: bool,
}

impl Drop for Store {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The resident set of process `pid`, MB.
fn rss_mb(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("reading the RSS needs /proc")?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .context("VmRSS")?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kb / 1024.0)
}

/// Bytes of every file in `dir` (the store and its WAL).
fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(dir)? {
        // The WAL may go as the store's last connection closes.
        total += e?.metadata().map_or(0, |m| m.len());
    }
    Ok(total)
}

fn officer(party: &str) -> Actor {
    Actor {
        operator: format!("op-{party}"),
        party: party.into(),
        role: Role::Officer,
    }
}

/// Runs `command` as `actor` and waits for its answer.
fn run(service: &Service, actor: &Actor, command: Command) -> Result<Value> {
    let (tx, rx) = mpsc::channel();
    service.submit(
        actor.clone(),
        command,
        None,
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    Ok(rx.recv()?.map_err(|e| anyhow::anyhow!("{e}"))?.body)
}

/// A notice of one synthetic activity whose windows start at `start_us`.
fn notice(rng: &mut Rng, start_us: i64, dry_run: bool) -> Result<Command> {
    let mut volumes = activity_volumes(rng);
    for v in &mut volumes {
        let end =
            start_us + 900_000_000 + (rng.next_u64() % (3 * HOUR_US as u64 - 900_000_000)) as i64;
        v["time_start"]["value"] = json!(format_timestamp(parley_engine::Timestamp(start_us)));
        v["time_end"]["value"] = json!(format_timestamp(parley_engine::Timestamp(end)));
    }
    let volumes = Volumes::parse(volumes, &WireLimits::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?
        // History is notified after it ended, on purpose.
        .with_unusual_confirmed(true);
    Ok(Command::Notify {
        line: "air".into(),
        category: Category::Air,
        point_of_contact: "duty officer".into(),
        volumes,
        dry_run,
    })
}

/// When activity `i` of the load starts: the first `ended` over the past
/// year (ended more than a day ago), the others over the next 30 days.
fn start_of(i: usize, ended: usize, now: i64, rng: &mut Rng) -> i64 {
    if i < ended {
        now - 2 * DAY_US - (rng.next_u64() % (363 * DAY_US as u64)) as i64
    } else {
        now + HOUR_US + (rng.next_u64() % (30 * DAY_US as u64)) as i64
    }
}

pub fn run_bench(args: Args) -> Result<()> {
    if let Some(db) = &args.reopen {
        return reopen(db, args.checks, args.resnapshot);
    }
    ensure!(args.activities >= 1, "--activities must be at least 1");
    ensure!(
        args.live <= args.activities,
        "--live must be at most --activities"
    );
    let store = match args.keep {
        Some(dir) => {
            ensure!(
                !dir.join("parley.db").exists(),
                "--keep {} holds a store already: give an empty directory",
                dir.display()
            );
            std::fs::create_dir_all(&dir)?;
            Store { dir, keep: true }
        }
        None => {
            let dir =
                std::env::temp_dir().join(format!("parley-bench-history-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)?;
            Store { dir, keep: false }
        }
    };
    let db = store.dir.join("parley.db");
    let service = Service::open(
        SqliteJournal::open(&db)?,
        WireLimits::default(),
        system_clock(),
        |_| {},
    )?;
    // Snapshots when the load is done, not during it.
    service.set_snapshots(0, 0);
    let host = Actor {
        operator: "op-host".into(),
        party: HOST.into(),
        role: Role::Admin,
    };
    for party in ["blue", "red"] {
        let create = Command::CreateParty {
            party: party.into(),
            name: party.into(),
        };
        run(&service, &host, create)?;
        let create = Command::CreateOperator {
            party: party.into(),
            name: format!("{party} officer"),
            role: Role::Officer,
            token_sha256: parley_service::sha256_hex(format!("bench-{party}").as_bytes()),
        };
        run(&service, &host, create)?;
    }
    let line = Command::CreateLine {
        line: "air".into(),
        name: "air".into(),
        parties: vec!["blue".into(), "red".into()],
        rules: LineRules::default(),
    };
    run(&service, &host, line)?;
    let officers = [
        service
            .authenticate(&parley_service::sha256_hex(b"bench-blue"))
            .context("blue's officer")?,
        service
            .authenticate(&parley_service::sha256_hex(b"bench-red"))
            .context("red's officer")?,
    ];

    let started = Instant::now();
    let ended = args.activities - args.live;
    let now = service.now();
    let mut rng = Rng::new(1);
    let (tx, rx) = mpsc::channel::<Result<(), String>>();
    let mut in_flight = 0;
    for i in 0..args.activities {
        let start = start_of(i, ended, now, &mut rng);
        let command = notice(&mut rng, start, false)?;
        let tx = tx.clone();
        let reply = Box::new(move |r: Result<parley_service::Answer, _>| {
            let _ = tx.send(
                r.map(|_| ())
                    .map_err(|e: parley_service::ServiceError| e.to_string()),
            );
        });
        service.submit(officers[i % 2].clone(), command, None, reply);
        in_flight += 1;
        while in_flight >= IN_FLIGHT {
            rx.recv()?.map_err(|e| anyhow::anyhow!("a notice: {e}"))?;
            in_flight -= 1;
        }
        if (i + 1) % 100_000 == 0 {
            eprintln!(
                "{} notices in {:.0} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    for _ in 0..in_flight {
        rx.recv()?.map_err(|e| anyhow::anyhow!("a notice: {e}"))?;
    }
    // History retires now (the writer does each minute), then a snapshot
    // as a graceful stop leaves it.
    service.set_keep_ended_hours(parley_service::KEEP_ENDED_H);
    service.take_snapshot()?;
    let load_s = started.elapsed().as_secs_f64();
    service.shutdown();
    drop(service);
    let bytes = dir_bytes(&store.dir)?;

    let child = std::process::Command::new(std::env::current_exe()?)
        .env("PARLEY_START_TIMES", "1")
        .args([
            "bench",
            "history",
            "--checks",
            &args.checks.to_string(),
            "--reopen",
        ])
        .arg(&db)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("starting the restart's process")?;
    let said = String::from_utf8_lossy(&child.stdout);
    if !child.status.success() {
        bail!("the restart failed: {said}");
    }
    eprintln!("{}", restart_costs(&db)?);
    let field = |name: &str| -> Result<f64> {
        said.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .with_context(|| format!("the restart said no {name}: {said}"))?
            .parse()
            .with_context(|| format!("{name} in {said}"))
    };
    let (restart_s, rss, p50) = (
        field("restart_s")?,
        field("rss_mb")?,
        field("check_p50_us")?,
    );
    println!(
        "bench history activities={} live={} load_s={load_s:.1} rss_mb={rss:.0} rss_kb_per_live_activity={:.2} db_bytes_per_activity={:.0} restart_s={restart_s:.2} check_p50_us_after_restart={p50:.1}",
        args.activities,
        args.live,
        rss * 1024.0 / args.live.max(1) as f64,
        bytes as f64 / args.activities as f64,
    );
    Ok(())
}

/// The child: a service started on `db` as `parley serve` starts one, then
/// `checks` conflict checks of notices in the live windows; prints
/// `restart_s=... rss_mb=... check_p50_us=...`; with `resnapshot`, saves a
/// snapshot before it stops.
fn reopen(db: &Path, checks: usize, resnapshot: bool) -> Result<()> {
    ensure!(db.exists(), "--reopen {}: no such store", db.display());
    let started = Instant::now();
    let service = Service::open(
        SqliteJournal::open(db)?,
        WireLimits::default(),
        system_clock(),
        |_| {},
    )?;
    service.set_keep_ended_hours(parley_service::KEEP_ENDED_H);
    let restart_s = started.elapsed().as_secs_f64();
    eprintln!("restarted: {:?}", service.restored());
    let officer = service
        .authenticate(&parley_service::sha256_hex(b"bench-blue"))
        .unwrap_or_else(|| officer("blue"));
    let now = service.now();
    let mut rng = Rng::new(2);
    let mut took = Vec::with_capacity(checks);
    let mut found = 0;
    for _ in 0..checks {
        let start = start_of(1, 0, now, &mut rng);
        let command = notice(&mut rng, start, true)?;
        let t = Instant::now();
        let decided = service.read(|s| s.decide(&officer, &command, now));
        took.push(t.elapsed().as_secs_f64() * 1e6);
        let decided = decided.map_err(|e| anyhow::anyhow!("a check: {e}"))?;
        found += decided.body["conflicts"].as_array().map_or(0, Vec::len);
    }
    took.sort_by(f64::total_cmp);
    let p50 = took.get(took.len() / 2).copied().unwrap_or(0.0);
    let (held, retired) = service.read(|s| s.activities_held());
    eprintln!("held {held} activities, {retired} retired; {found} conflicts in {checks} checks");
    let rss = rss_mb(std::process::id())?;
    if resnapshot {
        let seq = service.take_snapshot()?;
        eprintln!("saved a snapshot of entry {seq}");
    }
    drop(service);
    println!("restart_s={restart_s:.3} rss_mb={rss:.1} check_p50_us={p50:.1}");
    Ok(())
}

/// What a start spends where, measured apart: reading the whole journal,
/// and the record's leaves over it (a snapshot is checked against them).
fn restart_costs(db: &Path) -> Result<String> {
    use parley_service::Journal;
    let mut journal = SqliteJournal::open(db)?;
    let (mut read_s, mut leaves_s, mut after) = (0.0, 0.0, 0);
    let mut record = parley_record::MerkleLog::new();
    loop {
        let t = Instant::now();
        let slice = journal.load_after(after, 8_192)?;
        read_s += t.elapsed().as_secs_f64();
        let Some(last) = slice.last() else { break };
        after = last.seq;
        let t = Instant::now();
        for l in &slice {
            record.append(parley_service::leaf_text(l).as_bytes());
        }
        leaves_s += t.elapsed().as_secs_f64();
    }
    Ok(format!(
        "restart costs: {after} entries read in {read_s:.2} s, their leaves hashed into the record's tree in {leaves_s:.2} s"
    ))
}
