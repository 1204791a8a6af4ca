//! The live event stream: one Server-Sent Events stream per operator, carrying
//! every journal entry its party may see. Each event's id is its journal
//! position; a client that reconnects with `Last-Event-ID` (or `?after=`) gets
//! exactly the entries after it: nothing missed, nothing twice. An operator
//! may hold only so many streams at once ([`StreamLimit`]).

use crate::auth::Auth;
use crate::problem::Problem;
use crate::rejection::{ApiQuery, Whole};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use parley_engine::Timestamp;
use parley_wire::format_timestamp;
use serde::Deserialize;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

/// How many live streams each operator may hold open at once.
pub struct StreamLimit {
    per_operator: usize,
    open: Mutex<HashMap<String, usize>>,
}

/// The default of [`StreamLimit`]: streams per operator.
pub const STREAMS_PER_OPERATOR: usize = 4;

impl StreamLimit {
    /// At most `per_operator` streams per operator (at least one).
    pub fn new(per_operator: usize) -> Self {
        Self {
            per_operator: per_operator.max(1),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// A place for one more stream of `operator`, held until dropped; or the
    /// refusal when it has all it may have.
    fn open(self: &Arc<Self>, operator: &str) -> Result<StreamPermit, Problem> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(operator.to_string()).or_insert(0);
        if *count >= self.per_operator {
            return Err(Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-streams",
                format!(
                    "this operator has {} live event streams open, the most allowed; \
                     close one before opening another (a stream resumes with Last-Event-ID)",
                    self.per_operator
                ),
            ));
        }
        *count += 1;
        Ok(StreamPermit {
            limit: Arc::clone(self),
            operator: operator.to_string(),
        })
    }
}

impl Default for StreamLimit {
    fn default() -> Self {
        Self::new(STREAMS_PER_OPERATOR)
    }
}

/// One open stream, counted against its operator until dropped (the client
/// went away, or the stream ended).
struct StreamPermit {
    limit: Arc<StreamLimit>,
    operator: String,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.limit.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.operator) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.operator);
            }
        }
    }
}

/// The comment that follows the last event logged so far (`: caught-up`).
pub const CAUGHT_UP: &str = "caught-up";

#[derive(Deserialize)]
pub struct Cursor {
    after: Option<Whole>,
}

/// The operator's live stream (Server-Sent Events): every journal entry its party may see.
///
/// Each event's `id` is its journal position and its `event` the entry's `kind`; `data` is the entry as JSON with its `cursor` and `logged_at`. Once everything logged so far is sent, the comment `: caught-up` follows (again after each later batch). Reconnect with `Last-Event-ID` (or `?after=`) and nothing is missed or repeated. The stream ends when the operator is revoked. An operator may hold only a few streams at once (`parley serve --max-streams`, default 4); one more is refused with 429 `too-many-streams`.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "events",
    params(
        ("after" = Option<u64>, Query, description = "Start after this journal position; default 0 (from the beginning). `Last-Event-ID` takes precedence."),
        ("Last-Event-ID" = Option<u64>, Header, description = "The id of the last event received: resume after it."),
    ),
    responses(
        (status = 200, description = "The stream, kept alive with comments; each event as described.", content_type = "text/event-stream", body = crate::openapi::LiveEvent),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 422, response = crate::openapi::InvalidInput),
        (status = 429, response = crate::openapi::TooManyStreams),
    ),
    security(("bearer" = [])),
)]
pub async fn events(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<Cursor>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Problem> {
    let permit = state.streams.open(&actor.operator)?;
    let from_header = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|&n| n <= i64::MAX as u64)
                .ok_or_else(|| {
                    Problem::invalid(
                        "/header/Last-Event-ID",
                        "give the id of the last event received, a whole number from 0",
                    )
                })?,
        ),
    };
    let cursor = from_header.or(q.after.map(|w| w.0)).unwrap_or(0);
    let committed = state.committed.clone();
    let chunks = stream::unfold(
        (cursor, committed, state, actor, permit, false),
        |(mut cursor, mut committed, state, actor, permit, told)| async move {
            loop {
                // Mark what is committed now as seen before reading, so a commit that
                // lands after the read wakes the wait below.
                committed.borrow_and_update();
                // Revocation takes effect at once, also for open streams.
                let still = state.service.read(|s| s.operator_active(&actor.operator));
                if !still {
                    return None;
                }
                // A page looks at 16,384 entries at most: older ones come from
                // the store, and the writer waits while this holds the state.
                let (page, scanned) = state
                    .service
                    .read(|s| s.events_page(&actor, cursor, 256, 16_384));
                let batch: Vec<(u64, String, String)> = page
                    .into_iter()
                    .map(|l| {
                        let mut v = l.entry.public_json();
                        v["cursor"] = serde_json::json!(l.seq);
                        v["logged_at"] = serde_json::json!(format_timestamp(Timestamp(l.at_us)));
                        let kind = v["kind"].as_str().unwrap_or("event").to_string();
                        (l.seq, kind, v.to_string())
                    })
                    .collect();
                if let Some(last) = batch.last().map(|b| b.0) {
                    let events: Vec<Result<Event, Infallible>> = batch
                        .into_iter()
                        .map(|(seq, kind, data)| {
                            Ok(Event::default().id(seq.to_string()).event(kind).data(data))
                        })
                        .collect();
                    return Some((
                        stream::iter(events),
                        (last, committed, state, actor, permit, false),
                    ));
                }
                if scanned > cursor {
                    // Nothing of this party's in the page looked at: the next.
                    cursor = scanned;
                    continue;
                }
                // Everything logged so far is sent: a comment says so, once
                // until more arrives (`parley watch --until-caught-up`).
                if !told {
                    let caught_up = vec![Ok(Event::default().comment(CAUGHT_UP))];
                    return Some((
                        stream::iter(caught_up),
                        (cursor, committed, state, actor, permit, true),
                    ));
                }
                if committed.changed().await.is_err() {
                    return None;
                }
            }
        },
    );
    Ok(Sse::new(chunks.flatten()).keep_alive(KeepAlive::default()))
}
