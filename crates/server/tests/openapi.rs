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

/// `(path, method)` pairs routed by `router()` in `src/routes.rs`: the string
/// literal passed to each `.route(` and the `get(`/`post(`/... method routers
/// chained in its second argument.
fn routed() -> BTreeSet<(String, String)> {
    const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];
    let source =
        std::fs::read_to_string(manifest_dir().join("src/routes.rs")).expect("read routes.rs");
    let body = source
        .split_once("pub fn router(")
        .expect("routes.rs defines router()")
        .1;
    let mut found = BTreeSet::new();
    let mut rest = body;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        // The call's arguments: up to the matching parenthesis.
        let mut depth = 1;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .expect("a closed .route( call")
            .0;
        let args = &rest[..end];
        let path = args
            .split('"')
            .nth(1)
            .expect(".route( takes a string literal path");
        let handlers = &args[args.find(',').expect(".route(path, handler)") + 1..];
        let mut methods = 0;
        // Every identifier called in the handler argument: `post(` and `.get(` count.
        for (open, _) in handlers.match_indices('(') {
            let before = &handlers[..open];
            let start = before
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            let method = &before[start..];
            if METHODS.contains(&method) {
                // A wildcard (`{*path}`) is documented as a plain parameter.
                found.insert((path.replace("{*", "{"), method.to_string()));
                methods += 1;
            }
        }
        assert!(methods > 0, "no method router found for {path}: {args}");
        rest = &rest[end..];
    }
    assert!(
        found.len() > 20,
        "found only {} routes in routes.rs",
        found.len()
    );
    found
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
fn every_route_is_documented_and_every_documented_route_is_routed() {
    let routed = routed();
    let documented = documented();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "router() and the OpenAPI document disagree.\n\
         Routed but not documented (annotate the handler with #[utoipa::path] and list it in \
         src/openapi.rs): {undocumented:?}\n\
         Documented but not routed: {unrouted:?}"
    );
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
            let public = path == "/v1/health" || path == "/v1/openapi.json";
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

#[tokio::test]
async fn the_server_serves_the_document_without_a_token() {
    let (on_commit, committed) = parley_server::commit_channel();
    let service = parley_service::Service::open(
        NoJournal,
        parley_wire::WireLimits::default(),
        parley_service::system_clock(),
        on_commit,
    )
    .expect("open the service");
    let state = parley_server::AppState {
        service,
        committed,
        rate: std::sync::Arc::new(parley_server::RateLimit::new(100.0)),
        streams: std::sync::Arc::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(parley_server::serve(listener, state));

    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(address).expect("connect");
        stream
            .write_all(
                b"GET /v1/openapi.json HTTP/1.1\r\nHost: parley\r\nConnection: close\r\n\r\n",
            )
            .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
    })
    .await
    .expect("the client ran");
    let (head, body) = answer.split_once("\r\n\r\n").expect("head and body");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    assert_eq!(body, parley_server::document());
}
