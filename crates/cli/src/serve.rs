//! `parley serve`: the HTTP server on the embedded store or on PostgreSQL, its
//! record key and its limits (`parley demo`, in `demo.rs`, starts the same server).

use anyhow::{Context, Result};
use parley_server::{
    bootstrap, commit_channel, AppState, Connections, RateLimit, StreamLimit, Tls, TlsFiles,
};
use parley_service::{system_clock, Service};
use parley_store_sqlite::SqliteJournal;
use parley_wire::WireLimits;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The embedded store: one SQLite file, created if missing.
    #[arg(long, default_value = "parley.db")]
    db: PathBuf,
    /// Keep the journal in PostgreSQL instead, for several nodes on one
    /// database: a libpq connection string or URL (e.g. "host=/run/postgresql
    /// dbname=parley"). The database must exist; the tables are made.
    #[arg(
        long,
        env = "PARLEY_POSTGRES",
        conflicts_with = "db",
        requires = "record_key"
    )]
    postgres: Option<String>,
    /// The file with the key that signs the record's checkpoints, made on the
    /// first start. Default: `<db>.record-key`. With --postgres it must be
    /// given, and be the same file (a copy) on every node.
    #[arg(long)]
    record_key: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port; the URL is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// The record's name: its checkpoints' origin line and its key's name
    /// (e.g. parley.relief.example/ops). Give each deployment its own, so a
    /// witness can tell deployments apart; keep it for the record's life (on
    /// every node of a PostgreSQL deployment).
    #[arg(long, default_value = parley_service::ORIGIN)]
    origin: String,
    /// Flag two parties on the status board after this many days without a
    /// confirmed talk between them.
    #[arg(long, default_value_t = parley_service::TALK_GAP_DAYS,
          value_parser = clap::value_parser!(i64).range(1..=36_500))]
    talk_gap_days: i64,
    /// Keep each Idempotency-Key's answer this many hours: a retry within
    /// them gets the first answer, a later one is a new request.
    #[arg(long, default_value_t = parley_service::IDEMPOTENCY_WINDOW_H,
          value_parser = clap::value_parser!(i64).range(1..=8_760))]
    idempotency_hours: i64,
    /// Save a snapshot of the state after this many journal entries, or as
    /// many as the last snapshot held items if more (0: not by count); a
    /// restart replays only the entries after the latest.
    #[arg(long, default_value_t = parley_service::SNAPSHOT_EVERY_ENTRIES)]
    snapshot_entries: u64,
    /// ... or this many seconds after the last one if anything was logged
    /// since (0: not by time). Both 0: no snapshots.
    #[arg(long, default_value_t = parley_service::SNAPSHOT_EVERY_S)]
    snapshot_seconds: u64,
    /// Keep an activity in memory and the conflict index this many hours
    /// after its last window ended (sites in the index: until they expire);
    /// then it is history: read from the store, exported and proved, it
    /// conflicts with nothing and takes no amendment, cancellation or
    /// acknowledgment.
    #[arg(long, default_value_t = parley_service::KEEP_ENDED_H,
          value_parser = clap::value_parser!(i64).range(0..=87_600))]
    keep_ended_hours: i64,
    /// Refuse a signed statement whose time is further than this from the
    /// server's clock, seconds (either way); a signature is accepted once.
    #[arg(long, default_value_t = parley_service::SIGNATURE_SKEW_S,
          value_parser = clap::value_parser!(i64).range(1..=parley_service::MAX_SIGNATURE_SKEW_S))]
    signature_skew_s: i64,
    /// The longest a protected site may stand, days from its registration.
    #[arg(long, default_value_t = parley_service::SITE_MAX_LIFE_DAYS,
          value_parser = clap::value_parser!(i64).range(1..=3_650))]
    site_max_days: i64,
    /// The largest area one volume of a protected site may cover, km².
    #[arg(long, default_value_t = parley_service::SITE_MAX_AREA_KM2)]
    site_max_area_km2: f64,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    tls: TlsArgs,
    #[command(flatten)]
    witnesses: WitnessArgs,
}

/// HTTPS: without these the server speaks plain HTTP, for loopback demos only.
#[derive(clap::Args)]
struct TlsArgs {
    /// Serve HTTPS with this certificate chain (PEM, the server's own
    /// certificate first). Reloaded with the key on SIGHUP, without dropping
    /// the service or open connections.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Mutual TLS: require a client certificate issued by this CA (PEM) on
    /// every connection. A party can then bind its operators to its own
    /// certificates (`parley certificates bind`).
    #[arg(long, requires = "tls_cert")]
    client_ca: Option<PathBuf>,
}

impl TlsArgs {
    /// The TLS configuration, when HTTPS is asked for.
    fn load(&self) -> Result<Option<Tls>> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let files = TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: self.client_ca.clone(),
        };
        let tls = Tls::load(files).context("--tls-cert/--tls-key/--client-ca")?;
        Ok(Some(tls))
    }
}

/// The witnesses that cosign the record's checkpoints.
#[derive(clap::Args)]
struct WitnessArgs {
    /// A witness to submit checkpoints to: its URL (the tlog-witness
    /// submission prefix) and its key, as `parley witness` prints it
    /// (`http://host:8090=witness.example+1a2b3c4d+BK...`). Repeat for each.
    #[arg(long = "witness", value_name = "URL=KEY")]
    witnesses: Vec<String>,
    /// Milliseconds a witness may take to answer; the checkpoint then goes
    /// out with the cosignatures that arrived.
    #[arg(long, default_value_t = parley_server::WITNESS_TIMEOUT.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    witness_timeout_ms: u64,
    /// Milliseconds between two witnessing rounds while the record grows
    /// (a party can ask for one at once: POST /v1/record/checkpoint/witnessed).
    #[arg(long, default_value_t = 1_000,
          value_parser = clap::value_parser!(u64).range(10..=10_000))]
    witness_every_ms: u64,
    /// Milliseconds a write on a federated line waits for each peer node to
    /// take it in and answer with its conflicts; a peer that does not is
    /// named in the answer and delivered to as soon as it answers again.
    #[arg(long, default_value_t = parley_server::PEER_TIMEOUT.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    peer_timeout_ms: u64,
}

/// Witnessing as configured: the witnesses, the timeout, the interval.
pub(crate) struct Witnesses {
    targets: Vec<parley_server::WitnessTarget>,
    timeout: Duration,
    every: Duration,
}

impl WitnessArgs {
    fn witnesses(&self) -> Result<Option<Witnesses>> {
        if self.witnesses.is_empty() {
            return Ok(None);
        }
        let targets = self
            .witnesses
            .iter()
            .map(|w| {
                parley_server::WitnessTarget::parse(w)
                    .map_err(|e| anyhow::anyhow!("--witness {w:?}: {e}"))
            })
            .collect::<Result<_>>()?;
        Ok(Some(Witnesses {
            targets,
            timeout: Duration::from_millis(self.witness_timeout_ms),
            every: Duration::from_millis(self.witness_every_ms),
        }))
    }
}

/// How much of the server one token, party, client or connection may take.
#[derive(clap::Args)]
struct LimitArgs {
    /// Requests a second allowed per operator token (twice that in bursts).
    #[arg(long, default_value_t = 200.0)]
    rate_limit: f64,
    /// Requests a second allowed per party, all its operators together (twice
    /// that in bursts), so a party cannot multiply its budget by making
    /// operators. Default: five times --rate-limit.
    #[arg(long)]
    party_rate_limit: Option<f64>,
    /// Live event streams (/v1/events) one operator may hold open at once;
    /// one more is refused with 429 (too-many-streams).
    #[arg(long, default_value_t = parley_server::STREAMS_PER_OPERATOR as u64,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    max_streams: u64,
    /// Connections served at once; one more is answered 503 (unavailable) and
    /// closed, though a GET /v1/health on it is still answered. Keep it well
    /// below the file-descriptor limit (`ulimit -n`): the store and up to
    /// 32 refusals in progress need some too.
    #[arg(long, default_value_t = parley_server::MAX_CONNECTIONS as u64,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    /// Milliseconds a connection may take to send a request's headers,
    /// counted from when it opens or its previous response ends (so this is
    /// also how long an idle kept-alive connection stays open); then it is closed.
    #[arg(long, default_value_t = parley_server::HEADER_TIMEOUT.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    header_timeout_ms: u64,
    /// Milliseconds a request's body may take to arrive after its headers;
    /// then the answer is 408 (request-timeout) and the connection is closed.
    #[arg(long, default_value_t = parley_server::BODY_TIMEOUT.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    body_timeout_ms: u64,
    /// Write no access log. By default each request gets one JSON line on
    /// standard error: time, operator, method, route, status, duration_ms.
    #[arg(long)]
    no_access_log: bool,
}

/// The limits a server runs under.
pub(crate) struct Limits {
    rate: RateLimit,
    streams: StreamLimit,
    connections: Connections,
    /// Write the access log (one JSON line per request on stderr).
    access_log: bool,
    witnesses: Option<Witnesses>,
    /// How long a write waits for a peer node.
    peer_timeout: Duration,
}

impl Limits {
    /// The defaults, with `rate` requests a second per token.
    pub(crate) fn defaults(rate: f64) -> Self {
        Self {
            rate: RateLimit::new(rate),
            streams: StreamLimit::default(),
            connections: Connections::default(),
            access_log: false,
            witnesses: None,
            peer_timeout: parley_server::PEER_TIMEOUT,
        }
    }
}

impl LimitArgs {
    fn limits(&self) -> Result<Limits> {
        let positive = |flag: &str, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(v)
            } else {
                Err(anyhow::anyhow!(
                    "--{flag}: give a positive number of requests a second"
                ))
            }
        };
        let per_token = positive("rate-limit", self.rate_limit)?;
        let per_party = positive(
            "party-rate-limit",
            self.party_rate_limit
                .unwrap_or(per_token * parley_server::PARTY_RATE_FACTOR),
        )?;
        Ok(Limits {
            rate: RateLimit::with_party(per_token, per_party),
            streams: StreamLimit::new(self.max_streams as usize),
            connections: Connections {
                max: self.max_connections as usize,
                header_timeout: Duration::from_millis(self.header_timeout_ms),
                body_timeout: Duration::from_millis(self.body_timeout_ms),
            },
            access_log: !self.no_access_log,
            witnesses: None,
            peer_timeout: parley_server::PEER_TIMEOUT,
        })
    }
}

/// Opens the embedded store and starts the service, its record key beside it.
pub fn open(db: &Path) -> Result<(Service, tokio::sync::watch::Receiver<u64>)> {
    open_sqlite(db, &default_record_key(db), parley_service::ORIGIN)
}

fn open_sqlite(
    db: &Path,
    key: &Path,
    origin: &str,
) -> Result<(Service, tokio::sync::watch::Receiver<u64>)> {
    let journal =
        SqliteJournal::open(db).with_context(|| format!("opening the store {}", db.display()))?;
    start(journal, key, origin)
}

/// Starts the service on `journal`, its record signed with the key in `key`
/// under the name `origin` (its checkpoints' origin line).
pub(crate) fn start(
    journal: impl parley_service::Journal,
    key: &Path,
    origin: &str,
) -> Result<(Service, tokio::sync::watch::Receiver<u64>)> {
    let (on_commit, committed) = commit_channel();
    let service = Service::open(journal, WireLimits::default(), system_clock(), on_commit)?;
    service.set_record_signer(record_signer(key, origin)?);
    Ok((service, committed))
}

/// How the state was built at the start, for the start's output.
fn restored_line(restored: &parley_service::Restored) -> String {
    match restored {
        parley_service::Restored::Snapshot { seq, tail } => {
            format!(
                "state from the snapshot of journal entry {seq} and the {tail} entries after it"
            )
        }
        parley_service::Restored::Replay { refused: None } => {
            "state from the whole journal (no snapshot yet)".into()
        }
        parley_service::Restored::Replay { refused: Some(why) } => {
            format!("state from the whole journal: the {why}")
        }
    }
}

/// `<db>.record-key`: the embedded store's record key sits beside it.
pub(crate) fn default_record_key(db: &Path) -> PathBuf {
    let mut path = db.as_os_str().to_owned();
    path.push(".record-key");
    PathBuf::from(path)
}

/// The key that signs the record's checkpoints: 32 random bytes (hex) in
/// `path`, made on the first start with mode 0600.
fn record_signer(path: &Path, origin: &str) -> Result<parley_record::Signer> {
    parley_record::Signer::from_seed(origin, &crate::secret::seed(path, "record key")?)
        .context("--origin")
}

/// Serves until the process ends: over HTTPS when `tls` is given (reloaded
/// on SIGHUP), else plain HTTP; `banner` gets the URL once listening.
pub(crate) fn run_server(
    service: Service,
    committed: tokio::sync::watch::Receiver<u64>,
    listen: &str,
    limits: Limits,
    tls: Option<Arc<Tls>>,
    banner: impl FnOnce(&str),
) -> Result<()> {
    // Deadlines escalate and line checks go out on the service's own time.
    service
        .spawn_ticker(Duration::from_secs(1))
        .context("starting the ticker")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", listener.local_addr()?);
        banner(&url);
        // A node presents its own certificate to the peers it reaches.
        let identity = tls.as_ref().map(|t| t.identity()).transpose()?;
        let state = AppState {
            service: service.clone(),
            committed,
            rate: Arc::new(limits.rate),
            streams: Arc::new(limits.streams),
            federation: parley_server::Federation::new(
                service.clone(),
                limits.peer_timeout,
                identity,
            ),
        };
        // What peer nodes are owed goes out as soon as they answer.
        state.federation.spawn(Duration::from_millis(250));
        let witnessing = limits.witnesses.map(|w| {
            let witnessing =
                parley_server::Witnessing::new(state.service.clone(), w.targets, w.timeout);
            witnessing.spawn(w.every);
            witnessing
        });
        if let Some(tls) = &tls {
            reload_on_hangup(Arc::clone(tls))?;
        }
        parley_server::serve_deployment(
            listener,
            state,
            limits.connections,
            limits.access_log,
            witnessing,
            tls,
        )
        .await
        .context("serving")
    })
}

/// Reads the TLS files again on each SIGHUP; a failed reload is reported and
/// the certificate in use stays.
fn reload_on_hangup(tls: Arc<Tls>) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = signal(SignalKind::hangup()).context("listening for SIGHUP")?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            match tls.reload() {
                Ok(()) => println!("parley: TLS certificate reloaded"),
                Err(e) => {
                    eprintln!("parley: TLS reload failed, keeping the certificate in use: {e}")
                }
            }
            let _ = std::io::stdout().flush();
        }
    });
    Ok(())
}

pub fn serve(args: ServeArgs) -> Result<()> {
    let mut limits = args.limits.limits()?;
    limits.witnesses = args.witnesses.witnesses()?;
    limits.peer_timeout = Duration::from_millis(args.witnesses.peer_timeout_ms);
    parley_record::Signer::from_seed(&args.origin, &[0; 32]).context("--origin")?;
    let tls = args.tls.load()?;
    let (service, committed) = match &args.postgres {
        Some(url) => {
            let journal = parley_store_postgres::PostgresJournal::open(url)
                .context("opening the PostgreSQL store")?;
            let key = args
                .record_key
                .as_deref()
                .context("--postgres needs --record-key")?;
            start(journal, key, &args.origin)?
        }
        None => {
            let key = args.record_key.clone();
            open_sqlite(
                &args.db,
                &key.unwrap_or_else(|| default_record_key(&args.db)),
                &args.origin,
            )?
        }
    };
    service.set_talk_gap_days(args.talk_gap_days);
    service.set_idempotency_hours(args.idempotency_hours);
    service.set_snapshots(args.snapshot_entries, args.snapshot_seconds);
    service.set_keep_ended_hours(args.keep_ended_hours);
    println!("parley: {}", restored_line(service.restored()));
    service.set_signature_skew_s(args.signature_skew_s);
    if !(args.site_max_area_km2 > 0.0 && args.site_max_area_km2.is_finite()) {
        anyhow::bail!("--site-max-area-km2: give a positive number of km²");
    }
    service.set_site_rules(parley_service::SiteRules {
        max_life_days: args.site_max_days,
        max_area_km2: args.site_max_area_km2,
    });
    if let Some(token) = bootstrap(&service)? {
        println!("host admin token (shown once; keep it safe): {token}");
    }
    let mutual = tls.as_ref().is_some_and(|t| t.is_mutual());
    // Peer nodes reach this one with their own certificates (mutual TLS).
    let tls = tls
        .map(|t| t.with_nodes(Arc::new(parley_server::PeerKeys(service.clone()))))
        .transpose()
        .context("--tls-cert/--tls-key")?
        .map(Arc::new);
    run_server(service, committed, &args.listen, limits, tls, |url| {
        println!("parley listening on {url}");
        if url.starts_with("http://") {
            println!("parley: plain HTTP, without TLS: tokens and notices travel in clear; for loopback demos only (give --tls-cert and --tls-key to serve HTTPS)");
        } else if mutual {
            println!("parley: mutual TLS: every client must show a certificate from --client-ca");
        }
        let _ = std::io::stdout().flush();
    })
}
