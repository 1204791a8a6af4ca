//! `parley bench faults`: nothing acknowledged is lost when the server is
//! killed under load (issue 21, point 1).
//!
//! A `parley serve` child process (SQLite in a temporary directory, or with
//! `--postgres` an empty database) gets two parties and a line. `--concurrency`
//! clients keep notices, acknowledgments of the other party's notices and
//! messages in flight, each with an `Idempotency-Key` of its own, retried with
//! the same key and body on any failure to get an answer (connection refused or
//! cut, 503), as the CLI does. Meanwhile the harness SIGKILLs the server at
//! random moments (`--kills` times, seeded by `--seed`), saving the signed
//! checkpoint just before each kill, and starts it again on the same store.
//! It goes on until both `--kills` kills and `--writes` acknowledged writes
//! are done.
//!
//! Then, from the last server: every write that was answered success is
//! present exactly once (a notice by its point of contact, a message by its
//! text, an acknowledgment by its activity and party); a write that was never
//! answered success is present at most once; a party's export of the record
//! verifies offline (`parley verify export`, the binary itself); and every
//! saved checkpoint is consistent with the final record. The last line:
//! `bench faults kills=... acknowledged=... lost=... duplicated=...
//! record_ok=... restart_p50_ms=... restart_last_ms=... store=...`; the
//! command fails unless nothing was lost or doubled and the record verified.

use crate::served::{world, Served};
use anyhow::{bail, ensure, Context, Result};
use parley_record::Hash;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// SIGKILLs of the server, at random moments.
    #[arg(long, default_value_t = 20)]
    kills: usize,
    /// Writes answered success to reach (notices, acknowledgments, messages).
    #[arg(long, default_value_t = 10_000)]
    writes: usize,
    /// Writes in flight at once (one client task each).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// The longest wait between two kills, milliseconds (each wait is drawn
    /// from a quarter of it to all of it).
    #[arg(long, default_value_t = 2_000)]
    kill_every_ms: u64,
    /// Seed of the kills' moments and of the clients' choices.
    #[arg(long, default_value_t = 20_261_202)]
    seed: u64,
    /// Keep the journal in PostgreSQL: a connection string for an empty
    /// database (the record key goes in the temporary directory).
    #[arg(long)]
    postgres: Option<String>,
}

pub(crate) const LINE: &str = "faults";
pub(crate) const PARTIES: [&str; 2] = ["blue", "red"];
/// How long a client keeps retrying one write before it counts it failed.
const GIVE_UP: Duration = Duration::from_secs(120);

/// What a client asked for, and how it ended.
#[derive(Clone, Debug)]
pub(crate) enum Write {
    /// A notice by `party`, told apart by its point of contact.
    Notice { party: usize, tag: String },
    /// A message, told apart by its text.
    Message { tag: String },
    /// `party`'s acknowledgment of version 1 of `activity`.
    Ack { party: usize, activity: String },
}

/// The server, as the clients reach it: its URL changes with each restart.
pub(crate) struct Target {
    pub(crate) url: RwLock<String>,
}

impl Target {
    fn url(&self) -> String {
        self.url.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A small deterministic generator (SplitMix64), so a run can be repeated.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub fn run(args: Args) -> Result<()> {
    ensure!(args.concurrency >= 1, "--concurrency must be at least 1");
    crate::served::in_temp_dir("faults", |dir| async move { faults(&args, &dir).await })
}

fn store_args(args: &Args, dir: &std::path::Path) -> Vec<String> {
    let mut v = vec!["--rate-limit".into(), "1000000".into()];
    match &args.postgres {
        Some(url) => v.extend([
            "--postgres".into(),
            url.clone(),
            "--record-key".into(),
            dir.join("record-key").display().to_string(),
        ]),
        None => v.extend(["--db".into(), dir.join("parley.db").display().to_string()]),
    }
    v
}

async fn faults(args: &Args, dir: &std::path::Path) -> Result<()> {
    let store = store_args(args, dir);
    let mut served = Served::start(&store)?;
    let host = served.host.clone().context("the store was not new")?;
    let http = reqwest::Client::new();
    let rules = json!({"horizontal_m": 500, "vertical_m": 100, "time_s": 60});
    let officers = world(&http, &served.url, &host, &PARTIES, LINE, rules).await?;
    let target = Arc::new(Target {
        url: RwLock::new(served.url.clone()),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    // Notices answered success, waiting for the other party to acknowledge.
    let to_ack: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
    let mut clients = Vec::new();
    for c in 0..args.concurrency {
        let load = Load {
            http: http.clone(),
            target: target.clone(),
            officers: officers.clone(),
            to_ack: to_ack.clone(),
            acknowledged: acknowledged.clone(),
            stop: stop.clone(),
            rng: Rng(args.seed ^ (c as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d)),
            client: c,
        };
        clients.push(tokio::spawn(load.run()));
    }

    let mut rng = Rng(args.seed);
    let mut checkpoints = Vec::new();
    let mut restarts_ms = Vec::new();
    let mut kills = 0;
    while kills < args.kills || acknowledged.load(Ordering::SeqCst) < args.writes {
        if clients.iter().all(|c| c.is_finished()) {
            break;
        }
        if kills >= args.kills {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let wait = args.kill_every_ms / 4 + rng.below(args.kill_every_ms * 3 / 4 + 1);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        // What a party would have saved before the kill.
        if let Ok(cp) = checkpoint(&http, &served.url, &officers[0]).await {
            checkpoints.push(cp);
        }
        served.kill();
        kills += 1;
        let started = Instant::now();
        served = Served::start(&store)?;
        wait_healthy(&http, &served.url).await?;
        restarts_ms.push(started.elapsed().as_secs_f64() * 1e3);
        *target.url.write().unwrap_or_else(|e| e.into_inner()) = served.url.clone();
        eprintln!(
            "kill {kills}: {} writes acknowledged so far; back in {:.0} ms",
            acknowledged.load(Ordering::SeqCst),
            restarts_ms.last().copied().unwrap_or_default()
        );
    }
    stop.store(true, Ordering::SeqCst);
    let mut answered = Vec::new();
    let mut failed = Vec::new();
    for c in clients {
        let (ok, not) = c.await??;
        answered.extend(ok.into_iter().map(|(w, _)| w));
        failed.extend(not);
    }
    let kinds = |ws: &[Write]| {
        let mut n = [0usize; 3];
        for w in ws {
            n[match w {
                Write::Notice { .. } => 0,
                Write::Message { .. } => 1,
                Write::Ack { .. } => 2,
            }] += 1;
        }
        format!(
            "{} notices, {} messages, {} acknowledgments",
            n[0], n[1], n[2]
        )
    };
    eprintln!(
        "answered: {}; never answered: {}",
        kinds(&answered),
        kinds(&failed)
    );
    let check = Check::read(&http, &served.url, &host).await?;
    let (lost, duplicated) = check.count(&answered, &failed);
    let record_ok = record_verifies(&http, &served.url, &officers[1], dir, &checkpoints).await;
    if let Err(e) = &record_ok {
        eprintln!("the record does not verify: {e:#}");
    }
    let last_restart = restarts_ms.last().copied().unwrap_or_default();
    restarts_ms.sort_by(f64::total_cmp);
    let p50 = crate::bench::percentile(&restarts_ms, 0.5);
    println!(
        "bench faults kills={kills} acknowledged={} failed={} lost={lost} duplicated={duplicated} record_ok={} checkpoints={} restart_p50_ms={p50:.0} restart_last_ms={last_restart:.0} store={}",
        answered.len(),
        failed.len(),
        record_ok.is_ok(),
        checkpoints.len(),
        if args.postgres.is_some() { "postgres" } else { "sqlite" }
    );
    ensure!(
        lost == 0 && duplicated == 0 && record_ok.is_ok(),
        "writes were lost or doubled, or the record does not verify"
    );
    Ok(())
}

/// One client: writes one at a time until told to stop.
pub(crate) struct Load {
    pub(crate) http: reqwest::Client,
    pub(crate) target: Arc<Target>,
    pub(crate) officers: Vec<String>,
    pub(crate) to_ack: Arc<Mutex<Vec<(usize, String)>>>,
    pub(crate) acknowledged: Arc<AtomicUsize>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) rng: Rng,
    pub(crate) client: usize,
}

impl Load {
    /// The writes answered success (with when), and those that never were.
    pub(crate) async fn run(mut self) -> Result<(Vec<(Write, Instant)>, Vec<Write>)> {
        let (mut answered, mut failed) = (Vec::new(), Vec::new());
        let mut n = 0u64;
        while !self.stop.load(Ordering::SeqCst) {
            n += 1;
            let party = self.rng.below(2) as usize;
            let tag = format!("c{}-{n}", self.client);
            let waiting = {
                let mut list = self.to_ack.lock().unwrap_or_else(|e| e.into_inner());
                let pick = list.iter().position(|(by, _)| *by != party);
                pick.filter(|_| self.rng.below(4) == 0)
                    .map(|i| list.swap_remove(i))
            };
            let (write, path, body) = match waiting {
                Some((_, activity)) => self.ack_body(party, activity).await?,
                None if self.rng.below(3) == 0 => (
                    Write::Message { tag: tag.clone() },
                    format!("/v1/lines/{LINE}/messages"),
                    json!({"text": tag, "priority": "routine"}),
                ),
                None => (
                    Write::Notice {
                        party,
                        tag: tag.clone(),
                    },
                    format!("/v1/lines/{LINE}/notices"),
                    notice(&mut self.rng, &tag),
                ),
            };
            match self.send(party, &path, &tag, &body).await? {
                Some(answer) => {
                    if let Write::Notice { party, .. } = &write {
                        if let Some(a) = answer["activity"].as_str() {
                            let mut list = self.to_ack.lock().unwrap_or_else(|e| e.into_inner());
                            list.push((*party, a.to_string()));
                        }
                    }
                    self.acknowledged.fetch_add(1, Ordering::SeqCst);
                    answered.push((write, Instant::now()));
                }
                None => failed.push(write),
            }
        }
        Ok((answered, failed))
    }

    /// An acknowledgment of version 1 of `activity`, read back by its hash.
    async fn ack_body(&self, party: usize, activity: String) -> Result<(Write, String, Value)> {
        let deadline = Instant::now() + GIVE_UP;
        loop {
            let url = self.target.url();
            let res = self
                .http
                .get(format!("{url}/v1/activities/{activity}"))
                .bearer_auth(&self.officers[party])
                .send()
                .await;
            if let Ok(r) = res {
                if r.status() == 200 {
                    let v: Value = r.json().await?;
                    let hash = v["content_sha256"].as_str().context("a read-back")?;
                    let body = json!({"version": 1, "content_sha256": hash});
                    let path = format!("/v1/activities/{activity}/acknowledgments");
                    return Ok((Write::Ack { party, activity }, path, body));
                }
                // With several nodes, this one may not have caught up yet with
                // the one that took the notice (it does within a second).
                ensure!(
                    r.status() == 404,
                    "reading {activity} answered {}",
                    r.status()
                );
            }
            ensure!(Instant::now() < deadline, "the server did not come back");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends one write until it is answered: the answer on success, `None`
    /// when it gave up. The same key and body every time, as the CLI retries.
    async fn send(
        &self,
        party: usize,
        path: &str,
        key: &str,
        body: &Value,
    ) -> Result<Option<Value>> {
        let deadline = Instant::now() + GIVE_UP;
        while Instant::now() < deadline {
            let url = self.target.url();
            let res = self
                .http
                .post(format!("{url}{path}"))
                .bearer_auth(&self.officers[party])
                .header("Idempotency-Key", key)
                .json(body)
                .send()
                .await;
            match res {
                Ok(r) if r.status().is_success() => {
                    // An answer cut by the kill is no answer: send again.
                    if let Ok(v) = r.json::<Value>().await {
                        return Ok(Some(v));
                    }
                }
                Ok(r) if r.status() == 503 || r.status() == 429 => {}
                Ok(r) => {
                    let status = r.status();
                    bail!(
                        "{path} was refused: {status} {}",
                        r.text().await.unwrap_or_default()
                    )
                }
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(None)
    }
}

/// A notice of one small disc somewhere in a 2° square, for the next hours:
/// now and then two meet, so conflicts are found and logged too.
pub(crate) fn notice(rng: &mut Rng, tag: &str) -> Value {
    let lat = 10.0 + rng.below(2_000) as f64 / 1_000.0;
    let lng = 20.0 + rng.below(2_000) as f64 / 1_000.0;
    let now = crate::served::now_us();
    let start = now + 3_600_000_000 + rng.below(6) as i64 * 1_800_000_000;
    let at = |t| parley_wire::format_timestamp(parley_engine::Timestamp(t));
    json!({"category": "air", "point_of_contact": tag, "volumes": [{
        "volume": {"outline_circle": {"center": {"lat": lat, "lng": lng},
            "radius": {"value": 300, "units": "M"}},
            "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": 1000, "reference": "W84", "units": "M"}},
        "time_start": {"value": at(start), "format": "RFC3339"},
        "time_end": {"value": at(start + 1_800_000_000), "format": "RFC3339"}}]})
}

/// The signed checkpoint as a party saves it: `(size, root hex, note, key)`.
pub(crate) async fn checkpoint(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> Result<(u64, String, String, String)> {
    let v: Value = http
        .get(format!("{url}/v1/record/checkpoint"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(2))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok((
        v["size"].as_u64().context("size")?,
        v["root"].as_str().context("root")?.to_string(),
        v["checkpoint"].as_str().context("checkpoint")?.to_string(),
        v["key"].as_str().context("key")?.to_string(),
    ))
}

pub(crate) async fn wait_healthy(http: &reqwest::Client, url: &str) -> Result<()> {
    let deadline = Instant::now() + GIVE_UP;
    loop {
        if let Ok(r) = http.get(format!("{url}/v1/health")).send().await {
            if r.status() == 200 {
                return Ok(());
            }
        }
        ensure!(
            Instant::now() < deadline,
            "the server did not become healthy"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// What the last server holds, as the host reads it.
pub(crate) struct Check {
    /// Notices by point of contact: how many.
    notices: HashMap<String, usize>,
    /// Messages by text: how many.
    messages: HashMap<String, usize>,
    /// Acknowledgments by (activity, party): how many.
    acks: HashMap<(String, String), usize>,
}

impl Check {
    pub(crate) async fn read(http: &reqwest::Client, url: &str, host: &str) -> Result<Check> {
        let get = |path: String| async move {
            let v: Value = http
                .get(format!("{url}{path}"))
                .bearer_auth(host)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            Ok::<_, anyhow::Error>(v)
        };
        let mut check = Check {
            notices: HashMap::new(),
            messages: HashMap::new(),
            acks: HashMap::new(),
        };
        let list = get(format!("/v1/activities?line={LINE}")).await?;
        for a in list["activities"].as_array().context("activities")? {
            let id = a["id"].as_str().context("an id")?;
            let full = get(format!("/v1/activities/{id}")).await?;
            let poc = full["current"]["content"]["point_of_contact"]
                .as_str()
                .context("a point of contact")?;
            *check.notices.entry(poc.to_string()).or_default() += 1;
            for ack in full["acknowledgments"]
                .as_array()
                .context("acknowledgments")?
            {
                let party = ack["entry"]["party"].as_str().or(ack["party"].as_str());
                let party = party.context("an acknowledging party")?.to_string();
                *check.acks.entry((id.to_string(), party)).or_default() += 1;
            }
        }
        let mut after = 0;
        loop {
            let page = get(format!(
                "/v1/lines/{LINE}/messages?after={after}&limit=5000"
            ))
            .await?;
            let messages = page["messages"].as_array().context("messages")?;
            if messages.is_empty() {
                break;
            }
            for m in messages {
                let text = m["entry"]["text"].as_str().or(m["text"].as_str());
                *check
                    .messages
                    .entry(text.context("a text")?.to_string())
                    .or_default() += 1;
            }
            after += messages.len();
        }
        Ok(check)
    }

    fn found(&self, w: &Write) -> usize {
        match w {
            Write::Notice { tag, .. } => self.notices.get(tag).copied().unwrap_or(0),
            Write::Message { tag, .. } => self.messages.get(tag).copied().unwrap_or(0),
            Write::Ack { party, activity } => self
                .acks
                .get(&(activity.clone(), PARTIES[*party].to_string()))
                .copied()
                .unwrap_or(0),
        }
    }

    /// (lost, duplicated): answered writes not found once, and any write found
    /// more than once.
    pub(crate) fn count(&self, answered: &[Write], failed: &[Write]) -> (usize, usize) {
        let mut lost = 0;
        let mut duplicated = 0;
        for w in answered {
            match self.found(w) {
                0 => {
                    eprintln!("lost: {w:?}");
                    lost += 1;
                }
                1 => {}
                n => {
                    eprintln!("{n} times: {w:?}");
                    duplicated += 1;
                }
            }
        }
        for w in failed {
            if self.found(w) > 1 {
                eprintln!("unanswered, and there more than once: {w:?}");
                duplicated += 1;
            }
        }
        (lost, duplicated)
    }
}

/// A party's export of the final record verifies offline with the binary's
/// own `parley verify export`, and every checkpoint saved before a kill is
/// consistent with the final one.
pub(crate) async fn record_verifies(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    dir: &std::path::Path,
    saved: &[(u64, String, String, String)],
) -> Result<()> {
    let export = http
        .get(format!("{url}/v1/record/export"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let file = dir.join("export.jsonl");
    std::fs::write(&file, export)?;
    let (size, root, _, key) = checkpoint(http, url, token).await?;
    let out = std::process::Command::new(std::env::current_exe()?)
        .args(["verify", "export"])
        .arg(&file)
        .args(["--key", &key])
        .output()?;
    ensure!(
        out.status.success(),
        "parley verify export: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hash = |h: &str| Hash::from_hex(h).with_context(|| format!("a hash: {h}"));
    let final_root = hash(&root)?;
    let verifier = parley_record::VerifierKey::parse(&key)?;
    for (old_size, old_root, note, _) in saved {
        let cp = parley_record::SignedCheckpoint::parse_and_verify(note, &verifier)
            .map_err(|e| anyhow::anyhow!("a saved checkpoint's signature: {e}"))?;
        ensure!(
            cp.size == *old_size && cp.root.to_string() == *old_root,
            "a saved checkpoint says other than its answer"
        );
        let v: Value = http
            .get(format!(
                "{url}/v1/record/consistency?from={old_size}&to={size}"
            ))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let proof: Vec<Hash> = v["proof"]
            .as_array()
            .context("a proof")?
            .iter()
            .map(|h| hash(h.as_str().unwrap_or_default()))
            .collect::<Result<_>>()?;
        parley_record::verify_consistency(*old_size, size, &cp.root, &final_root, &proof)
            .map_err(|e| anyhow::anyhow!("checkpoint of size {old_size}: {e}"))?;
    }
    Ok(())
}
