//! The live event stream: one Server-Sent Events stream per operator, carrying
//! every journal entry its party may see. Each event's id is its journal
//! position; a client that reconnects with `Last-Event-ID` (or `?after=`) gets
//! exactly the entries after it: nothing missed, nothing twice.

use crate::auth::Auth;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use parley_engine::Timestamp;
use parley_wire::format_timestamp;
use serde::Deserialize;
use std::convert::Infallible;

#[derive(Deserialize)]
pub struct Cursor {
    after: Option<u64>,
}

/// The operator's live stream (Server-Sent Events): every journal entry its party may see.
///
/// Each event's `id` is its journal position and its `event` the entry's `kind`; `data` is the entry as JSON with its `cursor` and `logged_at`. Reconnect with `Last-Event-ID` (or `?after=`) and nothing is missed or repeated. The stream ends when the operator is revoked.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "events",
    params(
        ("after" = Option<u64>, Query, description = "Start after this journal position; default 0 (from the beginning). `Last-Event-ID` takes precedence."),
        ("Last-Event-ID" = Option<u64>, Header, description = "The id of the last event received: resume after it."),
    ),
    responses(
        (status = 200, description = "The stream, kept alive with comments.", content_type = "text/event-stream", body = String),
        (status = 400, description = "A query parameter is not a whole number.", content_type = "text/plain", body = String),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 429, response = crate::openapi::RateLimited),
    ),
    security(("bearer" = [])),
)]
pub async fn events(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    Query(q): Query<Cursor>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let from_header = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let cursor = from_header.or(q.after).unwrap_or(0);
    let committed = state.committed.clone();
    let chunks = stream::unfold(
        (cursor, committed, state, actor),
        |(cursor, mut committed, state, actor)| async move {
            loop {
                // Mark what is committed now as seen before reading, so a commit that
                // lands after the read wakes the wait below.
                committed.borrow_and_update();
                // Revocation takes effect at once, also for open streams.
                let still = state.service.read(|s| s.operator_active(&actor.operator));
                if !still {
                    return None;
                }
                let batch: Vec<(u64, String, String)> = state.service.read(|s| {
                    s.events_after(&actor, cursor, 256)
                        .into_iter()
                        .map(|l| {
                            let mut v = l.entry.public_json();
                            v["cursor"] = serde_json::json!(l.seq);
                            v["logged_at"] =
                                serde_json::json!(format_timestamp(Timestamp(l.at_us)));
                            let kind = v["kind"].as_str().unwrap_or("event").to_string();
                            (l.seq, kind, v.to_string())
                        })
                        .collect()
                });
                if let Some(last) = batch.last().map(|b| b.0) {
                    let events: Vec<Result<Event, Infallible>> = batch
                        .into_iter()
                        .map(|(seq, kind, data)| {
                            Ok(Event::default().id(seq.to_string()).event(kind).data(data))
                        })
                        .collect();
                    return Some((stream::iter(events), (last, committed, state, actor)));
                }
                if committed.changed().await.is_err() {
                    return None;
                }
            }
        },
    );
    Sse::new(chunks.flatten()).keep_alive(KeepAlive::default())
}
