//! Helpers for end-to-end tests of the client: a real `parley serve` process on
//! loopback with a temporary store, and the real binary run against it.

// Each test binary uses a part of these.
#![allow(dead_code)]

pub mod demo;
pub mod federated;
pub mod http;
pub mod tls;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_parley");

/// An HTTP client for the tests' own requests, on the `ring` provider
/// (installed as the process's default on first use), trusting the CA of
/// [`https`] servers.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder();
    if let Some(https) = https() {
        let pem = std::fs::read(&https.ca).unwrap();
        builder = builder.tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()]);
    }
    builder.build().unwrap()
}

/// The certificates of the end-to-end suite over HTTPS.
pub struct Https {
    /// The CA's certificate (PEM), which clients are told to trust.
    pub ca: PathBuf,
    /// The servers' certificate and key, for 127.0.0.1.
    pub server: tls::Pair,
}

/// With `PARLEY_TEST_HTTPS=1` (the PostgreSQL round of `cargo xtask test`),
/// every server the end-to-end tests start serves HTTPS, with a certificate
/// from a CA made once per test process, and every client trusts that CA
/// (`PARLEY_CA`); otherwise plain HTTP.
pub fn https() -> Option<&'static Https> {
    static HTTPS: std::sync::OnceLock<Option<Https>> = std::sync::OnceLock::new();
    HTTPS
        .get_or_init(|| {
            std::env::var("PARLEY_TEST_HTTPS")
                .ok()
                .filter(|v| v == "1")?;
            let dir = temp_dir("https-suite");
            let ca = tls::Ca::new(&dir, "suite-ca");
            let server = ca.server("suite-server", tls::CURRENT);
            Some(Https {
                ca: ca.pem.clone(),
                server,
            })
        })
        .as_ref()
}

/// Tells a client process to trust the CA of [`https`] servers, if any.
fn trust(command: &mut Command) -> &mut Command {
    command.env_remove("PARLEY_CA");
    if let Some(https) = https() {
        command.env("PARLEY_CA", &https.ca);
    }
    command
}

/// A fresh directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parley-client-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The PostgreSQL server the end-to-end tests run on instead of SQLite, if
/// any: a libpq connection string without a database (`cargo xtask test`
/// starts one and sets `PARLEY_TEST_POSTGRES` for its second round).
pub fn postgres() -> Option<String> {
    std::env::var("PARLEY_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

/// The store options for a server on `db`: that SQLite file, or with
/// [`postgres`] a database of its own named after `db` (made if missing, so a
/// restart finds its journal again), the record key beside `db` either way.
fn store_args(db: &Path) -> Vec<String> {
    let Some(base) = postgres() else {
        return vec!["--db".into(), db.display().to_string()];
    };
    let name = database_for(db);
    let exists = format!("SELECT 1 FROM pg_database WHERE datname = '{name}'");
    if psql(&base, "postgres", &exists).is_empty() {
        psql(&base, "postgres", &format!("CREATE DATABASE {name}"));
    }
    vec![
        "--postgres".into(),
        format!("{base} dbname={name}"),
        "--record-key".into(),
        format!("{}.record-key", db.display()),
    ]
}

/// The PostgreSQL database of the server on `db`: FNV-1a of the path, a
/// short and stable name.
fn database_for(db: &Path) -> String {
    let hash = db
        .to_string_lossy()
        .bytes()
        .fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
        });
    format!("parley_{hash:016x}")
}

/// What `sql` prints in `database`, by psql.
fn psql(base: &str, database: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .arg(format!("{base} dbname={database}"))
        .args(["-v", "ON_ERROR_STOP=1", "-tAc", sql])
        .output()
        .expect("psql runs (Debian: postgresql-client)");
    printed(out, sql)
}

/// What a database client printed, once it succeeded.
fn printed(out: std::process::Output, sql: &str) -> String {
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A new, empty PostgreSQL database named after `name` (dropped first if a
/// run before left it), as a connection string; `None` without PostgreSQL.
pub fn postgres_database(name: &str) -> Option<String> {
    let base = postgres()?;
    let db = database_for(&temp_dir(name));
    psql(&base, "postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    psql(&base, "postgres", &format!("CREATE DATABASE {db}"));
    Some(format!("{base} dbname={db}"))
}

/// What `sql` prints in the store of the server on `db`: its PostgreSQL
/// database (under `PARLEY_TEST_POSTGRES`), else the SQLite file, by the
/// `sqlite3` CLI (the server stopped).
pub fn sql(db: &Path, sql: &str) -> String {
    match postgres() {
        Some(base) => psql(&base, &database_for(db), sql),
        None => {
            let out = Command::new("sqlite3")
                .arg(db)
                .arg(sql)
                .output()
                .expect("sqlite3 runs (Debian: sqlite3)");
            printed(out, sql)
        }
    }
}

/// A row printed as `seq hex-of-deflated-entry`: its position and JSON.
fn inflated_row(row: &str) -> (i64, String) {
    let (seq, hex) = row.split_once(' ').expect("seq and entry");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let seq = seq.parse().unwrap();
    (seq, parley_service::unpack_entry(seq, &bytes).unwrap())
}

/// Turns the store's deflated journal entries into their JSON text (which
/// the store reads as well), so that a test can find and change entries with
/// SQL as a host with the database could.
pub fn plain_entries(db: &Path) {
    let (query, update) = match postgres() {
        Some(_) => (
            "SELECT seq || ' ' || encode(packed, 'hex') FROM journal WHERE packed IS NOT NULL",
            "UPDATE journal SET entry = '{json}', packed = NULL WHERE seq = {seq};\n",
        ),
        None => (
            "SELECT seq || ' ' || hex(entry) FROM journal WHERE typeof(entry) = 'blob'",
            "UPDATE journal SET entry = '{json}' WHERE seq = {seq};\n",
        ),
    };
    let rows = sql(db, query);
    let mut script = String::from("BEGIN;\n");
    for row in rows.lines().filter(|l| !l.is_empty()) {
        let (seq, json) = inflated_row(row);
        script.push_str(
            &update
                .replace("{seq}", &seq.to_string())
                .replace("{json}", &json.replace('\'', "''")),
        );
    }
    script.push_str("COMMIT;\n");
    let mut child = match postgres() {
        Some(base) => Command::new("psql")
            .arg(format!("{base} dbname={}", database_for(db)))
            .args(["-v", "ON_ERROR_STOP=1", "-q"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("psql runs (Debian: postgresql-client)"),
        None => Command::new("sqlite3")
            .arg(db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sqlite3 runs (Debian: sqlite3)"),
    };
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Everything the server on `db` stored, as text: the SQLite file and its
/// write-ahead log, or every row of its PostgreSQL database.
pub fn stored(db: &Path) -> String {
    match postgres() {
        Some(base) => {
            let name = database_for(db);
            let mut text: String = ["journal", "idempotency", "meta"]
                .iter()
                .map(|t| psql(&base, &name, &format!("SELECT t::text FROM {t} t")))
                .collect();
            // Entries are stored deflated: their text too.
            let packed =
                "SELECT seq || ' ' || encode(packed, 'hex') FROM journal WHERE packed IS NOT NULL";
            for row in psql(&base, &name, packed).lines().filter(|l| !l.is_empty()) {
                text.push_str(&inflated_row(row).1);
            }
            text
        }
        None => {
            let mut bytes = std::fs::read(db).unwrap();
            bytes.extend(std::fs::read(format!("{}-wal", db.display())).unwrap_or_default());
            let mut text = String::from_utf8_lossy(&bytes).into_owned();
            // Entries and snapshots are stored deflated: their text too.
            let conn = rusqlite::Connection::open(db).unwrap();
            let blobs = "SELECT seq, entry FROM journal WHERE typeof(entry) = 'blob'
                         UNION ALL SELECT -1, image FROM snapshot";
            let mut rows = conn.prepare(blobs).unwrap();
            let rows = rows
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
                .unwrap();
            for row in rows {
                let (seq, blob) = row.unwrap();
                let inflated = if seq < 0 {
                    let json = miniz_oxide::inflate::decompress_to_vec_zlib(&blob).unwrap();
                    String::from_utf8(json).unwrap()
                } else {
                    parley_service::unpack_entry(seq, &blob).unwrap()
                };
                text.push_str(&inflated);
            }
            text
        }
    }
}

/// Starts `parley serve` on `db` on a free port; its URL and, on a new store,
/// the host admin token it shows once.
pub fn serve(db: &Path, rate_limit: &str) -> (Child, String, Option<String>) {
    serve_with(db, &["--rate-limit", rate_limit])
}

/// Starts `parley serve` on `db` on a free port with the flags `args`; as [`serve`].
pub fn serve_with(db: &Path, args: &[&str]) -> (Child, String, Option<String>) {
    let (child, url, host, _) = serve_saying(db, args);
    (child, url, host)
}

/// [`serve_with`], with the lines the server printed before listening.
pub fn serve_saying(db: &Path, args: &[&str]) -> (Child, String, Option<String>, Vec<String>) {
    // The access log (stderr) would drown the tests' own output; its test
    // starts a server of its own.
    let mut tls = Vec::new();
    if let Some(https) = https().filter(|_| !args.contains(&"--tls-cert")) {
        tls = vec![
            "--tls-cert",
            https.server.cert(),
            "--tls-key",
            https.server.key(),
        ];
    }
    // A free port unless the caller gives one (to start again where peers
    // know it).
    let listen = if args.contains(&"--listen") {
        &[][..]
    } else {
        &["--listen", "127.0.0.1:0"][..]
    };
    let mut child = Command::new(BIN)
        .args(["serve", "--no-access-log"])
        .args(listen)
        .args(args)
        .args(tls)
        .args(store_args(db))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("parley serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut host = None;
    let mut said = Vec::new();
    let url = loop {
        let line = lines.next().expect("the server prints its URL").unwrap();
        said.push(line.clone());
        if let Some(t) = line.strip_prefix("host admin token (shown once; keep it safe): ") {
            host = Some(t.to_string());
        }
        if let Some(u) = line.strip_prefix("parley listening on ") {
            break u.to_string();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url, host, said)
}

/// A running `parley serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub url: String,
    pub host: String,
    pub dir: PathBuf,
}

impl Server {
    pub fn start(name: &str) -> Server {
        Self::start_in(temp_dir(name), &[])
    }

    /// Starts a server in `dir` (made already, and kept) with the flags `args`.
    pub fn start_in(dir: PathBuf, args: &[&str]) -> Server {
        let mut all = vec!["--rate-limit", "100000"];
        all.extend_from_slice(args);
        let (child, url, host) = serve_with(&dir.join("parley.db"), &all);
        Server {
            child,
            url,
            host: host.expect("a host token"),
            dir,
        }
    }

    /// The server's process id (to send it signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The config directory of one user of the client.
    pub fn config(&self, user: &str) -> PathBuf {
        self.dir.join(format!("config-{user}"))
    }

    /// Runs `parley admin ...` as the host admin; returns stdout.
    pub fn admin(&self, args: &[&str]) -> String {
        let out = trust(&mut Command::new(BIN))
            .arg("admin")
            .args(args)
            .env("PARLEY_SERVER", &self.url)
            .env("PARLEY_TOKEN", &self.host)
            .env("PARLEY_CONFIG_DIR", self.dir.join("config-host"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "admin {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A party with an officer; returns the officer's token.
    pub fn party(&self, id: &str) -> String {
        self.admin(&["party-create", id, &id.to_uppercase()]);
        let token = self.admin(&[
            "operator-create",
            id,
            &format!("{id} officer"),
            "--role",
            "officer",
        ]);
        token.trim().to_string()
    }

    /// Two parties, blue and red, on line `air` (1 km horizontal minimum), each
    /// logged in as the default profile of its own config directory.
    pub fn world(name: &str) -> (Server, Client, Client) {
        let server = Server::start(name);
        let blue = server.party("blue");
        let red = server.party("red");
        server.admin(&[
            "line-create",
            "air",
            "Air line",
            "--party",
            "blue",
            "--party",
            "red",
            "--horizontal-m",
            "1000",
        ]);
        let b = Client::new(server.config("blue"));
        let r = Client::new(server.config("red"));
        b.ok(&[
            "login",
            "--server",
            &server.url,
            "--token",
            &blue,
            "--contact",
            "Blue AOC",
        ]);
        r.ok(&[
            "login",
            "--server",
            &server.url,
            "--token",
            &red,
            "--contact",
            "Red AOC",
        ]);
        (server, b, r)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The client binary with its own config directory and no PARLEY_* environment.
pub struct Client {
    pub config: PathBuf,
}

/// What a run printed and its exit status.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Client {
    pub fn new(config: PathBuf) -> Client {
        Client { config }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("PARLEY_CONFIG_DIR", &self.config)
            .env_remove("PARLEY_SERVER")
            .env_remove("PARLEY_TOKEN")
            .env_remove("PARLEY_PROFILE")
            .stdin(Stdio::null());
        trust(&mut c);
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out: Output = self.command(args).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    /// Runs and asserts exit status `code`.
    pub fn expect(&self, code: i32, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(
            r.code, code,
            "parley {args:?}\nstdout:\n{}\nstderr:\n{}",
            r.stdout, r.stderr
        );
        r
    }

    pub fn ok(&self, args: &[&str]) -> Run {
        self.expect(0, args)
    }

    /// Runs with `--json` and parses stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        let r = self.run(&a);
        assert!(r.code == 0 || r.code == 1, "parley {a:?}: {}", r.stderr);
        serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("parley {a:?}: not JSON ({e}): {}", r.stdout))
    }

    pub fn profiles(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.config.join("profiles.json")).unwrap())
            .unwrap()
    }
}

/// Writes `text` to `dir/name` and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// Midnight UTC of the day `days` from today, in microseconds: the end-to-end
/// tests run a real server on the real clock, so their dates are taken from
/// that clock, never written as calendar dates that age. "Today" is read once
/// per test process, so a test running across midnight builds the same
/// bodies twice.
fn midnight(days: i64) -> i64 {
    const DAY_US: i64 = 86_400_000_000;
    static TODAY: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let today = *TODAY.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros() as i64;
        now.div_euclid(DAY_US)
    });
    (today + days) * DAY_US
}

/// The day `days` from today (negative: ago), UTC, as `YYYY-MM-DD`.
pub fn day(days: i64) -> String {
    at(days, 0)[..10].to_string()
}

/// `hour` o'clock UTC (past 24 runs into the next days) of the day `days` from
/// today, in RFC 3339.
pub fn at(days: i64, hour: i64) -> String {
    parley_wire::format_timestamp(parley_engine::Timestamp(
        midnight(days) + hour * 3_600_000_000,
    ))
}

/// The day of operations in the end-to-end tests: 30 days ahead, so that
/// every window and deadline on it is in the future whenever a test runs.
pub const OPS_DAY: i64 = 30;

/// `seconds` from now by the clock the test runs with, in RFC 3339.
pub fn from_now(seconds: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    parley_wire::format_timestamp(parley_engine::Timestamp(now + seconds * 1_000_000))
}
