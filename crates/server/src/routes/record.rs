//! The tamper-evident record: checkpoints, consistency proofs, exports and
//! receipts.

use super::Answer;
use crate::auth::Auth;
use crate::openapi::{NotFound, Unavailable};
use crate::rejection::{ApiPath, ApiQuery, Whole};
use crate::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this resource, each with its OpenAPI operation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_checkpoint))
        .routes(routes!(record_consistency))
        .routes(routes!(record_export))
        .routes(routes!(record_receipt))
}

/// The record's latest signed checkpoint (C2SP signed note: origin, size, root,
/// `time` in µs) and the server's verifier key. Save checkpoints: two of the same
/// size with different roots prove a split view.
#[utoipa::path(
    get,
    path = "/v1/record/checkpoint",
    tag = "record",
    responses(
        (status = 200, description = "`{size, root, checkpoint, key}`.", body = crate::wire::Checkpoint),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn record_checkpoint(State(s): State<AppState>, Auth(_): Auth) -> Answer {
    Ok(Json(s.service.checkpoint()?).into_response())
}

/// Sizes of two checkpoints to prove consistent.
#[derive(Deserialize)]
struct Sizes {
    from: Whole,
    to: Whole,
}

/// An RFC 9162 consistency proof: the tree of `to` entries extends the tree of
/// `from` entries, nothing changed, removed or reordered.
#[utoipa::path(
    get,
    path = "/v1/record/consistency",
    tag = "record",
    params(
        ("from" = u64, Query, description = "The older tree size."),
        ("to" = u64, Query, description = "The newer tree size."),
    ),
    responses(
        (status = 200, description = "`{from, to, from_root, to_root, proof: [hex]}`.", body = crate::wire::Consistency),
    ),
    security(("bearer" = [])),
)]
async fn record_consistency(
    State(s): State<AppState>,
    Auth(_): Auth,
    ApiQuery(q): ApiQuery<Sizes>,
) -> Answer {
    Ok(Json(s.service.read(|st| st.consistency(q.from.0, q.to.0))?).into_response())
}

/// Which line's record to export.
#[derive(Deserialize)]
struct ExportQuery {
    line: Option<String>,
}

/// This party's copy of the record, as JSON lines: first the signed checkpoint
/// and the key, then every entry in journal order, in full where the party may
/// see it (on `line`, if given) and as its leaf hash otherwise. `parley verify
/// export` rebuilds the root from it offline.
#[utoipa::path(
    get,
    path = "/v1/record/export",
    tag = "record",
    params(
        ("line" = Option<String>, Query, description = "Only this line's entries in full; the rest as hashes."),
    ),
    responses(
        (status = 200, description = "JSON lines (`application/x-ndjson`): `{size, line, checkpoint, key}`, then `{seq, leaf[, content]}` or `{seq, leaf_hash}` per entry.", content_type = "application/x-ndjson", body = String),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn record_export(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Answer {
    if let Some(line) = &q.line {
        s.service.read(|st| st.line(&a, line, 0))?;
    }
    let (head, size) = s.service.export_head(q.line.as_deref())?;
    // Streamed a slice at a time: the state is read for a moment per slice,
    // never for the whole record, and the export is never whole in memory.
    let slices = futures_util::stream::unfold(0u64, move |done| {
        let (service, actor, line) = (s.service.clone(), a.clone(), q.line.clone());
        async move {
            if done >= size {
                return None;
            }
            let upto = size.min(done + EXPORT_SLICE);
            let text = tokio::task::spawn_blocking(move || {
                service.read(|st| st.export(&actor, line.as_deref(), done, upto))
            })
            .await
            .map_err(std::io::Error::other);
            Some((text, upto))
        }
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(slices);
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

/// Entries an export reads from the state at a time.
const EXPORT_SLICE: u64 = 1_000;

/// A receipt ("proof of notice") for a journal entry this party may see: the
/// entry as a leaf, its inclusion proof and a signed checkpoint; `parley verify
/// receipt` checks it offline.
#[utoipa::path(
    get,
    path = "/v1/record/entries/{seq}/receipt",
    tag = "record",
    params(
        ("seq" = u64, Path, description = "The entry's journal position (an event's id)."),
    ),
    responses(
        (status = 200, description = "`{seq, leaf_index, tree_size, leaf, proof, checkpoint, key}`.", body = crate::wire::Receipt),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn record_receipt(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(Whole(seq)): ApiPath<Whole>,
) -> Answer {
    Ok(Json(s.service.receipt(&a, seq)?).into_response())
}
