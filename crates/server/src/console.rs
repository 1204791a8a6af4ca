//! The web console: static files (HTML, CSS, ES modules, the Natural Earth
//! basemap) embedded in the binary and served at `/` and `/console/...` under a
//! strict same-origin Content-Security-Policy. The console talks to the API
//! like any other client; nothing here knows about the service.

use crate::AppState;
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Only this origin's scripts, styles, images and API; no inline code, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Every embedded file: path under `/console/`, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../console/index.html"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../console/console.css"),
    ),
    (
        "party.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/party.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/api.js"),
    ),
    (
        "map.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/map.js"),
    ),
    (
        "dom.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/dom.js"),
    ),
    (
        "talk-form.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/talk-form.js"),
    ),
    (
        "i18n-ru.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/i18n-ru.js"),
    ),
    (
        "i18n-zh.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/i18n-zh.js"),
    ),
    (
        "app-context.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/app-context.js"),
    ),
    (
        "lines.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/lines.js"),
    ),
    (
        "notify.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/notify.js"),
    ),
    (
        "talks.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/talks.js"),
    ),
    (
        "actions.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/actions.js"),
    ),
    (
        "timeline.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/timeline.js"),
    ),
    (
        "brief.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/brief.js"),
    ),
    (
        "signing.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/signing.js"),
    ),
    (
        "format.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/format.js"),
    ),
    (
        "i18n.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../console/i18n.js"),
    ),
    (
        "data/countries-50m.json",
        "application/json",
        include_bytes!("../console/data/countries-50m.json"),
    ),
];

fn asset(name: &str) -> Response {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|a| a.0 == name) else {
        return (StatusCode::NOT_FOUND, "no such console file").into_response();
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Not fingerprinted: revalidate every time, so an upgrade is seen at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `GET /` (the page) and `GET /console/{*path}` (its scripts, styles and data).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/console/{*path}", get(file))
}

/// `GET /`: the console's page.
async fn index() -> Response {
    asset("index.html")
}

/// `GET /console/{*path}`: its scripts, styles and data.
async fn file(Path(path): Path<String>) -> Response {
    asset(&path)
}
