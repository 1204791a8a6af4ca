//! `parley bench serve`: the whole write path of the server, measured from an
//! HTTP client's side.
//!
//! A fresh SQLite store in the temporary directory (or, with `--postgres`, an
//! empty PostgreSQL database) gets four parties, one line
//! between them (H 1,000 m, V 300 m, T 300 s) and an officer each, then
//! `--activities` notices preloaded straight through the service (reported
//! as a rate: the writer's decide, index and group commit without HTTP). Then
//! an in-process server on 127.0.0.1 takes `--notices` POST
//! /v1/lines/{line}/notices from `--concurrency` concurrent clients sharing one
//! connection pool: authentication, JSON parsing, validation, the conflict
//! check against everything stored, the durable commit (fsync) and the answer.
//! Throughput is notices over the wall time of that phase; latency is per
//! request, from sending it to having read the whole answer (the answers are
//! parsed, to count conflicts, only once the clock has stopped). Every notice
//! must be accepted (201), or the benchmark fails.
//!
//! Volumes come from the same synthetic traffic as `bench check` (see
//! `bench.rs`); the store is deleted at the end.

use crate::bench::{activity_volumes, percentile, Rng};
use anyhow::{bail, ensure, Context, Result};
use parley_server::{bootstrap, host_actor, new_token, run_blocking, AppState, RateLimit};
use parley_service::{
    sha256_hex, Actor, Category, Command, LineRules, Role, Service, Volumes, MAX_BATCH,
};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Activities notified straight to the service before the measurement.
    #[arg(long, default_value_t = 100_000)]
    activities: usize,
    /// Notices posted over HTTP, and timed.
    #[arg(long, default_value_t = 20_000)]
    notices: usize,
    /// Requests in flight at once (one client task each).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Keep the journal in PostgreSQL instead of a temporary SQLite file: a
    /// connection string for an empty database (it keeps the bench's data).
    #[arg(long)]
    postgres: Option<String>,
    /// Serve and post over HTTPS (TLS 1.3, a certificate made for the run):
    /// the same figures, to compare with plain HTTP. The clients keep their
    /// connections, so handshakes are few; this is the cost of encryption.
    #[arg(long)]
    tls: bool,
}

const LINE: &str = "bench-air";
const PARTIES: [&str; 4] = ["north", "south", "east", "west"];
const POINT_OF_CONTACT: &str = "bench duty officer, channel 1";

/// At most this many preload notices wait in the writer's queue at once, so
/// that generating them overlaps deciding them without holding all in memory.
const PRELOAD_WINDOW: usize = 4 * MAX_BATCH;

/// Failures shown in full; the rest are only counted.
const SHOWN_FAILURES: usize = 10;

/// The store in the temporary directory; removed, with its WAL and
/// shared-memory files, when dropped (also on error).
struct TempStore(PathBuf);

impl TempStore {
    fn new() -> Self {
        let name = format!("parley-bench-serve-{}.db", std::process::id());
        let store = Self(std::env::temp_dir().join(name));
        store.remove();
        store
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", ".record-key"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        self.remove();
    }
}

/// An officer of one party: the actor for direct submissions, the token for HTTP.
struct Officer {
    actor: Actor,
    token: String,
}

/// What the HTTP phase measured.
#[derive(Default)]
struct Measured {
    wall_s: f64,
    /// CPU time the writer thread used meanwhile (none where /proc is missing).
    writer_cpu_s: Option<f64>,
    latencies_ms: Vec<f64>,
    /// The bodies of the 201 answers, read once the clock has stopped.
    accepted: Vec<Vec<u8>>,
    conflicts: usize,
    failures: Vec<String>,
}

pub fn run(args: Args) -> Result<()> {
    ensure!(args.concurrency >= 1, "--concurrency must be at least 1");
    ensure!(args.notices >= 1, "--notices must be at least 1");
    let store = TempStore::new();
    let (service, committed) = match &args.postgres {
        Some(url) => {
            eprintln!("store: PostgreSQL {url}");
            let journal = parley_store_postgres::PostgresJournal::open(url)?;
            let key = crate::serve::default_record_key(&store.0);
            let started = crate::serve::start(journal, &key, parley_service::ORIGIN)?;
            ensure!(
                started.0.read(|s| s.last_seq()) == 0,
                "--postgres: that database has a journal already; give an empty one"
            );
            started
        }
        None => {
            eprintln!("store: {}", store.0.display());
            crate::serve::open(&store.0)?
        }
    };
    bootstrap(&service).context("bootstrap")?;
    let officers = setup(&service)?;
    preload(&service, &officers, args.activities)?;
    let m = drive(service, committed, &officers, &args)?;

    if !m.failures.is_empty() {
        for f in m.failures.iter().take(SHOWN_FAILURES) {
            eprintln!("failed: {f}");
        }
        bail!(
            "{} of {} notices were not accepted with 201",
            m.failures.len(),
            args.notices
        );
    }
    let mut latencies = m.latencies_ms;
    latencies.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    let rate = args.notices as f64 / m.wall_s;
    eprintln!(
        "posted {} notices in {:.2} s with {} in flight: {rate:.0}/s; latency p50 {p50:.2} ms, p90 {:.2} ms, p99 {p99:.2} ms, max {:.2} ms; {:.2} conflicts a notice",
        args.notices,
        m.wall_s,
        args.concurrency,
        percentile(&latencies, 0.9),
        latencies.last().copied().unwrap_or(f64::NAN),
        m.conflicts as f64 / args.notices as f64
    );
    // The writer decides every notice alone: its CPU time per notice bounds the
    // rate, and is steadier than the rate on a shared machine.
    let writer_us = m.writer_cpu_s.map_or("unknown".into(), |s| {
        format!("{:.0}", s * 1e6 / args.notices as f64)
    });
    eprintln!("the writer thread used {writer_us} µs of CPU a notice");
    println!(
        "bench serve notices_per_s={rate:.0} p50_ms={p50:.2} p99_ms={p99:.2} conflicts={} writer_cpu_us={writer_us} store={} transport={}",
        m.conflicts,
        if args.postgres.is_some() { "postgres" } else { "sqlite" },
        if args.tls { "https" } else { "http" }
    );
    Ok(())
}

/// Four parties with an officer each, and one line between them all.
fn setup(service: &Service) -> Result<Vec<Officer>> {
    let host = host_actor();
    let mut officers = Vec::new();
    for party in PARTIES {
        let command = Command::CreateParty {
            party: party.into(),
            name: format!("{party} party"),
        };
        run_blocking(service, &host, command).with_context(|| format!("creating party {party}"))?;
        let token = new_token();
        let command = Command::CreateOperator {
            party: party.into(),
            name: format!("{party} duty officer"),
            role: Role::Officer,
            token_sha256: sha256_hex(token.as_bytes()),
        };
        let answer = run_blocking(service, &host, command)
            .with_context(|| format!("creating the officer of {party}"))?;
        let operator = answer["id"]
            .as_str()
            .context("the new operator's answer has no id")?
            .to_string();
        let actor = Actor {
            operator,
            party: party.into(),
            role: Role::Officer,
        };
        officers.push(Officer { actor, token });
    }
    let rules = LineRules {
        horizontal_m: 1_000.0,
        vertical_m: 300.0,
        time_s: 300.0,
        ..LineRules::default()
    };
    let command = Command::CreateLine {
        line: LINE.into(),
        name: "bench air line".into(),
        parties: PARTIES.map(String::from).to_vec(),
        rules,
    };
    run_blocking(service, &host, command).context("creating the line")?;
    Ok(officers)
}

/// Conflicts reported in a notice's answer.
fn conflicts_in(body: &Value) -> usize {
    body["conflicts"].as_array().map_or(0, Vec::len)
}

/// Outcomes of preload notices: conflicts reported, and what went wrong.
#[derive(Default)]
struct Tally {
    conflicts: usize,
    failures: Vec<String>,
}

impl Tally {
    fn add(&mut self, outcome: Result<usize, String>) {
        match outcome {
            Ok(conflicts) => self.conflicts += conflicts,
            Err(e) => self.failures.push(e),
        }
    }
}

/// Notifies `count` activities straight to the service, round robin over the
/// parties, keeping up to [`PRELOAD_WINDOW`] queued so the writer commits
/// full groups while the next ones are generated.
fn preload(service: &Service, officers: &[Officer], count: usize) -> Result<()> {
    eprintln!("preloading {count} activities ...");
    let (done, finished) = std::sync::mpsc::channel::<Result<usize, String>>();
    let mut rng = Rng::new(11);
    let mut tally = Tally::default();
    let mut queued = 0usize;
    let t = Instant::now();
    for i in 0..count {
        if queued == PRELOAD_WINDOW {
            tally.add(finished.recv().context("the writer stopped")?);
            queued -= 1;
        }
        let command = Command::Notify {
            line: LINE.into(),
            category: Category::Air,
            point_of_contact: POINT_OF_CONTACT.into(),
            // The synthetic traffic is of fixed dates, past by now.
            volumes: Volumes::parse(activity_volumes(&mut rng), service.limits())
                .map_err(|e| anyhow::anyhow!("synthetic volumes: {e}"))?
                .with_unusual_confirmed(true),
            dry_run: false,
        };
        let done = done.clone();
        let reply = Box::new(move |r: Result<parley_service::Answer, _>| {
            let outcome = match r {
                Ok(a) if a.outcome == parley_service::WriteOutcome::Created => {
                    Ok(conflicts_in(&a.body))
                }
                Ok(a) => Err(format!("{:?}: {}", a.outcome, a.body)),
                Err(e) => Err(format!("{e}")),
            };
            let _ = done.send(outcome);
        });
        service.submit(
            officers[i % officers.len()].actor.clone(),
            command,
            None,
            reply,
        );
        queued += 1;
    }
    for _ in 0..queued {
        tally.add(finished.recv().context("the writer stopped")?);
    }
    let s = t.elapsed().as_secs_f64();
    if let Some(first) = tally.failures.first() {
        bail!(
            "{} of {count} preload notices failed; the first: {first}",
            tally.failures.len()
        );
    }
    eprintln!(
        "preload: {count} activities in {s:.2} s ({:.0}/s), {} conflicts found, journal at {}",
        count as f64 / s,
        tally.conflicts,
        service.read(|st| st.last_seq())
    );
    Ok(())
}

/// Runs the server in-process and posts the notices over HTTP.
fn drive(
    service: Service,
    committed: tokio::sync::watch::Receiver<u64>,
    officers: &[Officer],
    args: &Args,
) -> Result<Measured> {
    // The bodies are made before the clock starts: the client's share of the
    // work is only sending them. Client task `t` posts notices t, t + C, ...
    let mut rng = Rng::new(12);
    let mut queues: Vec<Vec<(usize, String)>> = vec![Vec::new(); args.concurrency];
    for i in 0..args.notices {
        let body = serde_json::json!({
            "category": "air",
            "point_of_contact": POINT_OF_CONTACT,
            "volumes": activity_volumes(&mut rng),
            "confirm_unusual": true,
        });
        queues[i % args.concurrency].push((i % officers.len(), body.to_string()));
    }
    let bearers: Arc<Vec<String>> = Arc::new(
        officers
            .iter()
            .map(|o| format!("Bearer {}", o.token))
            .collect(),
    );

    let tls = args.tls.then(BenchTls::new).transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut measured = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!(
            "{scheme}://{}/v1/lines/{LINE}/notices",
            listener.local_addr()?
        );
        eprintln!("posting {} notices to {url} ...", args.notices);
        let state = AppState {
            service: service.clone(),
            committed,
            rate: Arc::new(RateLimit::new(1e9)),
            streams: Arc::default(),
            federation: parley_server::Federation::new(
                service.clone(),
                parley_server::PEER_TIMEOUT,
                None,
            ),
        };
        // Room for every client however many there are: the bench measures
        // the service, not the connection cap.
        let connections = parley_server::Connections {
            max: parley_server::MAX_CONNECTIONS.max(args.concurrency + parley_server::RESERVE),
            ..Default::default()
        };
        let mut client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency);
        let server = match &tls {
            Some(tls) => {
                client = client.tls_certs_only([reqwest::Certificate::from_der(&tls.cert_der)?]);
                tokio::spawn(parley_server::serve_tls(
                    listener,
                    state,
                    connections,
                    Arc::clone(&tls.server),
                ))
            }
            None => tokio::spawn(parley_server::serve_with(listener, state, connections)),
        };
        let client = client.build()?;
        let posted = Arc::new(AtomicUsize::new(0));
        let progress = tokio::spawn({
            let posted = Arc::clone(&posted);
            let total = args.notices;
            async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    eprintln!("  {} / {total}", posted.load(Ordering::Relaxed));
                }
            }
        });

        let t = Instant::now();
        let writer_before = writer_cpu_s();
        let tasks: Vec<_> = queues
            .into_iter()
            .map(|queue| {
                let (client, url) = (client.clone(), url.clone());
                let (bearers, posted) = (Arc::clone(&bearers), Arc::clone(&posted));
                tokio::spawn(async move { post_all(client, url, bearers, posted, queue).await })
            })
            .collect();
        let mut m = Measured::default();
        for task in tasks {
            let part = task.await.context("a client task panicked")?;
            m.latencies_ms.extend(part.latencies_ms);
            m.accepted.extend(part.accepted);
            m.failures.extend(part.failures);
        }
        m.wall_s = t.elapsed().as_secs_f64();
        m.writer_cpu_s = writer_cpu_s()
            .zip(writer_before)
            .map(|(after, before)| after - before);
        progress.abort();
        server.abort();
        anyhow::Ok(m)
    })?;
    for body in std::mem::take(&mut measured.accepted) {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => measured.conflicts += conflicts_in(&v),
            Err(e) => measured
                .failures
                .push(format!("201 with an unreadable body: {e}")),
        }
    }
    // Stops the server's connections, so that the writer (holding the store) ends.
    runtime.shutdown_timeout(Duration::from_secs(5));
    Ok(measured)
}

/// The server's TLS for `--tls`: a self-signed certificate for 127.0.0.1,
/// made for the run (its files in the temporary directory, removed at once).
struct BenchTls {
    server: Arc<parley_server::Tls>,
    cert_der: Vec<u8>,
}

impl BenchTls {
    fn new() -> Result<Self> {
        let key = rcgen::KeyPair::generate()?;
        let cert =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])?.self_signed(&key)?;
        let dir = std::env::temp_dir();
        let id = std::process::id();
        let files = parley_server::TlsFiles {
            cert: dir.join(format!("parley-bench-{id}.crt")),
            key: dir.join(format!("parley-bench-{id}.key")),
            client_ca: None,
        };
        crate::secret::create(&files.key, &key.serialize_pem())?;
        std::fs::write(&files.cert, cert.pem())?;
        let server = parley_server::Tls::load(files.clone());
        let _ = std::fs::remove_file(&files.cert);
        let _ = std::fs::remove_file(&files.key);
        Ok(Self {
            server: Arc::new(server?),
            cert_der: cert.der().to_vec(),
        })
    }
}

/// One client's share: its notices posted one after the other.
async fn post_all(
    client: reqwest::Client,
    url: String,
    bearers: Arc<Vec<String>>,
    posted: Arc<AtomicUsize>,
    queue: Vec<(usize, String)>,
) -> Measured {
    let mut m = Measured {
        latencies_ms: Vec::with_capacity(queue.len()),
        accepted: Vec::with_capacity(queue.len()),
        ..Measured::default()
    };
    for (party, body) in queue {
        let t = Instant::now();
        let sent = client
            .post(&url)
            .header(reqwest::header::AUTHORIZATION, &bearers[party])
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let answer = match sent {
            Ok(r) => {
                let status = r.status();
                r.bytes().await.map(|b| (status, b))
            }
            Err(e) => Err(e),
        };
        m.latencies_ms.push(t.elapsed().as_secs_f64() * 1e3);
        posted.fetch_add(1, Ordering::Relaxed);
        match answer {
            Ok((status, bytes)) if status == reqwest::StatusCode::CREATED => {
                m.accepted.push(Vec::from(bytes))
            }
            Ok((status, bytes)) => m
                .failures
                .push(format!("{status}: {}", String::from_utf8_lossy(&bytes))),
            Err(e) => m.failures.push(format!("request failed: {e}")),
        }
    }
    m
}

/// CPU time used so far by the service's writer thread, from Linux's
/// /proc/self/task/*/schedstat (nanoseconds on the CPU); `None` elsewhere.
fn writer_cpu_s() -> Option<f64> {
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if name.trim_end() == "parley-writer" {
            let stat = std::fs::read_to_string(dir.join("schedstat")).ok()?;
            let ns: f64 = stat.split(' ').next()?.parse().ok()?;
            return Some(ns / 1e9);
        }
    }
    None
}
