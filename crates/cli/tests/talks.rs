//! The register of talks end to end: two parties record, dispute, confirm and
//! follow up a round of talks with the real binary against a real `parley
//! serve` (its own ticker escalates an overdue follow-up); a third party and
//! the host see none of it.

mod common;

use common::{at, day, write, Client, Server};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A round of talks between blue and red on line `air`, held 200 days ago (so
/// within the last 365 days whenever the test runs): one follow-up owed by red
/// already overdue, one owed by blue due in a year.
fn round() -> Value {
    json!({
        "parties": ["blue", "red"], "date": day(-200), "level": "deputy chief of staff",
        "participants": [{"party": "blue", "role": "under secretary for policy"},
                         {"party": "red", "role": "deputy chief of general staff"}],
        "venue": "neutral capital", "line": "air",
        "agenda": [
            {"item": "maritime safety", "outcome": "positions_differ",
             "positions": {"blue": "freedom of navigation", "red": "notify first"}},
            {"item": "hotline tests", "outcome": "agreed"},
        ],
        "follow_ups": [
            {"action": "send the draft hotline procedure", "owner": "red", "due": at(-170, 0)},
            {"action": "propose dates for the next round", "owner": "blue", "due": at(365, 0)},
        ],
    })
}

#[test]
fn two_parties_record_confirm_and_follow_up_a_round_of_talks() {
    let (server, blue, red) = Server::world("talks");
    let green_token = server.party("green");
    let green = Client::new(server.config("green"));
    green.ok(&["login", "--server", &server.url, "--token", &green_token]);
    let dir = &server.dir;

    // Relations before any talk: red shares a line with blue and never talked.
    let rel = blue.json(&["talks", "relations"]);
    assert_eq!(rel["relations"][0]["party"], "red");
    assert_eq!(rel["relations"][0]["flagged"], true);
    let human = blue.ok(&["talks", "relations"]).stdout;
    assert!(human.contains("flagged"), "{human}");

    // A record the server refuses names the field, in the file, with exit 2.
    let mut bad = round();
    bad["agenda"][1]["outcome"] = json!("maybe");
    // Written over many lines: the error names the line of the field.
    let text = serde_json::to_string_pretty(&bad).unwrap();
    let line = 1 + text.lines().position(|l| l.contains("\"maybe\"")).unwrap();
    let bad = write(dir, "bad.json", &text);
    let r = blue.expect(2, &["talks", "record", &bad]);
    assert!(
        r.stderr
            .contains(&format!("bad.json:{line}: /agenda/1/outcome:"))
            && r.stderr.contains("422"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);

    // Blue records version 1; red sees it awaiting its confirmation.
    let file = write(dir, "talk.json", &round().to_string());
    let recorded = blue.json(&["talks", "record", &file]);
    let talk = recorded["talk"].as_str().unwrap().to_string();
    assert_eq!(recorded["version"], 1);
    let shown = red.ok(&["talks", "show", &talk]).stdout;
    for want in [
        "maritime safety",
        "positions_differ",
        "awaiting: red",
        "freedom of navigation",
    ] {
        assert!(shown.contains(want), "{want} in:\n{shown}");
    }

    // Red disagrees about one outcome: its own version is kept beside blue's.
    let mut theirs = round();
    theirs["agenda"][1]["outcome"] = json!("to_continue");
    let theirs = write(dir, "theirs.json", &theirs.to_string());
    let v2 = red.json(&["talks", "version", &talk, &theirs]);
    assert_eq!(v2["version"], 2);
    let t = blue.json(&["talks", "show", &talk]);
    assert_eq!(t["state"], "disputed");
    assert_eq!(t["versions"][0]["stood_by"], json!(["blue"]));
    assert_eq!(t["versions"][1]["stood_by"], json!(["red"]));
    let listed = blue.ok(&["talks"]).stdout;
    assert!(
        listed.contains(&talk) && listed.contains("disputed"),
        "{listed}"
    );

    // A third party: not found, nothing listed.
    let r = green.expect(2, &["talks", "show", &talk]);
    assert!(r.stderr.contains("404"), "{}", r.stderr);
    assert_eq!(green.json(&["talks"])["talks"], json!([]));
    let r = green.expect(2, &["talks", "confirm", &talk, "--version", "1"]);
    assert!(r.stderr.contains("404"), "{}", r.stderr);
    // Nor does the host, who sees the rest of the journal: talks are the parties' own.
    let host = Client::new(server.config("host"));
    host.ok(&["login", "--server", &server.url, "--token", &server.host]);
    let r = host.expect(2, &["talks", "show", &talk]);
    assert!(r.stderr.contains("404"), "{}", r.stderr);
    assert_eq!(host.json(&["talks"])["talks"], json!([]));
    assert!(!host.ok(&["lines"]).stdout.is_empty());

    // Blue's party has a key: its confirmation goes out signed.
    let key_line = blue.ok(&["keys", "generate"]).stdout.trim().to_string();
    let admin = Client::new(server.config("blue-admin"));
    let token = server.admin(&["operator-create", "blue", "blue admin", "--role", "admin"]);
    admin.ok(&["login", "--server", &server.url, "--token", token.trim()]);
    admin.ok(&["keys", "register", &key_line]);

    // Blue accepts red's version (the latest): the talk is confirmed.
    let confirmed = blue.ok(&["talks", "confirm", &talk, "--yes"]).stdout;
    assert!(
        confirmed.contains("confirmed version 2") && confirmed.contains("confirmed"),
        "{confirmed}"
    );
    let t = red.json(&["talks", "show", &talk]);
    assert_eq!(t["state"], "confirmed");
    let by_blue: Vec<_> = t["confirmations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["party"] == "blue")
        .collect();
    assert_eq!(by_blue.len(), 1, "{t}");
    assert_eq!(by_blue[0]["signed"]["key"], key_line.as_str(), "{t}");
    assert_eq!(t["record"]["agenda"][1]["outcome"], "to_continue");
    assert_eq!(
        t["versions"].as_array().unwrap().len(),
        2,
        "both versions kept"
    );
    let r = red.expect(2, &["talks", "confirm", &talk, "--yes"]);
    assert!(r.stderr.contains("409"), "{}", r.stderr);

    // The confirmation is in the tamper-evident record: a receipt verifies offline.
    let seq = t["confirmations"][0]["journal_seq"]
        .as_u64()
        .unwrap()
        .to_string();
    let key = red.ok(&["record", "key"]).stdout;
    let receipt = dir.join("confirmation.json");
    red.ok(&["record", "receipt", &seq, "-o", receipt.to_str().unwrap()]);
    red.ok(&[
        "verify",
        "receipt",
        receipt.to_str().unwrap(),
        "--key",
        key.trim(),
    ]);

    // Red's follow-up was due already: the server's ticker escalates it.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let t = red.json(&["talks", "show", &talk]);
        let f = &t["follow_ups"][0];
        assert_eq!(f["state"], "overdue");
        if f["escalation"].as_array().is_some_and(|e| !e.is_empty()) {
            assert_eq!(f["escalation"][0], "reminder");
            break;
        }
        assert!(Instant::now() < deadline, "no escalation: {t}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        blue.json(&["talks", "relations"])["relations"][0]["open_follow_ups"],
        2
    );
    // What each party owes: red is late (exit 1), blue is not.
    let late = red.expect(1, &["deadlines", "--mine"]).stdout;
    assert!(
        late.contains(&format!("follow-up 1 of {talk}")) && late.contains("overdue"),
        "{late}"
    );
    assert!(!late.contains("follow-up 2"), "{late}");
    let owed = blue.ok(&["deadlines", "--mine"]).stdout;
    assert!(owed.contains(&format!("follow-up 2 of {talk}")), "{owed}");
    let all = blue.json(&["deadlines"]);
    assert_eq!(all["deadlines"].as_array().unwrap().len(), 2, "{all}");

    // Only the owner closes a follow-up.
    let r = blue.expect(
        2,
        &["talks", "close-follow-up", &talk, "1", "--note", "done"],
    );
    assert!(r.stderr.contains("403"), "{}", r.stderr);
    red.ok(&[
        "talks",
        "close-follow-up",
        &talk,
        "1",
        "--note",
        "Procedure sent on the line",
    ]);
    let t = blue.json(&["talks", "show", &talk]);
    assert_eq!(t["follow_ups"][0]["state"], "closed");
    assert_eq!(
        t["follow_ups"][0]["closure"]["note"],
        "Procedure sent on the line"
    );
    assert_eq!(t["follow_ups"][1]["state"], "open");
    let shown = blue.ok(&["talks", "show", &talk]).stdout;
    assert!(
        shown.contains("closed") && shown.contains("propose dates"),
        "{shown}"
    );

    let rel = red.json(&["talks", "relations"]);
    let blue_rel = &rel["relations"][0];
    assert_eq!(blue_rel["party"], "blue");
    assert_eq!(blue_rel["last_talk"], day(-200));
    assert_eq!(blue_rel["days_since_last_talk"], 200);
    assert_eq!(blue_rel["open_follow_ups"], 1);
    assert_eq!(blue_rel["talks_last_365_days"], 1);
    assert_eq!(blue_rel["flagged"], false);
}
