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
use crate::bench_abuse::{blue_and_red, post, serve_child, Served};
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
    let db = dir.join("parley.db");
    let every = args.snapshot_entries.map(|n| n.to_string());
    let flags: Vec<&str> = match &every {
        Some(n) => vec!["--snapshot-entries", n],
        None => vec![],
    };
    let (child, url, host, _) = serve_child(&db, &flags)?;
    let mut served = Served { child, dir };
    let host = host.context("the server printed no host token")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let started = Instant::now();
    runtime.block_on(load(&url, &host, &args))?;
    let load_s = started.elapsed().as_secs_f64();
    let rss = rss_mb(served.child.id())?;

    // SIGKILL: no snapshot on the way out, whatever the WAL holds stays.
    served.child.kill()?;
    served.child.wait()?;
    let store = dir_bytes(&served.dir)?;
    let started = Instant::now();
    let (child, url, _, state) = serve_child(&db, &flags)?;
    served.child = child;
    eprintln!("restarted: state from {state}");
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
    let restart_rss = rss_mb(served.child.id())?;
    let store_mb = store as f64 / 1e6;
    println!(
        "bench history activities={} load_s={load_s:.1} rss_mb={rss:.0} restart_rss_mb={restart_rss:.0} store_mb={store_mb:.0} store_kb_per_activity={:.2} restart_s={restart_s:.2}",
        args.activities,
        store as f64 / 1e3 / args.activities as f64
    );
    Ok(())
}

/// Posts the notices, `clients` at a time, alternating the two parties.
async fn load(url: &str, host: &str, args: &Args) -> Result<()> {
    let http = reqwest::Client::new();
    let officers = Arc::new(blue_and_red(&http, url, host).await?);
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
