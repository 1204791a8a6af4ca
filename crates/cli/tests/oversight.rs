//! The host acting on a party, against the real `parley serve` (issue 15,
//! point 3): whatever the host does to a party is on the party's record,
//! naming the host; a party's admins close additions by the host; the
//! recovery path (the party has no admin left) is open, and loud.

mod common;

use common::http::{Server, Tokens};
use common::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The entries `token`'s party may see in the record, parsed.
async fn seen_entries(server: &Server, token: &str) -> Vec<Value> {
    server
        .export(token)
        .await
        .lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["leaf"].as_str().map(|t| serde_json::from_str(t).unwrap()))
        .collect()
}

/// The live stream of `token` after journal position `after`, read until
/// the server says it is caught up.
async fn stream_after(server: &Server, token: &str, after: u64) -> String {
    let url = format!("{}/v1/events?after={after}", server.url);
    let mut res = server
        .client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let mut text = String::new();
    while !text.contains(": caught-up") {
        let chunk = res.chunk().await.unwrap().expect("the stream stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text
}

async fn add(server: &Server, token: &str, role: &str) -> (StatusCode, Value) {
    server
        .post(
            "/v1/parties/blue/operators",
            token,
            json!({"name": format!("made as {role}"), "role": role}),
        )
        .await
}

#[tokio::test]
async fn the_host_acts_on_a_party_only_where_the_party_sees_it() {
    let server = Server::start("oversight");
    let blue: Tokens = server.party("blue").await;
    let red: Tokens = server.party("red").await;

    // Unlocked: the host adds an operator; Blue's members see the entry and
    // the operator list naming the host.
    let (s, made) = add(&server, &server.host, "admin").await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    assert_eq!(made["made_by"]["party"], "host", "{made}");
    let seen = seen_entries(&server, &blue.observer).await;
    let entry = seen
        .iter()
        .find(|l| l["entry"]["operator"] == made["id"] && l["entry"]["kind"] == "operator_created")
        .unwrap_or_else(|| panic!("blue does not see the host's operator: {seen:?}"));
    assert_eq!(entry["entry"]["by"]["party"], "host", "{entry}");
    assert!(entry["audience"]
        .as_array()
        .unwrap()
        .contains(&json!("blue")));
    let (_, ops) = server
        .get("/v1/parties/blue/operators", &blue.observer)
        .await;
    let listed = ops["operators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == made["id"])
        .unwrap();
    assert_eq!(listed["made_by"]["party"], "host", "{listed}");
    // Red sees nothing of it.
    let theirs = seen_entries(&server, &red.admin).await;
    assert!(!theirs.iter().any(|l| l["entry"]["operator"] == made["id"]));

    // The setting must be stated: an empty body changes nothing.
    let (s, p) = server
        .post("/v1/parties/blue/settings", &blue.admin, json!({}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/host_may_add_operators", "{p}");

    // Blue's admin closes additions by the host; the host may not reopen them.
    let lock = json!({"host_may_add_operators": false});
    let (s, p) = server
        .post("/v1/parties/blue/settings", &server.host, lock.clone())
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    let (s, v) = server
        .post("/v1/parties/blue/settings", &blue.admin, lock)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // Locked: refused with a problem naming why; nothing is made.
    let res = server
        .client
        .post(format!("{}/v1/parties/blue/operators", server.url))
        .bearer_auth(&server.host)
        .json(&json!({"name": "spy", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "a problem"
    );
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["type"], "urn:parley:problem:forbidden", "{p}");
    let why = p["detail"].as_str().unwrap();
    assert!(
        why.contains("does not let the host add operators") && why.contains("blue"),
        "{p}"
    );
    let (_, ops) = server.get("/v1/parties/blue/operators", &blue.admin).await;
    assert!(!ops.to_string().contains("spy"), "{ops}");
    // Blue's own admin still adds operators.
    let (s, v) = add(&server, &blue.admin, "officer").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["made_by"]["party"], "blue", "{v}");

    // The recovery path: the host revokes both admins (on Blue's record,
    // naming the host), then adds one, flagged as recovery, on Blue's record
    // and live stream.
    let before = seen_entries(&server, &blue.observer).await.len() as u64;
    let (_, ops) = server.get("/v1/parties/blue/operators", &server.host).await;
    for o in ops["operators"].as_array().unwrap() {
        if o["role"] == "admin" && o["revoked"] == false {
            let path = format!("/v1/operators/{}/revoke", o["id"].as_str().unwrap());
            let (s, v) = server.post(&path, &server.host, json!({})).await;
            assert_eq!(s, StatusCode::OK, "{v}");
        }
    }
    let (s, p) = add(&server, &server.host, "officer").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("admin only"), "{p}");
    let (s, recovered) = add(&server, &server.host, "admin").await;
    assert_eq!(s, StatusCode::CREATED, "{recovered}");
    assert_eq!(recovered["recovery"], true, "{recovered}");

    let seen = seen_entries(&server, &blue.observer).await;
    let revoked: Vec<&Value> = seen
        .iter()
        .filter(|l| l["entry"]["kind"] == "operator_revoked")
        .collect();
    assert_eq!(revoked.len(), 2, "{seen:?}");
    assert!(revoked.iter().all(|l| l["entry"]["by"]["party"] == "host"));
    let entry = seen
        .iter()
        .find(|l| l["entry"]["operator"] == recovered["id"])
        .expect("blue sees the recovery");
    assert_eq!(entry["entry"]["recovery"], true, "{entry}");
    assert_eq!(entry["entry"]["by"]["party"], "host", "{entry}");
    let live = stream_after(&server, &blue.observer, 0).await;
    let event = live
        .split("\n\n")
        .find(|e| e.contains(recovered["id"].as_str().unwrap()))
        .unwrap_or_else(|| panic!("no recovery event on blue's stream:\n{live}"));
    assert!(event.contains("event: operator_created"), "{event}");
    assert!(event.contains("\"recovery\":true"), "{event}");
    assert!(seen.len() as u64 > before);

    // The CLI: `whoami` shows the party's operators, who made each, the
    // recovery, and that the host may not add operators.
    let dir = common::temp_dir("oversight-cli");
    let cli = Client::new(dir.join("config"));
    cli.ok(&["login", "--server", &server.url, "--token", &blue.observer]);
    let out = cli.ok(&["whoami"]).stdout;
    assert!(out.contains("may not add operators to blue"), "{out}");
    let row = out
        .lines()
        .find(|l| l.contains(recovered["id"].as_str().unwrap()))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("host (") && row.contains("RECOVERY"), "{row}");
    // The recovered admin reopens additions by the host through the CLI.
    let admin = Client::new(dir.join("admin"));
    let token = recovered["token"].as_str().unwrap();
    admin.ok(&["login", "--server", &server.url, "--token", token]);
    admin.ok(&["admin", "party-unlock", "blue"]);
    let (s, v) = add(&server, &server.host, "observer").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}
