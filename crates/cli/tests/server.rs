//! The service end to end: a real `parley serve` process on loopback, driven over
//! HTTP as a client would, one test per capability.

mod common;

use common::http::{disc, notice, temp_db, world, Server};
use common::{at, OPS_DAY};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn operators_tokens_and_revocation() {
    let (server, blue, red, _) = world("operators").await;
    let (s, me) = server.get("/v1/me", &blue.officer).await;
    assert_eq!(
        (s, me["party"].as_str(), me["role"].as_str()),
        (StatusCode::OK, Some("blue"), Some("officer"))
    );
    // A party admin adds its own operators, not another party's.
    let (s, v) = server
        .post(
            "/v1/parties/blue/operators",
            &blue.admin,
            json!({"name": "night shift", "role": "officer"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let night = v["token"].as_str().unwrap().to_string();
    assert_eq!(
        server
            .post(
                "/v1/parties/red/operators",
                &blue.admin,
                json!({"name": "x", "role": "officer"})
            )
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server
            .post(
                "/v1/parties/blue/operators",
                &blue.officer,
                json!({"name": "x", "role": "officer"})
            )
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // Revocation takes effect at once.
    assert_eq!(server.get("/v1/lines", &night).await.0, StatusCode::OK);
    let (s, _) = server
        .post(
            &format!("/v1/operators/{}/revoke", v["id"].as_str().unwrap()),
            &blue.admin,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, p) = server.get("/v1/lines", &night).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(p["type"], "urn:parley:problem:unauthorized");
    assert_eq!(
        server.get("/v1/lines", "pt_made_up").await.0,
        StatusCode::UNAUTHORIZED
    );
    // Red's admin cannot revoke Blue's officer: it does not exist for Red.
    let (s, _) = server
        .post(
            &format!("/v1/operators/{}/revoke", blue.officer_id),
            &red.admin,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Tokens are stored only as hashes.
    drop(server.get("/v1/health", &blue.officer).await);
    let text = common::stored(&server.db);
    assert!(text.contains(&blue.officer_id), "the store was read");
    for token in [&blue.officer, &night, &server.host] {
        assert!(!text.contains(token.as_str()), "a token is stored in clear");
    }
}

#[tokio::test]
async fn lines_messages_and_suspension() {
    let (server, blue, red, green) = world("messages").await;
    let (s, line) = server.get("/v1/lines/air", &red.observer).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(line["rules"]["horizontal_m"], 1000.0);
    assert_eq!(
        server.get("/v1/lines/air", &green.officer).await.0,
        StatusCode::NOT_FOUND,
        "non-members do not see the line"
    );
    assert_eq!(
        server
            .post(
                "/v1/lines",
                &blue.admin,
                json!({"id": "x", "name": "x", "parties": ["blue", "red"]})
            )
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    let (s, first) = server
        .post(
            "/v1/lines/air/messages",
            &blue.officer,
            json!({"text": "on the line", "priority": "routine"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let (s, req) = server
        .post("/v1/lines/air/messages", &blue.officer, json!({"message": "request", "text": "confirm the corridor", "deadline": at(OPS_DAY, 0), "priority": "urgent"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{req}");
    let (s, v) = server
        .post(
            "/v1/lines/air/messages",
            &red.officer,
            json!({"message": "reply", "text": "confirmed", "references": req["seq"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = server
        .post(
            "/v1/lines/air/messages",
            &red.officer,
            json!({"message": "reply", "text": "?", "references": first["seq"]}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reply must answer a request: {v}"
    );
    assert_eq!(v["errors"][0]["pointer"], "/references");
    assert_eq!(
        server
            .post(
                "/v1/lines/air/messages",
                &red.observer,
                json!({"text": "hi"})
            )
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (s, v) = server
        .post(
            "/v1/lines/air/messages",
            &red.officer,
            json!({"text": "x", "priority": "panic"}),
        )
        .await;
    assert_eq!(
        (s, v["errors"][0]["pointer"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("/priority"))
    );

    // Suspended is a political status: the line keeps working.
    let (s, _) = server
        .post(
            "/v1/lines/air/status",
            &server.host,
            json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        server.get("/v1/lines/air", &red.officer).await.1["status"],
        "suspended"
    );
    let (s, _) = server
        .post(
            "/v1/lines/air/messages",
            &red.officer,
            json!({"text": "still here", "priority": "flash"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);

    let (_, list) = server.get("/v1/lines/air/messages", &blue.observer).await;
    let seqs: Vec<u64> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        vec![1, 2, 3, 4],
        "ordered by a server sequence, rejected ones not numbered"
    );
    // Never edited or deleted.
    assert_eq!(
        server
            .call(
                Method::DELETE,
                "/v1/lines/air/messages",
                &blue.officer,
                None,
                None
            )
            .await
            .0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let (_, after) = server
        .get("/v1/lines/air/messages?after=3", &blue.observer)
        .await;
    assert_eq!(after["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn notices_conflicts_amendments_and_acknowledgments() {
    let (server, blue, red, green) = world("notices").await;
    let (s, a) = server
        .post(
            "/v1/lines/air/notices",
            &blue.officer,
            notice(vec![disc(35.0, 38.0, 5_000.0, 10, 2)]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["conflicts"].as_array().unwrap().len(), 0);
    assert_eq!(a["version"], 1);
    let blue_activity = a["activity"].as_str().unwrap().to_string();

    // A dry run reports the conflict and notifies nothing.
    let mut dry = notice(vec![disc(35.0, 38.08, 5_000.0, 11, 2)]);
    dry["dry_run"] = json!(true);
    let (s, d) = server
        .post("/v1/lines/air/notices", &red.officer, dry)
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["conflicts"].as_array().unwrap().len(), 1);
    assert_eq!(
        server.get("/v1/activities", &red.officer).await.1["activities"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Red notifies a conflicting activity: ~7.3 km between centres, 5 km radii.
    let (s, r) = server
        .post(
            "/v1/lines/air/notices",
            &red.officer,
            notice(vec![disc(35.0, 38.08, 5_000.0, 11, 2)]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let conflict = &r["conflicts"][0];
    assert_eq!(
        (
            conflict["b"]["id"].as_str(),
            conflict["b"]["party"].as_str()
        ),
        (Some(blue_activity.as_str()), Some("blue"))
    );
    assert_eq!(conflict["meetings"][0]["time_start"], at(OPS_DAY, 11));
    assert_eq!(conflict["meetings"][0]["time_end"], at(OPS_DAY, 12));
    let red_activity = r["activity"].as_str().unwrap().to_string();

    // Both owners see the conflict; nobody else does.
    for t in [&blue.observer, &red.observer] {
        assert_eq!(
            server.get("/v1/conflicts", t).await.1["conflicts"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
    assert_eq!(
        server.get("/v1/conflicts", &green.officer).await.1["conflicts"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        server
            .get(&format!("/v1/activities/{red_activity}"), &green.officer)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // Acknowledge by read-back: the hash of exactly that version.
    let (_, shown) = server
        .get(&format!("/v1/activities/{red_activity}"), &blue.observer)
        .await;
    let hash = shown["content_sha256"].as_str().unwrap().to_string();
    let ack_body = |version: u64, hash: &str| json!({"version": version, "content_sha256": hash});
    let ack = format!("/v1/activities/{red_activity}/acknowledgments");
    assert_eq!(
        server
            .post(&ack, &blue.observer, ack_body(1, &hash))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server.post(&ack, &red.officer, ack_body(1, &hash)).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, v) = server
        .post(&ack, &blue.officer, ack_body(1, &"0".repeat(64)))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "a wrong read-back is refused: {v}");
    let (s, v) = server.post(&ack, &blue.officer, ack_body(1, &hash)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["meaning"], "received, not approved");

    // Amend: a stale version is refused; the new version resolves the conflict.
    let amend_body =
        |replaces: u64, v: Vec<Value>| json!({"replaces_version": replaces, "volumes": v});
    let amend = format!("/v1/activities/{red_activity}/amendments");
    let cancel = format!("/v1/activities/{red_activity}/cancellation");
    let (s, _) = server
        .post(
            &amend,
            &red.officer,
            amend_body(0, vec![disc(35.0, 38.3, 5_000.0, 11, 2)]),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, v2) = server
        .post(
            &amend,
            &red.officer,
            amend_body(1, vec![disc(35.0, 38.3, 5_000.0, 11, 2)]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v2}");
    assert_eq!(
        (
            v2["version"].as_u64(),
            v2["conflicts"].as_array().map(Vec::len)
        ),
        (Some(2), Some(0))
    );
    let (_, list) = server.get("/v1/conflicts", &blue.officer).await;
    assert_eq!(list["conflicts"][0]["state"], "resolved (amended)");
    // An acknowledgment of version 1 is not one of version 2.
    let (_, shown) = server.get("/v1/activities", &blue.officer).await;
    let red_row = shown["activities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == red_activity.as_str())
        .unwrap()
        .clone();
    assert_eq!(red_row["received_by"], json!([]));
    let (s, _) = server.post(&ack, &blue.officer, ack_body(1, &hash)).await;
    assert_eq!(s, StatusCode::CONFLICT, "version 1 was replaced");

    // Cancel: names the version it replaces.
    let (s, c) = server
        .post(&cancel, &red.officer, json!({"replaces_version": 2}))
        .await;
    assert_eq!(
        (s, c["state"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (s, _) = server
        .post(&cancel, &red.officer, json!({"replaces_version": 3}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
}

#[tokio::test]
async fn coordination_and_protected_sites() {
    let (server, blue, red, green) = world("sites").await;
    server.line("relief", &["green", "red"], 1_000.0).await;
    // Green may share a site only with parties it shares a line with.
    let hospital = |to: &str| {
        json!({"name": "hospital", "kind": "static", "expires": at(365, 0),
               "volumes": [disc(36.0, 37.0, 1_000.0, 0, 23)], "shared_with_parties": [to]})
    };
    let (s, p) = server
        .post("/v1/sites", &green.officer, hospital("blue"))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/shared_with_parties/0");
    // Green's hospital, shared with Red only.
    let (s, v) = server
        .post("/v1/sites", &green.officer, hospital("red"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        server.get("/v1/sites", &red.observer).await.1["sites"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        server.get("/v1/sites", &blue.observer).await.1["sites"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // On line air the hospital is shared with Red: a notice over it is judged
    // there, and told to Red, who sees the site; not to Blue, who does not,
    // nor to Green, who is not on the line.
    let over = notice(vec![disc(36.0, 37.0, 2_000.0, 10, 1)]);
    let (_, b) = server
        .post("/v1/lines/air/notices", &blue.officer, over.clone())
        .await;
    assert_eq!(b["conflicts"].as_array().unwrap().len(), 0, "{b}");
    let (_, r) = server
        .post("/v1/lines/air/notices", &red.officer, over)
        .await;
    let kinds: Vec<&str> = r["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["b"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2, "{r}");
    assert!(kinds.contains(&"site") && kinds.contains(&"activity"));
    let red_sees = server.get("/v1/conflicts", &red.observer).await.1;
    assert_eq!(
        red_sees["conflicts"].as_array().unwrap().len(),
        3,
        "Blue's and Red's notices with the site, and with each other: {red_sees}"
    );
    let green_sees = server.get("/v1/conflicts", &green.observer).await.1;
    assert_eq!(green_sees["conflicts"], json!([]), "{green_sees}");

    // Coordinated once both sides mark it.
    let (_, list) = server.get("/v1/conflicts", &blue.officer).await;
    let id = list["conflicts"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/v1/conflicts/{id}/coordination");
    assert_eq!(
        server
            .post(&path, &green.officer, json!({"note": "x"}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (s, v) = server
        .post(
            &path,
            &blue.officer,
            json!({"note": "Blue passes at 10:40"}),
        )
        .await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("open")));
    assert_eq!(
        server
            .post(&path, &blue.officer, json!({"note": "again"}))
            .await
            .0,
        StatusCode::CONFLICT
    );
    let (s, v) = server
        .post(&path, &red.officer, json!({"note": "Red holds north"}))
        .await;
    assert_eq!(
        (s, v["state"].as_str()),
        (StatusCode::OK, Some("coordinated"))
    );
}

#[tokio::test]
async fn idempotency_and_problem_details() {
    let (server, blue, _, _) = world("idempotency").await;
    let body = notice(vec![disc(10.0, 10.0, 1_000.0, 1, 1)]);
    let a = server
        .call(
            Method::POST,
            "/v1/lines/air/notices",
            &blue.officer,
            Some(body.clone()),
            Some("k-1"),
        )
        .await;
    let b = server
        .call(
            Method::POST,
            "/v1/lines/air/notices",
            &blue.officer,
            Some(body.clone()),
            Some("k-1"),
        )
        .await;
    assert_eq!(a, b, "a retry returns the first answer");
    assert_eq!(
        server.get("/v1/activities", &blue.officer).await.1["activities"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let other = notice(vec![disc(11.0, 10.0, 1_000.0, 1, 1)]);
    let (s, p) = server
        .call(
            Method::POST,
            "/v1/lines/air/notices",
            &blue.officer,
            Some(other),
            Some("k-1"),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p["detail"].as_str().unwrap().contains("different request"),
        "{p}"
    );

    let mut bad = disc(10.0, 10.0, 1_000.0, 1, 1);
    bad["volume"]["altitude_lower"]["value"] = json!(9_000);
    let (s, p) = server
        .post(
            "/v1/lines/air/notices",
            &blue.officer,
            notice(vec![disc(10.0, 10.0, 1.0, 1, 1), bad]),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["type"], "urn:parley:problem:invalid-input");
    assert_eq!(
        p["errors"][0]["pointer"],
        "/volumes/1/volume/altitude_lower/value"
    );
    assert!(p["detail"].as_str().unwrap().contains("swap them"));
    let res = server
        .client
        .post(format!("{}/v1/lines/air/notices", server.url))
        .bearer_auth(&blue.officer)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    // A fresh client: the server may close the connection after refusing the body.
    let huge = "x".repeat((1 << 20) + 4096);
    let res = common::http_client()
        .post(format!("{}/v1/lines/air/messages", server.url))
        .bearer_auth(&blue.officer)
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["type"], "urn:parley:problem:too-large");
    assert!(
        p["detail"].as_str().unwrap().contains("1048576 bytes"),
        "{p}"
    );
    assert_eq!(
        server.get("/v1/nothing-here", &blue.officer).await.0,
        StatusCode::NOT_FOUND
    );
}

/// What the framework refuses itself (parameters that do not parse, a wrong
/// method, a body that is not JSON at all) answers problem+json like the rest,
/// naming the parameter; whole numbers written as `50.0` are whole numbers.
#[tokio::test]
async fn framework_rejections_are_problems() {
    let (server, blue, _, _) = world("rejections").await;
    let cases = [
        (
            Method::GET,
            "/v1/lines/air/messages?limit=4342386322446008975360",
            "/query/limit",
        ),
        (Method::GET, "/v1/record/entries/-1/receipt", "/path/seq"),
        (
            Method::POST,
            "/v1/talks/t-1/follow-ups/-1/closure",
            "/path/follow_up",
        ),
        (Method::GET, "/v1/record/consistency?from=0", "/query/to"),
    ];
    for (method, path, pointer) in cases {
        let res = server
            .client
            .request(method.clone(), format!("{}{path}", server.url))
            .bearer_auth(&blue.officer)
            .json(&json!({"note": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["errors"][0]["pointer"], pointer, "{path}: {p}");
    }
    let res = server
        .client
        .delete(format!("{}/v1/lines", server.url))
        .bearer_auth(&blue.officer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert!(res.headers().contains_key("allow"));
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["type"], "urn:parley:problem:method-not-allowed");

    // 50.0 is the whole number 50: the line's rules and a message's reference.
    let (s, line) = server
        .post(
            "/v1/lines",
            &server.host,
            json!({"id": "whole", "name": "Whole numbers", "parties": ["blue", "red"],
                   "rules": {"ack_deadline_s": 600.0}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{line}");
    assert_eq!(line["rules"]["ack_deadline_s"], 600);
    let (s, sent) = server
        .post(
            "/v1/lines/whole/messages",
            &blue.officer,
            json!({"message": "text", "text": "first"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sent}");
    let (s, correction) = server
        .post(
            "/v1/lines/whole/messages",
            &blue.officer,
            json!({"message": "text", "text": "a correction", "references": 1.0}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{correction}");
    assert_eq!(correction["references"], 1);
    let (s, p) = server
        .post(
            "/v1/lines/whole/messages",
            &blue.officer,
            json!({"message": "text", "text": "x", "references": 1.5}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/references");
}

#[tokio::test]
async fn live_events_resume_without_gaps_or_repeats() {
    let (server, blue, red, green) = world("events").await;
    for i in 0..3 {
        server
            .post(
                "/v1/lines/air/messages",
                &blue.officer,
                json!({"text": format!("m{i}")}),
            )
            .await;
    }
    server
        .post(
            "/v1/sites",
            &green.officer,
            json!({"name": "g", "expires": at(365, 0), "volumes": [disc(0.0, 0.0, 10.0, 1, 1)]}),
        )
        .await;
    let read = |after: Option<u64>| {
        let url = match after {
            Some(a) => format!("{}/v1/events?after={a}", server.url),
            None => format!("{}/v1/events", server.url),
        };
        let client = server.client.clone();
        let token = red.observer.clone();
        async move {
            let mut res = client.get(url).bearer_auth(token).send().await.unwrap();
            let mut text = String::new();
            // Read until the stream has been quiet for a moment.
            while let Ok(Ok(Some(chunk))) =
                tokio::time::timeout(std::time::Duration::from_millis(400), res.chunk()).await
            {
                text.push_str(&String::from_utf8_lossy(&chunk));
            }
            assert!(
                !text.contains("site_registered"),
                "green's unshared site leaked into red's stream"
            );
            text.lines()
                .filter_map(|l| l.strip_prefix("id: "))
                .map(|id| id.parse::<u64>().unwrap())
                .collect::<Vec<_>>()
        }
    };
    let all = read(None).await;
    assert!(all.len() >= 5, "{all:?}");
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    let cut = all[2];
    server
        .post(
            "/v1/lines/air/messages",
            &red.officer,
            json!({"text": "after the cut"}),
        )
        .await;
    let rest = read(Some(cut)).await;
    let mut expected: Vec<u64> = all.iter().copied().filter(|&s| s > cut).collect();
    expected.push(*rest.last().unwrap());
    assert_eq!(
        rest, expected,
        "resumes after the cursor: nothing missed, nothing twice"
    );
}

#[tokio::test]
async fn rate_limit_per_token() {
    // One request in a thousand seconds: a burst of one, and no refill while
    // the test runs, however slow the machine.
    let server = Server::start_at(temp_db("rate"), "0.001", None);
    let first = server.get("/v1/lines", &server.host).await;
    let second = server.get("/v1/lines", &server.host).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(second.0, StatusCode::TOO_MANY_REQUESTS, "{}", second.1);
    assert_eq!(second.1["type"], "urn:parley:problem:rate-limited");
}

/// SIGKILL while a client submits notices: after a restart every notice that got
/// a success answer is there, and nothing that was never sent.
#[tokio::test]
async fn a_killed_server_keeps_every_acknowledged_write() {
    let (mut server, blue, _, _) = world("crash").await;
    let client = server.client.clone();
    let url = server.url.clone();
    let token = blue.officer.clone();
    // The writes answered so far: the server is killed once 50 are, however
    // fast or slow the machine is.
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let (client, url, token) = (client.clone(), url.clone(), token.clone());
        let answered = answered.clone();
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0..400u32 {
                let poc = format!("w{worker}-{i}");
                let body = json!({"category": "air", "point_of_contact": poc, "volumes": [disc(-20.0 + i as f64 * 0.01, worker as f64, 100.0, 1, 1)]});
                match client.post(format!("{url}/v1/lines/air/notices")).bearer_auth(&token).json(&body).send().await {
                    Ok(r) if r.status() == StatusCode::CREATED => {
                        let v: Value = r.json().await.unwrap_or(Value::Null);
                        if let Some(a) = v["activity"].as_str() {
                            acknowledged.push((a.to_string(), poc));
                            answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                    _ => break,
                }
            }
            acknowledged
        }));
    }
    while answered.load(std::sync::atomic::Ordering::SeqCst) < 50
        && !tasks.iter().all(|t| t.is_finished())
    {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.kill();
    let mut acknowledged = Vec::new();
    for t in tasks {
        acknowledged.extend(t.await.unwrap());
    }
    assert!(
        acknowledged.len() >= 50,
        "the load ran ({} acknowledged)",
        acknowledged.len()
    );
    let host = server.host.clone();
    let restarted = Server::start_at(server.db.clone(), "100000", Some(host));
    let (_, list) = restarted
        .get("/v1/activities?line=air", &blue.officer)
        .await;
    let present: std::collections::BTreeMap<String, String> = list["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_string(),
                a["party"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (activity, _) in &acknowledged {
        assert!(
            present.contains_key(activity),
            "{activity} was acknowledged and is gone"
        );
    }
    // Nothing else: every stored notice is one this client sent (its point of contact says which).
    for id in present.keys() {
        let (_, a) = restarted
            .get(&format!("/v1/activities/{id}"), &blue.officer)
            .await;
        let poc = a["current"]["content"]["point_of_contact"]
            .as_str()
            .unwrap();
        assert!(poc.starts_with('w'), "{id} has {poc}");
    }
    assert!(present.len() >= acknowledged.len());

    // The record verifies afterwards. With more entries than the server reads
    // for an export at a time (1,000), the export comes in several slices.
    let journal = || async {
        let (_, h) = restarted.get("/v1/record/checkpoint", &blue.officer).await;
        h["size"].as_u64().unwrap()
    };
    let mut writers = Vec::new();
    // How many each writer adds, counted before any starts (the writers run
    // while the next is spawned).
    let need = 1_500u64.saturating_sub(journal().await).div_ceil(4);
    for w in 0..4 {
        let (client, url, token) = (
            restarted.client.clone(),
            restarted.url.clone(),
            blue.officer.clone(),
        );
        writers.push(tokio::spawn(async move {
            for i in 0..need {
                let body =
                    json!({"text": format!("after the restart {w}-{i}"), "priority": "routine"});
                let r = client
                    .post(format!("{url}/v1/lines/air/messages"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let dir = common::temp_dir("crash-record");
    let cli = common::Client::new(dir.join("config"));
    cli.ok(&[
        "login",
        "--server",
        &restarted.url,
        "--token",
        &restarted.host,
    ]);
    let export = dir.join("record.jsonl").to_str().unwrap().to_string();
    cli.ok(&["record", "export", "-o", &export]);
    let entries = std::fs::read_to_string(&export).unwrap().lines().count() - 1;
    assert!(entries as u64 >= 1_500, "{entries} entries");
    let key = cli.ok(&["record", "key"]).stdout;
    let ok = cli.ok(&["verify", "export", &export, "--key", key.trim()]);
    assert!(
        ok.stdout
            .contains(&format!("{entries} entries ({entries} in full")),
        "{}",
        ok.stdout
    );
}

/// Deadlines are listed for the line's members only, and line checks go out on
/// the server's own ticker and are answered by any operator of the party checked.
#[tokio::test]
async fn line_checks_and_deadlines_over_http() {
    let (server, blue, red, green) = world("checks").await;
    let body = json!({"id": "quick", "name": "quick", "parties": ["blue", "red"],
                      "rules": {"line_check_interval_s": 10, "ack_deadline_s": 600}});
    let (s, v) = server.post("/v1/lines", &server.host, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, n) = server
        .post(
            "/v1/lines/air/notices",
            &blue.officer,
            notice(vec![disc(1.0, 1.0, 100.0, 1, 1)]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{n}");
    let (_, d) = server.get("/v1/deadlines", &red.observer).await;
    let owed: Vec<_> = d["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["line"] == "air")
        .collect();
    assert_eq!(owed.len(), 1, "{d}");
    assert_eq!(owed[0]["party"], "red");
    assert_eq!(owed[0]["owed"]["activity"], n["activity"]);
    assert_eq!(
        server.get("/v1/deadlines", &green.officer).await.1["deadlines"],
        json!([])
    );

    // The first round goes out one interval after the line was opened.
    let mut pending = None;
    for _ in 0..80 {
        let (_, line) = server.get("/v1/lines/quick", &blue.observer).await;
        let parties = line["operation"]["parties"].as_array().unwrap().clone();
        if parties.iter().all(|p| p["pending"].is_object()) {
            pending = Some(parties);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let parties = pending.expect("line checks sent within 20 s");
    let check = |party: &str| {
        let p = parties.iter().find(|p| p["party"] == party).unwrap();
        format!(
            "/v1/line-checks/{}/answer",
            p["pending"]["check"].as_str().unwrap()
        )
    };
    assert_eq!(
        server.post(&check("blue"), &red.officer, json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server
            .post(&check("blue"), &green.officer, json!({}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server
            .post(&check("blue"), "pt_anonymous", json!({}))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let (s, a) = server.post(&check("blue"), &blue.observer, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert!(a["round_trip_ms"].as_i64().unwrap() >= 0);
    assert_eq!(
        server
            .post(&check("blue"), &blue.officer, json!({}))
            .await
            .0,
        StatusCode::NOT_FOUND,
        "answered once"
    );
    assert_eq!(
        server.post(&check("red"), &red.admin, json!({})).await.0,
        StatusCode::OK
    );
    let (_, line) = server.get("/v1/lines/quick", &red.observer).await;
    assert_eq!(line["operation"]["state"], "in_operation", "{line}");
    assert_eq!(line["status"], "active", "the political status is apart");
}

/// The actors of the authorization matrix, in the order of its columns: the host's
/// admin; Blue (owns the resource) as observer, officer, admin; Red (the other party
/// of the line) likewise; Green (on no shared line) as officer; no token.
const ACTORS: [&str; 9] = [
    "host",
    "blue obs",
    "blue off",
    "blue adm",
    "red obs",
    "red off",
    "red adm",
    "green off",
    "anonymous",
];

/// Every endpoint for every role, on one's own party's resource and another's.
/// Each cell gets a fresh resource, so no cell depends on another.
#[tokio::test]
async fn authorization_matrix() {
    let (server, blue, red, green) = world("matrix").await;
    let tokens = [
        server.host.clone(),
        blue.observer.clone(),
        blue.officer.clone(),
        blue.admin.clone(),
        red.observer.clone(),
        red.officer.clone(),
        red.admin.clone(),
        green.officer.clone(),
        "pt_anonymous".to_string(),
    ];
    const GET: bool = false;
    const POST: bool = true;
    // (endpoint, POST?, expected status per actor)
    let rows: Vec<(&str, bool, [u16; 9])> = vec![
        (
            "/v1/health",
            GET,
            [200, 200, 200, 200, 200, 200, 200, 200, 200],
        ),
        (
            "/v1/openapi.json",
            GET,
            [200, 200, 200, 200, 200, 200, 200, 200, 200],
        ),
        ("/v1/me", GET, [200, 200, 200, 200, 200, 200, 200, 200, 401]),
        (
            "/v1/parties",
            GET,
            [200, 200, 200, 200, 200, 200, 200, 200, 401],
        ),
        (
            "/v1/parties",
            POST,
            [201, 403, 403, 403, 403, 403, 403, 403, 401],
        ),
        (
            "/v1/parties/blue/operators",
            GET,
            [200, 200, 200, 200, 404, 404, 404, 404, 401],
        ),
        (
            "/v1/parties/blue/operators",
            POST,
            [201, 403, 403, 201, 404, 404, 404, 404, 401],
        ),
        (
            "/v1/operators/{blue operator}/revoke",
            POST,
            [200, 403, 403, 200, 404, 404, 404, 404, 401],
        ),
        (
            "/v1/lines",
            GET,
            [200, 200, 200, 200, 200, 200, 200, 200, 401],
        ),
        (
            "/v1/lines",
            POST,
            [201, 403, 403, 403, 403, 403, 403, 403, 401],
        ),
        (
            "/v1/lines/air",
            GET,
            [200, 200, 200, 200, 200, 200, 200, 404, 401],
        ),
        (
            "/v1/lines/air/status",
            POST,
            [200, 403, 403, 403, 403, 403, 403, 403, 401],
        ),
        (
            "/v1/lines/air/messages",
            GET,
            [200, 200, 200, 200, 200, 200, 200, 404, 401],
        ),
        (
            "/v1/lines/air/messages",
            POST,
            [403, 403, 201, 201, 403, 201, 201, 404, 401],
        ),
        (
            "/v1/lines/air/notices",
            POST,
            [403, 403, 201, 201, 403, 201, 201, 404, 401],
        ),
        (
            "/v1/activities",
            GET,
            [200, 200, 200, 200, 200, 200, 200, 200, 401],
        ),
        (
            "/v1/activities/{blue activity}",
            GET,
            [200, 200, 200, 200, 200, 200, 200, 404, 401],
        ),
        (
            "/v1/activities/{blue activity}/amendments",
            POST,
            [403, 403, 200, 200, 403, 403, 403, 404, 401],
        ),
        (
            "/v1/activities/{blue activity}/cancellation",
            POST,
            [403, 403, 200, 200, 403, 403, 403, 404, 401],
        ),
        (
            "/v1/activities/{blue activity}/acknowledgments",
            POST,
            [403, 403, 403, 403, 403, 201, 201, 404, 401],
        ),
        (
            "/v1/conflicts",
            GET,
            [200, 200, 200, 200, 200, 200, 200, 200, 401],
        ),
        (
            "/v1/deadlines",
            GET,
            [200, 200, 200, 200, 200, 200, 200, 200, 401],
        ),
        // Who may answer a live check: `line_checks_and_deadlines_over_http`.
        (
            "/v1/line-checks/lc-0/answer",
            POST,
            [404, 404, 404, 404, 404, 404, 404, 404, 401],
        ),
        (
            "/v1/conflicts/{blue-red conflict}/coordination",
            POST,
            [403, 403, 200, 200, 403, 200, 200, 404, 401],
        ),
        (
            "/v1/sites",
            GET,
            [200, 200, 200, 200, 200, 200, 200, 200, 401],
        ),
        (
            "/v1/sites",
            POST,
            [403, 403, 201, 201, 403, 201, 201, 201, 401],
        ),
        (
            "/v1/events",
            GET,
            [200, 200, 200, 200, 200, 200, 200, 200, 401],
        ),
    ];
    let mut n = 0u32;
    let mut failures = Vec::new();
    for (endpoint, post, expected) in &rows {
        for (col, token) in tokens.iter().enumerate() {
            n += 1;
            // A fresh resource for this cell.
            let lat = -60.0 + n as f64 * 0.05;
            let path = if endpoint.contains("{blue activity}") {
                let (_, a) = server
                    .post(
                        "/v1/lines/air/notices",
                        &blue.officer,
                        notice(vec![disc(lat, 100.0, 100.0, 1, 1)]),
                    )
                    .await;
                endpoint.replace("{blue activity}", a["activity"].as_str().unwrap())
            } else if endpoint.contains("{blue-red conflict}") {
                server
                    .post(
                        "/v1/lines/air/notices",
                        &blue.officer,
                        notice(vec![disc(lat, 120.0, 100.0, 1, 1)]),
                    )
                    .await;
                let (_, r) = server
                    .post(
                        "/v1/lines/air/notices",
                        &red.officer,
                        notice(vec![disc(lat, 120.0, 100.0, 1, 1)]),
                    )
                    .await;
                endpoint.replace(
                    "{blue-red conflict}",
                    r["conflicts"][0]["id"].as_str().unwrap(),
                )
            } else if endpoint.contains("{blue operator}") {
                let (_, o) = server
                    .post(
                        "/v1/parties/blue/operators",
                        &server.host,
                        json!({"name": format!("o{n}"), "role": "officer"}),
                    )
                    .await;
                endpoint.replace("{blue operator}", o["id"].as_str().unwrap())
            } else {
                endpoint.to_string()
            };
            let status = if *post {
                let body = match *endpoint {
                    "/v1/parties" => json!({"id": format!("p{n}"), "name": "P"}),
                    "/v1/parties/blue/operators" => {
                        json!({"name": format!("x{n}"), "role": "observer"})
                    }
                    "/v1/lines" => {
                        json!({"id": format!("l{n}"), "name": "L", "parties": ["blue", "red"]})
                    }
                    "/v1/lines/air/status" => json!({"status": "active"}),
                    "/v1/lines/air/messages" => json!({"text": "matrix"}),
                    "/v1/lines/air/notices" => notice(vec![disc(lat, 140.0, 100.0, 1, 1)]),
                    "/v1/sites" => {
                        json!({"name": "s", "expires": at(365, 0), "volumes": [disc(lat, 160.0, 100.0, 1, 1)]})
                    }
                    e if e.ends_with("/amendments") => {
                        json!({"replaces_version": 1, "volumes": [disc(lat, 101.0, 100.0, 1, 1)]})
                    }
                    e if e.ends_with("/cancellation") => json!({"replaces_version": 1}),
                    e if e.ends_with("/acknowledgments") => {
                        let (_, a) = server
                            .get(&path.replace("/acknowledgments", ""), &server.host)
                            .await;
                        json!({"version": 1, "content_sha256": a["content_sha256"]})
                    }
                    e if e.ends_with("/coordination") => json!({"note": "agreed"}),
                    _ => json!({}),
                };
                server.post(&path, token, body).await.0
            } else if *endpoint == "/v1/events" {
                let res = server
                    .client
                    .get(format!("{}{path}", server.url))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                res.status()
            } else {
                server.get(&path, token).await.0
            };
            if status.as_u16() != expected[col] {
                failures.push(format!(
                    "{} {path} as {}: {} (expected {})",
                    if *post { "POST" } else { "GET" },
                    ACTORS[col],
                    status.as_u16(),
                    expected[col]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(n as usize, rows.len() * ACTORS.len());
    let (_, parties) = server.get("/v1/parties", &green.observer).await;
    assert_eq!(
        parties["parties"],
        json!([{"id": "green", "name": "GREEN", "host_may_add_operators": true}]),
        "green shares no line"
    );
}

/// A line's rules refused one by one (issue 23, point 7): the problem names
/// the rule and says what to give instead.
#[tokio::test]
async fn a_refused_rule_is_named_with_what_to_give() {
    let (server, _, _, _) = world("rules").await;
    let line =
        |rules: Value| json!({"id": "l", "name": "L", "parties": ["blue", "red"], "rules": rules});
    for (rules, pointer, says) in [
        (
            json!({"region": {"south": 32, "west": 35.5}}),
            "/rules/region",
            "or a polygon, {\"vertices\": [{\"lat\", \"lng\"}, ...]}",
        ),
        (
            json!({"vertical_m": 0, "horizontal_m": "wide"}),
            "/rules/horizontal_m",
            "give a number",
        ),
        (
            json!({"region": {"vertices": [{"lat": 35, "lng": 38}, {"lat": 35, "lng": 38}, {"lat": 36, "lng": 39}]}}),
            "/rules/region/vertices/1",
            "repeats vertex 0",
        ),
    ] {
        let (s, v) = server.post("/v1/lines", &server.host, line(rules)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["pointer"], pointer, "{v}");
        assert!(
            v["errors"][0]["detail"]
                .as_str()
                .is_some_and(|d| d.contains(says)),
            "{v}"
        );
    }
}
