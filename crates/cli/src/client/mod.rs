//! The `parley` command-line client: one subcommand for each capability of the
//! HTTP API, profiles, human output or `--json`, and exit statuses by meaning.
//!
//! - `mod.rs` (this file): the global options, the HTTP client, how a server's
//!   problem becomes one line, and the exit statuses.
//! - `profile.rs`: profiles in the user's config directory (mode 0600).
//! - `output.rs`: aligned tables, relative times, colour on a terminal only.
//! - `lines.rs`, `messages.rs`, `activities.rs`, `conflicts.rs`, `sites.rs`,
//!   `talks.rs`, `watch.rs`, `export.rs`: one module per command group.
//! - `volumes.rs`: reading volumes from F3548 JSON or GeoJSON files, and back.

/// `println!` that ends the program quietly (status 0) when stdout is closed,
/// as in `parley sites | head -1`, instead of panicking.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($t)*).is_err() {
            std::process::exit(0);
        }
    }};
}

/// `print!`, likewise.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if write!(std::io::stdout(), $($t)*).is_err() {
            std::process::exit(0);
        }
    }};
}

mod activities;
mod api_error;
mod attest;
mod certificates;
mod conflicts;
mod deadlines;
mod export;
mod files;
mod keys;
mod lines;
mod messages;
pub mod output;
pub mod profile;
mod receipts;
mod record;
mod signing;
mod site_table;
mod sites;
mod talks;
pub mod tls;
mod verify;
mod verify_federation;
mod volumes;
mod watch;

use anyhow::{anyhow, bail, Context, Result};
pub use api_error::ApiError;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use tls::{Seen, TlsOptions};

/// The exit statuses, documented in `--help` and the README.
pub const EXIT_HELP: &str = "\
Exit status:
  0  done; nothing to report
  1  the condition asked about was found: open conflicts (`conflicts`), conflicts
     of a notice or amendment (`notify`, `amend`, also with --dry-run)
  2  bad input: a file or argument, or a request the server refused as such
     (4xx: invalid field, unknown line, forbidden, stale version 409, bad token)
  3  server or network error: cannot connect, 5xx, rate limited (429)";

/// Options every client command takes (after the subcommand too).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct Global {
    /// The profile to use (see `parley login`).
    #[arg(long, global = true, env = "PARLEY_PROFILE", default_value = "default")]
    pub profile: String,
    /// The server's URL; overrides the profile's.
    #[arg(long, global = true, env = "PARLEY_SERVER")]
    pub server: Option<String>,
    /// A bearer token; overrides the profile's.
    #[arg(long, global = true, env = "PARLEY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print the server's JSON instead of the human view (for scripts).
    #[arg(long, global = true)]
    pub json: bool,
    /// Show times as date-time groups (021330ZDEC26) instead of 24-hour UTC
    /// (02 Dec 2026 13:30Z).
    #[arg(long, global = true, env = "PARLEY_DTG")]
    pub dtg: bool,
    /// For an https:// server: trust only this CA certificate (PEM), not the
    /// system's roots; `login` saves it in the profile.
    #[arg(long, global = true, env = "PARLEY_CA", value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// For an https:// server: the SHA-256 of its public key (SPKI, 64 hex
    /// digits) that its certificate must carry. `login` pins the key it sees
    /// on first use; give this to pin a new key on purpose.
    #[arg(long, global = true, value_name = "SPKI")]
    pub pin_sha256: Option<String>,
    /// Mutual TLS: the client certificate (PEM) to show; `login` saves it.
    #[arg(
        long,
        global = true,
        env = "PARLEY_CLIENT_CERT",
        value_name = "FILE",
        requires = "client_key"
    )]
    pub client_cert: Option<PathBuf>,
    /// Mutual TLS: the client certificate's private key (PEM).
    #[arg(
        long,
        global = true,
        env = "PARLEY_CLIENT_KEY",
        value_name = "FILE",
        requires = "client_cert"
    )]
    pub client_key: Option<PathBuf>,
}

impl Global {
    /// The TLS options for `server`: these flags over the profile's `saved`
    /// (its pin only while `server` is the profile's server).
    pub fn tls(&self, saved: Option<&profile::Profile>, server: &str) -> Result<TlsOptions> {
        let saved = saved
            .map(|p| {
                let mut t = p.tls.clone();
                if p.server.trim_end_matches('/') != server {
                    t.pin_sha256 = None;
                }
                t
            })
            .unwrap_or_default();
        Ok(TlsOptions {
            ca: self.ca.clone().or(saved.ca),
            pin_sha256: match &self.pin_sha256 {
                Some(pin) => Some(tls::normalise_pin(pin)?),
                None => saved.pin_sha256,
            },
            client_cert: self.client_cert.clone().or(saved.client_cert),
            client_key: self.client_key.clone().or(saved.client_key),
        })
    }
}

/// The client's commands, flattened into `parley`'s own.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Save a profile: a server and a token, in the user's config directory (mode 0600).
    #[command(
        after_help = "Example:\n  parley login --server https://parley.example.org --token pt_... --profile blue"
    )]
    Login(profile::LoginArgs),
    /// Show who the token belongs to: operator, party and role; the party's
    /// operators and who made each (the host or the party), and whether the
    /// host may add operators to it.
    Whoami(Plain),
    /// Lines: list them, or show one with its rules and status.
    #[command(after_help = EXIT_HELP)]
    Lines(lines::Args),
    /// A line's messages, in line order.
    Messages(messages::ListArgs),
    /// Send a message on a line (text; `--references` for a correction).
    Send(messages::SendArgs),
    /// Send a request with a deadline on a line.
    Request(messages::RequestArgs),
    /// Reply to a request on a line.
    Reply(messages::ReplyArgs),
    /// Notify an activity on a line from a file of volumes (F3548 JSON or GeoJSON).
    #[command(after_help = activities::NOTIFY_HELP)]
    Notify(activities::NotifyArgs),
    /// Amend an activity: a new version from a file of volumes.
    #[command(after_help = EXIT_HELP)]
    Amend(activities::AmendArgs),
    /// Cancel an activity: its last version.
    Cancel(activities::CancelArgs),
    /// Acknowledge a notice: shows the version and content hash, then reads it back.
    #[command(after_help = activities::ACK_HELP)]
    Ack(activities::AckArgs),
    /// Activities you may see: list them, or show one with every version.
    Activities(activities::Args),
    /// Your conflicts: list them (exit 1 when any is open), mark one coordinated.
    #[command(after_help = EXIT_HELP)]
    Conflicts(conflicts::Args),
    /// What is owed on your lines and talks, and by when (--mine: exit 1 when your party is late).
    Deadlines(deadlines::Args),
    /// Protected sites: add one, import many, list them.
    Sites(sites::Args),
    /// Talks between parties: record, confirm, your own version, follow-ups, relations.
    Talks(talks::Args),
    /// A live view of your events; resumes after the last event seen with this profile.
    Watch(watch::Args),
    /// Export the activities and sites you may see as GeoJSON or JSON lines.
    Export(export::Args),
    /// Your party's signing key: generate, register, list.
    Keys(keys::Args),
    /// Client certificates bound to your party (mutual TLS): bind, list.
    Certificates(certificates::Args),
    /// The tamper-evident record: the server's key, checkpoints, receipts, proofs.
    Record(record::Args),
    /// Check receipts and checkpoints offline (exit 1 when they do not verify).
    Verify(verify::VerifyArgs),
    /// Print a shell completion script: bash, zsh or fish.
    #[command(
        after_help = "Examples:\n  parley completions bash > ~/.local/share/bash-completion/completions/parley\n  parley completions zsh > ~/.zfunc/_parley\n  parley completions fish > ~/.config/fish/completions/parley.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// A command with only the global options.
#[derive(clap::Args)]
pub struct Plain {
    #[command(flatten)]
    pub g: Global,
}

/// Runs a client command; prints its error as one line and returns the exit status.
pub fn run(command: Command, cli: &mut clap::Command) -> ExitCode {
    let result = match command {
        Command::Login(a) => profile::login(a),
        Command::Whoami(a) => whoami(a),
        Command::Lines(a) => lines::run(a),
        Command::Messages(a) => messages::list(a),
        Command::Send(a) => messages::send(a),
        Command::Request(a) => messages::request(a),
        Command::Reply(a) => messages::reply(a),
        Command::Notify(a) => activities::notify(a),
        Command::Amend(a) => activities::amend(a),
        Command::Cancel(a) => activities::cancel(a),
        Command::Ack(a) => activities::ack(a),
        Command::Activities(a) => activities::run(a),
        Command::Conflicts(a) => conflicts::run(a),
        Command::Deadlines(a) => deadlines::run(a),
        Command::Sites(a) => sites::run(a),
        Command::Talks(a) => talks::run(a),
        Command::Watch(a) => watch::run(a),
        Command::Export(a) => export::run(a),
        Command::Keys(a) => keys::run(a),
        Command::Certificates(a) => certificates::run(a),
        Command::Record(a) => record::run(a),
        Command::Verify(a) => verify::verify(a),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, cli, "parley", &mut script);
            std::io::Write::write_all(&mut std::io::stdout(), &script)
                .map(|()| Outcome::Ok)
                .map_err(anyhow::Error::from)
        }
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Found) => ExitCode::from(1),
        // Stdout closed early (`parley export jsonl | head`): nothing to say.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("parley: {e:#}");
            ExitCode::from(exit_status(&e))
        }
    }
}

/// What a command found: nothing to report (0), or the condition asked about (1).
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Found,
}

/// 3 for a server or network error anywhere in the chain, else 2 (bad input).
pub fn exit_status(e: &anyhow::Error) -> u8 {
    match e.chain().find_map(|c| c.downcast_ref::<ApiError>()) {
        Some(a) if a.is_server_side() => 3,
        _ => 2,
    }
}

fn whoami(a: Plain) -> Result<Outcome> {
    let c = Client::new(&a.g)?;
    let me = c.get("/v1/me")?;
    if a.g.json {
        output::print_json(&me);
    } else {
        outln!(
            "{} ({}, {}) on {}",
            me["operator"].as_str().unwrap_or("?"),
            me["party"].as_str().unwrap_or("?"),
            me["role"].as_str().unwrap_or("?"),
            c.server
        );
        if let Some(party) = me["party"].as_str().filter(|p| *p != "host") {
            crate::admin::print_party(&c, party)?;
        }
    }
    Ok(Outcome::Ok)
}

/// A blocking client for one server and token.
pub struct Client {
    pub server: String,
    token: String,
    /// Signs notices and acknowledgments when the profile has a key.
    signer: Option<parley_record::Signer>,
    /// The profile whose receipts file keeps the receipts of writes.
    receipts: Option<String>,
    http: reqwest::Client,
    /// What the TLS handshakes saw of the server (nothing over plain HTTP).
    seen: Arc<Mutex<Seen>>,
    runtime: tokio::runtime::Runtime,
}

impl Client {
    /// Resolves the server and token: flags and environment, then the profile.
    pub fn new(g: &Global) -> Result<Client> {
        output::show_dtg(g.dtg);
        let p = profile::load(&g.profile)?;
        let server = g
            .server
            .clone()
            .or_else(|| p.as_ref().map(|p| p.server.clone()))
            .unwrap_or_else(|| "http://127.0.0.1:8080".to_string());
        let token = g
            .token
            .clone()
            .or_else(|| p.as_ref().map(|p| p.token.clone()))
            .ok_or_else(|| {
                anyhow!(
                    "no token for profile {:?}; run `parley login --server URL --token TOKEN` or set PARLEY_TOKEN",
                    g.profile
                )
            })?;
        let server = server.trim_end_matches('/').to_string();
        let tls = g.tls(p.as_ref(), &server)?;
        let mut c = Self::with(server, token, &tls)?;
        c.signer = keys::signer(&g.profile)?;
        c.receipts = Some(g.profile.clone());
        Ok(c)
    }

    /// A client for an explicit server and token, reached with `tls`.
    pub fn with(server: String, token: String, tls: &TlsOptions) -> Result<Client> {
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            bail!(
                "--server {server:?} has no scheme; give http://HOST:PORT (or https://HOST:PORT)"
            );
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (http, seen) = tls::http_client(tls)?;
        Ok(Client {
            server,
            token,
            signer: None,
            receipts: None,
            http,
            seen,
            runtime,
        })
    }

    /// The SHA-256 of the public key (SPKI, hex) of the certificate the
    /// server showed, once a request has gone over TLS.
    pub fn server_spki(&self) -> Option<String> {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .spki_sha256
            .clone()
    }

    pub fn get(&self, path: &str) -> Result<Value, ApiError> {
        self.send(Method::GET, path, None, None)
    }

    /// A GET whose answer is JSON lines (the record's export), copied to `out`
    /// as it arrives, never whole in memory; the number of lines.
    pub fn get_lines_into(&self, path: &str, out: &mut dyn std::io::Write) -> anyhow::Result<u64> {
        self.runtime.block_on(async {
            let mut response = self
                .http
                .get(format!("{}{path}", self.server))
                .bearer_auth(&self.token)
                .send()
                .await
                .map_err(|e| self.network(e))?;
            let status = response.status();
            if !status.is_success() {
                let text = response.text().await.map_err(|e| self.network(e))?;
                return Err(ApiError::from_answer(status, &text).into());
            }
            let mut lines = 0u64;
            while let Some(chunk) = response.chunk().await.map_err(|e| self.network(e))? {
                lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
                out.write_all(&chunk)?;
            }
            out.flush()?;
            Ok(lines)
        })
    }

    /// The party of the operator whose token this is.
    pub fn my_party(&self) -> Result<String, ApiError> {
        Ok(output::s(&self.get("/v1/me")?, "party").to_string())
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.send(Method::POST, path, Some(body), None)
    }

    /// Sends one request; `key` is an `Idempotency-Key`, so a retry is safe.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Result<Value, ApiError> {
        self.send_with(method, path, body, key, &[])
    }

    /// [`Client::send`] with more headers (a signature: `signing.rs`).
    fn send_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
        headers: &[(&str, String)],
    ) -> Result<Value, ApiError> {
        let method_name = method.to_string();
        let answer = self.runtime.block_on(async {
            let mut req = self
                .http
                .request(method, format!("{}{path}", self.server))
                .bearer_auth(&self.token);
            let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();

            if body.is_some() {
                req = req
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(bytes.clone());
            }
            if let Some(k) = key {
                req = req.header("Idempotency-Key", k);
            }
            for (name, value) in headers {
                req = req.header(*name, value);
            }
            let response = match req.send().await {
                Ok(r) => r,
                // A server that refuses a body (too large) answers and closes
                // before it is all sent: ask again with the body's length
                // only, and report what the server said.
                Err(e) if !bytes.is_empty() => {
                    return Err(self
                        .refusal_of(&method_name, path, bytes.len())
                        .unwrap_or_else(|| self.network(e)))
                }
                Err(e) => return Err(self.network(e)),
            };
            let status = response.status();
            let text = response.text().await.map_err(|e| self.network(e))?;
            if !status.is_success() {
                return Err(ApiError::from_answer(status, &text));
            }
            serde_json::from_str(&text).map_err(|e| ApiError::Status {
                status,
                message: format!("the server's answer is not JSON: {e}"),
            })
        })?;
        if let Some(profile) = self.receipts.as_deref().filter(|_| method_name == "POST") {
            receipts::keep(profile, &self.server, &format!("POST {path}"), &answer);
        }
        Ok(answer)
    }

    /// Opens the event stream after `cursor`; hands each batch of events that
    /// arrived together to `on_batch` until it returns false or the stream ends.
    pub fn events(
        &self,
        cursor: u64,
        mut on_batch: impl FnMut(Vec<watch::Event>) -> Result<bool>,
    ) -> Result<()> {
        self.runtime.block_on(async {
            let mut response = self
                .http
                .get(format!("{}/v1/events", self.server))
                .bearer_auth(&self.token)
                .header("Last-Event-ID", cursor.to_string())
                .send()
                .await
                .map_err(|e| self.network(e))?;
            let status = response.status();
            if !status.is_success() {
                let text = response.text().await.unwrap_or_default();
                return Err(ApiError::from_answer(status, &text).into());
            }
            let mut parser = watch::SseParser::default();
            while let Some(chunk) = response.chunk().await.map_err(|e| self.network(e))? {
                let events = parser.push(&chunk);
                if !events.is_empty() && !on_batch(events)? {
                    return Ok(());
                }
            }
            Ok(())
        })
    }

    /// What a plain-HTTP server answers to `method path` announcing a body
    /// of `len` bytes without sending it: its refusal (413 and the like), or
    /// None when it waits for the body or cannot be asked.
    fn refusal_of(&self, method: &str, path: &str, len: usize) -> Option<ApiError> {
        use std::io::{Read, Write};
        let authority = self.server.strip_prefix("http://")?;
        let authority = authority.split('/').next()?;
        let addr = std::net::ToSocketAddrs::to_socket_addrs(authority)
            .ok()?
            .next()?;
        let timeout = std::time::Duration::from_secs(5);
        let mut conn = std::net::TcpStream::connect_timeout(&addr, timeout).ok()?;
        conn.set_read_timeout(Some(timeout)).ok()?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n",
            self.token
        );
        conn.write_all(head.as_bytes()).ok()?;
        let mut answer = Vec::new();
        let _ = conn.take(1 << 20).read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        let (head, body) = answer.split_once("\r\n\r\n")?;
        let code: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
        let status = StatusCode::from_u16(code).ok()?;
        // A chunked answer: the body's first chunk is what matters.
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            let (size, rest) = body.split_once("\r\n")?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            rest.get(..size)?
        } else {
            body
        };
        (status.is_client_error() || status.is_server_error())
            .then(|| ApiError::from_answer(status, body))
    }

    fn network(&self, e: reqwest::Error) -> ApiError {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let (true, Some(spki)) = (seen.pin_mismatch, seen.spki_sha256) {
            return ApiError::PinMismatch {
                server: self.server.clone(),
                spki_sha256: spki,
            };
        }
        let mut cause = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            cause = s.to_string();
            source = s.source();
        }
        ApiError::Network {
            server: self.server.clone(),
            cause,
        }
    }
}

/// Asks a person to confirm what was just read back, unless `yes`: refuses
/// (`refused`) without a terminal to ask on, or on any answer but yes.
pub fn ask(yes: bool, question: &str, refused: &str, verb: &str) -> Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("{refused}: standard input is not a terminal; give --yes to {verb}");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
        bail!("{refused}");
    }
    Ok(())
}

/// Percent-encodes a path segment (ids are plain, but never trust input).
pub fn seg(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reads a file (or `-` for standard input) with its name in errors.
pub fn read_input(path: &str) -> Result<String> {
    if path == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .context("cannot read standard input")?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("{path}: cannot read"))
    }
}

/// A fresh idempotency key: 128 random bits, hex.
fn fresh_key() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
