//! Messages on a line: text, requests with a deadline, replies.

use super::{Answer, WriteRequest};
use crate::auth::Auth;
use crate::openapi::{Forbidden, Message};
use crate::problem::Problem;
use crate::rejection::{ApiPath, ApiQuery, Whole};
use crate::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use parley_service::{Command, MessageKind, Priority};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this resource, each with its OpenAPI operation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(send_message, list_messages))
}

/// Sends a message on a line: free text, a request with a deadline, or a reply.
///
/// Messages are ordered by the line's sequence and never edited: a correction references the message it corrects.
#[utoipa::path(
    post,
    path = "/v1/lines/{line}/messages",
    tag = "messages",
    params(
        ("line" = String, Path, description = "The line's id."),
    ),
    request_body = Message,
    responses(
        (status = 201, description = "The message with its line sequence number.", body = crate::wire::MessageSent),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = [])),
)]
async fn send_message(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(line): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let b = request.body()?;
    let command = Command::SendMessage {
        line,
        message: b
            .parsed::<MessageKind>("message", "\"text\", \"request\" or \"reply\"")?
            .unwrap_or(MessageKind::Text),
        priority: b
            .parsed::<Priority>("priority", "\"routine\", \"urgent\" or \"flash\"")?
            .unwrap_or(Priority::Routine),
        text: b.string("text")?,
        deadline: b.optional_string("deadline")?,
        references: b.optional_u64("references")?,
    };
    request.submit(&s, a, command).await
}

/// Where a page of messages starts, and how long it is.
#[derive(Deserialize)]
struct After {
    after: Option<Whole>,
    limit: Option<Whole>,
}

/// A line's messages in line order.
#[utoipa::path(
    get,
    path = "/v1/lines/{line}/messages",
    tag = "messages",
    params(
        ("line" = String, Path, description = "The line's id."),
        ("after" = Option<u64>, Query, description = "Only messages after this line sequence number; default 0."),
        ("limit" = Option<u64>, Query, description = "At most this many messages; default 500.", minimum = 1, maximum = 5000),
    ),
    responses(
        (status = 200, description = "`{messages: [...]}`.", body = crate::wire::Messages),
        (status = 400, description = "A query parameter is not a whole number.", content_type = "text/plain", body = String),
    ),
    security(("bearer" = [])),
)]
async fn list_messages(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(line): ApiPath<String>,
    ApiQuery(q): ApiQuery<After>,
) -> Answer {
    let limit = match q.limit.map(|w| w.0) {
        None => 500,
        Some(n @ 1..=5_000) => n as usize,
        Some(_) => {
            return Err(Problem::invalid(
                "/query/limit",
                "give a whole number from 1 to 5000",
            ))
        }
    };
    let messages = s
        .service
        .read(|st| st.messages(&a, &line, q.after.map_or(0, |w| w.0), limit))?;
    Ok(Json(json!({"messages": messages})).into_response())
}
