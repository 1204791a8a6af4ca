//! The record as C2SP tlog-tiles under `/v1/record/tlog/`, so that standard
//! tlog clients can follow it: `checkpoint` (the latest, witnessed when the
//! server has witnesses), hash tiles `tile/<L>/<N>[.p/<W>]` for any operator
//! (every party may hold every leaf hash, as in its export), and entry
//! bundles `tile/entries/<N>[.p/<W>]` only for an operator who may see every
//! entry in the bundle.

use crate::auth::Auth;
use crate::problem::Problem;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use parley_record::TilePath;

fn bytes(content_type: &'static str, body: Vec<u8>) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The latest checkpoint as a signed note (text), with its cosignatures.
#[utoipa::path(
    get,
    path = "/v1/record/tlog/checkpoint",
    tag = "record",
    responses(
        (status = 200, description = "The signed note (`text/plain`): origin, size, root, `time`; the server's signature and the witnesses' cosignatures.", content_type = "text/plain", body = String),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 429, response = crate::openapi::RateLimited),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn tlog_checkpoint(
    State(s): State<AppState>,
    Auth(_): Auth,
) -> Result<Response, Problem> {
    let cp = s.service.checkpoint()?;
    let note = cp["checkpoint"].as_str().unwrap_or_default().to_owned();
    Ok(bytes("text/plain; charset=utf-8", note.into_bytes()))
}

/// A tile of the record (C2SP tlog-tiles, height 8): `<L>/<N>[.p/<W>]`, the
/// concatenated 32-byte hashes of level `8L`; or `entries/<N>[.p/<W>]`, the
/// leaves, each as a big-endian 16-bit length and the leaf's text.
#[utoipa::path(
    get,
    path = "/v1/record/tlog/tile/{path}",
    tag = "record",
    params(("path" = String, Path, description = "`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`, N in three-digit groups (`x001/234`).")),
    responses(
        (status = 200, description = "The tile's bytes (`application/octet-stream`).", content_type = "application/octet-stream", body = String),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 429, response = crate::openapi::RateLimited),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn tlog_tile(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(path): Path<String>,
) -> Result<Response, Problem> {
    let tile = TilePath::parse(&path)
        .map_err(|e| Problem::new(StatusCode::NOT_FOUND, "not-found", e.to_string()))?;
    let beyond = |e: parley_record::TreeError| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("tile {path}: {e}"),
        )
    };
    if tile.level.is_some() {
        let data = s.service.read(|st| tile.hashes(st.record()));
        return Ok(bytes("application/octet-stream", data.map_err(beyond)?));
    }
    let range = tile.leaves();
    let lines = s.service.read(|st| {
        if range.end > st.record_head().0 {
            return Err(beyond(parley_record::TreeError::SizeBeyondLog {
                size: range.end,
                log_size: st.record_head().0,
            }));
        }
        Ok(st.export(&actor, None, range.start, range.end))
    })?;
    let mut out = Vec::new();
    for line in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
        let Some(leaf) = v["leaf"].as_str() else {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "entry {} of this bundle is not yours to see: take the hash tiles, or your own entries from /v1/record/export",
                    v["seq"]
                ),
            ));
        };
        let len = u16::try_from(leaf.len()).map_err(|_| {
            Problem::unavailable(format!(
                "entry {} is longer than a tile bundle can hold (65,535 bytes)",
                v["seq"]
            ))
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(leaf.as_bytes());
    }
    Ok(bytes("application/octet-stream", out))
}
