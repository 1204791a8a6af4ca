//! `parley bench federation`: two `parley serve` nodes on this machine, each
//! with its own store and party, peered, one federated line between them
//! (issue 20, point 8).
//!
//! Blue's node reaches Red's through the fault proxy (`parley::fault_proxy`),
//! which delays each direction or cuts the link. It measures:
//! - a notice's round trip on Blue's node to an answer that includes Red's
//!   check (p50/p99), on loopback and with `--delay-ms` added each way;
//! - federated notices a second, `--concurrency` clients on both nodes;
//! - catch-up: the link cut, `--catch-up` notices logged on Blue's node, the
//!   link healed, and the time until Red's node holds them all (receipted).
//!
//! The last line: `bench federation nodes=2 rtt_p50_ms=… rtt_p99_ms=…
//! delayed_p50_ms=… delayed_p99_ms=… notices_per_s=… catch_up_entries=…
//! catch_up_s=…`.

use crate::bench::percentile;
use crate::bench_faults::{notice, Rng};
use crate::served::{post, Served};
use anyhow::{ensure, Context, Result};
use parley::fault_proxy::Proxy;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Notices timed one at a time, on loopback and again with the delay.
    #[arg(long, default_value_t = 200)]
    timed: usize,
    /// Delay the proxy adds in each direction, milliseconds.
    #[arg(long, default_value_t = 25)]
    delay_ms: u64,
    /// Seconds of load for the rate.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Clients at once for the rate, spread over both nodes (64 a node, as
    /// `bench serve` keeps 64 in flight on its one).
    #[arg(long, default_value_t = 128)]
    concurrency: usize,
    /// Notices logged while the link is cut, then delivered.
    #[arg(long, default_value_t = 10_000)]
    catch_up: usize,
}

const LINE: &str = "fed";

pub fn run(args: Args) -> Result<()> {
    ensure!(args.concurrency >= 1, "--concurrency must be at least 1");
    crate::served::in_temp_dir("fed", |dir| async move { bench(&args, &dir).await })
}

/// A node of the bench: its process, host token and officer.
struct Node {
    _served: Served,
    url: String,
    host: String,
    officer: String,
}

async fn start(dir: &Path, name: &str, party: &str, http: &reqwest::Client) -> Result<Node> {
    let served = Served::start(&[
        "--db".into(),
        dir.join(format!("{name}.db")).display().to_string(),
        "--origin".into(),
        name.into(),
        "--rate-limit".into(),
        "1000000".into(),
    ])?;
    let host = served.host.clone().context("a host token")?;
    let url = served.url.clone();
    let (s, t) = post(
        http,
        &url,
        "/v1/parties",
        &host,
        &json!({"id": party, "name": party}),
    )
    .await?;
    ensure!(s == 201, "creating {party}: {s} {t}");
    let path = format!("/v1/parties/{party}/operators");
    let body = json!({"name": "officer", "role": "officer"});
    let (s, t) = post(http, &url, &path, &host, &body).await?;
    ensure!(s == 201, "creating {party}'s officer: {s} {t}");
    let officer = serde_json::from_str::<Value>(&t)?["token"]
        .as_str()
        .context("a token")?
        .to_string();
    Ok(Node {
        _served: served,
        url,
        host,
        officer,
    })
}

/// A node's record key and cosigner key, as its admins read them.
async fn node_keys(http: &reqwest::Client, n: &Node) -> Result<(Value, Value)> {
    let v: Value = http
        .get(format!("{}/v1/federation", n.url))
        .bearer_auth(&n.host)
        .send()
        .await?
        .json()
        .await?;
    ensure!(v["node_key"].is_string(), "no node key: {v}");
    Ok((v["node_key"].clone(), v["cosigner_key"].clone()))
}

/// Peers `here` with `there` (named `name`, with `party`), reached at `url`.
async fn peer(
    http: &reqwest::Client,
    here: &Node,
    there: &Node,
    name: &str,
    party: &str,
    url: &str,
) -> Result<()> {
    let (node_key, cosigner_key) = node_keys(http, there).await?;
    let body = json!({"node": name, "url": url, "node_key": node_key, "cosigner_key": cosigner_key, "parties": [party]});
    let (s, t) = post(http, &here.url, "/v1/federation/peers", &here.host, &body).await?;
    ensure!(s == 201, "peering: {s} {t}");
    Ok(())
}

async fn bench(args: &Args, dir: &Path) -> Result<()> {
    let http = reqwest::Client::new();
    let blue = start(dir, "blue.node", "blue", &http).await?;
    let red = start(dir, "red.node", "red", &http).await?;
    let proxy = Proxy::start(red.url.trim_start_matches("http://")).await?;
    let proxied = format!("http://{}", proxy.address());
    peer(&http, &blue, &red, "red.node", "red", &proxied).await?;
    peer(&http, &red, &blue, "blue.node", "blue", &blue.url).await?;
    let rules = json!({"horizontal_m": 500, "vertical_m": 0, "time_s": 0, "notice_lead_time_s": 0});
    let body = json!({"id": LINE, "name": LINE, "parties": ["blue", "red"], "rules": rules});
    let (s, t) = post(&http, &blue.url, "/v1/lines", &blue.host, &body).await?;
    ensure!(s == 201, "creating the line: {s} {t}");
    let path = format!("/v1/lines/{LINE}/notices");
    let mut rng = Rng(20_261_203);

    let mut timed = |delay: u64| {
        proxy.delay(delay);
        let (http, path, blue) = (&http, &path, &blue);
        let bodies: Vec<Value> = (0..args.timed).map(|_| notice(&mut rng, "timed")).collect();
        async move {
            let mut ms = Vec::new();
            for body in bodies {
                let t = Instant::now();
                let (s, answer) = post(http, &blue.url, path, &blue.officer, &body).await?;
                ensure!(s == 201, "a notice: {s} {answer}");
                let v: Value = serde_json::from_str(&answer)?;
                ensure!(
                    v["federation"]["not_reached"] == json!([]),
                    "red's node was not reached: {answer}"
                );
                ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
            ms.sort_by(f64::total_cmp);
            Ok::<_, anyhow::Error>(ms)
        }
    };
    let loopback = timed(0).await?;
    let delayed = timed(args.delay_ms).await?;
    proxy.delay(0);

    // The rate: clients on both nodes for the time given.
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let clients: Vec<_> = (0..args.concurrency)
        .map(|c| {
            let (url, token) = if c % 2 == 0 {
                (blue.url.clone(), blue.officer.clone())
            } else {
                (red.url.clone(), red.officer.clone())
            };
            let (http, path, done, stop) = (http.clone(), path.clone(), done.clone(), stop.clone());
            let mut rng = Rng(c as u64 + 1);
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let (s, t) =
                        post(&http, &url, &path, &token, &notice(&mut rng, "rate")).await?;
                    ensure!(s == 201, "a notice: {s} {t}");
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<_, anyhow::Error>(())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await??;
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();

    // Catch-up after a partition.
    wait_caught_up(&http, &blue, "red.node", Duration::from_secs(120)).await?;
    proxy.cut();
    let loaders: Vec<_> = (0..args.concurrency.min(8))
        .map(|c| {
            let n = args.catch_up / args.concurrency.min(8)
                + usize::from(c < args.catch_up % args.concurrency.min(8));
            let (http, path, url, token) = (
                http.clone(),
                path.clone(),
                blue.url.clone(),
                blue.officer.clone(),
            );
            let mut rng = Rng(1_000 + c as u64);
            tokio::spawn(async move {
                for _ in 0..n {
                    let (s, t) = post(&http, &url, &path, &token, &notice(&mut rng, "cut")).await?;
                    ensure!(s == 201, "a notice: {s} {t}");
                }
                Ok::<_, anyhow::Error>(())
            })
        })
        .collect();
    for l in loaders {
        l.await??;
    }
    let healed = Instant::now();
    proxy.heal();
    wait_caught_up(&http, &blue, "red.node", Duration::from_secs(600)).await?;
    let catch_up_s = healed.elapsed().as_secs_f64();

    let p = |v: &[f64], q| percentile(v, q);
    println!(
        "bench federation nodes=2 rtt_p50_ms={:.1} rtt_p99_ms={:.1} delayed_p50_ms={:.1} delayed_p99_ms={:.1} delay_each_way_ms={} notices_per_s={rate:.0} catch_up_entries={} catch_up_s={catch_up_s:.2}",
        p(&loopback, 0.5),
        p(&loopback, 0.99),
        p(&delayed, 0.5),
        p(&delayed, 0.99),
        args.delay_ms,
        args.catch_up,
    );
    Ok(())
}

/// Waits until `node` has everything of its log on the line receipted by `peer`.
async fn wait_caught_up(
    http: &reqwest::Client,
    node: &Node,
    peer: &str,
    within: Duration,
) -> Result<()> {
    let deadline = Instant::now() + within;
    loop {
        let v: Value = http
            .get(format!("{}/v1/federation", node.url))
            .bearer_auth(&node.host)
            .send()
            .await?
            .json()
            .await?;
        let line = &v["lines"][LINE];
        if line["nodes"][peer]["receipted"] == line["log_size"] {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "{peer} did not catch up: {v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
