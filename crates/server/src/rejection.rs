//! What the framework refuses, as problem+json like every other error: path
//! and query parameters that do not parse (with a pointer to the parameter),
//! wrong methods, oversize bodies, and any other answer axum writes itself.
//!
//! The extractors [`ApiPath`] and [`ApiQuery`] name the parameter; the
//! [`as_problem`] layer turns every remaining plain-text error into a problem,
//! so no client ever has to parse two error formats.

use crate::problem::Problem;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, RawPathParams};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// A whole number in a path or query as the document describes it (an
/// `int64` of at least 0): larger ones are refused, not silently served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Whole(pub u64);

impl<'de> serde::Deserialize<'de> for Whole {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(d)?;
        if n > i64::MAX as u64 {
            return Err(serde::de::Error::custom(format!(
                "number too large: {n} is past {}",
                i64::MAX
            )));
        }
        Ok(Whole(n))
    }
}

/// The pointer of query parameter `name` in a problem: `/query/<name>`.
fn query_pointer(name: &str) -> String {
    format!("/query/{name}")
}

/// Path parameters, refused as problem+json naming the parameter.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(t)) => Ok(ApiPath(t)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                use axum::extract::path::ErrorKind;
                let (name, value, expected_type) = match e.kind() {
                    ErrorKind::ParseErrorAtKey {
                        key,
                        value,
                        expected_type,
                    } => (key.clone(), value, expected_type),
                    ErrorKind::ParseErrorAtIndex {
                        index,
                        value,
                        expected_type,
                    } => (index.to_string(), value, expected_type),
                    ErrorKind::ParseError {
                        value,
                        expected_type,
                    } => {
                        // A lone parameter: its name is the one whose value it is.
                        let key = RawPathParams::from_request_parts(parts, state)
                            .await
                            .ok()
                            .and_then(|raw| {
                                raw.iter()
                                    .find(|(_, v)| *v == value)
                                    .map(|(k, _)| k.to_string())
                            })
                            .unwrap_or_default();
                        (key, value, expected_type)
                    }
                    other => return Err(Problem::invalid("/path", other.to_string())),
                };
                let detail = format!(
                    "{value:?} is not a {}; give {}",
                    short(expected_type),
                    expected(expected_type)
                );
                Err(Problem::invalid(&format!("/path/{name}"), detail))
            }
            Err(other) => Err(Problem::invalid("/path", other.body_text())),
        }
    }
}

/// Query parameters, refused as problem+json naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(t)) => Ok(ApiQuery(t)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let text = e.body_text();
                let text = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                let (pointer, detail) = query_problem(text);
                Err(Problem::invalid(&pointer, detail))
            }
            Err(other) => Err(Problem::invalid("/query", other.body_text())),
        }
    }
}

/// A pointer and a message from serde_urlencoded's error text, which reads
/// `<field>: <what is wrong>` or ``missing field `<field>` ``.
fn query_problem(text: &str) -> (String, String) {
    if let Some(rest) = text.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`');
        return (query_pointer(field), "missing; give it".into());
    }
    match text.split_once(": ") {
        Some((field, what)) if !field.contains(' ') => {
            let hint = if what.contains("too large") || what.contains("invalid digit") {
                "; give a whole number from 0 to 9223372036854775807"
            } else {
                ""
            };
            (query_pointer(field), format!("{what}{hint}"))
        }
        _ => ("/query".into(), text.to_string()),
    }
}

/// `u64` rather than `core::u64`-style paths in messages.
fn short(type_name: &str) -> &str {
    type_name.rsplit("::").next().unwrap_or(type_name)
}

fn expected(type_name: &str) -> &'static str {
    match short(type_name) {
        "u64" | "u32" | "usize" => "a whole number ≥ 0",
        "i64" | "i32" => "a whole number",
        _ => "a value of that type",
    }
}

/// The last layer: an error answer that is not problem+json already (axum's
/// own 405, 413, 415 and 400 answers, which are plain text) becomes one, with
/// a detail that says what to do.
pub async fn as_problem(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let problem = match status {
        StatusCode::PAYLOAD_TOO_LARGE => Problem::too_large(),
        StatusCode::METHOD_NOT_ALLOWED => Problem::new(
            status,
            "method-not-allowed",
            format!(
                "this route does not take that method; it takes {}",
                allow
                    .as_ref()
                    .and_then(|a| a.to_str().ok())
                    .unwrap_or("another")
            ),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::new(
            status,
            "unsupported-media-type",
            format!("{text}; send Content-Type: application/json"),
        ),
        _ if status.is_client_error() => Problem::new(
            status,
            "bad-request",
            if text.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("bad request")
                    .to_string()
            } else {
                text
            },
        ),
        _ => Problem::new(status, "internal", "the server failed to answer; retry"),
    };
    let mut response = problem.into_response();
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response.headers_mut().insert(name, value.clone());
        }
    }
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_errors_name_their_parameter() {
        assert_eq!(
            query_problem("limit: number too large to fit in target type").0,
            "/query/limit"
        );
        assert_eq!(query_problem("missing field `to`").0, "/query/to");
        assert_eq!(query_problem("something else entirely").0, "/query");
    }
}
