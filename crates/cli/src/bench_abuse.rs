//! `parley bench abuse`: what the worst geometry an officer may send costs a
//! real server, and whether `/v1/health` keeps answering meanwhile.
//!
//! The worst case is a comb (issue 14): teeth 10 m apart and hundreds of
//! kilometres long on a 1,000 km arm, so that every edge is cut into many 5 km
//! pieces lying side by side. The comb of the issue (240 teeth 500 km long,
//! 964 vertices) makes about 48,000 pieces and is refused by the work budget
//! (`WireLimits::max_volume_pieces`); the bench sends the longest-toothed comb
//! the budget accepts, five in a body (as many as `max_request_pieces` allows),
//! as dry runs that meet a stored comb of the other party (so the writer runs
//! the exact relation and the meeting of two combs too).
//!
//! A `parley serve` child process on a temporary SQLite store takes dry runs
//! from `--clients` clients, back to back, for `--seconds`, while another task
//! asks `/v1/health` every 5 ms. The server's CPU time is read from
//! `/proc/<pid>/stat` once a second; the CPU per request is the median over
//! those seconds of CPU used / requests answered. Then the comb is sent
//! `--clients` × 10 times, to measure what a refusal costs. The last line:
//! `bench abuse cpu_per_request_ms=... health_p50_ms=... health_p99_ms=...`.

use crate::bench::percentile;
use crate::served::{now_us, post, world, Served};
use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Clients sending worst-case dry runs at once.
    #[arg(long, default_value_t = 2)]
    clients: usize,
    /// How long they send, seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

/// Metres per degree of longitude on the equator, and of latitude near it.
const M_PER_DEG_LNG: f64 = 111_319.49;
const M_PER_DEG_LAT: f64 = 110_574.0;

/// A comb on the equator at longitude `lng0`: `teeth` teeth 5 m wide and 10 m
/// apart, `tooth_m` long to the north, on an arm 1,000 km long to the east and
/// 5.5 km wide. Every edge is a meridian or the equator, or nearly.
pub fn comb(lng0: f64, teeth: usize, tooth_m: f64) -> Vec<Value> {
    let lng = |m: f64| lng0 + m / M_PER_DEG_LNG;
    let top = tooth_m / M_PER_DEG_LAT;
    let mut v = vec![(-0.05, lng(0.0)), (-0.05, lng(1e6)), (0.0, lng(1e6))];
    for k in (0..teeth).rev() {
        let left = 10.0 * k as f64;
        v.extend([
            (0.0, lng(left + 5.0)),
            (top, lng(left + 5.0)),
            (top, lng(left)),
            (0.0, lng(left)),
        ]);
    }
    v.into_iter()
        .map(|(lat, lng)| json!({"lat": lat, "lng": lng}))
        .collect()
}

/// The points a comb makes once cut into 5 km pieces.
fn pieces(vertices: &[Value]) -> usize {
    let ring: Vec<parley_engine::LatLng> = vertices
        .iter()
        .map(|p| parley_engine::LatLng::new(p["lat"].as_f64().unwrap(), p["lng"].as_f64().unwrap()))
        .collect();
    parley_engine::polygon_pieces(&ring)
}

/// The longest teeth (in 5 km steps) a 240-tooth comb may have within `budget` pieces.
pub fn comb_within(lng0: f64, budget: usize) -> Vec<Value> {
    let mut tooth_m = 500_000.0;
    loop {
        let c = comb(lng0, 240, tooth_m);
        if pieces(&c) <= budget || tooth_m <= 5_000.0 {
            return c;
        }
        tooth_m -= 5_000.0;
    }
}

/// A volume of `vertices` for the next hour and more.
pub fn volume(vertices: Vec<Value>) -> Value {
    let start = parley_engine::Timestamp(now_us() + 3_600_000_000);
    let end = parley_engine::Timestamp(start.0 + 3_600_000_000);
    json!({"volume": {"outline_polygon": {"vertices": vertices},
        "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
        "altitude_upper": {"value": 5000, "reference": "W84", "units": "M"}},
        "time_start": {"value": parley_wire::format_timestamp(start), "format": "RFC3339"},
        "time_end": {"value": parley_wire::format_timestamp(end), "format": "RFC3339"}})
}

/// The server's temporary store, removed when dropped (after the server).
struct Store(std::path::PathBuf);

impl Drop for Store {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// CPU time the process has used so far, seconds (user + system).
fn cpu_s(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .context("reading the server's CPU time needs /proc")?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').context("/proc/PID/stat")? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    // USER_HZ is 100 on every Linux ABI.
    Ok(ticks / 100.0)
}

pub fn run(args: Args) -> Result<()> {
    ensure!(args.clients >= 1, "--clients must be at least 1");
    let dir = std::env::temp_dir().join(format!("parley-bench-abuse-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let store = Store(dir);
    let served = Served::start(&[
        "--rate-limit".into(),
        "1000000".into(),
        "--db".into(),
        store.0.join("parley.db").display().to_string(),
    ])?;
    let (url, host) = (served.url.clone(), served.host.clone());
    let host = host.context("the server printed no host token")?;
    let pid = served.pid();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(attack(&url, &host, pid, &args))
}

async fn attack(url: &str, host: &str, pid: u32, args: &Args) -> Result<()> {
    let http = reqwest::Client::new();
    let send = |path: String, token: String, body: Value| {
        let (http, url) = (http.clone(), url.to_string());
        async move { post(&http, &url, &path, &token, &body).await }
    };
    let rules = json!({"horizontal_m": 1000, "vertical_m": 300, "time_s": 300});
    let officers = world(&http, url, host, &["blue", "red"], "air", rules).await?;
    let limits = parley_wire::WireLimits::default();
    let notice = |volumes: Vec<Value>, dry_run: bool| json!({"category": "air", "point_of_contact": "duty officer", "volumes": volumes, "dry_run": dry_run});
    // Red's comb, stored; Blue's dry runs meet it.
    let (s, t) = send(
        "/v1/lines/air/notices".into(),
        officers[1].clone(),
        notice(
            vec![volume(comb_within(30.00002, limits.max_volume_pieces))],
            false,
        ),
    )
    .await?;
    ensure!(s == 201, "Red's comb: {s} {t}");
    let per_body = (limits.max_request_pieces / limits.max_volume_pieces).max(1);
    let worst = comb_within(30.0, limits.max_volume_pieces);
    eprintln!(
        "worst accepted body: {per_body} combs of {} vertices, {} pieces each",
        worst.len(),
        pieces(&worst)
    );
    let body = notice(vec![volume(worst); per_body], true);

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..args.clients {
        let (http, url, body, token) = (
            http.clone(),
            url.to_string(),
            body.clone(),
            officers[0].clone(),
        );
        let (stop, answered) = (stop.clone(), answered.clone());
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let (s, t) = post(&http, &url, "/v1/lines/air/notices", &token, &body).await?;
                if s != 200 {
                    bail!("a worst-case dry run was answered {s}: {t}");
                }
                answered.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    let health = {
        let (http, url, stop) = (http.clone(), url.to_string(), stop.clone());
        tokio::spawn(async move {
            let mut ms = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let res = http.get(format!("{url}/v1/health")).send().await?;
                ensure!(res.status() == 200, "health answered {}", res.status());
                res.bytes().await?;
                ms.push(t.elapsed().as_secs_f64() * 1e3);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Ok::<_, anyhow::Error>(ms)
        })
    };
    let mut per_request_ms = Vec::new();
    let (mut cpu, mut done) = (cpu_s(pid)?, 0);
    for _ in 0..args.seconds {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (c, d) = (cpu_s(pid)?, answered.load(Ordering::Relaxed));
        if d > done {
            per_request_ms.push((c - cpu) * 1e3 / (d - done) as f64);
        }
        (cpu, done) = (c, d);
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await??;
    }
    let mut health_ms = health.await??;
    ensure!(
        !per_request_ms.is_empty(),
        "no dry run was answered in {} s",
        args.seconds
    );
    per_request_ms.sort_by(f64::total_cmp);
    health_ms.sort_by(f64::total_cmp);
    let cpu_ms = percentile(&per_request_ms, 0.5);
    let (p50, p99) = (percentile(&health_ms, 0.5), percentile(&health_ms, 0.99));
    eprintln!(
        "{done} worst-case dry runs from {} clients in {} s; {} health probes, max {:.2} ms",
        args.clients,
        args.seconds,
        health_ms.len(),
        health_ms.last().copied().unwrap_or(f64::NAN)
    );

    // The comb, over the budget: what a refusal costs.
    let refused = notice(vec![volume(comb(30.0, 240, 500_000.0)); per_body], true);
    let count = 10 * args.clients;
    let before = cpu_s(pid)?;
    for _ in 0..count {
        let (s, t) = send(
            "/v1/lines/air/notices".into(),
            officers[0].clone(),
            refused.clone(),
        )
        .await?;
        ensure!(s == 422, "the issue's comb was answered {s}: {t}");
    }
    let refused_ms = (cpu_s(pid)? - before) * 1e3 / count as f64;
    println!(
        "bench abuse cpu_per_request_ms={cpu_ms:.1} health_p50_ms={p50:.2} health_p99_ms={p99:.2} refused_cpu_per_request_ms={refused_ms:.1} requests={done} clients={}",
        args.clients
    );
    Ok(())
}
