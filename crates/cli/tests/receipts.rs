//! Every write answers with a signed receipt, against the real `parley serve`
//! (issue 15, point 4): the answer's receipt verifies offline with the record
//! key, a retry gets the same receipt, the CLI keeps the receipts of its
//! writes and `parley record audit` checks them against today's record,
//! naming any the store no longer holds.

mod common;

use common::http::Server as HttpServer;
use common::Server;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn a_write_answer_carries_a_receipt_that_verifies_offline_and_is_replayed() {
    let server = HttpServer::start("receipt-answer");
    let blue = server.party("blue").await;
    server.party("red").await;
    server.line("air", &["blue", "red"], 1_000.0).await;
    let body = json!({"text": "hello"});
    let (s, first) = server
        .call(
            reqwest::Method::POST,
            "/v1/lines/air/messages",
            &blue.officer,
            Some(body.clone()),
            Some("k-1"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let receipt = &first["receipt"];
    assert!(receipt["seq"].is_u64(), "{first}");
    assert_eq!(receipt["leaf_hash"].as_str().unwrap().len(), 64);
    // More writes, then the retry: the original receipt, not a new one.
    server
        .post(
            "/v1/lines/air/messages",
            &blue.officer,
            json!({"text": "x"}),
        )
        .await;
    let (s, again) = server
        .call(
            reqwest::Method::POST,
            "/v1/lines/air/messages",
            &blue.officer,
            Some(body),
            Some("k-1"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{again}");
    assert_eq!(again["receipt"], *receipt);

    // Offline, with the key fetched once: verified; a changed leaf is not.
    let dir = common::temp_dir("receipt-answer-files");
    let file = common::write(&dir, "receipt.json", &receipt.to_string());
    let (_, cp) = server.get("/v1/record/checkpoint", &blue.officer).await;
    let key = cp["key"].as_str().unwrap().to_string();
    let cli = common::Client::new(dir.join("config"));
    let out = cli.ok(&["verify", "receipt", &file, "--key", &key]).stdout;
    assert!(out.contains("message_sent"), "{out}");
    let mut forged = receipt.clone();
    forged["leaf"] = json!(receipt["leaf"].as_str().unwrap().replace("hello", "hellO"));
    let file = common::write(&dir, "forged.json", &forged.to_string());
    cli.expect(1, &["verify", "receipt", &file, "--key", &key]);
}

#[tokio::test]
async fn the_cli_keeps_its_receipts_and_the_audit_names_one_the_store_lost() {
    let (server, blue, red) = Server::world("receipt-audit");
    for i in 0..4 {
        blue.ok(&["send", "air", &format!("blue {i}")]);
    }
    let kept = blue.json(&["record", "receipts"]);
    let kept = kept.as_array().unwrap();
    assert_eq!(kept.len(), 4, "{kept:?}");
    let seqs: Vec<u64> = kept
        .iter()
        .map(|k| k["receipt"]["seq"].as_u64().unwrap())
        .collect();
    let listed = blue.ok(&["record", "receipts"]).stdout;
    assert!(listed.contains("message_sent") && listed.contains("POST /v1/lines/air/messages"));
    let mode = std::fs::metadata(blue.config.join("receipts-default.jsonl"))
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
        .unwrap();
    assert_eq!(mode, 0o600);
    // A kept receipt verifies offline as it is.
    let key = blue.ok(&["record", "key"]).stdout.trim().to_string();
    let file = common::write(&server.dir, "kept.json", &kept[0]["receipt"].to_string());
    blue.ok(&["verify", "receipt", &file, "--key", &key]);
    red.ok(&["send", "air", "red"]);
    let out = blue.ok(&["record", "audit", "--key", &key]).stdout;
    assert!(
        out.contains("kept receipts: 4 of 4 still in the record"),
        "{out}"
    );

    // The store loses blue's last two entries (and red's after them); the
    // server restarts on it and the record grows past where it was.
    let host = server.host.clone();
    let db = server.dir.join("parley.db");
    drop(server);
    // As an operator with access to the store could, the server stopped.
    common::sql(&db, &format!("DELETE FROM journal WHERE seq > {}", seqs[1]));
    let again = HttpServer::start_at(db, "100000", Some(host));
    for i in 0..5 {
        let (s, v) = again
            .post(
                "/v1/parties/blue/operators",
                &again.host,
                json!({"name": format!("filler {i}"), "role": "observer"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let audit = blue.run(&["record", "audit", "--key", &key, "--server", &again.url]);
    assert_eq!(audit.code, 1, "{}\n{}", audit.stdout, audit.stderr);
    for lost in &seqs[2..] {
        assert!(
            audit
                .stderr
                .contains(&format!("the receipt of entry {lost} (message_sent")),
            "entry {lost} not named:\n{}",
            audit.stderr
        );
    }
    for kept in &seqs[..2] {
        assert!(
            !audit
                .stderr
                .contains(&format!("the receipt of entry {kept} (")),
            "entry {kept} is still there:\n{}",
            audit.stderr
        );
    }
    assert!(
        audit
            .stdout
            .contains("kept receipts: 2 of 4 still in the record"),
        "{}",
        audit.stdout
    );
    let json: Value = serde_json::from_str(
        &blue
            .run(&[
                "record", "audit", "--key", &key, "--server", &again.url, "--json",
            ])
            .stdout,
    )
    .unwrap();
    assert_eq!(json["verified"], false);
    assert_eq!(json["receipts"].as_array().unwrap().len(), 4);
}
