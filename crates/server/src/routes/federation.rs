//! Federation: peering this node with others (the host's admins) and taking
//! in a peer node's deliveries (authenticated by the peer's signature of its
//! log, not by a token: see `crate::federation`).

use super::{Answer, WriteRequest};
use crate::auth::Auth;
use crate::connections::ClientCertificate;
use crate::openapi::Forbidden;
use crate::problem::Problem;
use crate::rejection::ApiPath;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use parley_service::federation::Delivery;
use parley_service::{Command, Peer, ServiceError};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this resource, each with its OpenAPI operation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_peer))
        .routes(routes!(federation_status))
        .routes(routes!(take_delivery))
        .routes(routes!(line_logs))
}

/// A federated line's logs as this node holds them, to check offline beside
/// the other nodes' own (`parley verify federation`): this node's log on the
/// line (each entry's leaf text) under a checkpoint signed now, and for each
/// other node the leaf hashes and latest signed checkpoint of its log held
/// here, its latest receipt of this node's log and its cosignature. For the
/// line's parties and the host's admins.
#[utoipa::path(
    get,
    path = "/v1/federation/lines/{line}/logs",
    tag = "federation",
    params(
        ("line" = String, Path, description = "The federated line's id."),
    ),
    responses(
        (status = 200, description = "The line's logs as held here.", body = crate::wire::LineLogs),
    ),
    security(("bearer" = [])),
)]
async fn line_logs(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(line): ApiPath<String>,
) -> Answer {
    Ok(Json(s.service.line_logs(&a, &line)?).into_response())
}

/// A peer node, as both nodes' admins agreed it out of band.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AddPeer {
    /// The peer's name: its record's origin.
    #[schema(example = "red-node")]
    node: String,
    /// Where the peer is served.
    #[schema(example = "https://red.example:8443")]
    url: String,
    /// The peer's record key, a verifier key line (`parley record key` there).
    node_key: String,
    /// The peer's parties this node may meet on lines.
    #[schema(min_items = 1)]
    parties: Vec<String>,
    /// The SHA-256 of the peer's TLS key (SPKI, 64 hex digits): required
    /// for an `https://` address, whose key is pinned (plain `http://` only
    /// on loopback).
    tls_pin: Option<String>,
    /// The peer's cosigner key (`cosigner_key` in its `GET /v1/federation`):
    /// with it, this node checks and keeps the peer's cosignatures of its
    /// checkpoints (C2SP tlog-cosignature).
    cosigner_key: Option<String>,
}

/// Peers this node with another node (the host's admins): its parties become
/// known here, so a line may name them. Logged as `peer_added`.
#[utoipa::path(
    post,
    path = "/v1/federation/peers",
    tag = "federation",
    request_body = AddPeer,
    responses(
        (status = 201, description = "The peer.", body = crate::wire::Peer),
        (status = 403, response = Forbidden),
        (status = 409, description = "The node is a peer already.", content_type = "application/problem+json", body = crate::openapi::Problem),
    ),
    security(("bearer" = [])),
)]
async fn add_peer(State(s): State<AppState>, Auth(a): Auth, request: WriteRequest) -> Answer {
    let b = request.body()?;
    let command = Command::AddPeer {
        node: b.string("node")?,
        peer: Peer {
            url: b.string("url")?,
            node_key: b.string("node_key")?,
            parties: b.strings("parties")?,
            tls_pin: b.optional_string("tls_pin")?,
            cosigner_key: b.optional_string("cosigner_key")?,
        },
    };
    request.submit(&s, a, command).await
}

/// This node's peers (whether each answers now, and since when not) and, per
/// federated line, how much of this node's log each node has receipted and
/// how much of each node's log this node holds (the host's admins).
#[utoipa::path(
    get,
    path = "/v1/federation",
    tag = "federation",
    responses(
        (status = 200, description = "This node, its peers and its federated lines.", body = crate::wire::FederationStatus),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = [])),
)]
async fn federation_status(State(s): State<AppState>, Auth(a): Auth) -> Answer {
    if !a.is_host_admin() {
        return Err(
            ServiceError::Forbidden("only the host's admins see the federation".into()).into(),
        );
    }
    Ok(Json(s.federation.status()).into_response())
}

/// A peer node's delivery of its log on a federated line: entries from
/// `first`, each the exact text of its leaf, under the peer's checkpoint of
/// its log signed by its record key. Checked (signature, the root over what
/// this node held and what arrived), then each new entry is judged and
/// logged after a `received` entry; conflicts this node finds for a notice
/// are logged here too. The answer is this node's receipt (of its latest
/// `received` entry of that log, under its own signed checkpoint) and what
/// this node owes the sender on the line.
#[utoipa::path(
    post,
    path = "/v1/federation/deliveries",
    tag = "federation",
    request_body = Object,
    responses(
        (status = 200, description = "This node's receipt, and its own delivery to the sender (or null).", body = crate::wire::DeliveryAnswer),
        (status = 403, response = Forbidden),
        (status = 409, description = "A gap, or the entries do not match the signed checkpoint or what was sent before.", content_type = "application/problem+json", body = crate::openapi::Problem),
    ),
)]
async fn take_delivery(
    State(s): State<AppState>,
    certificate: Option<Extension<ClientCertificate>>,
    request: WriteRequest,
) -> Answer {
    let delivery: Delivery = serde_json::from_slice(request.raw())
        .map_err(|e| Problem::invalid("", format!("not a delivery: {e}")))?;
    let certificate = certificate.as_ref().map(|c| c.0 .0.as_deref());
    if !s.federation.admits(&delivery.from, certificate) {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "node-certificate-required",
            format!(
                "a delivery from {} comes over mutual TLS with that node's own certificate (the key pinned for it here)",
                delivery.from
            ),
        ));
    }
    let answer = s.federation.ingest(delivery).await?;
    Ok(Json(answer).into_response())
}
