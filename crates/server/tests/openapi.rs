//! The OpenAPI document is generated from the code (`src/openapi.rs` and the
//! handlers' `#[utoipa::path]` annotations) and kept in `docs/openapi.json`.
//! These tests fail when the committed file and the code drift, and when a route
//! of `router()` is not documented (or a documented one is not routed).
//!
//! Regenerate the file with:
//!
//! ```sh
//! PARLEY_BLESS=1 cargo test -p parley-server --test openapi
//! ```

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

const REGENERATE: &str = "PARLEY_BLESS=1 cargo test -p parley-server --test openapi";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn committed_path() -> PathBuf {
    manifest_dir().join("../../docs/openapi.json")
}

fn document() -> Value {
    serde_json::from_str(&parley_server::document()).expect("the document is JSON")
}

#[test]
fn committed_document_matches_the_code() {
    let generated = parley_server::document();
    let path = committed_path();
    if std::env::var_os("PARLEY_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write docs/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let (line, (want, got)) = committed
            .lines()
            .zip(generated.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, pair)| (i + 1, pair))
            .unwrap_or((
                committed.lines().count().min(generated.lines().count()) + 1,
                ("(end of file)", "(end of file)"),
            ));
        panic!(
            "docs/openapi.json is not what the code generates (first difference at line {line}:\n  \
             committed: {want}\n  generated: {got}\n).\nRegenerate it with:\n\n    {REGENERATE}\n\n\
             and commit the result."
        );
    }
}

#[test]
fn document_is_openapi_3_1_for_parley() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Parley");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

fn documented() -> BTreeSet<(String, String)> {
    let doc = document();
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .filter(|k| {
                    ["get", "post", "put", "patch", "delete", "head", "options"]
                        .contains(&k.as_str())
                })
                .map(move |method| (path.clone(), method.clone()))
        })
        .collect()
}

#[test]
fn every_operation_is_described_and_answers_errors_as_problems() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let what = format!("{method} {path}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{what} has no summary"
            );
            // A peer node's delivery is authenticated by the peer's
            // signature of its log, not by a token.
            let public = matches!(
                path.as_str(),
                "/v1/health" | "/v1/openapi.json" | "/v1/federation/deliveries"
            );
            let responses = op["responses"].as_object().expect("responses");
            if public {
                assert!(op.get("security").is_none(), "{what} needs no token");
            } else {
                assert_eq!(
                    op["security"],
                    serde_json::json!([{"bearer": []}]),
                    "{what} needs a bearer token"
                );
                for status in ["401", "429"] {
                    assert!(responses.contains_key(status), "{what} lacks {status}");
                }
            }
            // A POST that writes nothing to the journal (it asks the
            // witnesses for cosignatures) takes no input and no idempotency key.
            let writes = path != "/v1/record/checkpoint/witnessed";
            if method == "post" && writes {
                for status in ["422", "503"] {
                    assert!(responses.contains_key(status), "{what} lacks {status}");
                }
                let params = op["parameters"].as_array().expect("parameters");
                assert!(
                    params.iter().any(|p| p["name"] == "Idempotency-Key"),
                    "{what} lacks the Idempotency-Key header"
                );
            }
            // Path parameters are declared exactly as the path names them.
            let in_path: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            assert_eq!(in_path, declared, "{what}: path parameters");
        }
    }
}

/// The documented enumerations are values the service accepts.
#[test]
fn documented_enumerations_parse_as_the_service_types() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    fn values(schema: &Value) -> Vec<Value> {
        schema["enum"].as_array().expect("an enum").clone()
    }
    for v in values(&schemas["Category"]) {
        serde_json::from_value::<parley_service::Category>(v.clone())
            .unwrap_or_else(|_| panic!("Category {v} is not a service category"));
    }
    for v in values(&schemas["Priority"]) {
        serde_json::from_value::<parley_service::Priority>(v.clone())
            .unwrap_or_else(|_| panic!("Priority {v} is not a service priority"));
    }
    for v in values(&schemas["LineState"]) {
        serde_json::from_value::<parley_service::LineStatus>(v.clone())
            .unwrap_or_else(|_| panic!("LineState {v} is not a service line status"));
    }
    for v in values(&schemas["MessageKind"]) {
        serde_json::from_value::<parley_service::MessageKind>(v.clone())
            .unwrap_or_else(|_| panic!("MessageKind {v} is not a service message kind"));
    }
    for v in values(&schemas["SiteKind"]) {
        serde_json::from_value::<parley_service::SiteKind>(v.clone())
            .unwrap_or_else(|_| panic!("SiteKind {v} is not a service site kind"));
    }
    assert_eq!(values(&schemas["LineState"]).len(), 2);
    assert_eq!(values(&schemas["MessageKind"]).len(), 3);
    assert_eq!(values(&schemas["SiteKind"]).len(), 2);
    for v in values(&schemas["Role"]) {
        let role = v.as_str().expect("a string");
        assert!(
            parley_service::Role::parse(role).is_some(),
            "Role {role} is not a service role"
        );
    }
    assert_eq!(values(&schemas["Category"]).len(), 5);
    assert_eq!(values(&schemas["Priority"]).len(), 3);
    assert_eq!(values(&schemas["Role"]).len(), 3);
}

/// A journal that keeps nothing: enough to serve reads in-process.
struct NoJournal;

impl parley_service::Journal for NoJournal {
    fn load(&mut self) -> Result<Vec<parley_service::Logged>, parley_service::StorageError> {
        Ok(Vec::new())
    }
    fn load_idempotency(
        &mut self,
    ) -> Result<Vec<parley_service::IdempotencyRecord>, parley_service::StorageError> {
        Ok(Vec::new())
    }
    fn append(
        &mut self,
        _: &[parley_service::Logged],
        _: &[parley_service::IdempotencyRecord],
    ) -> Result<(), parley_service::StorageError> {
        Ok(())
    }
    fn forget_idempotency(&mut self, _: i64) -> Result<(), parley_service::StorageError> {
        Ok(())
    }
}

/// A real server on a loopback port, over a service that keeps nothing.
async fn serve_in_process() -> std::net::SocketAddr {
    let (on_commit, committed) = parley_server::commit_channel();
    let service = parley_service::Service::open(
        NoJournal,
        parley_wire::WireLimits::default(),
        parley_service::system_clock(),
        on_commit,
    )
    .expect("open the service");
    let state = parley_server::AppState {
        service: service.clone(),
        committed,
        rate: std::sync::Arc::new(parley_server::RateLimit::new(1000.0)),
        streams: std::sync::Arc::default(),
        federation: parley_server::Federation::new(
            service.clone(),
            parley_server::PEER_TIMEOUT,
            None,
        ),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(parley_server::serve(listener, state));
    address
}

/// One request, `method path` with an empty body and no token; the answer's
/// head and body.
async fn ask(address: std::net::SocketAddr, method: &str, path: &str) -> (String, String) {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: parley\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(address).expect("connect");
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
    })
    .await
    .expect("the client ran");
    let (head, body) = answer.split_once("\r\n\r\n").expect("head and body");
    (head.to_string(), body.to_string())
}

#[tokio::test]
async fn the_server_serves_the_document_without_a_token() {
    let address = serve_in_process().await;
    let (head, body) = ask(address, "GET", "/v1/openapi.json").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    assert_eq!(body, parley_server::document());
}

/// The router and the document come from one list (`routes::api`); this
/// checks the outcome on the real server: every documented operation is
/// routed (a request without a token gets 401, or 200 where none is needed),
/// never the fallback's 404 nor a 405.
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let address = serve_in_process().await;
    let operations = documented();
    assert!(operations.len() > 35, "{operations:?}");
    for (path, method) in operations {
        // Path parameters: a value of the right shape (numbers for the numbered ones).
        let concrete: String = path
            .split('/')
            .map(|part| match part {
                "{seq}" | "{follow_up}" => "1",
                p if p.starts_with('{') => "x",
                p => p,
            })
            .collect::<Vec<_>>()
            .join("/");
        let (head, _) = ask(address, &method.to_uppercase(), &concrete).await;
        let public = path == "/v1/health" || path == "/v1/openapi.json";
        let want = if path == "/v1/federation/deliveries" {
            // No token needed; an empty body is not a delivery.
            "HTTP/1.1 422"
        } else if public {
            "HTTP/1.1 200"
        } else {
            "HTTP/1.1 401"
        };
        assert!(head.starts_with(want), "{method} {concrete}: {head}");
    }
}
