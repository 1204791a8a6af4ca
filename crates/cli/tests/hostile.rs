//! A hostile party against the real `parley serve`: each way it could learn
//! what it may not see, or make others carry its claims, is tried and must fail.
//! (Issue 14; the rest of what a party may and may not do is in server.rs.)

mod common;

use common::at;
use common::http::{disc, notice, Server, Tokens};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Everything `token` may read of the record and the state, as one text: a
/// leak shows up as an id or a coordinate in it.
async fn all_seen(server: &Server, token: &str) -> String {
    let mut seen = String::new();
    for path in [
        "/v1/conflicts",
        "/v1/activities",
        "/v1/sites",
        "/v1/deadlines",
    ] {
        let (s, v) = server.get(path, token).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        seen.push_str(&v.to_string());
    }
    seen.push_str(&server.export(token).await);
    seen
}

/// Parties blue, red and green; lines br (blue, red) and bg (blue, green).
async fn three_parties(name: &str) -> (Server, Tokens, Tokens, Tokens) {
    let server = Server::start(name);
    let blue = server.party("blue").await;
    let red = server.party("red").await;
    let green = server.party("green").await;
    server.line("br", &["blue", "red"], 1_000.0).await;
    server.line("bg", &["blue", "green"], 1_000.0).await;
    (server, blue, red, green)
}

fn ids(v: &Value) -> Vec<String> {
    v["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_site_does_not_carry_a_rivals_activities_across_lines() {
    let (server, blue, red, green) = three_parties("site-leak").await;
    // The attack as reported: a 550 km circle for 29 days, shared with a party
    // Red shares no line with. Each part is refused, naming the field.
    let wide = json!({"name": "everything", "expires": at(29, 0),
        "volumes": [disc(35.5, 38.5, 550_000.0, 0, 23)], "shared_with_parties": ["blue"]});
    let (s, p) = server.post("/v1/sites", &red.officer, wide).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/volumes/0", "{p}");
    assert!(p["detail"].as_str().unwrap().contains("km²"), "{p}");
    let to_green = json!({"name": "s", "expires": at(29, 0),
        "volumes": [disc(35.5, 38.5, 5_000.0, 0, 23)], "shared_with_parties": ["blue", "green"]});
    let (s, p) = server.post("/v1/sites", &red.officer, to_green).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/shared_with_parties/1", "{p}");
    let for_ever = json!({"name": "s", "expires": at(400, 0),
        "volumes": [disc(35.5, 38.5, 5_000.0, 0, 23)], "shared_with_parties": ["blue"]});
    let (s, p) = server.post("/v1/sites", &red.officer, for_ever).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/expires", "{p}");

    // A site Red may register: 5 km, shared with Blue.
    let site = json!({"name": "depot", "expires": at(29, 0),
        "volumes": [disc(35.5, 38.5, 5_000.0, 0, 23)], "shared_with_parties": ["blue"]});
    let (s, v) = server.post("/v1/sites", &red.officer, site).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let site = v["id"].as_str().unwrap().to_string();

    // Blue and Green notify over it on bg, a line Red is not on, at different
    // hours (so they do not meet each other).
    let (s, b) = server
        .post(
            "/v1/lines/bg/notices",
            &blue.officer,
            notice(vec![disc(35.5, 38.5, 2_000.0, 10, 1)]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let blue_act = b["activity"].as_str().unwrap().to_string();
    // Shared with Blue, a party of bg: judged there, and Blue is told.
    assert_eq!(b["conflicts"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(b["conflicts"][0]["b"]["id"], site.as_str());
    let (s, g) = server
        .post(
            "/v1/lines/bg/notices",
            &green.officer,
            notice(vec![disc(35.5, 38.5, 2_000.0, 14, 1)]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    let green_act = g["activity"].as_str().unwrap().to_string();
    // Green does not see the site: it is not told of it (Blue is).
    assert_eq!(g["conflicts"], json!([]), "{g}");
    let blue_conflicts = server.get("/v1/conflicts", &blue.observer).await.1;
    assert_eq!(ids(&blue_conflicts).len(), 2, "{blue_conflicts}");

    // Red, the site's owner, is not on bg: it learns nothing of either.
    let red_sees = all_seen(&server, &red.observer).await;
    for leaked in [&blue_act, &green_act] {
        assert!(
            !red_sees.contains(&format!("\"{leaked}\"")),
            "{leaked} leaked to Red: {red_sees}"
        );
    }
    assert!(!red_sees.contains("\"bg\""), "{red_sees}");
    assert_eq!(
        server.get("/v1/conflicts", &red.officer).await.1["conflicts"],
        json!([])
    );
    // Green learns nothing of Red's site.
    let green_sees = all_seen(&server, &green.observer).await;
    assert!(!green_sees.contains(&format!("\"{site}\"")), "{green_sees}");
    // Nor can Green or Red mark the conflicts they were not told of.
    for c in ids(&blue_conflicts) {
        let path = format!("/v1/conflicts/{c}/coordination");
        for t in [&red.officer, &green.officer] {
            let (s, _) = server.post(&path, t, json!({"note": "x"})).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{c}");
        }
    }
}

#[tokio::test]
async fn conflicts_are_judged_on_one_line_whatever_the_order() {
    // Blue is on br and bg. Its notice on br and Green's on bg overlap.
    let mut told = Vec::new();
    for green_first in [false, true] {
        let name = if green_first {
            "order-green"
        } else {
            "order-blue"
        };
        let (server, blue, red, green) = three_parties(name).await;
        let over = notice(vec![disc(20.0, 20.0, 2_000.0, 10, 1)]);
        let mut answers = Vec::new();
        let order: [(&str, &str); 2] = if green_first {
            [("bg", &green.officer), ("br", &blue.officer)]
        } else {
            [("br", &blue.officer), ("bg", &green.officer)]
        };
        for (line, token) in order {
            let (s, v) = server
                .post(&format!("/v1/lines/{line}/notices"), token, over.clone())
                .await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
            answers.push(v);
        }
        for a in &answers {
            assert_eq!(a["conflicts"], json!([]), "two lines, nothing shared: {a}");
        }
        let blue_act = answers[if green_first { 1 } else { 0 }]["activity"]
            .as_str()
            .unwrap()
            .to_string();
        // Green, not on br, learns nothing of Blue's br activity.
        let green_sees = all_seen(&server, &green.observer).await;
        assert!(
            !green_sees.contains(&format!("\"{blue_act}\"")),
            "{blue_act} leaked to Green: {green_sees}"
        );
        told.push((
            ids(&server.get("/v1/conflicts", &blue.observer).await.1).len(),
            ids(&server.get("/v1/conflicts", &red.observer).await.1).len(),
            ids(&server.get("/v1/conflicts", &green.observer).await.1).len(),
        ));
    }
    assert_eq!(told, vec![(0, 0, 0), (0, 0, 0)]);

    // A site and a notice: the same conflict, told to the same parties,
    // whichever arrives first.
    let mut seen = Vec::new();
    for site_first in [true, false] {
        let name = if site_first {
            "order-site"
        } else {
            "order-notice"
        };
        let (server, blue, red, _) = three_parties(name).await;
        let site = json!({"name": "hospital", "expires": at(29, 0),
            "volumes": [disc(30.0, 30.0, 3_000.0, 0, 23)], "shared_with_lines": ["br"]});
        let over = notice(vec![disc(30.0, 30.0, 1_000.0, 10, 1)]);
        let (site_answer, notice_answer) = if site_first {
            let s = server.post("/v1/sites", &red.officer, site).await.1;
            (
                s,
                server
                    .post("/v1/lines/br/notices", &blue.officer, over)
                    .await
                    .1,
            )
        } else {
            let n = server
                .post("/v1/lines/br/notices", &blue.officer, over)
                .await
                .1;
            (server.post("/v1/sites", &red.officer, site).await.1, n)
        };
        let found = if site_first {
            &notice_answer
        } else {
            &site_answer
        };
        assert_eq!(
            found["conflicts"].as_array().map(Vec::len),
            Some(1),
            "{found}"
        );
        let shape = |v: &Value| {
            let c = &v["conflicts"][0];
            (
                c["a"]["kind"].clone(),
                c["a"]["party"].clone(),
                c["b"]["kind"].clone(),
                c["b"]["party"].clone(),
            )
        };
        let blue_view = server.get("/v1/conflicts", &blue.observer).await.1;
        let red_view = server.get("/v1/conflicts", &red.observer).await.1;
        seen.push((
            shape(&blue_view),
            shape(&red_view),
            ids(&blue_view).len(),
            ids(&red_view).len(),
        ));
    }
    assert_eq!(seen[0], seen[1], "the order of arrival changed the result");
    assert_eq!(seen[0].2, 1);
}

#[tokio::test]
async fn a_site_is_withdrawn_by_its_owner_alone() {
    let (server, blue, red, green) = three_parties("withdraw").await;
    let site = json!({"name": "convoy", "kind": "movement", "expires": at(20, 0),
        "volumes": [disc(10.0, 10.0, 3_000.0, 0, 23)], "shared_with_lines": ["br"]});
    let site = server.post("/v1/sites", &red.officer, site).await.1["id"]
        .as_str()
        .unwrap()
        .to_string();
    let over = notice(vec![disc(10.0, 10.0, 1_000.0, 10, 1)]);
    let n = server
        .post("/v1/lines/br/notices", &blue.officer, over.clone())
        .await
        .1;
    let conflict = n["conflicts"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/v1/sites/{site}/withdrawal");
    // Blue sees the site but does not own it; Green does not see it at all;
    // Red's observer may not act.
    assert_eq!(
        server.post(&path, &blue.officer, json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server.post(&path, &green.officer, json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.post(&path, &red.observer, json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, v) = server.post(&path, &red.officer, json!({})).await;
    assert_eq!(
        (s, v["state"].as_str()),
        (StatusCode::OK, Some("withdrawn")),
        "{v}"
    );
    assert_eq!(
        server.post(&path, &red.officer, json!({})).await.0,
        StatusCode::CONFLICT
    );
    // Its conflict is resolved, and it protects nothing any more.
    let c = server.get("/v1/conflicts", &blue.observer).await.1;
    let state = c["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == conflict.as_str())
        .map(|x| x["state"].clone());
    assert_eq!(state, Some(json!("resolved (withdrawn)")), "{c}");
    let again = server
        .post("/v1/lines/br/notices", &blue.officer, over)
        .await
        .1;
    assert_eq!(again["conflicts"], json!([]), "{again}");
    let sites = server.get("/v1/sites", &blue.observer).await.1;
    assert_eq!(sites["sites"][0]["withdrawn"], true, "{sites}");
}

#[test]
fn the_servers_files_are_its_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = common::temp_dir("files");
    let db = dir.join("parley.db");
    let key = dir.join("parley.db.record-key");
    let serve = || {
        std::process::Command::new(common::BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(&db)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // A first start makes the store and the key, both 0600 whatever the umask.
    let mut first = serve();
    let mut out = std::io::BufReader::new(first.stdout.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("parley listening on") {
        line.clear();
        assert!(
            std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0,
            "no URL"
        );
    }
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&key), 0o600);
    // A store others could read is made the owner's again at the next start;
    // a record key others could read stops the server, saying why.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = serve().wait_with_output().unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("can be read by others") && said.contains("chmod 600"),
        "{said}"
    );
    assert_eq!(mode(&db), 0o600);
}

#[tokio::test]
async fn no_party_can_make_another_late_or_flood_it() {
    let (server, blue, red, _) = three_parties("lateness").await;
    let request = |deadline: String| json!({"message": "request", "text": "confirm", "deadline": deadline, "priority": "urgent"});
    // A reply demanded in 2 s would make Red overdue before it could read it.
    let (s, p) = server
        .post(
            "/v1/lines/br/messages",
            &blue.officer,
            request(common::from_now(2)),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/deadline");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("shortest reply time"),
        "{p}"
    );
    // The line's default quota: 12 requests an hour, then 429.
    for i in 0..12 {
        let (s, v) = server
            .post(
                "/v1/lines/br/messages",
                &blue.officer,
                request(common::from_now(3_600)),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "request {i}: {v}");
    }
    let (s, p) = server
        .post(
            "/v1/lines/br/messages",
            &blue.officer,
            request(common::from_now(3_600)),
        )
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{p}");
    assert_eq!(p["type"], "urn:parley:problem:rate-limited");
    // Flash messages: 4 an hour. Red's own quota is untouched by Blue's.
    let flash = json!({"text": "break break", "priority": "flash"});
    for _ in 0..4 {
        let (s, v) = server
            .post("/v1/lines/br/messages", &blue.officer, flash.clone())
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, _) = server
        .post("/v1/lines/br/messages", &blue.officer, flash.clone())
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    let (s, v) = server
        .post(
            "/v1/lines/br/messages",
            &red.officer,
            request(common::from_now(600)),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = server
        .post("/v1/lines/br/messages", &red.officer, flash)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // Nothing Blue sent is owed sooner than the line's shortest reply time.
    let owed = server.get("/v1/deadlines", &red.observer).await.1;
    let soonest = owed["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["party"] == "red")
        .filter_map(|d| d["due"].as_str().map(str::to_string))
        .min()
        .unwrap();
    assert!(soonest.as_str() >= common::from_now(200).as_str(), "{owed}");
}

#[tokio::test]
async fn a_dry_run_keeps_no_idempotency_record() {
    let (server, blue, _, _) = three_parties("dry-key").await;
    let mut body = notice(vec![disc(5.0, 5.0, 1_000.0, 10, 1)]);
    body["dry_run"] = json!(true);
    let call = |body: Value| {
        server.call(
            reqwest::Method::POST,
            "/v1/lines/br/notices",
            &blue.officer,
            Some(body),
            Some("the-only-key"),
        )
    };
    let (s, v) = call(body.clone()).await;
    assert_eq!(
        (s, v["dry_run"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{v}"
    );
    body["dry_run"] = json!(false);
    let (s, v) = call(body).await;
    assert_eq!(
        s,
        StatusCode::CREATED,
        "the real notice after its dry run: {v}"
    );
    assert_eq!(
        server.get("/v1/activities", &blue.observer).await.1["activities"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn ids_and_health_give_no_count_of_others_traffic() {
    let (server, blue, red, green) = three_parties("counting").await;
    let health = || async {
        let r = server
            .client
            .get(format!("{}/v1/health", server.url))
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()
    };
    let before = health().await;
    // Green's traffic on its own line, which Red does not see.
    for i in 0..3 {
        let m = json!({"text": format!("g{i}")});
        assert_eq!(
            server
                .post("/v1/lines/bg/messages", &green.officer, m)
                .await
                .0,
            StatusCode::CREATED
        );
    }
    assert_eq!(health().await, before, "health says only ok");
    assert_eq!(before, json!({"status": "ok"}));
    // Red's two notices in a row: ids of 64 random bits, no positions.
    let mut ids = Vec::new();
    for lat in [40.0, 41.0] {
        let (_, v) = server
            .post(
                "/v1/lines/br/notices",
                &red.officer,
                notice(vec![disc(lat, 1.0, 100.0, 10, 1)]),
            )
            .await;
        ids.push(v["activity"].as_str().unwrap().to_string());
    }
    for id in &ids {
        let hex = id.strip_prefix("act-").unwrap();
        assert!(
            hex.len() == 16 && hex.chars().all(|c| c.is_ascii_hexdigit()),
            "{id}"
        );
    }
    assert_ne!(ids[0], ids[1]);
    let _ = blue;
}

/// Each line of `token`'s export, by position.
async fn export_lines(server: &Server, token: &str) -> Vec<Value> {
    server
        .export(token)
        .await
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_rivals_entry_cannot_be_confirmed_from_its_leaf_hash() {
    let (server, _blue, red, green) = three_parties("salted-leaves").await;
    let (s, v) = server
        .post(
            "/v1/lines/bg/messages",
            &green.officer,
            json!({"text": "convoy at the bridge"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // The host sees the whole leaf: the attacker's best possible guess is
    // that text exactly, less the salt only the entry's audience is given.
    let host_view = export_lines(&server, &server.host).await;
    let full = host_view
        .iter()
        .find(|l| l["leaf"].as_str().is_some_and(|t| t.contains("convoy")))
        .expect("the host's export holds the message");
    let leaf: Value = serde_json::from_str(full["leaf"].as_str().unwrap()).unwrap();
    let salt = leaf["salt"].as_str().expect("a new entry's leaf is salted");
    assert_eq!(salt.len(), 32, "128 bits: {salt}");
    let seq = full["seq"].as_u64().unwrap();
    let red_view = export_lines(&server, &red.officer).await;
    let red_line = red_view
        .iter()
        .find(|l| l["seq"].as_u64() == Some(seq))
        .expect("every position is in every export");
    assert!(
        red_line.get("leaf").is_none(),
        "Red may not read it: {red_line}"
    );
    let hash = |text: &str| parley_record::leaf_hash(text.as_bytes()).to_string();
    assert_eq!(
        red_line["leaf_hash"].as_str(),
        Some(hash(full["leaf"].as_str().unwrap()).as_str()),
        "the hash Red holds is the salted leaf's"
    );
    // The leaf text byte for byte, less its salt.
    let guessed = full["leaf"]
        .as_str()
        .unwrap()
        .replace(&format!("\"salt\":\"{salt}\","), "");
    assert!(!guessed.contains(salt));
    assert_ne!(
        red_line["leaf_hash"].as_str(),
        Some(hash(&guessed).as_str()),
        "a perfect guess of everything but the salt does not match"
    );
    let everything_red_reads = all_seen(&server, &red.officer).await;
    assert!(!everything_red_reads.contains(salt), "the salt is Green's");
}
