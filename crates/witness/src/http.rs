//! The witness's HTTP API: `POST /add-checkpoint` as C2SP tlog-witness gives
//! it, and `GET /evidence`.

use crate::{Answer, Witness};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use parley_record::Refusal;

/// Largest request accepted: a checkpoint with many signatures and 63 proof
/// lines is far below this.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The witness's routes.
pub fn router(witness: Witness) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/evidence", get(evidence))
        .route("/key", get(key))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(witness)
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn add_checkpoint(State(w): State<Witness>, body: axum::body::Bytes) -> Response {
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return text(
            StatusCode::BAD_REQUEST,
            "text/plain; charset=utf-8",
            "bad request: the body is not UTF-8\n".into(),
        );
    };
    match w.add_checkpoint(body).await {
        Answer::Cosigned(lines) => text(StatusCode::OK, "text/plain; charset=utf-8", lines),
        // The size of the latest cosigned checkpoint, as the spec asks.
        Answer::Refused(Refusal::OldSize { witness_size, .. }) => text(
            StatusCode::CONFLICT,
            "text/x.tlog.size",
            format!("{witness_size}\n"),
        ),
        Answer::Refused(Refusal::SplitView { size, .. }) => text(
            StatusCode::CONFLICT,
            "text/x.tlog.size",
            format!("{size}\n"),
        ),
        Answer::Refused(r) => text(
            StatusCode::from_u16(r.status()).unwrap_or(StatusCode::BAD_REQUEST),
            "text/plain; charset=utf-8",
            format!("{r}\n"),
        ),
        Answer::Failed(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            format!("{e}\n"),
        ),
    }
}

async fn evidence(State(w): State<Witness>) -> Response {
    match tokio::task::spawn_blocking(move || w.evidence()).await {
        Ok(Ok(list)) => Json(serde_json::json!({ "evidence": list })).into_response(),
        Ok(Err(e)) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            format!("{e}\n"),
        ),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            format!("{e}\n"),
        ),
    }
}

async fn key(State(w): State<Witness>) -> Response {
    text(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        format!("{}\n", w.cosigner_key()),
    )
}
