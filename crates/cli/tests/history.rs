//! History against a real `parley serve`, on SQLite and (in the PostgreSQL
//! round of `cargo xtask test`) on PostgreSQL: a server killed with SIGKILL
//! starts again from its latest snapshot and the journal's tail, and answers
//! every read and the next conflict check as before; a damaged snapshot is
//! refused, said so, and the whole journal replayed.

mod common;

use common::http::{disc, notice, Server};
use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;

const FLAGS: [&str; 4] = ["--rate-limit", "100000", "--snapshot-entries", "20"];

/// What the store holds as its snapshot: the journal position, or none.
fn snapshot_seq(db: &Path) -> Option<u64> {
    let text = match common::postgres() {
        Some(_) => common::sql(db, "SELECT max(seq) FROM snapshot"),
        None => {
            let conn = rusqlite::Connection::open(db).unwrap();
            conn.query_row("SELECT max(seq) FROM snapshot", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .unwrap()
            .map(|s| s.to_string())
            .unwrap_or_default()
        }
    };
    text.parse().ok()
}

/// Replaces the stored snapshot's bytes with `bytes` (hex).
fn damage_snapshot(db: &Path, hex: &str) {
    match common::postgres() {
        Some(_) => {
            common::sql(
                db,
                &format!("UPDATE snapshot SET image = '\\x{hex}'::bytea"),
            );
        }
        None => {
            let conn = rusqlite::Connection::open(db).unwrap();
            conn.execute(&format!("UPDATE snapshot SET image = x'{hex}'"), [])
                .unwrap();
        }
    }
}

/// Every read the test compares, as blue, red and the host.
async fn reads(s: &Server, tokens: &[&str]) -> Value {
    let mut out = Vec::new();
    for t in tokens {
        for path in [
            "/v1/activities",
            "/v1/conflicts",
            "/v1/sites",
            "/v1/deadlines",
        ] {
            let (status, v) = s.get(path, t).await;
            assert_eq!(status, StatusCode::OK, "{path}: {v}");
            out.push(v);
        }
        // An export's first line is a checkpoint signed now: its entries only.
        let (status, export) = s.get("/v1/record/export", t).await;
        assert_eq!(status, StatusCode::OK);
        let text = export.as_str().map(str::to_string).unwrap_or_default();
        out.push(Value::from(
            text.lines().skip(1).collect::<Vec<_>>().join("\n"),
        ));
    }
    let (_, head) = s.get("/v1/record/checkpoint", tokens[0]).await;
    out.push(head["size"].clone());
    out.push(head["root"].clone());
    Value::from(out)
}

/// A dry run that conflicts with what is there: its conflicts, ids left out.
async fn check(s: &Server, officer: &str) -> Value {
    let body = notice(vec![disc(12.0, 21.0, 3_000.0, 1, 2)]);
    let mut body = body;
    body["dry_run"] = Value::Bool(true);
    let (status, v) = s.post("/v1/lines/air/notices", officer, body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let conflicts = v["conflicts"].as_array().cloned().unwrap_or_default();
    let meetings: Vec<Value> = conflicts.iter().map(|c| c["meetings"].clone()).collect();
    assert!(!meetings.is_empty(), "the check finds conflicts: {v}");
    Value::from(meetings)
}

fn restart(server: &mut Server) -> Vec<String> {
    server.kill();
    let (child, url, _, said) = common::serve_saying(&server.db, &FLAGS);
    server.child = child;
    server.url = url;
    said
}

#[tokio::test]
async fn a_killed_server_starts_from_its_snapshot_as_from_its_journal() {
    let db = common::http::temp_db("history-snapshot");
    let mut server = Server::start_at_with(db.clone(), &FLAGS);
    let blue = server.party("blue").await;
    let red = server.party("red").await;
    server.line("air", &["blue", "red"], 1_000.0).await;
    for i in 0..30 {
        let lat = 12.0 + f64::from(i % 10) * 0.002;
        for officer in [&blue.officer, &red.officer] {
            let body = notice(vec![disc(lat, 21.0, 1_500.0, 1, 3)]);
            let (s, v) = server.post("/v1/lines/air/notices", officer, body).await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
        }
    }
    // The snapshot thread saves one every 20 entries, beside the writer: wait
    // for one (the writes above are far more than 20 entries).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let taken = loop {
        if let Some(seq) = snapshot_seq(&db) {
            break seq;
        }
        assert!(std::time::Instant::now() < deadline, "no snapshot saved");
        tokio::task::yield_now().await;
    };
    assert!(taken >= 20, "snapshot of entry {taken}");
    let host = server.host.clone();
    let tokens = [blue.officer.as_str(), red.officer.as_str(), host.as_str()];
    let before = reads(&server, &tokens).await;
    let checked = check(&server, &blue.officer).await;

    // SIGKILL: no goodbye, and the next start reads the snapshot.
    let said = restart(&mut server);
    let from = said
        .iter()
        .find(|l| l.starts_with("parley: state from"))
        .unwrap_or_else(|| panic!("the start says how it built the state: {said:?}"));
    assert!(
        from.contains("from the snapshot of journal entry"),
        "{from}"
    );
    assert_eq!(reads(&server, &tokens).await, before, "the same reads");
    assert_eq!(check(&server, &blue.officer).await, checked);

    // A damaged snapshot: refused, said so, the whole journal replayed.
    damage_snapshot(&db, "78da00");
    let said = restart(&mut server);
    let from = said
        .iter()
        .find(|l| l.starts_with("parley: state from"))
        .unwrap();
    assert!(
        from.contains("whole journal: the snapshot of entry") && from.contains("decompress"),
        "{from}"
    );
    assert_eq!(reads(&server, &tokens).await, before, "the same reads");
    assert_eq!(check(&server, &blue.officer).await, checked);

    // Entries as earlier builds stored them (JSON text, not deflated) are
    // read as before, beside deflated ones.
    server.kill();
    common::plain_entries(&db);
    restart(&mut server);
    assert_eq!(reads(&server, &tokens).await, before, "the same reads");
    server.kill();
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}

/// A disc whose window was three days ago, by the clock the test runs with.
fn ended_disc() -> Value {
    let mut v = disc(12.0, 21.0, 1_500.0, 1, 2);
    v["time_start"]["value"] = Value::from(common::at(-3, 10));
    v["time_end"]["value"] = Value::from(common::at(-3, 12));
    v
}

#[tokio::test]
async fn an_activity_that_ended_long_ago_is_history_after_a_restart() {
    let db = common::http::temp_db("history-retired");
    let mut server = Server::start_at_with(db.clone(), &FLAGS);
    let blue = server.party("blue").await;
    let red = server.party("red").await;
    server.line("air", &["blue", "red"], 1_000.0).await;
    let mut body = notice(vec![ended_disc()]);
    body["confirm_unusual"] = Value::Bool(true);
    let (s, old) = server
        .post("/v1/lines/air/notices", &red.officer, body)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{old}");
    let id = old["activity"].as_str().unwrap().to_string();
    let path = format!("/v1/activities/{id}");
    let (s, before) = server.get(&path, &blue.officer).await;
    assert_eq!(s, StatusCode::OK, "{before}");
    let seq = before["current"]["journal_seq"].as_u64().unwrap();
    let receipt = format!("/v1/record/entries/{seq}/receipt");
    let (s, proof) = server.get(&receipt, &blue.officer).await;
    assert_eq!(s, StatusCode::OK, "{proof}");

    // The start retires it (it ended more than 24 hours ago): read, proved
    // and exported as before, listed no more, changed no more.
    restart(&mut server);
    let (s, after) = server.get(&path, &blue.officer).await;
    assert_eq!((s, &after), (StatusCode::OK, &before));
    let (s, again) = server.get(&receipt, &blue.officer).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["leaf"], proof["leaf"]);
    let (_, export) = server.get("/v1/record/export", &blue.officer).await;
    assert!(export.as_str().unwrap_or_default().contains(&id));
    let (_, listed) = server.get("/v1/activities", &blue.officer).await;
    assert!(!listed.to_string().contains(&id), "{listed}");
    let refused = |v: &Value, field: &str| {
        assert_eq!(v["errors"][0]["pointer"], field, "{v}");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("ended more than 24 h ago"),
            "{v}"
        );
    };
    let amend =
        serde_json::json!({"replaces_version": 1, "volumes": [disc(12.0, 21.0, 1_500.0, 1, 2)]});
    let (s, v) = server
        .post(&format!("{path}/amendments"), &red.officer, amend)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    refused(&v, "/replaces_version");
    let ack = serde_json::json!({"version": 1, "content_sha256": before["content_sha256"]});
    let (s, v) = server
        .post(&format!("{path}/acknowledgments"), &blue.officer, ack)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    refused(&v, "/version");
    server.kill();
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}

#[test]
fn bench_history_restarts_with_history_retired_and_says_the_issues_fields() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parley"))
        .args([
            "bench",
            "history",
            "--activities",
            "300",
            "--live",
            "30",
            "--checks",
            "20",
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    let told = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}{told}");
    let last = said.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("bench history activities=300 live=30 "),
        "{last}"
    );
    for field in [
        "load_s",
        "rss_mb",
        "rss_kb_per_live_activity",
        "db_bytes_per_activity",
        "restart_s",
        "check_p50_us_after_restart",
    ] {
        let value = last
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{field}=")))
            .unwrap_or_else(|| panic!("no {field} in {last}"));
        assert!(
            value.parse::<f64>().is_ok_and(|v| v > 0.0),
            "{field}={value}"
        );
    }
    // The restart was from the snapshot, with what ended retired.
    assert!(told.contains("restarted: Snapshot"), "{told}");
    assert!(told.contains("held 30 activities, 270 retired"), "{told}");
}
