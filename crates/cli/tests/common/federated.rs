//! Federation's end-to-end helpers: nodes (each its own `parley serve` and
//! store), peering them, and reading what each holds.

use super::http::{disc, notice, Server, Tokens};
use super::temp_dir;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

/// A node: its server, its name and its party's tokens.
pub struct Node {
    pub server: Server,
    pub name: String,
    pub party: Tokens,
    pub party_id: String,
    /// Its TLS key (SPKI SHA-256), which its peers pin, when it serves HTTPS.
    pub spki: Option<String>,
}

pub fn node_args(name: &str) -> Vec<String> {
    vec![
        "--origin".into(),
        name.into(),
        "--rate-limit".into(),
        "100000".into(),
        // Short, so the tests of an unreachable node do not wait long.
        "--peer-timeout-ms".into(),
        "1500".into(),
    ]
}

pub async fn start_node(dir: &str, name: &str, party: &str) -> Node {
    let args = node_args(name);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start_at_with(temp_dir(dir).join("parley.db"), &args);
    let spki = super::https().map(|h| h.server.spki.clone());
    node_of(server, name, party, spki).await
}

pub async fn node_of(server: Server, name: &str, party: &str, spki: Option<String>) -> Node {
    let tokens = server.party(party).await;
    Node {
        server,
        name: name.into(),
        party: tokens,
        party_id: party.into(),
        spki,
    }
}

/// A node serving HTTPS with a certificate of its own from `ca`.
pub async fn start_tls_node(ca: &super::tls::Ca, dir: &str, name: &str, party: &str) -> Node {
    let pair = ca.server(name, super::tls::CURRENT);
    let mut args = node_args(name);
    args.extend(["--tls-cert".into(), pair.cert().into()]);
    args.extend(["--tls-key".into(), pair.key().into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut server = Server::start_at_with(temp_dir(dir).join("parley.db"), &args);
    server.client = client_trusting(ca, None);
    node_of(server, name, party, Some(pair.spki)).await
}

/// A client as the suite's nodes are: over HTTPS (the second round, where
/// every node has the suite's certificate) presenting a node's certificate,
/// so what it sends is judged on what it says.
pub fn as_a_node() -> reqwest::Client {
    match super::https() {
        Some(h) => {
            let mut both = std::fs::read(&h.server.cert).unwrap();
            both.extend(std::fs::read(&h.server.key).unwrap());
            let pem = std::fs::read(&h.ca).unwrap();
            reqwest::Client::builder()
                .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
                .identity(reqwest::Identity::from_pem(&both).unwrap())
                .build()
                .unwrap()
        }
        None => super::http_client(),
    }
}

/// Posts `delivery` to node `to` as a node would (see [`as_a_node`]).
pub async fn deliver_to(to: &Node, delivery: &Value) -> reqwest::Response {
    as_a_node()
        .post(format!("{}/v1/federation/deliveries", to.server.url))
        .json(delivery)
        .send()
        .await
        .unwrap()
}

/// A client trusting `ca`, presenting `identity` (a certificate and its key).
pub fn client_trusting(
    ca: &super::tls::Ca,
    identity: Option<&super::tls::Pair>,
) -> reqwest::Client {
    let _ = super::http_client();
    let pem = std::fs::read(&ca.pem).unwrap();
    let mut b =
        reqwest::Client::builder().tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()]);
    if let Some(id) = identity {
        let mut both = std::fs::read(&id.cert).unwrap();
        both.extend(std::fs::read(&id.key).unwrap());
        b = b.identity(reqwest::Identity::from_pem(&both).unwrap());
    }
    b.build().unwrap()
}

/// Starts the node again on its store after it was killed.
pub fn restart(node: &mut Node) {
    let db: PathBuf = node.server.db.clone();
    let host = node.server.host.clone();
    node.server.kill();
    // On the same address: its peers know it there.
    let mut args = node_args(&node.name);
    let address = node.server.url.split_once("://").unwrap().1.to_string();
    args.extend(["--listen".to_string(), address]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (child, url, _) = super::serve_with(&db, &args);
    node.server = Server {
        child,
        url,
        host,
        db,
        client: super::http_client(),
    };
}

pub async fn status(n: &Node) -> Value {
    let (s, v) = n.server.get("/v1/federation", &n.server.host).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

/// Peers `a` and `b` on both sides, each naming the other's party.
pub async fn peer(a: &Node, b: &Node) {
    peer_at(a, b, &b.server.url).await;
    peer_at(b, a, &a.server.url).await;
}

/// Peers `here` with `there`, which it reaches at `url`.
pub async fn peer_at(here: &Node, there: &Node, url: &str) {
    let st = status(there).await;
    let mut body = json!({"node": there.name, "url": url, "node_key": st["node_key"],
        "cosigner_key": st["cosigner_key"], "parties": [there.party_id]});
    // Over HTTPS the peer's key is pinned.
    if let Some(spki) = &there.spki {
        body["tls_pin"] = json!(spki);
    }
    let (s, v) = here
        .server
        .post("/v1/federation/peers", &here.server.host, body)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

/// Waits until `cond` holds (polling), at most a minute.
pub async fn until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Line `air`'s operation status on node `n`, as its officer reads it.
pub async fn operation(n: &Node) -> Value {
    let (s, v) = n.server.get("/v1/lines/air", &n.party.officer).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["operation"].clone()
}

pub async fn conflicts(n: &Node) -> Vec<Value> {
    let (s, v) = n.server.get("/v1/conflicts", &n.party.officer).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["conflicts"].as_array().cloned().unwrap_or_default()
}

pub async fn notify(n: &Node, lat: f64, lng: f64, start_h: i64) -> Value {
    let (s, v) = try_notify(n, lat, lng, start_h).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

/// A notice of `n`'s party on `air` (a 2 km disc for 2 hours from
/// `start_h`), whatever the answer.
pub async fn try_notify(n: &Node, lat: f64, lng: f64, start_h: i64) -> (StatusCode, Value) {
    n.server
        .post(
            "/v1/lines/air/notices",
            &n.party.officer,
            notice(vec![disc(lat, lng, 2_000.0, start_h, 2)]),
        )
        .await
}

pub async fn two_nodes(name: &str) -> (Node, Node) {
    let blue = start_node(&format!("{name}-blue"), "blue.node", "blue").await;
    let red = start_node(&format!("{name}-red"), "red.node", "red").await;
    line_between(blue, red).await
}

/// Peers two nodes and makes line `air` between their parties on the first.
pub async fn line_between(blue: Node, red: Node) -> (Node, Node) {
    peer(&blue, &red).await;
    make_line(&blue, "air", &["blue", "red"]).await;
    (blue, red)
}

/// Each of `ids` is on `node`'s record as a notice exactly once.
pub async fn held_once(node: &Node, ids: &[String]) {
    let export = node.server.export(&node.server.host).await;
    for id in ids {
        let notices = export
            .lines()
            .filter(|l| l.contains("\\\"kind\\\":\\\"notice\\\"") && l.contains(id.as_str()))
            .count();
        assert_eq!(notices, 1, "{id} held once on {}'s node", node.party_id);
    }
}

/// Waits until each of the two nodes has all of its log on `air`
/// receipted by the other.
pub async fn all_receipted(blue: &Node, red: &Node) {
    for (n, other) in [(blue, &red.name), (red, &blue.name)] {
        until("every entry receipted", || async {
            let st = status(n).await;
            let line = &st["lines"]["air"];
            line["nodes"][other.as_str()]["receipted"] == line["log_size"]
        })
        .await;
    }
}

/// The ids of the conflicts a node's party is told of, sorted.
pub async fn conflict_ids(n: &Node) -> Vec<String> {
    let mut ids: Vec<String> = conflicts(n)
        .await
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// Line `air`'s logs as node `n` holds them, as its officer takes them.
pub async fn line_logs(n: &Node) -> Value {
    let (s, v) = n
        .server
        .get("/v1/federation/lines/air/logs", &n.party.officer)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

/// `parley verify federation` over `exports` with both nodes' keys: its
/// exit status and what it printed.
pub fn verify_federation(
    dir: &std::path::Path,
    exports: &[(&str, &Value)],
    keys: &[(Value, Value)],
) -> (i32, String) {
    let mut cmd = std::process::Command::new(super::BIN);
    cmd.args(["verify", "federation"]);
    for (name, export) in exports {
        let path = dir.join(name);
        std::fs::write(&path, export.to_string()).unwrap();
        cmd.arg(path);
    }
    for (node_key, cosigner_key) in keys {
        cmd.args(["--node-key", node_key.as_str().unwrap()]);
        cmd.args(["--cosigner-key", cosigner_key.as_str().unwrap()]);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Makes line `id` (named `Id`) joining `parties` on node `on`, as its
/// host's admins.
pub async fn make_line(on: &Node, id: &str, parties: &[&str]) {
    let name = id[..1].to_uppercase() + &id[1..];
    let (s, v) = on
        .server
        .post(
            "/v1/lines",
            &on.server.host,
            json!({"id": id, "name": name, "parties": parties, "rules": {"horizontal_m": 1000, "vertical_m": 0, "time_s": 0}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}
