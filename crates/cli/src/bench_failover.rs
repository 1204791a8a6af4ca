//! `parley bench failover`: two Parley nodes on a PostgreSQL primary with a
//! synchronous standby; under load the primary is killed and the standby
//! promoted (issue 21, point 3).
//!
//! The harness makes both clusters itself in a temporary directory with
//! Debian's `postgresql` (`initdb`, `pg_basebackup`, `pg_ctl`, run as the
//! `postgres` user when this runs as root): streaming replication with the
//! standby named in `synchronous_standby_names`, so a commit returns only once
//! the standby has it. Two `parley serve` nodes connect with one multi-host
//! connection string (`host=…,… port=P,S target_session_attrs=read-write`), so
//! they find the primary, whichever it is. Clients write to both nodes as in
//! `bench faults` (each write with its own `Idempotency-Key`, retried with it
//! until answered). After `--writes-before` acknowledged writes the primary is
//! stopped at once (`pg_ctl stop -m immediate`, as a crash) and the standby
//! promoted; the nodes reconnect by themselves; the clients go on until
//! `--writes-after` more. Then every acknowledged write must be there exactly
//! once and a party's export must verify. The last line: `bench failover
//! acknowledged=... lost=... duplicated=... record_ok=...
//! without_service_ms=...`, the time from the kill to the first write answered
//! after it.

use crate::bench_faults::{
    checkpoint, record_verifies, wait_healthy, Check, Load, Rng, Target, LINE, PARTIES,
};
use crate::served::{world, Served};
use anyhow::{bail, ensure, Context, Result};
use parley_store_postgres::local::{as_postgres, initdb, server_programs};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Writes acknowledged before the primary is killed.
    #[arg(long, default_value_t = 2_000)]
    writes_before: usize,
    /// Writes acknowledged after it.
    #[arg(long, default_value_t = 2_000)]
    writes_after: usize,
    /// Writes in flight at once, spread over the two nodes.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seed of the clients' choices.
    #[arg(long, default_value_t = 20_261_202)]
    seed: u64,
}

pub fn run(args: Args) -> Result<()> {
    // A short path: a socket's path is limited to about 100 bytes.
    let dir = PathBuf::from(format!("/tmp/parley-failover-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let result = Cluster::start(&dir).and_then(|cluster| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?
            .block_on(failover(&args, &cluster))
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A primary and its synchronous standby, stopped and removed when dropped.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    ports: [u16; 2],
}

impl Cluster {
    fn data(&self, i: usize) -> PathBuf {
        self.dir.join(["primary", "standby"][i])
    }

    fn start(dir: &Path) -> Result<Cluster> {
        let bin = server_programs().map_err(anyhow::Error::msg)?;
        let free = || -> Result<u16> {
            Ok(std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port())
        };
        let cluster = Cluster {
            dir: dir.to_path_buf(),
            bin,
            ports: [free()?, free()?],
        };
        let [p, s] = cluster.ports;
        succeed(&mut initdb(&cluster.bin, dir, &cluster.data(0)))?;
        append(
            &cluster.data(0).join("postgresql.conf"),
            &format!(
                "listen_addresses = '127.0.0.1'\nport = {p}\nunix_socket_directories = '{}'\n\
                 synchronous_standby_names = 'standby'\nsynchronous_commit = on\n",
                dir.display()
            ),
        )?;
        cluster.pg_ctl(0, &["start", "--wait"])?;
        succeed(
            as_postgres(dir, &cluster.bin.join("pg_basebackup"))
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &p.to_string(),
                    "-U",
                    "postgres",
                    "-X",
                    "stream",
                    "-R",
                    "-D",
                ])
                .arg(cluster.data(1)),
        )?;
        // The standby names itself as the primary expects, listens on its own
        // port, and once promoted waits for no standby of its own.
        append(
            &cluster.data(1).join("postgresql.conf"),
            &format!(
                "port = {s}\nsynchronous_standby_names = ''\n\
                 primary_conninfo = 'host=127.0.0.1 port={p} user=postgres application_name=standby'\n"
            ),
        )?;
        let _ = std::fs::remove_file(cluster.data(1).join("postgresql.auto.conf"));
        as_postgres(dir, Path::new("touch"))
            .arg(cluster.data(1).join("postgresql.auto.conf"))
            .status()?;
        cluster.pg_ctl(1, &["start", "--wait"])?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while cluster.psql(0, "SELECT sync_state FROM pg_stat_replication")? != "sync" {
            ensure!(
                Instant::now() < deadline,
                "the standby never became synchronous"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        cluster.psql(0, "CREATE DATABASE parley")?;
        Ok(cluster)
    }

    fn pg_ctl(&self, i: usize, args: &[&str]) -> Result<()> {
        succeed(
            as_postgres(&self.dir, &self.bin.join("pg_ctl"))
                .args(args)
                .arg("-D")
                .arg(self.data(i))
                .arg("-l")
                .arg(self.dir.join(format!("log-{i}"))),
        )
    }

    fn psql(&self, i: usize, sql: &str) -> Result<String> {
        let out = Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.ports[i].to_string(),
                "-U",
                "postgres",
            ])
            .args(["-tAc", sql])
            .output()
            .context("psql (Debian: postgresql-client)")?;
        ensure!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The connection string that finds the primary, whichever it is.
    fn conninfo(&self) -> String {
        let [p, s] = self.ports;
        format!(
            "host=127.0.0.1,127.0.0.1 port={p},{s} user=postgres dbname=parley \
             target_session_attrs=read-write sslmode=disable connect_timeout=2"
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..2 {
            let _ = as_postgres(&self.dir, &self.bin.join("pg_ctl"))
                .args(["stop", "--mode=immediate", "-D"])
                .arg(self.data(i))
                .output();
        }
    }
}

fn append(file: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(file)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

fn succeed(cmd: &mut Command) -> Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

async fn failover(args: &Args, cluster: &Cluster) -> Result<()> {
    ensure!(
        args.concurrency >= 2,
        "--concurrency must be at least 2 (one a node)"
    );
    let store = vec![
        "--rate-limit".to_string(),
        "1000000".into(),
        "--postgres".into(),
        cluster.conninfo(),
        "--record-key".into(),
        cluster.dir.join("record-key").display().to_string(),
    ];
    let first = Served::start(&store)?;
    let host = first.host.clone().context("the store was not new")?;
    let http = reqwest::Client::new();
    let rules = json!({"horizontal_m": 500, "vertical_m": 100, "time_s": 60});
    let officers = world(&http, &first.url, &host, &PARTIES, LINE, rules).await?;
    let second = Served::start(&store)?;
    wait_healthy(&http, &second.url).await?;
    let nodes = [&first, &second];
    let targets: Vec<Arc<Target>> = nodes
        .iter()
        .map(|n| {
            Arc::new(Target {
                url: RwLock::new(n.url.clone()),
            })
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let to_ack = Arc::default();
    let mut clients = Vec::new();
    for c in 0..args.concurrency {
        let load = Load {
            http: http.clone(),
            target: targets[c % 2].clone(),
            officers: officers.clone(),
            to_ack: Arc::clone(&to_ack),
            acknowledged: acknowledged.clone(),
            stop: stop.clone(),
            rng: Rng(args.seed ^ (c as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d)),
            client: c,
        };
        clients.push(tokio::spawn(load.run()));
    }
    let until = |n: usize| {
        let acknowledged = acknowledged.clone();
        async move {
            while acknowledged.load(Ordering::SeqCst) < n {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    until(args.writes_before).await;
    let killed = Instant::now();
    cluster.pg_ctl(0, &["stop", "--mode=immediate"])?;
    cluster.pg_ctl(1, &["promote", "--wait"])?;
    eprintln!(
        "primary killed after {} writes; standby promoted in {:.0} ms",
        acknowledged.load(Ordering::SeqCst),
        killed.elapsed().as_secs_f64() * 1e3
    );
    until(args.writes_before + args.writes_after).await;
    stop.store(true, Ordering::SeqCst);
    let (mut answered, mut failed) = (Vec::new(), Vec::new());
    for c in clients {
        let (ok, not) = c.await??;
        answered.extend(ok);
        failed.extend(not);
    }
    // The time without service: the longest gap between two writes answered
    // one after the other (by any client), which is the one around the kill.
    let mut times: Vec<Instant> = answered.iter().map(|(_, at)| *at).collect();
    times.sort();
    ensure!(
        times.last().is_some_and(|t| *t > killed),
        "no write was answered after the kill"
    );
    let without_service = times
        .windows(2)
        .map(|w| w[1].duration_since(w[0]))
        .max()
        .unwrap_or_default();
    let answered: Vec<_> = answered.into_iter().map(|(w, _)| w).collect();
    // A node learns what the other wrote when it next begins a batch (its
    // ticker makes one a second): read once both hold the same record.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let a = checkpoint(&http, &first.url, &host).await.map(|c| c.0);
        let b = checkpoint(&http, &second.url, &host).await.map(|c| c.0);
        if let (Ok(a), Ok(b)) = (a, b) {
            if a == b {
                break;
            }
        }
        ensure!(
            Instant::now() < deadline,
            "the nodes never caught up with each other"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let check = Check::read(&http, &first.url, &host).await?;
    let (lost, duplicated) = check.count(&answered, &failed);
    let record_ok = record_verifies(&http, &second.url, &officers[1], &cluster.dir, &[]).await;
    if let Err(e) = &record_ok {
        eprintln!("the record does not verify: {e:#}");
    }
    println!(
        "bench failover acknowledged={} failed={} lost={lost} duplicated={duplicated} record_ok={} without_service_ms={:.0} nodes=2",
        answered.len(),
        failed.len(),
        record_ok.is_ok(),
        without_service.as_secs_f64() * 1e3
    );
    ensure!(
        lost == 0 && duplicated == 0 && record_ok.is_ok(),
        "writes were lost or doubled, or the record does not verify"
    );
    Ok(())
}
