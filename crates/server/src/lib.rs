//! Parley's HTTP/JSON API under `/v1`: thin handlers that translate HTTP into
//! [`parley_service`] commands and reads, errors into RFC 9457 problem+json, and
//! the journal into one live Server-Sent Events stream per operator; and the web
//! console (static files embedded in the binary) at `/`.
//!
//! [`router`] lists every route; [`serve`] runs it on a bound listener (tests
//! bind port 0), [`serve_with`] under given [`Connections`] limits,
//! [`serve_deployment`] also with the access log and witnessing as a
//! deployment configures them;
//! [`bootstrap`] creates the host's first admin credential.
#![deny(missing_docs)]

mod access_log;
mod auth;
mod body;
mod connections;
mod console;
mod events;
mod federation;
mod openapi;
mod problem;
mod rejection;
mod routes;
mod tiles;
mod tls;
mod wire;
mod witnessing;

pub use auth::{new_token, RateLimit, PARTY_RATE_FACTOR};
pub use connections::{
    ClientCertificate, Connections, BODY_TIMEOUT, HEADER_TIMEOUT, MAX_CONNECTIONS, RESERVE,
};
pub use console::CONTENT_SECURITY_POLICY;
pub use events::{StreamLimit, STREAMS_PER_OPERATOR};
pub use federation::{Federation, PeerKeys, PEER_TIMEOUT};
pub use openapi::document;
pub use problem::Problem;
pub use routes::router;
pub use tls::{
    provider, read_certificates, read_private_key, read_roots, spki_sha256, Identity, NodeKeys,
    Tls, TlsError, TlsFiles, VERSIONS,
};
pub use witnessing::{WitnessTarget, Witnessing, WITNESS_TIMEOUT};

use parley_service::{sha256_hex, Actor, Command, Role, Service, ServiceError, HOST};
use std::sync::Arc;
use tokio::sync::watch;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The service.
    pub service: Service,
    /// The last committed journal position; changes wake the live streams.
    pub committed: watch::Receiver<u64>,
    /// Requests per second allowed per token and per party.
    pub rate: Arc<RateLimit>,
    /// Live event streams allowed per operator.
    pub streams: Arc<StreamLimit>,
    /// Moving federated lines' logs to and from peer nodes.
    pub federation: Federation,
}

/// A watch channel to pass to [`Service::open`]'s `on_commit`.
pub fn commit_channel() -> (impl Fn(u64) + Send + 'static, watch::Receiver<u64>) {
    let (tx, rx) = watch::channel(0u64);
    (
        move |seq| {
            tx.send_replace(seq);
        },
        rx,
    )
}

/// Serves the API on `listener` until the process ends, under the default
/// [`Connections`] limits.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    serve_with(listener, state, Connections::default()).await
}

/// Serves the API on `listener` until the process ends: at most
/// `limits.max` connections at once, each under its timeouts.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: Connections,
) -> std::io::Result<()> {
    connections::serve(listener, router(state), limits, None).await
}

/// Serves the API over TLS on `listener` until the process ends, under
/// `limits`; `tls` may be reloaded meanwhile ([`Tls::reload`]).
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: Connections,
    tls: Arc<Tls>,
) -> std::io::Result<()> {
    connections::serve(listener, router(state), limits, Some(tls)).await
}

/// As [`serve_with`], as a deployment configures it: over TLS when `tls` is
/// given (as [`serve_tls`]), writing the access log (one JSON line per request
/// on standard error: time, operator, method, route, status, duration) when
/// `access_log` is true, and with `witnessing`
/// (`POST /v1/record/checkpoint/witnessed` runs a round) when given.
pub async fn serve_deployment(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: Connections,
    access_log: bool,
    witnessing: Option<Witnessing>,
    tls: Option<Arc<Tls>>,
) -> std::io::Result<()> {
    let mut app = router(state);
    if access_log {
        app = app.layer(axum::middleware::from_fn(access_log::log));
    }
    if let Some(w) = witnessing {
        app = app.layer(axum::Extension(w));
    }
    connections::serve(listener, app, limits, tls).await
}

/// Serves another router (the witness's) under the same connection limits:
/// a cap on connections, header and body timeouts.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: Connections,
) -> std::io::Result<()> {
    connections::serve(listener, router, limits, None).await
}

/// Runs one command as `actor` and waits for its durable outcome (for
/// start-up chores and the demo; handlers await the reply asynchronously).
pub fn run_blocking(
    service: &Service,
    actor: &Actor,
    command: Command,
) -> Result<serde_json::Value, ServiceError> {
    let (tx, rx) = std::sync::mpsc::channel();
    service.submit(
        actor.clone(),
        command,
        None,
        Box::new(move |r| drop(tx.send(r))),
    );
    rx.recv()
        .map_err(|_| ServiceError::Unavailable("the writer stopped".into()))?
        .map(|a| a.body)
}

/// The actor that start-up chores run as.
pub fn host_actor() -> Actor {
    Actor {
        operator: "bootstrap".into(),
        party: HOST.into(),
        role: Role::Admin,
    }
}

/// On the first start (no operator at all), creates the host party and its
/// first admin, and returns that admin's token, to be shown once.
pub fn bootstrap(service: &Service) -> Result<Option<String>, ServiceError> {
    if service.read(|s| s.has_operators()) {
        return Ok(None);
    }
    let host = host_actor();
    run_blocking(
        service,
        &host,
        Command::CreateParty {
            party: HOST.into(),
            name: "Host".into(),
        },
    )?;
    let token = new_token();
    run_blocking(
        service,
        &host,
        Command::CreateOperator {
            party: HOST.into(),
            name: "host admin".into(),
            role: Role::Admin,
            token_sha256: sha256_hex(token.as_bytes()),
        },
    )?;
    Ok(Some(token))
}
