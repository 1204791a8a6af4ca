//! Faults against real processes (issue 21): `parley bench faults`, short.
//! The server is SIGKILLed at random moments under load and started again on
//! the same store; every write answered success must be there exactly once
//! and the record must verify (the bench checks, and fails otherwise). On
//! SQLite, and on PostgreSQL in the second round of `cargo xtask test`.

mod common;

use std::process::Command;

/// The `key=value` fields of the bench's last line.
fn fields(line: &str) -> std::collections::HashMap<String, String> {
    line.split_whitespace()
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_server_killed_under_load_loses_and_doubles_nothing() {
    let mut bench = Command::new(common::BIN);
    bench.args([
        "bench",
        "faults",
        "--kills",
        "4",
        "--writes",
        "400",
        "--concurrency",
        "8",
        "--kill-every-ms",
        "600",
    ]);
    let store = match common::postgres_database("faults") {
        Some(url) => {
            bench.args(["--postgres", &url]);
            "postgres"
        }
        None => "sqlite",
    };
    let out = bench.output().expect("parley bench faults runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let last = stdout.lines().last().expect("a last line");
    let f = fields(last);
    assert_eq!(f["kills"], "4", "{last}");
    assert_eq!(f["lost"], "0", "{last}");
    assert_eq!(f["duplicated"], "0", "{last}");
    assert_eq!(f["record_ok"], "true", "{last}");
    assert_eq!(f["store"], store, "{last}");
    assert!(f["acknowledged"].parse::<usize>().unwrap() >= 400, "{last}");
    assert!(f["checkpoints"].parse::<usize>().unwrap() >= 1, "{last}");
}

/// A small file system of the test's own (tmpfs), unmounted when dropped.
struct SmallDisk {
    path: std::path::PathBuf,
}

impl SmallDisk {
    /// `None` when this process may not mount one (not root): the test says
    /// it was skipped.
    fn mount(name: &str, mib: u32) -> Option<SmallDisk> {
        let path = common::temp_dir(name).join("disk");
        std::fs::create_dir_all(&path).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={mib}m,mode=0700"),
                "tmpfs",
            ])
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { path })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Fills the file system of `file` but for about `leave` bytes.
fn fill(file: &std::path::Path, leave: u64) {
    use std::io::Write;
    let mut f = std::fs::File::create(file).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    while f.write_all(&chunk).is_ok() {
        written += chunk.len() as u64;
    }
    let _ = f.sync_all();
    f.set_len(written.saturating_sub(leave)).unwrap();
}

#[tokio::test]
async fn a_full_store_refuses_writes_keeps_reads_and_resumes_by_itself() {
    use common::http::{disc, notice, Server};
    use reqwest::{Method, StatusCode};
    if common::postgres().is_some() {
        eprintln!("skipped in the PostgreSQL round: the store on a small file system is SQLite's (PostgreSQL's disk-full, SQLSTATE 53100, maps to the same answer)");
        return;
    }
    let Some(disk) = SmallDisk::mount("disk-full", 16) else {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    };
    let mut server = Server::start_at(disk.path.join("parley.db"), "100000", None);
    let blue = server.party("blue").await;
    server.party("red").await;
    server.line("air", &["blue", "red"], 0.0).await;
    fill(&disk.path.join("filler"), 256 * 1024);

    let body = |i: u32| notice(vec![disc(-60.0 + f64::from(i) * 0.001, 10.0, 100.0, 1, 1)]);
    let send = |i: u32| {
        let server = &server;
        let token = blue.officer.clone();
        async move {
            let key = format!("full-{i}");
            server
                .call(
                    Method::POST,
                    "/v1/lines/air/notices",
                    &token,
                    Some(body(i)),
                    Some(&key),
                )
                .await
        }
    };
    let mut acknowledged = Vec::new();
    let mut refused = None;
    for i in 0..20_000 {
        let (s, v) = send(i).await;
        match s {
            StatusCode::CREATED => acknowledged.push(v["activity"].as_str().unwrap().to_string()),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(v["type"], "urn:parley:problem:store-full", "{v}");
                assert!(
                    v["detail"].as_str().unwrap().contains("the store is full"),
                    "{v}"
                );
                refused = Some(i);
                break;
            }
            other => panic!("notice {i}: {other} {v}"),
        }
    }
    let refused = refused.expect("the store filled up");
    eprintln!(
        "{} notices acknowledged before the store was full",
        acknowledged.len()
    );
    // Reads go on, with everything acknowledged.
    let (s, list) = server.get("/v1/activities?line=air", &blue.officer).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(
        list["activities"].as_array().unwrap().len(),
        acknowledged.len()
    );
    // Room again: the same request, with the same key, goes through by itself.
    std::fs::remove_file(disk.path.join("filler")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let resumed = loop {
        let (s, v) = send(refused).await;
        if s == StatusCode::CREATED {
            break v["activity"].as_str().unwrap().to_string();
        }
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
        assert!(
            std::time::Instant::now() < deadline,
            "writes did not resume: {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    // Nothing acknowledged was damaged: after a restart, all of it, once.
    server.kill();
    let host = server.host.clone();
    let restarted = Server::start_at(disk.path.join("parley.db"), "100000", Some(host));
    let (_, list) = restarted
        .get("/v1/activities?line=air", &blue.officer)
        .await;
    let ids: Vec<&str> = list["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), acknowledged.len() + 1, "{list}");
    for id in acknowledged.iter().chain([&resumed]) {
        assert!(ids.contains(&id.as_str()), "{id} is gone");
    }
    drop(restarted);
    drop(disk);
}

#[test]
fn a_record_key_that_cannot_be_written_stops_the_start_and_says_why() {
    if common::postgres().is_some() {
        eprintln!("skipped in the PostgreSQL round: SQLite's store is used here");
        return;
    }
    let Some(disk) = SmallDisk::mount("key-full", 1) else {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    };
    fill(&disk.path.join("filler"), 0);
    let db = common::temp_dir("key-full-db").join("parley.db");
    let mut child = Command::new(common::BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-access-log",
            "--db",
        ])
        .arg(&db)
        .arg("--record-key")
        .arg(disk.path.join("record-key"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("parley serve started with a record key it could not write");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(stderr.contains("making the record key"), "{stderr}");
    assert!(stderr.contains("record-key"), "names the file: {stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    // Nothing half-written is left to be read as a key at the next start.
    assert!(!disk.path.join("record-key").exists());
}

/// Clients that go away mid-request (issue 21, point 6): a body cut short
/// writes nothing; a whole request whose client left before the answer is
/// made once, and its retry with the same key finds it. (Streams that close
/// give their place back: `connections.rs`; a stream resumed by its last id
/// misses nothing: `server.rs`.)
#[tokio::test]
async fn a_client_that_leaves_mid_request_leaves_no_partial_write() {
    use common::http::{disc, notice, world};
    use reqwest::{Method, StatusCode};
    use std::io::Write;
    let (server, blue, _, _) = world("leaving").await;
    if common::https().is_some() {
        eprintln!("skipped over HTTPS: this test writes raw HTTP on the socket");
        return;
    }
    let size = || async {
        let (_, c) = server.get("/v1/record/checkpoint", &server.host).await;
        c["size"].as_u64().unwrap()
    };
    let before = size().await;
    let address = server.url.trim_start_matches("http://").to_string();
    let body = notice(vec![disc(5.0, 5.0, 100.0, 1, 1)]).to_string();
    let request = |key: &str, len: usize| {
        format!(
            "POST /v1/lines/air/notices HTTP/1.1\r\nHost: parley\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nIdempotency-Key: {key}\r\nContent-Length: {len}\r\n\r\n",
            blue.officer
        )
    };
    // Half a body, then gone.
    {
        let mut s = std::net::TcpStream::connect(&address).unwrap();
        s.write_all(request("cut", body.len()).as_bytes()).unwrap();
        s.write_all(&body.as_bytes()[..body.len() / 2]).unwrap();
    }
    // A whole request, gone before its answer.
    {
        let mut s = std::net::TcpStream::connect(&address).unwrap();
        s.write_all(request("left", body.len()).as_bytes()).unwrap();
        s.write_all(body.as_bytes()).unwrap();
        s.flush().unwrap();
    }
    // The retry of the whole one finds it made once (or makes it now).
    let (s, first) = server
        .call(
            Method::POST,
            "/v1/lines/air/notices",
            &blue.officer,
            Some(serde_json::from_str(&body).unwrap()),
            Some("left"),
        )
        .await;
    assert!(s == StatusCode::CREATED, "{s} {first}");
    let (_, list) = server.get("/v1/activities?line=air", &blue.officer).await;
    assert_eq!(list["activities"].as_array().unwrap().len(), 1, "{list}");
    // The cut one left nothing: the record grew by that one notice alone.
    let (_, cut) = server
        .call(
            Method::POST,
            "/v1/lines/air/notices",
            &blue.officer,
            Some(serde_json::from_str(&body).unwrap()),
            Some("cut"),
        )
        .await;
    assert!(
        cut["activity"] != first["activity"],
        "the cut request was never made: {cut}"
    );
    assert_eq!(
        size().await,
        before + 2,
        "two notices, no conflict between one party's own"
    );
}

#[test]
fn a_primary_killed_under_load_fails_over_without_losing_a_write() {
    if common::postgres().is_none() {
        eprintln!("skipped: needs PostgreSQL's server programs (the PostgreSQL round of `cargo xtask test` has them)");
        return;
    }
    let out = Command::new(common::BIN)
        .args([
            "bench",
            "failover",
            "--writes-before",
            "150",
            "--writes-after",
            "150",
        ])
        .args(["--concurrency", "8"])
        .output()
        .expect("parley bench failover runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let last = stdout.lines().last().expect("a last line");
    let f = fields(last);
    assert_eq!(f["lost"], "0", "{last}");
    assert_eq!(f["duplicated"], "0", "{last}");
    assert_eq!(f["record_ok"], "true", "{last}");
    assert!(f["acknowledged"].parse::<usize>().unwrap() >= 300, "{last}");
    assert!(f["without_service_ms"].parse::<f64>().is_ok(), "{last}");
}

/// A journal whose commits can be held, as a stalled fsync holds them.
struct Stalling {
    inner: parley_store_sqlite::SqliteJournal,
    gate: std::sync::Arc<Gate>,
}

#[derive(Default)]
struct Gate {
    /// (held, a commit is waiting)
    state: std::sync::Mutex<(bool, bool)>,
    changed: std::sync::Condvar,
}

impl Gate {
    fn set_held(&self, held: bool) {
        self.state.lock().unwrap().0 = held;
        self.changed.notify_all();
    }

    /// Waits until a commit is held at the gate.
    fn wait_for_a_held_commit(&self) {
        let mut s = self.state.lock().unwrap();
        while !s.1 {
            s = self.changed.wait(s).unwrap();
        }
    }
}

impl parley_service::Journal for Stalling {
    fn load(&mut self) -> Result<Vec<parley_service::Logged>, parley_service::StorageError> {
        self.inner.load()
    }
    fn load_idempotency(
        &mut self,
    ) -> Result<Vec<parley_service::IdempotencyRecord>, parley_service::StorageError> {
        self.inner.load_idempotency()
    }
    fn append(
        &mut self,
        entries: &[parley_service::Logged],
        records: &[parley_service::IdempotencyRecord],
    ) -> Result<(), parley_service::StorageError> {
        {
            let mut s = self.gate.state.lock().unwrap();
            if s.0 && !entries.is_empty() {
                s.1 = true;
                self.gate.changed.notify_all();
                while s.0 {
                    s = self.gate.changed.wait(s).unwrap();
                }
                s.1 = false;
            }
        }
        self.inner.append(entries, records)
    }
    fn forget_idempotency(&mut self, before_us: i64) -> Result<(), parley_service::StorageError> {
        self.inner.forget_idempotency(before_us)
    }
}

/// Slow storage (issue 21, point 4): while a commit is held (a stalled
/// fsync), its write waits, health keeps answering, and once the commit goes
/// through the write is answered and durable.
#[tokio::test]
async fn a_stalled_commit_delays_its_write_but_not_health_and_loses_nothing() {
    let dir = common::temp_dir("stalled");
    let db = dir.join("parley.db");
    let gate = std::sync::Arc::new(Gate::default());
    let journal = Stalling {
        inner: parley_store_sqlite::SqliteJournal::open(&db).unwrap(),
        gate: gate.clone(),
    };
    let (on_commit, committed) = parley_server::commit_channel();
    let service = parley_service::Service::open(
        journal,
        parley_wire::WireLimits::default(),
        parley_service::system_clock(),
        on_commit,
    )
    .unwrap();
    let host = parley_server::bootstrap(&service)
        .unwrap()
        .expect("a new store");
    let state = parley_server::AppState {
        service: service.clone(),
        committed,
        rate: std::sync::Arc::new(parley_server::RateLimit::new(1e6)),
        streams: std::sync::Arc::default(),
        federation: parley_server::Federation::new(
            service.clone(),
            parley_server::PEER_TIMEOUT,
            None,
        ),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(parley_server::serve(listener, state));
    let http = common::http_client();

    gate.set_held(true);
    let write = {
        let (http, url, host) = (http.clone(), url.clone(), host.clone());
        tokio::spawn(async move {
            http.post(format!("{url}/v1/parties"))
                .bearer_auth(&host)
                .json(&serde_json::json!({"id": "blue", "name": "Blue"}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    let waiting = gate.clone();
    tokio::task::spawn_blocking(move || waiting.wait_for_a_held_commit())
        .await
        .unwrap();
    // The commit is held: health still answers, the write has not.
    for _ in 0..20 {
        let health = http.get(format!("{url}/v1/health")).send().await.unwrap();
        assert_eq!(health.status(), 200);
    }
    assert!(!write.is_finished(), "a write answered before its commit");
    gate.set_held(false);
    assert_eq!(write.await.unwrap(), 201);
    // Durable: the store holds it, read by a fresh journal.
    drop(service);
    let mut fresh = parley_store_sqlite::SqliteJournal::open(&db).unwrap();
    let entries = parley_service::Journal::load(&mut fresh).unwrap();
    assert!(entries.iter().any(|l| serde_json::to_string(&l.entry)
        .unwrap()
        .contains("\"party\":\"blue\"")));
}
