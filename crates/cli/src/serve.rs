//! `parley serve` and `parley demo`: the HTTP server on the embedded store (or, for `serve`, on PostgreSQL).

use anyhow::{Context, Result};
use parley_server::{
    bootstrap, commit_channel, host_actor, run_blocking, AppState, Connections, RateLimit,
    StreamLimit,
};
use parley_service::{
    sha256_hex, system_clock, Actor, Category, Command, LineRules, Priority, Role, Service, Volumes,
};
use parley_store_sqlite::SqliteJournal;
use parley_wire::{format_timestamp, WireLimits};
use serde_json::{json, Value};
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
    /// The longest a protected site may stand, days from its registration.
    #[arg(long, default_value_t = parley_service::SITE_MAX_LIFE_DAYS,
          value_parser = clap::value_parser!(i64).range(1..=3_650))]
    site_max_days: i64,
    /// The largest area one volume of a protected site may cover, km².
    #[arg(long, default_value_t = parley_service::SITE_MAX_AREA_KM2)]
    site_max_area_km2: f64,
    #[command(flatten)]
    limits: LimitArgs,
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
}

/// The limits a server runs under.
struct Limits {
    rate: RateLimit,
    streams: StreamLimit,
    connections: Connections,
}

impl Limits {
    /// The defaults, with `rate` requests a second per token.
    fn defaults(rate: f64) -> Self {
        Self {
            rate: RateLimit::new(rate),
            streams: StreamLimit::default(),
            connections: Connections::default(),
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
        })
    }
}

/// Opens the embedded store and starts the service, its record key beside it.
pub fn open(db: &Path) -> Result<(Service, tokio::sync::watch::Receiver<u64>)> {
    open_sqlite(db, &default_record_key(db))
}

fn open_sqlite(db: &Path, key: &Path) -> Result<(Service, tokio::sync::watch::Receiver<u64>)> {
    let journal =
        SqliteJournal::open(db).with_context(|| format!("opening the store {}", db.display()))?;
    start(journal, key)
}

/// Starts the service on `journal`, its record signed with the key in `key`.
pub(crate) fn start(
    journal: impl parley_service::Journal,
    key: &Path,
) -> Result<(Service, tokio::sync::watch::Receiver<u64>)> {
    let (on_commit, committed) = commit_channel();
    let service = Service::open(journal, WireLimits::default(), system_clock(), on_commit)?;
    service.set_record_signer(record_signer(key)?);
    Ok((service, committed))
}

/// `<db>.record-key`: the embedded store's record key sits beside it.
pub(crate) fn default_record_key(db: &Path) -> PathBuf {
    let mut path = db.as_os_str().to_owned();
    path.push(".record-key");
    PathBuf::from(path)
}

/// The key that signs the record's checkpoints: 32 random bytes (hex) in
/// `path`, made on the first start with mode 0600.
fn record_signer(path: &Path) -> Result<parley_record::Signer> {
    let seed: [u8; 32] = match std::fs::read_to_string(path) {
        Ok(text) => {
            // Whoever reads the key can sign checkpoints in the server's name.
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                anyhow::bail!(
                    "the record key {} can be read by others (mode {mode:o}); make it the owner's alone (chmod 600 {}) and consider it exposed",
                    path.display(),
                    path.display()
                );
            }
            parley_record::Hash::from_hex(text.trim())
                .with_context(|| format!("{}: not a 64-digit hex key", path.display()))?
                .0
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            crate::secret::create(path, &format!("{}\n", parley_record::Hash(seed)))?;
            seed
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    Ok(parley_record::Signer::from_seed(
        parley_service::ORIGIN,
        &seed,
    )?)
}

fn run_server(
    service: Service,
    committed: tokio::sync::watch::Receiver<u64>,
    listen: &str,
    limits: Limits,
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
        let url = format!("http://{}", listener.local_addr()?);
        banner(&url);
        let state = AppState {
            service,
            committed,
            rate: Arc::new(limits.rate),
            streams: Arc::new(limits.streams),
        };
        parley_server::serve_with(listener, state, limits.connections)
            .await
            .context("serving")
    })
}

pub fn serve(args: ServeArgs) -> Result<()> {
    let limits = args.limits.limits()?;
    let (service, committed) = match &args.postgres {
        Some(url) => {
            let journal = parley_store_postgres::PostgresJournal::open(url)
                .context("opening the PostgreSQL store")?;
            let key = args
                .record_key
                .as_deref()
                .context("--postgres needs --record-key")?;
            start(journal, key)?
        }
        None => {
            let key = args.record_key.clone();
            open_sqlite(
                &args.db,
                &key.unwrap_or_else(|| default_record_key(&args.db)),
            )?
        }
    };
    service.set_talk_gap_days(args.talk_gap_days);
    service.set_idempotency_hours(args.idempotency_hours);
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
    run_server(service, committed, &args.listen, limits, |url| {
        println!("parley listening on {url}");
        let _ = std::io::stdout().flush();
    })
}

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Where to keep the demo's store; it is started afresh each time.
    /// Default: `parley-demo/demo.db` in the system's temporary directory, so
    /// a demo run in a checkout leaves nothing in it.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Also write the URL and the tokens as JSON to this file once listening
    /// (`{"url", "host", "officers": [{"party", "operator", "token"}]}`), for scripts.
    #[arg(long)]
    tokens_file: Option<PathBuf>,
}

pub fn demo(args: DemoArgs) -> Result<()> {
    let db = match &args.db {
        Some(db) => db.clone(),
        None => {
            let dir = std::env::temp_dir().join("parley-demo");
            std::fs::create_dir_all(&dir).with_context(|| format!("making {}", dir.display()))?;
            dir.join("demo.db")
        }
    };
    for suffix in ["", "-wal", "-shm", ".record-key"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let (service, committed) = open(&db)?;
    let host_token = bootstrap(&service)?.context("a fresh demo store has no operators")?;
    let host_operator = service
        .authenticate(&sha256_hex(host_token.as_bytes()))
        .map(|a| a.operator)
        .unwrap_or_default();
    let tokens = scenario(&service)?;
    let who = cast(&service);
    run_server(
        service,
        committed,
        &args.listen,
        Limits::defaults(200.0),
        |url| {
            if let Some(path) = &args.tokens_file {
                let officers: Vec<Value> = tokens
                .iter()
                .map(|(party, operator, token)| {
                    json!({"party": party, "operator": operator, "token": token})
                })
                .collect();
                let doc = json!({"url": url, "host": host_token, "officers": officers});
                // Written whole, then renamed: a script polling for it never reads half.
                let partial = path.with_extension("partial");
                // It holds the host's token: the owner's alone, like the store.
                let _ = std::fs::remove_file(&partial);
                let written = crate::secret::create(&partial, &format!("{doc:#}\n"))
                    .map_err(std::io::Error::other)
                    .and_then(|()| std::fs::rename(&partial, path));
                if let Err(e) = written {
                    eprintln!("parley: cannot write {}: {e}", path.display());
                }
            }
            println!("Parley demo at {url}");
            println!("Console: {url}/ (log in with a token below)");
            println!();
            print!("{who}");
            println!();
            println!("  {:<8} {:<19} {:<8} token", "party", "operator", "role");
            println!(
                "  {:<8} {host_operator:<19} {:<8} {host_token}",
                "host", "admin"
            );
            for (party, operator, token) in &tokens {
                println!("  {party:<8} {operator:<19} {:<8} {token}", "officer");
            }
            println!();
            println!(
                "Try: curl -H 'Authorization: Bearer {}' {url}/v1/conflicts",
                tokens[0].2
            );
            println!(
                "     curl -N -H 'Authorization: Bearer {}' {url}/v1/events",
                tokens[1].2
            );
            let _ = std::io::stdout().flush();
        },
    )
}

fn volumes(json: Vec<Value>) -> Result<Volumes> {
    check(Volumes::parse(json, &WireLimits::default()), "volumes")
}

fn check<T>(r: Result<T, parley_service::ServiceError>, what: &str) -> Result<T> {
    r.map_err(|e| anyhow::anyhow!("demo scenario, {what}: {e}"))
}

/// Who is in the demo and what each line is for, for its banner.
fn cast(service: &Service) -> String {
    let host = host_actor();
    let now = (system_clock())();
    let (parties, lines) = service.read(|s| (s.parties(&host), s.lines(&host, now)));
    let mut text = String::from("Parties:\n");
    for p in parties.iter().filter(|p| p["id"] != parley_service::HOST) {
        text.push_str(&format!(
            "  {:<8} {}\n",
            output_text(&p["id"]),
            output_text(&p["name"])
        ));
    }
    text.push_str("Lines:\n");
    for l in &lines {
        let members: Vec<String> = l["parties"]
            .as_array()
            .into_iter()
            .flatten()
            .map(output_text)
            .collect();
        text.push_str(&format!(
            "  {:<13} {} ({})\n",
            output_text(&l["id"]),
            output_text(&l["name"]),
            members.join(", ")
        ));
    }
    text
}

fn output_text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// `13:00Z`: a time of day in UTC as the demo's messages write it.
fn hour_z(us: i64) -> String {
    let t = format_timestamp(parley_engine::Timestamp(us));
    format!("{}Z", &t[11..16])
}

/// Volumes of an example activity, moved from the examples' day to the same
/// hours from `base_us` (taken from the clock), so the fixed date below is only
/// the reference the examples were written on and never ages.
fn shifted(activity: &Value, base_us: i64) -> Vec<Value> {
    let day = parley_wire::parse_timestamp("2026-11-22T00:00:00Z")
        .expect("a timestamp")
        .0;
    let shift = |v: &Value| {
        let t = parley_wire::parse_timestamp(v.as_str().unwrap_or_default())
            .map(|t| t.0)
            .unwrap_or(day);
        json!(format_timestamp(parley_engine::Timestamp(
            base_us + (t - day)
        )))
    };
    activity["volumes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut v| {
            v["time_start"]["value"] = shift(&v["time_start"]["value"]);
            v["time_end"]["value"] = shift(&v["time_end"]["value"]);
            v
        })
        .collect()
}

/// The demo: an air line over Syria between Blue and Red with notices, an
/// acknowledgment and one open conflict; a relief office whose protected sites
/// both see; a maritime line between Green and Yellow.
fn scenario(service: &Service) -> Result<Vec<(String, String, String)>> {
    let host = host_actor();
    let parties = [
        ("blue", "Blue Air Force"),
        ("red", "Red Aerospace Forces"),
        ("relief", "Relief Coordination Office"),
        ("green", "Green Navy"),
        ("yellow", "Yellow Navy"),
    ];
    let mut officers: Vec<(String, Actor, String)> = Vec::new();
    for (id, name) in parties {
        check(
            run_blocking(
                service,
                &host,
                Command::CreateParty {
                    party: id.into(),
                    name: name.into(),
                },
            ),
            "party",
        )?;
        let token = parley_server::new_token();
        let op = check(
            run_blocking(
                service,
                &host,
                Command::CreateOperator {
                    party: id.into(),
                    name: format!("{id} duty officer"),
                    role: Role::Officer,
                    token_sha256: sha256_hex(token.as_bytes()),
                },
            ),
            "operator",
        )?;
        let operator = op["id"].as_str().unwrap_or_default().to_string();
        officers.push((
            id.into(),
            Actor {
                operator,
                party: id.into(),
                role: Role::Officer,
            },
            token,
        ));
    }
    let actor = |party: &str| {
        officers
            .iter()
            .find(|o| o.0 == party)
            .map(|o| o.1.clone())
            .expect("a demo party")
    };
    let air = LineRules {
        horizontal_m: 1_000.0,
        vertical_m: 300.0,
        time_s: 300.0,
        ..LineRules::default()
    };
    let sea = LineRules {
        horizontal_m: 2_000.0,
        vertical_m: 0.0,
        time_s: 600.0,
        ..LineRules::default()
    };
    for (id, name, members, rules) in [
        (
            "syria-air",
            "Syria air deconfliction",
            vec!["blue", "red"],
            air,
        ),
        (
            "black-sea",
            "Black Sea incidents at sea",
            vec!["green", "yellow"],
            sea,
        ),
        // The relief office shares its sites only with parties it has a line
        // with: this one, with both air forces.
        (
            "syria-relief",
            "Syria humanitarian notification",
            vec!["relief", "blue", "red"],
            air,
        ),
    ] {
        let parties = members.into_iter().map(String::from).collect();
        check(
            run_blocking(
                service,
                &host,
                Command::CreateLine {
                    line: id.into(),
                    name: name.into(),
                    parties,
                    rules,
                },
            ),
            "line",
        )?;
    }

    let examples: Vec<Value> = include_str!("../../../examples/syria-air.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("the examples are JSON"))
        .collect();
    let example = |id: &str| {
        examples
            .iter()
            .find(|a| a["id"] == id)
            .expect("an example activity")
            .clone()
    };
    let now = (system_clock())();
    let base = (now / 3_600_000_000 + 2) * 3_600_000_000 - 10 * 3_600_000_000; // examples start at 10:00
    let notify = |party: &str, id: &str, category: Category, poc: &str| {
        let command = Command::Notify {
            line: "syria-air".into(),
            category,
            point_of_contact: poc.into(),
            volumes: volumes(shifted(&example(id), base))?,
            dry_run: false,
        };
        check(run_blocking(service, &actor(party), command), id)
    };
    let strike = notify(
        "blue",
        "blue-strike-raqqa",
        Category::Air,
        "Blue CAOC duty officer, channel 2",
    )?;
    let transport = notify(
        "red",
        "red-transport-hmeimim-palmyra",
        Category::Air,
        "Red air operations centre",
    )?;
    let patrol = notify(
        "red",
        "red-patrol-euphrates",
        Category::Air,
        "Red air operations centre",
    )?;
    for (party, notice) in [("red", &strike), ("blue", &transport)] {
        let command = Command::Acknowledge {
            activity: notice["activity"].as_str().unwrap_or_default().into(),
            version: 1,
            content_sha256: notice["content_sha256"].as_str().unwrap_or_default().into(),
        };
        check(
            run_blocking(service, &actor(party), command),
            "acknowledgment",
        )?;
    }
    let message = |party: &str, text: &str, priority: Priority| {
        let command = Command::SendMessage {
            line: "syria-air".into(),
            message: "text".into(),
            priority,
            text: text.into(),
            deadline: None,
            references: None,
        };
        check(run_blocking(service, &actor(party), command), "message")
    };
    message(
        "blue",
        "Blue duty officer on the line. Raqqa strike package notified.",
        Priority::Routine,
    )?;
    message(
        "blue",
        &format!(
            "Your patrol {} meets our Raqqa package {}-{} at 6,000-8,000 m. Please amend or propose a split.",
            patrol["activity"].as_str().unwrap_or_default(),
            // The examples' 11:00 and 12:00, moved to the demo's day and hour.
            hour_z(base + 11 * 3_600_000_000),
            hour_z(base + 12 * 3_600_000_000)
        ),
        Priority::Urgent,
    )?;

    let hospital = json!({"volume": {"outline_circle": {"center": {"lat": 35.9306, "lng": 36.6339}, "radius": {"value": 500, "units": "M"}},
        "altitude_lower": {"value": -50, "reference": "W84", "units": "M"}, "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"}},
        "time_start": {"value": format_timestamp(parley_engine::Timestamp(now)), "format": "RFC3339"},
        "time_end": {"value": format_timestamp(parley_engine::Timestamp(now + 30 * 86_400_000_000)), "format": "RFC3339"}});
    let relief = actor("relief");
    check(
        run_blocking(
            service,
            &relief,
            Command::RegisterSite {
                name: "Idlib central hospital".into(),
                site_kind: "static".into(),
                volumes: volumes(vec![hospital])?,
                expires: format_timestamp(parley_engine::Timestamp(now + 30 * 86_400_000_000)),
                shared_with_parties: vec!["blue".into(), "red".into()],
                shared_with_lines: vec![],
            },
        ),
        "site",
    )?;
    let convoy = shifted(&example("relief-convoy-aleppo"), base);
    check(
        run_blocking(
            service,
            &relief,
            Command::RegisterSite {
                name: "Aleppo convoy, day 1".into(),
                site_kind: "movement".into(),
                volumes: volumes(convoy)?,
                expires: format_timestamp(parley_engine::Timestamp(base + 20 * 3_600_000_000)),
                shared_with_parties: vec!["blue".into(), "red".into()],
                shared_with_lines: vec![],
            },
        ),
        "convoy",
    )?;

    let exercise = json!({"volume": {"outline_polygon": {"vertices": [
            {"lat": 43.0, "lng": 33.0}, {"lat": 43.0, "lng": 34.0}, {"lat": 43.6, "lng": 34.0}, {"lat": 43.6, "lng": 33.0}]},
        "altitude_lower": {"value": -300, "reference": "W84", "units": "M"}, "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"}},
        "time_start": {"value": format_timestamp(parley_engine::Timestamp(base + 8 * 3_600_000_000)), "format": "RFC3339"},
        "time_end": {"value": format_timestamp(parley_engine::Timestamp(base + 16 * 3_600_000_000)), "format": "RFC3339"}});
    let notice = check(
        run_blocking(
            service,
            &actor("green"),
            Command::Notify {
                line: "black-sea".into(),
                category: Category::Maritime,
                point_of_contact: "Green fleet HQ".into(),
                volumes: volumes(vec![exercise])?,
                dry_run: false,
            },
        ),
        "exercise",
    )?;
    check(
        run_blocking(
            service,
            &actor("yellow"),
            Command::Acknowledge {
                activity: notice["activity"].as_str().unwrap_or_default().into(),
                version: 1,
                content_sha256: notice["content_sha256"].as_str().unwrap_or_default().into(),
            },
        ),
        "acknowledgment",
    )?;
    // A round of talks between blue and red, recorded by blue three weeks ago
    // and awaiting red's confirmation (the console's browser test confirms it).
    let day = 86_400_000_000;
    let talk_day = &format_timestamp(parley_engine::Timestamp(now - 21 * day))[..10];
    let record = json!({
        "parties": ["blue", "red"], "date": talk_day, "level": "deputy chief of staff",
        "participants": [{"party": "blue", "role": "director of operations"},
                         {"party": "red", "role": "deputy chief of general staff"}],
        "venue": "Hmeimim", "line": "syria-air",
        "agenda": [
            {"item": "Flight safety over the Euphrates valley", "outcome": "positions_differ",
             "positions": {"blue": "Keep 1 km horizontal separation", "red": "Keep 2 km horizontal separation"}},
            {"item": "Hourly tests of the line", "outcome": "agreed"},
            {"item": "Mechanisms for notifying drone flights", "outcome": "to_continue"},
        ],
        "follow_ups": [{"action": "Send the draft procedure for drone notices", "owner": "red",
                        "due": format_timestamp(parley_engine::Timestamp(now + 14 * day))}],
    });
    check(
        run_blocking(service, &actor("blue"), Command::RecordTalk { record }),
        "talk",
    )?;
    Ok(officers
        .into_iter()
        .map(|(party, a, token)| (party, a.operator, token))
        .collect())
}
