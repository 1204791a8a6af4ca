//! A party's word against a hostile host and rival operators, on the real
//! `parley serve` (issue 15, points 1, 2 and 5): a signed request replayed by
//! another operator, or after a restart, is refused and makes nothing; a
//! statement older than the skew, of another operator or of other content
//! is refused; the party's keys grow only by links it signs; and a store the
//! host tampered with (a signature copied onto another entry, a forged key
//! link, an entry moved out of its party's sight or back in time) fails
//! `parley verify export`, naming the entry.

mod common;

use base64::Engine;
use common::http::{disc, notice, Server, Tokens};
use common::{postgres, temp_dir, Client};
use parley_record::Signer;
use parley_service::{canonical_volumes, Claim};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

/// The server's record origin (its checkpoint's first line).
async fn origin(server: &Server, token: &str) -> String {
    let (_, v) = server.get("/v1/record/checkpoint", token).await;
    v["checkpoint"]
        .as_str()
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

/// The headers of `key`'s signature of `statement`.
fn signature(key: &Signer, statement: &str) -> [(&'static str, String); 2] {
    let note = key.sign_note(statement).unwrap();
    let line = note.lines().last().unwrap();
    [
        (
            "Parley-Signature",
            line.trim_start_matches('\u{2014}').trim().to_string(),
        ),
        (
            "Parley-Statement",
            base64::engine::general_purpose::STANDARD.encode(statement),
        ),
    ]
}

/// POSTs `body` with `headers` (and an Idempotency-Key) as `token`.
async fn post(
    server: &Server,
    path: &str,
    token: &str,
    body: &Value,
    headers: &[(&str, String)],
    key: &str,
) -> (StatusCode, Value) {
    let mut req = server
        .client
        .post(format!("{}{path}", server.url))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body);
    for (n, v) in headers {
        req = req.header(*n, v);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Blue's statement of notice `body` on `air` by `operator` at `time`.
fn notice_statement(origin: &str, body: &Value, operator: &str, time: i64) -> String {
    let volumes = canonical_volumes(body["volumes"].as_array().unwrap()).unwrap();
    let declared = Claim::notice_content(
        &volumes,
        "air",
        "blue",
        "notified",
        body["category"].as_str().unwrap(),
        body["point_of_contact"].as_str().unwrap(),
    );
    Claim::notify("air", &declared)
        .statement(origin, operator, time)
        .text()
}

/// Blue's first key, registered by its own admin.
async fn blue_key(server: &Server, blue: &Tokens) -> Signer {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    let key = Signer::from_seed("blue/desk", &seed).unwrap();
    let (s, v) = server
        .post(
            "/v1/parties/blue/keys",
            &blue.admin,
            json!({"key": key.verifier_key().to_string()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    key
}

async fn activities(server: &Server, token: &str) -> usize {
    let (_, v) = server.get("/v1/activities", token).await;
    v["activities"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_signed_notice_is_accepted_once_and_only_as_what_was_signed() {
    let (server, blue, red, _green) = common::http::world("sig-replay").await;
    let key = blue_key(&server, &blue).await;
    // A second Blue officer, made by Blue's admin.
    let (s, v) = server
        .post(
            "/v1/parties/blue/operators",
            &blue.admin,
            json!({"name": "blue second", "role": "officer"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let second = v["token"].as_str().unwrap().to_string();
    let origin = origin(&server, &blue.officer).await;
    let body = notice(vec![disc(20.0, 20.0, 500.0, 1, 1)]);
    let path = "/v1/lines/air/notices";
    let headers = signature(
        &key,
        &notice_statement(&origin, &body, &blue.officer_id, now_us()),
    );

    let (s, v) = post(&server, path, &blue.officer, &body, &headers, "k1").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["signed_by"], key.verifier_key().to_string());
    // The same operator's retry with the same key: the stored answer.
    let (s, again) = post(&server, path, &blue.officer, &body, &headers, "k1").await;
    assert_eq!(
        (s, &again["activity"]),
        (StatusCode::CREATED, &v["activity"])
    );
    // Captured and sent by another Blue officer: replayed, nothing made.
    let (s, p) = post(&server, path, &second, &body, &headers, "k1").await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    assert_eq!(p["type"], "urn:parley:problem:replayed", "{p}");
    // By the same officer under a new key: replayed too.
    let (s, _) = post(&server, path, &blue.officer, &body, &headers, "k2").await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(activities(&server, &red.officer).await, 1);

    // A statement signed longer ago than the skew (5 min): refused.
    let old = signature(
        &key,
        &notice_statement(&origin, &body, &blue.officer_id, now_us() - 301_000_000),
    );
    let (s, p) = post(&server, path, &blue.officer, &body, &old, "k3").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("Parley-Signature"),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().contains("behind"), "{p}");
    // Signed by one officer, sent by another: refused naming the operator.
    let other = signature(
        &key,
        &notice_statement(&origin, &body, &blue.officer_id, now_us()),
    );
    let (s, p) = post(&server, path, &second, &body, &other, "k4").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("statement's operator"),
        "{p}"
    );
    // Signed for other content than the body: refused naming the content.
    let mut changed = body.clone();
    changed["point_of_contact"] = json!("someone else");
    let (s, p) = post(&server, path, &blue.officer, &changed, &other, "k5").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("statement's content"),
        "{p}"
    );
    // The old format (a signature without a statement): refused.
    let (s, p) = post(&server, path, &blue.officer, &body, &other[..1], "k6").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("Parley-Statement"),
        "{p}"
    );
    assert_eq!(activities(&server, &red.officer).await, 1);

    // After a restart the used signatures are known again.
    let (db, host) = (server.db.clone(), server.host.clone());
    drop(server);
    let server = Server::start_at(db, "100000", Some(host));
    let (s, p) = post(&server, path, &second, &body, &headers, "k7").await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    assert_eq!(activities(&server, &red.officer).await, 1);
}

#[tokio::test]
async fn a_partys_keys_grow_only_by_links_it_signs() {
    let (server, blue, _red, _green) = common::http::world("sig-chain").await;
    let first = blue_key(&server, &blue).await;
    let second = Signer::from_seed("blue/second", &[5; 32]).unwrap();
    let line = second.verifier_key().to_string();
    let origin = origin(&server, &blue.admin).await;
    let (_, me) = server.get("/v1/me", &blue.admin).await;
    let admin_id = me["operator"].as_str().unwrap();
    // Unsigned, now that Blue holds a key: refused.
    let (s, p) = server
        .post("/v1/parties/blue/keys", &blue.admin, json!({"key": line}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    // Signed by the key being added (not Blue's yet): refused.
    let add = Claim::add_key("blue", &line)
        .statement(&origin, admin_id, now_us())
        .text();
    let body = json!({"key": line});
    let (s, _) = post(
        &server,
        "/v1/parties/blue/keys",
        &blue.admin,
        &body,
        &signature(&second, &add),
        "a1",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Signed by Blue's first key: the chain grows.
    let (s, v) = post(
        &server,
        "/v1/parties/blue/keys",
        &blue.admin,
        &body,
        &signature(&first, &add),
        "a2",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // The host cannot revoke Blue's key; Blue revokes its first with its second.
    let first_line = first.verifier_key().to_string();
    let body = json!({"key": first_line});
    let (s, _) = server
        .post(
            "/v1/parties/blue/keys/revocations",
            &server.host,
            body.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let revoke = Claim::revoke_key("blue", &first_line)
        .statement(&origin, admin_id, now_us())
        .text();
    let (s, v) = post(
        &server,
        "/v1/parties/blue/keys/revocations",
        &blue.admin,
        &body,
        &signature(&second, &revoke),
        "r1",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, keys) = server.get("/v1/parties/blue/keys", &blue.officer).await;
    assert_eq!(keys["keys"], json!([line]));
    // The revoked key signs nothing for Blue any more.
    let n = notice(vec![disc(20.0, 20.0, 500.0, 1, 1)]);
    let statement = notice_statement(&origin, &n, &blue.officer_id, now_us());
    let (s, p) = post(
        &server,
        "/v1/lines/air/notices",
        &blue.officer,
        &n,
        &signature(&first, &statement),
        "n1",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (s, p) = post(
        &server,
        "/v1/lines/air/notices",
        &blue.officer,
        &n,
        &signature(&second, &statement),
        "n2",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");

    // Offline: the chain verifies; with the link forged by the host (its
    // own key's signature in place of Blue's), it does not.
    let dir = temp_dir("sig-chain-files");
    let (code, out, e) = verify(&server, &blue.officer, &dir, "chain.jsonl", &[]);
    assert_eq!(code, 0, "{out}{e}");
    assert!(
        out.contains("1 signed by their parties") && out.contains("blue 1 key(s)"),
        "{out}"
    );
    if postgres().is_some() {
        eprintln!("the forged link is skipped: the store is tampered with by the SQLite CLI");
        return;
    }
    let link = seq_of(&server.db, "party_key_registered", "blue/second");
    let host_key = Signer::from_seed("blue/second", &[6; 32]).unwrap();
    let forged = json!({"key": host_key.verifier_key().to_string(), "note": host_key.sign_note(&add).unwrap()});
    let mut server = server;
    server.kill();
    tamper(
        &server.db,
        &format!("UPDATE journal SET entry = json_set(entry, '$.signed', json('{forged}')) WHERE seq = {link}"),
    );
    let server = Server::start_at(server.db.clone(), "100000", Some(server.host.clone()));
    let (code, out, e) = verify(&server, &blue.officer, &dir, "forged.jsonl", &[]);
    assert_eq!(code, 1, "{out}{e}");
    assert!(
        e.contains(&format!("entry {link}: blue's key")) && e.contains("a forged key-chain link"),
        "{e}"
    );
}

/// Runs `parley` with `args` against `server` as `token`; returns exit status,
/// stdout and stderr.
fn parley(server: &Server, token: &str, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--server", &server.url, "--token", token]);
    let r = Client::new(dir.join("config")).run(&all);
    (r.code, r.stdout, r.stderr)
}

/// `parley verify export` of `token`'s export, with the server's key and
/// the extra `args`.
fn verify(
    server: &Server,
    token: &str,
    dir: &Path,
    name: &str,
    args: &[&str],
) -> (i32, String, String) {
    let (code, key, e) = parley(server, token, dir, &["record", "key"]);
    assert_eq!(code, 0, "{e}");
    let file = dir.join(name);
    let file = file.to_str().unwrap();
    let (code, _, e) = parley(server, token, dir, &["record", "export", "-o", file]);
    assert_eq!(code, 0, "{e}");
    let mut all = vec!["verify", "export", file, "--key", key.trim()];
    all.extend(args);
    Client::new(dir.join("config")).run(&all).pipe()
}

trait Pipe {
    fn pipe(self) -> (i32, String, String);
}

impl Pipe for common::Run {
    fn pipe(self) -> (i32, String, String) {
        (self.code, self.stdout, self.stderr)
    }
}

/// Runs `sql` on the server's SQLite store (the server stopped).
fn tamper(db: &Path, sql: &str) {
    common::plain_entries(db);
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("sqlite3 runs (Debian: sqlite3)");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The journal position of the first entry of `kind` whose text has `text`.
fn seq_of(db: &Path, kind: &str, text: &str) -> String {
    common::plain_entries(db);
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg(format!(
            "SELECT seq FROM journal WHERE json_extract(entry, '$.kind') = '{kind}' AND entry LIKE '%{text}%' ORDER BY seq LIMIT 1"
        ))
        .output()
        .unwrap();
    let seq = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(!seq.is_empty(), "no {kind} with {text}");
    seq
}

#[tokio::test]
async fn a_store_the_host_tampered_with_fails_verify_export_naming_the_entry() {
    if postgres().is_some() {
        eprintln!("skipped: the store is tampered with by the SQLite CLI");
        return;
    }
    let (server, blue, red, _green) = common::http::world("sig-tamper").await;
    let dir = temp_dir("sig-tamper-files");
    let key = blue_key(&server, &blue).await;
    let origin = origin(&server, &blue.officer).await;
    let mut ids = Vec::new();
    for (i, contact) in ["first desk", "second desk"].iter().enumerate() {
        let mut n = notice(vec![disc(20.0 + i as f64, 20.0, 500.0, 1, 1)]);
        n["point_of_contact"] = json!(contact);
        let h = signature(
            &key,
            &notice_statement(&origin, &n, &blue.officer_id, now_us()),
        );
        let (s, v) = post(
            &server,
            "/v1/lines/air/notices",
            &blue.officer,
            &n,
            &h,
            &format!("t{i}"),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        ids.push(v["activity"].as_str().unwrap().to_string());
    }
    // Red acknowledges the first, unsigned.
    let id = ids[0].clone();
    let (_, shown) = server
        .get(&format!("/v1/activities/{id}"), &red.officer)
        .await;
    let (s, v) = server
        .post(
            &format!("/v1/activities/{id}/acknowledgments"),
            &red.officer,
            json!({"version": 1, "content_sha256": shown["current"]["content_sha256"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (code, out, e) = verify(&server, &red.officer, &dir, "clean.jsonl", &[]);
    assert_eq!(code, 0, "{out}{e}");
    assert!(out.contains("2 signed by their parties"), "{out}");
    // Pinned to another key of Blue's, Blue's signatures are not Blue's.
    let pinned = dir.join("blue.key");
    std::fs::write(
        &pinned,
        Signer::from_seed("blue", &[3; 32])
            .unwrap()
            .verifier_key()
            .to_string(),
    )
    .unwrap();
    let (code, out, e) = verify(
        &server,
        &red.officer,
        &dir,
        "pinned.jsonl",
        &["--party-key", pinned.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}{e}");
    assert!(
        out.contains("0 signed by their parties") && out.contains("2 signed with keys outside"),
        "{out}"
    );

    let (db, host) = (server.db.clone(), server.host.clone());
    let mut server = server;
    let restart = |server: &mut Server, sql: &str| {
        server.kill();
        tamper(&db, sql);
        Server::start_at(db.clone(), "100000", Some(host.clone()))
    };

    // A Blue signature copied onto Blue's other notice.
    let (a, b) = (
        seq_of(&db, "notice", "first desk"),
        seq_of(&db, "notice", "second desk"),
    );
    let copy = format!(
        "CREATE TABLE saved AS SELECT seq, entry FROM journal WHERE seq = {b}; UPDATE journal SET entry = json_set(entry, '$.signed', (SELECT json_extract(entry, '$.signed') FROM journal WHERE seq = {a})) WHERE seq = {b}"
    );
    let mut server = restart(&mut server, &copy);
    let (code, out, e) = verify(&server, &red.officer, &dir, "copied.jsonl", &[]);
    assert_eq!(code, 1, "{out}{e}");
    assert!(
        e.contains(&format!("entry {b}: the signature is not of this entry")),
        "{e}"
    );

    // Red's acknowledgment moved out of Red's sight.
    let ack = seq_of(&db, "acknowledged", &id);
    let mut server = restart(&mut server, &format!("UPDATE journal SET entry = (SELECT entry FROM saved) WHERE seq = {b}; UPDATE journal SET audience = 'blue' WHERE seq = {ack}"));
    let (code, out, e) = verify(&server, &blue.officer, &dir, "unseen.jsonl", &[]);
    assert_eq!(code, 1, "{out}{e}");
    assert!(
        e.contains(&format!(
            "entry {ack}: attributed to red, but red is not in its audience"
        )),
        "{e}"
    );

    // An entry back in time.
    let server = restart(&mut server, &format!("UPDATE journal SET audience = 'blue,red' WHERE seq = {ack}; UPDATE journal SET at_us = at_us - 3600000000 WHERE seq = {ack}"));
    let (code, out, e) = verify(&server, &red.officer, &dir, "backdated.jsonl", &[]);
    assert_eq!(code, 1, "{out}{e}");
    assert!(
        e.contains(&format!("entry {ack}: logged at")) && e.contains("never go backwards"),
        "{e}"
    );
}
