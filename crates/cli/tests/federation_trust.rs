//! Federation (issue 20): what one node may trust of another, on real
//! processes. A key pinned, mutual TLS with each node's own certificate, a
//! node that rewrites what it sent or tells two peers two stories caught by
//! its own signature, and a line's two logs checked offline.

mod common;

use common::federated::*;
use common::http::{disc, notice};
use common::temp_dir;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_that_rewrites_what_it_sent_is_caught_and_the_evidence_kept() {
    let (blue, red) = two_nodes("fed-rewrite").await;
    notify(&blue, 53.0, 13.0, 1).await;
    // Blue's node, with its own key, tells another story of its first entry
    // (the line's creation, with other parties).
    let seed = std::fs::read_to_string(format!("{}.record-key", blue.server.db.display())).unwrap();
    let seed = parley_record::Hash::from_hex(seed.trim()).unwrap().0;
    let signer = parley_record::Signer::from_seed("blue.node", &seed).unwrap();
    let other = json!({"kind": "line_created", "line": "air", "name": "Air", "parties": ["blue"],
        "rules": {"horizontal_m": 0.0, "vertical_m": 0.0, "time_s": 0.0}})
    .to_string();
    let checkpoint = parley_record::Checkpoint {
        origin: parley_record::Origin::new("blue.node/lines/air").unwrap(),
        size: 1,
        root: parley_record::leaf_hash(other.as_bytes()),
        time_us: 1,
    }
    .sign(&signer);
    let forged = json!({"from": "blue.node", "line": "air", "first": 0, "entries": [other], "checkpoint": checkpoint});
    let res = deliver_to(&red, &forged).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let problem: Value = res.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("changed entry 0"),
        "{problem}"
    );
    // The evidence is on Red's record, for Red's party and the host.
    let export = red.server.export(&red.party.officer).await;
    let kept = export
        .lines()
        .find(|l| l.contains("peer_misbehaved"))
        .unwrap_or_else(|| panic!("no evidence on red's record: {export}"));
    assert!(kept.contains("changed entry 0"), "{kept}");
    // Sent again: refused again, kept once.
    let again = deliver_to(&red, &forged).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let export = red.server.export(&red.party.officer).await;
    assert_eq!(export.matches("peer_misbehaved").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peer_is_reached_over_https_only_with_its_pinned_key() {
    let blue = start_node("fed-pin-blue", "blue.node", "blue").await;
    let red = start_node("fed-pin-red", "red.node", "red").await;
    let key = status(&red).await["node_key"].as_str().unwrap().to_string();
    let add = |url: String, pin: Option<&str>| {
        let mut body = json!({"node": "red.node", "url": url, "node_key": key, "parties": ["red"]});
        if let Some(pin) = pin {
            body["tls_pin"] = json!(pin);
        }
        blue.server
            .post("/v1/federation/peers", &blue.server.host, body)
    };
    // Plain HTTP only on loopback, and HTTPS only with a pin.
    let (s, p) = add("http://192.0.2.7:8080".into(), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/url", "{p}");
    let https_url = format!("https://{}", red.server.url.split_once("://").unwrap().1);
    let (s, p) = add(https_url.clone(), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/tls_pin", "{p}");
    // A pin of another key: the peer is never reached, and the status says why.
    let other = common::tls::Ca::new(&temp_dir("fed-pin-ca"), "other-ca")
        .server("other", common::tls::CURRENT);
    let (s, p) = add(https_url, Some(&other.spki)).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    make_line(&blue, "air", &["blue", "red"]).await;
    let st = status(&blue).await;
    assert_eq!(st["peers"]["red.node"]["reach"]["reachable"], false, "{st}");
    let (s, p) = try_notify(&blue, 55.0, 15.0, 1).await;
    assert_eq!(s, StatusCode::CONFLICT, "the line waits for red.node: {p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_that_tells_two_peers_two_stories_is_caught_by_its_own_signature() {
    let (blue, red) = two_nodes("fed-split").await;
    notify(&blue, 56.0, 16.0, 1).await;
    let held = status(&red).await["lines"]["air"]["nodes"]["blue.node"]["held"]
        .as_u64()
        .unwrap();
    // Blue's node signs another log of the same size, as it would to a
    // third node; whoever carries that checkpoint to Red, Red catches it.
    let seed = std::fs::read_to_string(format!("{}.record-key", blue.server.db.display())).unwrap();
    let seed = parley_record::Hash::from_hex(seed.trim()).unwrap().0;
    let signer = parley_record::Signer::from_seed("blue.node", &seed).unwrap();
    let other_story = parley_record::Checkpoint {
        origin: parley_record::Origin::new("blue.node/lines/air").unwrap(),
        size: held,
        root: parley_record::leaf_hash(b"another story"),
        time_us: 1,
    }
    .sign(&signer);
    let carried = json!({"from": "blue.node", "line": "air", "first": 0, "entries": [],
        "checkpoint": "not a checkpoint", "heads": [other_story]});
    let res = deliver_to(&red, &carried).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "the carrier's own delivery is refused"
    );
    let export = red.server.export(&red.party.officer).await;
    let kept = export
        .lines()
        .find(|l| l.contains("peer_misbehaved"))
        .unwrap_or_else(|| panic!("no evidence on red's record: {export}"));
    assert!(kept.contains("signed two logs"), "{kept}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_reach_each_other_over_mutual_tls_with_their_own_keys_and_no_one_else_does() {
    let dir = temp_dir("fed-mtls");
    let ca = common::tls::Ca::new(&dir, "fed-mtls-ca");
    let blue = start_tls_node(&ca, "fed-mtls-blue", "blue.node", "blue").await;
    let red = start_tls_node(&ca, "fed-mtls-red", "red.node", "red").await;
    assert!(
        blue.server.url.starts_with("https://"),
        "{}",
        blue.server.url
    );
    // Each node presents its own certificate, which the other pinned: the
    // line goes live and a notice crosses.
    let (blue, red) = line_between(blue, red).await;
    let b = notify(&blue, 48.0, 2.0, 1).await;
    assert!(
        b["federation"]["not_reached"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{b}"
    );
    let id = b["activity"].as_str().unwrap();
    let (s, _) = red
        .server
        .get(&format!("/v1/activities/{id}"), &red.party.officer)
        .await;
    assert_eq!(s, StatusCode::OK, "red holds {id}");

    // Someone else claiming to be Red's node: a delivery is refused without
    // a client certificate, before anything in it is looked at...
    let forged =
        json!({"from": "red.node", "line": "air", "first": 0, "entries": [], "checkpoint": "x"});
    let deliveries = format!("{}/v1/federation/deliveries", blue.server.url);
    let bare = client_trusting(&ca, None);
    let answer = bare.post(&deliveries).json(&forged).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let problem: Value = answer.json().await.unwrap();
    assert_eq!(
        problem["type"].as_str().unwrap().rsplit(':').next(),
        Some("node-certificate-required"),
        "{problem}"
    );
    // ...and a certificate from the same CA but of no peer's key is refused
    // at the handshake.
    let mallory = ca.client("mallory");
    let with_cert = client_trusting(&ca, Some(&mallory));
    let answer = with_cert.post(&deliveries).json(&forged).send().await;
    assert!(
        answer
            .as_ref()
            .map_or(true, |a| a.status() == StatusCode::FORBIDDEN),
        "{answer:?}"
    );
    // Red's node itself still gets through.
    let again = notify(&blue, 48.5, 2.0, 1).await;
    assert!(
        again["federation"]["not_reached"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn both_logs_of_a_line_verify_offline_and_an_entry_one_side_never_logged_is_named() {
    let (blue, red) = two_nodes("fed-verify").await;
    let b = notify(&blue, 57.0, 18.0, 1).await;
    notify(&red, 57.0, 18.0, 1).await;
    let (s, v) = red
        .server
        .post(
            &format!(
                "/v1/activities/{}/acknowledgments",
                b["activity"].as_str().unwrap()
            ),
            &red.party.officer,
            json!({"version": 1, "content_sha256": b["content_sha256"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    all_receipted(&blue, &red).await;
    // Each party takes its own node's export; the keys are as exchanged.
    let (on_blue, on_red) = (line_logs(&blue).await, line_logs(&red).await);
    let keys: Vec<(Value, Value)> = [&on_blue, &on_red]
        .iter()
        .map(|e| (e["node_key"].clone(), e["cosigner_key"].clone()))
        .collect();
    let dir = temp_dir("fed-verify-files");
    let (code, text) = verify_federation(
        &dir,
        &[("blue.json", &on_blue), ("red.json", &on_red)],
        &keys,
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("logs and receipts agree"), "{text}");
    assert!(
        !text.contains("not checked"),
        "cosignatures checked: {text}"
    );

    // Red's export without the last of Blue's entries it took in: Blue holds
    // Red's signed receipt for it, so the entry is named.
    let mut dropped = on_red.clone();
    let leaves = dropped["nodes"]["blue.node"]["leaves"]
        .as_array_mut()
        .unwrap();
    leaves.pop();
    let last = leaves.len();
    let (code, text) = verify_federation(
        &dir,
        &[("blue.json", &on_blue), ("red-dropped.json", &dropped)],
        &keys,
    );
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("never logged there"), "{text}");
    assert!(text.contains(&format!("entry {last} (")), "{text}");

    // Blue's node rewrites its first entry and signs the result with its
    // own key: Red's cosignature and Red's copy both give it away.
    let seed = std::fs::read_to_string(format!("{}.record-key", blue.server.db.display())).unwrap();
    let seed = parley_record::Hash::from_hex(seed.trim()).unwrap().0;
    let signer = parley_record::Signer::from_seed("blue.node", &seed).unwrap();
    let mut rewritten = on_blue.clone();
    let entries = rewritten["entries"].as_array_mut().unwrap();
    entries[0] = json!(entries[0]
        .as_str()
        .unwrap()
        .replace("\"Air\"", "\"Air (rewritten)\""));
    let mut log = parley_record::MerkleLog::new();
    for e in entries.iter() {
        log.append_leaf_hash(parley_record::leaf_hash(e.as_str().unwrap().as_bytes()));
    }
    rewritten["checkpoint"] = json!(parley_record::Checkpoint {
        origin: parley_record::Origin::new("blue.node/lines/air").unwrap(),
        size: log.size(),
        root: log.root(),
        time_us: 1,
    }
    .sign(&signer));
    let (code, text) = verify_federation(
        &dir,
        &[("blue-rewritten.json", &rewritten), ("red.json", &on_red)],
        &keys,
    );
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("rewrote it since"), "{text}");
    assert!(
        text.contains("disagree on blue.node's entry 0 (line_created"),
        "{text}"
    );
}

/// Grey's node as a test plays it: no server, only its record key, whose
/// signed deliveries of its log on `air` the test posts itself.
struct Forger {
    signer: parley_record::Signer,
    leaves: Vec<parley_record::Hash>,
}

impl Forger {
    fn new() -> Self {
        Forger {
            signer: parley_record::Signer::from_seed("grey.node", &[5; 32]).unwrap(),
            leaves: Vec::new(),
        }
    }

    /// Its log grown by `entries` (each an entry's JSON), as a delivery of
    /// them under a checkpoint it signs.
    fn deliver(&mut self, entries: &[Value]) -> Value {
        let first = self.leaves.len();
        let texts: Vec<String> = entries
            .iter()
            .map(|e| json!({"at_us": 1, "entry": e}).to_string())
            .collect();
        let mut tree = parley_record::MerkleLog::new();
        self.leaves
            .extend(texts.iter().map(|t| parley_record::leaf_hash(t.as_bytes())));
        for leaf in &self.leaves {
            tree.append_leaf_hash(*leaf);
        }
        let checkpoint = parley_record::Checkpoint {
            origin: parley_record::Origin::new("grey.node/lines/air").unwrap(),
            size: self.leaves.len() as u64,
            root: tree.root(),
            time_us: 1,
        }
        .sign(&self.signer);
        json!({"from": "grey.node", "line": "air", "first": first, "entries": texts, "checkpoint": checkpoint})
    }
}

/// A notice of Grey's (activity `activity`) of `volumes`; its content hash
/// true, or not.
fn grey_notice(activity: &str, volumes: Vec<Value>, true_hash: bool) -> Value {
    let content = notice(volumes);
    let mut hash = parley_service::sha256_hex(content.to_string().as_bytes());
    if !true_hash {
        hash = parley_service::sha256_hex(b"something else");
    }
    json!({"kind": "notice", "activity": activity, "line": "air", "party": "grey",
        "operator": "grey-officer", "version": 1, "state": "notified", "content": content,
        "content_sha256": hash, "late": false})
}

/// The `received` entry a receipt proves, as its leaf says it.
fn received_of(receipt: &Value) -> Value {
    let leaf: Value = serde_json::from_str(receipt["leaf"].as_str().unwrap()).unwrap();
    leaf["entry"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_signed_entry_refused_for_good_is_held_and_the_line_moves_on_past_it() {
    let red = start_node("fed-refused-red", "red.node", "red").await;
    let mut grey = Forger::new();
    let (s, v) = red
        .server
        .post(
            "/v1/federation/peers",
            &red.server.host,
            json!({"node": "grey.node", "url": "http://127.0.0.1:9",
                "node_key": grey.signer.verifier_key().to_string(), "parties": ["grey"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let created = json!({"kind": "line_created", "line": "air", "name": "Air", "parties": ["grey", "red"],
        "rules": {"horizontal_m": 1000.0, "vertical_m": 0.0, "time_s": 0.0, "notice_lead_time_s": 0,
            "ack_deadline_s": 3600, "line_check_interval_s": 0}});
    let res = deliver_to(&red, &grey.deliver(&[created])).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    notify(&red, 53.0, 13.0, 1).await;

    // Grey's node signs a notice whose content does not hash to its
    // content_sha256, then a good one over Red's.
    let here = vec![disc(53.0, 13.0, 2_000.0, 1, 2)];
    let run = grey.deliver(&[
        grey_notice("a-grey-bad", here.clone(), false),
        grey_notice("a-grey-good", here, true),
    ]);
    let res = deliver_to(&red, &run).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the line is not stuck behind the bad entry"
    );
    let answer: Value = res.json().await.unwrap();
    assert_eq!(received_of(&answer["receipt"])["through"], 3, "{answer}");
    let refusals = answer["refusals"].as_array().unwrap();
    assert_eq!(refusals.len(), 1, "{answer}");
    let refused = received_of(&refusals[0]);
    assert_eq!(refused["through"], 2, "{refused}");
    assert_eq!(refused["logged"], 0, "held, not applied: {refused}");
    assert!(
        refused["refused"]
            .as_str()
            .unwrap()
            .contains("does not hash to its content_sha256"),
        "{refused}"
    );

    // The good notice is taken in and its conflict found; the bad one is
    // nowhere but in the refusal Red's party sees.
    let found = conflicts(&red).await;
    assert!(
        found.iter().any(|c| c.to_string().contains("a-grey-good")),
        "{found:?}"
    );
    assert!(!found.iter().any(|c| c.to_string().contains("a-grey-bad")));
    let export = red.server.export(&red.party.officer).await;
    assert_eq!(
        export
            .matches("does not hash to its content_sha256")
            .count(),
        1
    );
    // Held all the same: Red's copy of Grey's log is whole.
    let held = status(&red).await["lines"]["air"]["nodes"]["grey.node"]["held"].clone();
    assert_eq!(held, 3);

    // Sent again: nothing logged twice, the refusal answered again.
    let again: Value = deliver_to(&red, &run).await.json().await.unwrap();
    assert_eq!(
        again["refusals"].as_array().map(Vec::len),
        Some(1),
        "{again}"
    );
    let export = red.server.export(&red.party.officer).await;
    assert_eq!(
        export
            .matches("does not hash to its content_sha256")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_line_a_peer_refuses_for_good_is_told_once_and_never_goes_live() {
    let blue = start_node("fed-told-blue", "blue.node", "blue").await;
    let red = start_node("fed-told-red", "red.node", "red").await;
    peer(&blue, &red).await;
    // Red's node has a line `air` of its own already: Blue's line of that
    // id can never be taken in there.
    red.server.party("harbour").await;
    make_line(&red, "air", &["red", "harbour"]).await;
    make_line(&blue, "air", &["blue", "red"]).await;
    until("blue told of the refusal", || async {
        told_of_refusals(&blue).await == 1
    })
    .await;
    let export = blue.server.export(&blue.server.host).await;
    let told: Vec<&str> = export
        .lines()
        .filter(|l| l.contains("peer_refused"))
        .collect();
    assert!(
        told[0].contains("line_created") && told[0].contains("exists here already"),
        "{}",
        told[0]
    );
    // Refused, the line never goes live on Blue's node: a notice on it is
    // refused with the reason, and nothing is logged.
    let (code, body) = try_notify(&blue, 54.0, 14.0, 1).await;
    assert_eq!(code, StatusCode::CONFLICT, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("refused by node(s) red.node"),
        "{body}"
    );
    // Receipted, refused or not: Red's node is not behind.
    let st = status(&blue).await;
    let line = &st["lines"]["air"];
    assert_eq!(line["log_size"], 1, "{st}");
    assert_eq!(line["nodes"]["red.node"]["receipted"], 1, "{st}");
    let nodes = operation(&blue).await["nodes"].clone();
    assert_eq!(nodes[0]["reachable"], true, "{nodes}");
    assert_eq!(nodes[0]["behind_since"], Value::Null, "{nodes}");
    // Red's line stays its own: what is written on it goes into no log of
    // Red's for other nodes.
    notify(&red, 54.0, 14.0, 1).await;
    let st = status(&red).await;
    assert_eq!(st["lines"]["air"]["log_size"], 0, "{st}");
    // Offline, the refused entry counts as held there, and is named.
    let (on_blue, on_red) = (line_logs(&blue).await, line_logs(&red).await);
    let keys: Vec<(Value, Value)> = [&on_blue, &on_red]
        .iter()
        .map(|e| (e["node_key"].clone(), e["cosigner_key"].clone()))
        .collect();
    let (code, text) = verify_federation(
        &temp_dir("fed-told-files"),
        &[("blue.json", &on_blue), ("red.json", &on_red)],
        &keys,
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("red.node holds entry 0 (line_created") && text.contains("but refused it"),
        "{text}"
    );
    // Not told again when the journal is replayed.
    let mut blue = blue;
    restart(&mut blue);
    assert_eq!(told_of_refusals(&blue).await, 1);
}

/// How many `peer_refused` entries node `n` logged (as its host reads them).
async fn told_of_refusals(n: &Node) -> usize {
    let export = n.server.export(&n.server.host).await;
    export.matches("peer_refused").count()
}
