//! A `parley serve` child process for the benchmarks that drive a real server
//! from outside (`bench abuse`, `bench faults`): started from this binary on a
//! free loopback port, its URL and host token read from what it prints,
//! killed when dropped.

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running `parley serve`.
pub struct Served {
    child: Child,
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    /// The host admin token, when the store was new.
    pub host: Option<String>,
}

impl Served {
    /// Starts `parley serve --listen 127.0.0.1:0` with `args` (the store and
    /// any other flags) and waits until it listens.
    pub fn start(args: &[String]) -> Result<Served> {
        // A free port unless `args` give the address.
        let listen = if args.iter().any(|a| a == "--listen") {
            &[][..]
        } else {
            &["--listen", "127.0.0.1:0"][..]
        };
        let mut child = Command::new(std::env::current_exe()?)
            .args(["serve", "--no-access-log"])
            .args(listen)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting parley serve")?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let mut host = None;
        let url = loop {
            let Some(line) = lines.next() else {
                let status = child.wait()?;
                anyhow::bail!("parley serve stopped before listening ({status})");
            };
            let line = line?;
            if let Some(t) = line.strip_prefix("host admin token (shown once; keep it safe): ") {
                host = Some(t.to_string());
            }
            if let Some(u) = line.strip_prefix("parley listening on ") {
                break u.to_string();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(Served { child, url, host })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and wait until the process is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}

/// POSTs `body` to `path` with `token`: the status and the answer's text.
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    path: &str,
    token: &str,
    body: &Value,
) -> Result<(u16, String)> {
    let res = http
        .post(format!("{url}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await?;
    let status = res.status().as_u16();
    Ok((status, res.text().await?))
}

/// Makes `parties` (each with an officer) and a line between them with
/// `rules`, as the host; the officers' tokens, in the order of `parties`.
pub async fn world(
    http: &reqwest::Client,
    url: &str,
    host: &str,
    parties: &[&str],
    line: &str,
    rules: Value,
) -> Result<Vec<String>> {
    let mut officers = Vec::new();
    for party in parties {
        let body = json!({"id": party, "name": party});
        let (s, t) = post(http, url, "/v1/parties", host, &body).await?;
        ensure!(s == 201, "creating {party}: {s} {t}");
        let body = json!({"name": format!("{party} officer"), "role": "officer"});
        let path = format!("/v1/parties/{party}/operators");
        let (s, t) = post(http, url, &path, host, &body).await?;
        ensure!(s == 201, "creating {party}'s officer: {s} {t}");
        let v: Value = serde_json::from_str(&t)?;
        officers.push(v["token"].as_str().context("a token")?.to_string());
    }
    let body = json!({"id": line, "name": line, "parties": parties, "rules": rules});
    let (s, t) = post(http, url, "/v1/lines", host, &body).await?;
    ensure!(s == 201, "creating the line: {s} {t}");
    Ok(officers)
}

/// Now, µs since the Unix epoch, as the volumes the benchmarks send need it.
pub fn now_us() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    since.as_micros() as i64
}

/// Runs `bench` on a two-thread runtime with a fresh temporary directory
/// named after it, removed afterwards whatever the outcome.
pub fn in_temp_dir<F, Fut>(name: &str, bench: F) -> anyhow::Result<()>
where
    F: FnOnce(std::path::PathBuf) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let dir = std::env::temp_dir().join(format!("parley-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(bench(dir.clone()));
    let _ = std::fs::remove_dir_all(&dir);
    result
}
