//! The access log: one JSON line per request on standard error, written when
//! the response is ready: `{"time", "operator", "method", "route", "status",
//! "duration_ms"}`. `time` is when the request arrived (RFC 3339, UTC);
//! `operator` is the authenticated operator's id, or null when the request
//! carried no valid token (health, the console's files, refusals); `route` is
//! the path without its query. A live event stream is logged when it opens.
//!
//! Nothing secret is written: no header, no body, no query.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use parley_engine::Timestamp;
use parley_wire::format_timestamp;
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Where [`crate::auth::Auth`] leaves the operator it authenticated, for the log.
#[derive(Clone, Default)]
pub(crate) struct OperatorSlot(Arc<OnceLock<String>>);

impl OperatorSlot {
    /// Records the request's operator (the first one only).
    pub(crate) fn set(&self, operator: &str) {
        let _ = self.0.set(operator.to_string());
    }
}

/// The middleware: times the request and writes its line.
pub(crate) async fn log(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let arrived = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let slot = OperatorSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().to_string();
    let route = request.uri().path().to_string();
    let response = next.run(request).await;
    let line = serde_json::json!({
        "time": format_timestamp(Timestamp(arrived)),
        "operator": slot.0.get(),
        "method": method,
        "route": route,
        "status": response.status().as_u16(),
        "duration_ms": (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
    });
    eprintln!("{line}");
    response
}
