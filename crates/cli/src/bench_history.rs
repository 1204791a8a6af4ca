//! `parley bench history`: what history costs a real server. A `parley serve`
//! child on a temporary SQLite store is loaded with `--activities` notices of
//! two parties on one line over HTTP (polygons and circles of 0.5–10 km, one
//! to three volumes, windows over the next 30 days), killed with SIGKILL, and
//! started again on the same store. Printed: the server's RSS before the kill
//! and after the restart, the store's size on disk, how long the restart
//! took until `/v1/health` answered, and how the state was built (the start's
//! own line: from a snapshot and the journal's tail, or the whole journal).
//! The last line:
//! `bench history activities=N load_s=... rss_mb=... restart_rss_mb=...
//! store_mb=... store_kb_per_activity=... restart_s=...`.

use crate::bench::{activity_volumes, Rng};
use crate::served::{post, world, Served};
use anyhow::{ensure, Context, Result};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Activities to load before the kill.
    #[arg(long, default_value_t = 20_000)]
    activities: usize,
    /// Requests in flight while loading.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Passed to `parley serve --snapshot-entries` (its default if not given).
    #[arg(long)]
    snapshot_entries: Option<u64>,
}

/// The server's temporary store, removed when dropped (after the server).
struct Store(std::path::PathBuf);

impl Drop for Store {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The resident set of process `pid`, MB.
fn rss_mb(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("reading the server's RSS needs /proc")?;
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

/// Bytes of every file in `dir` (the store, its WAL, the record key).
fn dir_bytes(dir: &std::path::Path) -> Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let len = e.metadata()?.len();
        eprintln!(
            "{}: {:.1} MB",
            e.file_name().to_string_lossy(),
            len as f64 / 1e6
        );
        total += len;
    }
    Ok(total)
}

pub fn run(args: Args) -> Result<()> {
    ensure!(args.activities >= 1, "--activities must be at least 1");
    let dir = std::env::temp_dir().join(format!("parley-bench-history-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let store = Store(dir);
    let mut flags = vec![
        "--rate-limit".to_string(),
        "1000000".into(),
        "--db".into(),
        store.0.join("parley.db").display().to_string(),
    ];
    if let Some(n) = args.snapshot_entries {
        flags.extend(["--snapshot-entries".to_string(), n.to_string()]);
    }
    let mut served = Served::start(&flags)?;
    let (url, host) = (served.url.clone(), served.host.clone());
    let host = host.context("the server printed no host token")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let started = Instant::now();
    runtime.block_on(load(&url, &host, &args))?;
    let load_s = started.elapsed().as_secs_f64();
    let rss = rss_mb(served.pid())?;

    // SIGKILL: no snapshot on the way out, whatever the WAL holds stays.
    served.kill();
    let bytes = dir_bytes(&store.0)?;
    let started = Instant::now();
    let served = Served::start(&flags)?;
    let url = served.url.clone();
    for line in served
        .said
        .iter()
        .filter(|l| l.starts_with("parley: state from"))
    {
        eprintln!("restarted: {line}");
    }
    runtime.block_on(async {
        let http = reqwest::Client::new();
        loop {
            let up = http.get(format!("{url}/v1/health")).send().await;
            if up.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    let restart_s = started.elapsed().as_secs_f64();
    let restart_rss = rss_mb(served.pid())?;
    drop(served);
    let store_mb = bytes as f64 / 1e6;
    println!(
        "bench history activities={} load_s={load_s:.1} rss_mb={rss:.0} restart_rss_mb={restart_rss:.0} store_mb={store_mb:.0} store_kb_per_activity={:.2} restart_s={restart_s:.2}",
        args.activities,
        bytes as f64 / 1e3 / args.activities as f64
    );
    Ok(())
}

/// Posts the notices, `clients` at a time, alternating the two parties.
async fn load(url: &str, host: &str, args: &Args) -> Result<()> {
    let http = reqwest::Client::new();
    let rules = json!({"horizontal_m": 1000, "vertical_m": 300, "time_s": 300});
    let officers = world(&http, url, host, &["blue", "red"], "air", rules).await?;
    let officers = Arc::new(officers);
    let next = Arc::new(AtomicUsize::new(0));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_micros() as i64;
    let mut tasks = Vec::new();
    for client in 0..args.clients {
        let (http, url, officers, next) = (
            http.clone(),
            url.to_string(),
            Arc::clone(&officers),
            Arc::clone(&next),
        );
        let count = args.activities;
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(client as u64 + 1);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, anyhow::Error>(());
                }
                let mut volumes = activity_volumes(&mut rng);
                // Over the next 30 days, from an hour on (lead times).
                let start = now + 3_600_000_000 + (rng.next_u64() % (30 * 86_400_000_000)) as i64;
                let length = 900_000_000 + (rng.next_u64() % 10_000_000_000) as i64;
                for v in &mut volumes {
                    v["time_start"]["value"] =
                        json!(parley_wire::format_timestamp(parley_engine::Timestamp(start)));
                    v["time_end"]["value"] = json!(parley_wire::format_timestamp(
                        parley_engine::Timestamp(start + length)
                    ));
                }
                let body = json!({"category": "air", "point_of_contact": "duty officer", "volumes": volumes});
                let token = &officers[i % 2];
                let (s, t) = post(&http, &url, "/v1/lines/air/notices", token, &body).await?;
                ensure!(s == 201, "notice {i}: {s} {t}");
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}
