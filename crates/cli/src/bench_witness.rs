//! `parley bench witness`: a witness's cosignatures a second, and what asking
//! for a cosigned receipt adds to a write.
//!
//! First, `--logs` logs (each its own key) submit `--steps` checkpoints each
//! to one in-process witness over loopback HTTP, one client per log, each
//! checkpoint one entry larger than the last with its consistency proof: the
//! witness verifies each log's signature and proof, cosigns, and commits
//! (SQLite, WAL, `synchronous=FULL`, a temporary file) before it answers.
//! Request bodies are made before the clock starts.
//!
//! Then an in-process `parley serve` (its own temporary store) with that
//! witness: `--writes` writes (the host makes a party) one at a time, first
//! alone, then each followed by `POST /v1/record/checkpoint/witnessed`, as a
//! party that wants a cosigned receipt at once does. The extra latency is the
//! difference of the two medians.

use crate::bench::percentile;
use anyhow::{ensure, Context, Result};
use parley_record::{AddCheckpoint, Checkpoint, Cosigner, MerkleLog, Origin, Signer};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Logs submitting checkpoints at once (one client each).
    #[arg(long, default_value_t = 32)]
    logs: usize,
    /// Checkpoints each log submits.
    #[arg(long, default_value_t = 200)]
    steps: u64,
    /// Writes timed alone and with a witnessed checkpoint after each.
    #[arg(long, default_value_t = 200)]
    writes: usize,
}

/// Temporary files, removed when dropped (also on error).
struct Temp(Vec<PathBuf>);

impl Drop for Temp {
    fn drop(&mut self) {
        for p in &self.0 {
            for suffix in ["", "-wal", "-shm", ".record-key"] {
                let mut path = p.clone().into_os_string();
                path.push(suffix);
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

fn median(mut ms: Vec<f64>) -> f64 {
    ms.sort_by(f64::total_cmp);
    percentile(&ms, 0.5)
}

/// The request bodies of one log: checkpoints of 1..=steps entries, each
/// from the one before.
fn bodies(log: usize, steps: u64) -> Result<(Signer, Vec<String>)> {
    let origin = format!("bench.example/log{log}");
    let signer = Signer::from_seed(&origin, &[log as u8 + 1; 32])?;
    let mut tree = MerkleLog::new();
    let mut out = Vec::new();
    for size in 1..=steps {
        tree.append(format!("{origin} entry {size}").as_bytes());
        let old = size - 1;
        let note = Checkpoint {
            origin: Origin::new(&origin)?,
            size,
            root: tree.root(),
            time_us: size,
        }
        .sign(&signer);
        let proof = if old == 0 {
            Vec::new()
        } else {
            tree.consistency_proof(old, size)?
        };
        out.push(
            AddCheckpoint {
                old_size: old,
                proof,
                note,
            }
            .body(),
        );
    }
    Ok((signer, out))
}

pub fn run(args: Args) -> Result<()> {
    ensure!((1..=255).contains(&args.logs), "--logs: 1 to 255");
    ensure!(
        args.steps >= 1 && args.writes >= 1,
        "--steps and --writes: at least 1"
    );
    let id = std::process::id();
    let tmp = std::env::temp_dir();
    let (witness_db, server_db) = (
        tmp.join(format!("parley-bench-witness-{id}.db")),
        tmp.join(format!("parley-bench-witness-serve-{id}.db")),
    );
    let _temp = Temp(vec![witness_db.clone(), server_db.clone()]);

    let mut logs = Vec::new();
    let mut queues = Vec::new();
    for l in 0..args.logs {
        let (signer, bodies) = bodies(l, args.steps)?;
        logs.push(signer.verifier_key());
        queues.push(bodies);
    }
    // The server's log is witnessed too.
    let (service, committed) = crate::serve::open(&server_db)?;
    let host = parley_server::bootstrap(&service)?.context("a fresh store has no operators")?;
    logs.push(parley_record::VerifierKey::parse(&service.record_key()?)?);
    let cosigner = Cosigner::from_seed("bench.example/witness", &[99; 32])?;
    let witness =
        parley_witness::Witness::open(&witness_db, cosigner, logs, parley_witness::system_clock())?;
    let witness_key = witness.cosigner_key().clone();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (cosign_per_s, cosign_ms, write_ms, witnessed_ms) = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let witness_url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(parley_server::serve_router(
            listener,
            parley_witness::router(witness),
            parley_server::Connections {
                max: parley_server::MAX_CONNECTIONS.max(args.logs + parley_server::RESERVE),
                ..Default::default()
            },
        ));
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(args.logs + 1)
            .build()?;
        eprintln!(
            "{} logs x {} checkpoints to the witness at {witness_url} ...",
            args.logs, args.steps
        );
        let t = Instant::now();
        let tasks: Vec<_> = queues
            .into_iter()
            .map(|queue| {
                let (client, url) = (client.clone(), format!("{witness_url}/add-checkpoint"));
                tokio::spawn(async move {
                    let mut ms = Vec::with_capacity(queue.len());
                    for body in queue {
                        let t = Instant::now();
                        let res = client.post(&url).body(body).send().await?;
                        let status = res.status();
                        let text = res.text().await?;
                        ensure!(status.is_success(), "the witness refused: {status} {text}");
                        ms.push(t.elapsed().as_secs_f64() * 1e3);
                    }
                    anyhow::Ok(ms)
                })
            })
            .collect();
        let mut cosign_ms = Vec::new();
        for task in tasks {
            cosign_ms.extend(task.await.context("a client panicked")??);
        }
        let cosign_per_s = cosign_ms.len() as f64 / t.elapsed().as_secs_f64();
        eprintln!("{cosign_per_s:.0} cosignatures a second");

        // The server, witnessed by that witness.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let server_url = format!("http://{}", listener.local_addr()?);
        let witnessing = parley_server::Witnessing::new(
            service.clone(),
            vec![parley_server::WitnessTarget {
                url: witness_url,
                key: witness_key,
            }],
            parley_server::WITNESS_TIMEOUT,
        );
        let state = parley_server::AppState {
            service: service.clone(),
            committed,
            rate: Arc::new(parley_server::RateLimit::new(1e9)),
            streams: Arc::default(),
            federation: parley_server::Federation::new(
                service.clone(),
                parley_server::PEER_TIMEOUT,
                None,
            ),
        };
        tokio::spawn(parley_server::serve_deployment(
            listener,
            state,
            parley_server::Connections::default(),
            false,
            Some(witnessing),
            None,
        ));
        let post = |path: String, body: Option<String>| {
            let req = client
                .post(format!("{server_url}{path}"))
                .bearer_auth(&host)
                .header("content-type", "application/json");
            let req = match body {
                Some(b) => req.body(b),
                None => req,
            };
            async move {
                let res = req.send().await?;
                let status = res.status();
                let text = res.text().await?;
                ensure!(status.is_success(), "{path}: {status} {text}");
                anyhow::Ok(text)
            }
        };
        let mut write_ms = Vec::new();
        let mut witnessed_ms = Vec::new();
        for i in 0..args.writes * 2 {
            let body = serde_json::json!({"id": format!("p{i}"), "name": format!("P{i}")});
            let t = Instant::now();
            post("/v1/parties".into(), Some(body.to_string())).await?;
            if i % 2 == 1 {
                let cp = post("/v1/record/checkpoint/witnessed".into(), None).await?;
                ensure!(
                    cp.contains("bench.example/witness"),
                    "the checkpoint is not cosigned: {cp}"
                );
                witnessed_ms.push(t.elapsed().as_secs_f64() * 1e3);
            } else {
                write_ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        anyhow::Ok((
            cosign_per_s,
            median(cosign_ms),
            median(write_ms),
            median(witnessed_ms),
        ))
    })?;
    runtime.shutdown_timeout(Duration::from_secs(5));
    println!(
        "bench witness cosign_per_s={cosign_per_s:.0} cosign_p50_ms={cosign_ms:.2} write_p50_ms={write_ms:.2} witnessed_write_p50_ms={witnessed_ms:.2} extra_p50_ms={:.2} logs={} steps={} writes={}",
        witnessed_ms - write_ms,
        args.logs,
        args.steps,
        args.writes
    );
    Ok(())
}
