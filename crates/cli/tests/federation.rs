//! Federation (issue 20) on real processes: each party's own `parley serve`
//! node, peered out of band, a line joining them with no host between; what
//! moves, a node down, a partition, three nodes, talks. The trust between
//! nodes (pins, mutual TLS, forgeries, the offline check) is in
//! `federation_trust.rs`.

mod common;

use common::federated::*;
use common::http::{disc, notice};
use common::temp_dir;
use parley::fault_proxy::Proxy;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notices_cross_and_both_nodes_find_the_same_conflict() {
    let (blue, red) = two_nodes("fed-cross").await;
    // The line is live on both: the red node took it in before the answer.
    let (s, lines) = red.server.get("/v1/lines", &red.party.officer).await;
    assert_eq!(s, StatusCode::OK);
    assert!(lines.to_string().contains("\"air\""), "{lines}");

    let b = notify(&blue, 50.0, 10.0, 1).await;
    assert_eq!(b["conflicts"], json!([]), "{b}");
    assert_eq!(b["federation"]["nodes"], json!(["red.node"]), "{b}");
    assert_eq!(
        b["federation"]["not_reached"],
        json!([]),
        "{b} {}",
        status(&blue).await
    );
    let activity = b["activity"].as_str().unwrap();
    // Red reads Blue's notice on its own node, with the same content hash.
    let (s, seen) = red
        .server
        .get(&format!("/v1/activities/{activity}"), &red.party.officer)
        .await;
    assert_eq!(s, StatusCode::OK, "{seen}");
    assert!(seen
        .to_string()
        .contains(b["content_sha256"].as_str().unwrap()));

    // Red's notice of the same place and time: a conflict, found on both.
    let r = notify(&red, 50.001, 10.0, 2).await;
    let found = r["conflicts"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{r}");
    let id = found[0]["id"].as_str().unwrap().to_string();
    let on_blue = conflicts(&blue).await;
    assert!(
        on_blue.iter().any(|c| c["id"] == id.as_str()),
        "blue's node knows conflict {id}: {on_blue:?}"
    );

    // Red acknowledges Blue's notice on its node; Blue's node holds it.
    let (s, v) = red
        .server
        .post(
            &format!("/v1/activities/{activity}/acknowledgments"),
            &red.party.officer,
            json!({"version": 1, "content_sha256": b["content_sha256"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, a) = blue
        .server
        .get(&format!("/v1/activities/{activity}"), &blue.party.officer)
        .await;
    assert!(
        a.to_string().contains("\"red\""),
        "blue sees red's acknowledgment: {a}"
    );

    // Each node comes to hold all the other wrote, receipted (what a node
    // logs on taking a peer's entries, such as the conflict it found too,
    // goes out on the next round).
    all_receipted(&blue, &red).await;

    // Each node witnesses the other's log: Blue holds Red's cosignature
    // (C2SP tlog-cosignature) of a checkpoint of Blue's log, signed by Blue.
    let (on_blue, on_red) = (status(&blue).await, status(&red).await);
    let cosigned = on_blue["lines"]["air"]["nodes"]["red.node"]["cosigned"]
        .as_str()
        .unwrap_or_else(|| panic!("no cosignature kept: {on_blue}"));
    let red_cosigner =
        parley_record::CosignerKey::parse(on_red["cosigner_key"].as_str().unwrap()).unwrap();
    assert!(
        matches!(red_cosigner.verify_in(cosigned), Ok(Some(_))),
        "{cosigned}"
    );
    let blue_key =
        parley_record::VerifierKey::parse(on_blue["node_key"].as_str().unwrap()).unwrap();
    let cp = parley_record::SignedCheckpoint::parse_and_verify(cosigned, &blue_key).unwrap();
    assert_eq!(cp.origin.as_str(), "blue.node/lines/air");
    assert_eq!(
        json!(cp.size),
        on_blue["lines"]["air"]["log_size"],
        "the whole log cosigned"
    );
    // Blue's key is not Red's cosigner: a cosignature checks only with its own key.
    assert_ne!(on_blue["cosigner_key"], on_red["cosigner_key"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conflicting_notices_at_the_same_instant_are_never_both_told_no_conflict() {
    let (blue, red) = two_nodes("fed-race").await;
    for round in 0..12 {
        let lng = 10.0 + round as f64 * 0.5;
        let (b, r) = tokio::join!(notify(&blue, 50.0, lng, 1), notify(&red, 50.0, lng, 1));
        let told = |v: &Value| v["conflicts"].as_array().is_some_and(|c| !c.is_empty());
        assert!(
            told(&b) || told(&r),
            "round {round}: both told no conflict: {b} {r}"
        );
        // Both nodes end with the one conflict, under one id.
        let pair = [b["activity"].clone(), r["activity"].clone()];
        let ids = |cs: Vec<Value>| -> Vec<String> {
            cs.into_iter()
                .filter(|c| pair.contains(&c["a"]["id"]) && pair.contains(&c["b"]["id"]))
                .map(|c| c["id"].as_str().unwrap().to_string())
                .collect()
        };
        let on_blue = ids(conflicts(&blue).await);
        until("red's node to hold the round's conflict", || async {
            ids(conflicts(&red).await) == on_blue
        })
        .await;
        assert_eq!(on_blue.len(), 1, "round {round}: {on_blue:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_down_is_named_and_gets_everything_once_back() {
    let (blue, mut red) = two_nodes("fed-down").await;
    red.server.kill();
    let b = notify(&blue, 51.0, 11.0, 1).await;
    let missed = &b["federation"]["not_reached"];
    assert_eq!(missed[0]["node"], "red.node", "{b}");
    assert!(missed[0]["since"].is_string(), "{b}");
    let more = notify(&blue, 51.5, 11.0, 1).await;
    let st = status(&blue).await;
    assert_eq!(st["peers"]["red.node"]["reach"]["reachable"], false, "{st}");
    // The line's status names the node, apart from any party's line check,
    // once an entry has waited long for its receipt.
    until("blue's line to name red's node unreachable", || async {
        operation(&blue).await["state"] == "node_unreachable"
    })
    .await;
    let op = operation(&blue).await;
    assert_eq!(op["nodes"][0]["node"], "red.node", "{op}");
    assert_eq!(op["nodes"][0]["reachable"], false, "{op}");
    assert_eq!(op["nodes"][0]["parties"], json!(["red"]), "{op}");

    restart(&mut red);
    // Delivered in order, once, without a new write on Blue's side.
    until("blue's log to be receipted by red", || async {
        let st = status(&blue).await;
        st["lines"]["air"]["nodes"]["red.node"]["receipted"] == st["lines"]["air"]["log_size"]
    })
    .await;
    let op = operation(&blue).await;
    assert_eq!(op["nodes"][0]["reachable"], true, "{op}");
    assert_ne!(op["state"], "node_unreachable", "{op}");
    for a in [&b, &more] {
        let id = a["activity"].as_str().unwrap();
        let (s, _) = red
            .server
            .get(&format!("/v1/activities/{id}"), &red.party.officer)
            .await;
        assert_eq!(s, StatusCode::OK, "red holds {id}");
    }
    // What Red owes for Blue's notice runs from when Blue's node logged it,
    // not from when it reached Red's.
    let logged: Value = serde_json::from_str(b["receipt"]["leaf"].as_str().unwrap()).unwrap();
    let at_us = logged["at_us"].as_i64().unwrap();
    let (_, owed) = red.server.get("/v1/deadlines", &red.party.officer).await;
    let ack = owed["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["owed"]
                .to_string()
                .contains(b["activity"].as_str().unwrap())
        })
        .unwrap_or_else(|| panic!("red owes an acknowledgment: {owed}"));
    let set_at = ack["set_at"].as_str().unwrap();
    let since = time::OffsetDateTime::parse(set_at, &time::format_description::well_known::Rfc3339)
        .unwrap();
    assert_eq!(
        since.unix_timestamp_nanos() / 1_000_000,
        at_us as i128 / 1_000,
        "{ack}: set when blue's node logged it"
    );
    // Red's conflict check ran on arrival: its notice there meets Blue's.
    let r = notify(&red, 51.0, 11.0, 1).await;
    assert_eq!(r["conflicts"].as_array().unwrap().len(), 1, "{r}");
    // Nothing doubled: red's node holds each of Blue's entries once.
    let st = status(&red).await;
    assert_eq!(
        st["lines"]["air"]["nodes"]["blue.node"]["held"],
        status(&blue).await["lines"]["air"]["log_size"],
        "{st}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_party_of_one_node_gets_nothing_from_another_node() {
    let (blue, red) = two_nodes("fed-apart").await;
    let b = notify(&blue, 52.0, 12.0, 1).await;
    // Red's tokens mean nothing on Blue's node, and the reverse.
    let (s, _) = blue.server.get("/v1/lines", &red.party.officer).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = red.server.get("/v1/lines", &blue.party.officer).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A party of the red node, not on the line, sees nothing of it there.
    let green = red.server.party("green").await;
    let id = b["activity"].as_str().unwrap();
    let (s, _) = red
        .server
        .get(&format!("/v1/activities/{id}"), &green.officer)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Only the host's admins see the federation.
    let (s, _) = red.server.get("/v1/federation", &red.party.admin).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A delivery signed by no peer's key is refused, and nothing is logged.
    let forged = json!({"from": "blue.node", "line": "air", "first": 0, "entries": [],
        "checkpoint": "blue.node/lines/air\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntime 1\n\n— blue.node AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"});
    let res = deliver_to(&red, &forged).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_share_a_line_and_each_finds_every_conflict() {
    let blue = start_node("fed-three-blue", "blue.node", "blue").await;
    let red = start_node("fed-three-red", "red.node", "red").await;
    let relief = start_node("fed-three-relief", "relief.node", "relief").await;
    peer(&blue, &red).await;
    peer(&blue, &relief).await;
    peer(&red, &relief).await;
    make_line(&blue, "air", &["blue", "red", "relief"]).await;
    // Red and the relief office took the line in before the answer.
    for n in [&red, &relief] {
        let (_, lines) = n.server.get("/v1/lines", &n.party.officer).await;
        assert!(lines.to_string().contains("\"air\""), "{}: {lines}", n.name);
    }
    // The relief office's convoy, then Red's strike in the same place: Red's
    // node finds it, and the relief office's node holds it under the same id,
    // for its party; Blue's node holds it too, but Blue is not told of a
    // conflict between two others.
    let convoy = notify(&relief, 54.0, 14.0, 1).await;
    assert_eq!(convoy["federation"]["not_reached"], json!([]), "{convoy}");
    let strike = notify(&red, 54.0, 14.001, 2).await;
    let found = strike["conflicts"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{strike}");
    let id = found[0]["id"].as_str().unwrap().to_string();
    let on_relief = conflicts(&relief).await;
    assert!(
        on_relief.iter().any(|c| c["id"] == id.as_str()),
        "{on_relief:?}"
    );
    assert_eq!(conflicts(&blue).await, Vec::<Value>::new());
    let held = blue.server.export(&blue.server.host).await;
    assert!(held.contains(&id), "blue's node holds conflict {id}");
    // Each node passes on the others' checkpoints it holds; honest nodes'
    // agree, so nobody is taken for a liar.
    for n in [&blue, &red, &relief] {
        assert!(!n
            .server
            .export(&n.server.host)
            .await
            .contains("peer_misbehaved"));
    }
    // Nothing of a line a node is not on reaches it: Blue and Red open a
    // line of their own; the relief office's node never hears of it.
    make_line(&blue, "bilateral", &["blue", "red"]).await;
    let st = status(&relief).await;
    assert!(st["lines"].get("bilateral").is_none(), "{st}");
    let export = relief.server.export(&relief.server.host).await;
    assert!(
        !export.contains("bilateral"),
        "the relief node holds nothing of it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_federated_demo_runs_three_nodes_and_red_sees_its_conflict_with_blue() {
    use std::io::BufRead;
    let dir = temp_dir("fed-demo");
    let mut demo = std::process::Command::new(common::BIN)
        .args(["demo", "--federated", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.join("demo.db"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = Vec::new();
    for line in std::io::BufReader::new(demo.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Ctrl-C");
        said.push(line);
        if done {
            break;
        }
    }
    let field = |first: &str, n: usize| {
        said.iter()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|w| w.first() == Some(&first))
            .and_then(|w| w.get(n).map(|s| s.to_string()))
            .unwrap_or_else(|| panic!("no {first} in {said:?}"))
    };
    let (url, token) = (field("red.node", 1), field("red", 1));
    let conflicts: Value = common::http_client()
        .get(format!("{url}/v1/conflicts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let found = conflicts["conflicts"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{conflicts}");
    assert_eq!(found[0]["b"]["party"], "blue", "{conflicts}");
    // SIGTERM stops the demo and its three nodes.
    std::process::Command::new("kill")
        .args(["-TERM", &demo.id().to_string()])
        .status()
        .unwrap();
    assert!(demo.wait().unwrap().success());
}

/// Sends `n` notices to `node` one after another; the ids answered success.
async fn load(url: String, token: String, n: usize, lat: f64) -> Vec<String> {
    let client = common::http_client();
    let mut ids = Vec::new();
    for i in 0..n {
        let body = notice(vec![disc(lat, 20.0 + i as f64 * 0.05, 300.0, 1, 1)]);
        let res = client
            .post(format!("{url}/v1/lines/air/notices"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        if let Ok(res) = res {
            if res.status() == StatusCode::CREATED {
                let v: Value = res.json().await.unwrap();
                ids.push(v["activity"].as_str().unwrap().to_string());
            }
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_under_traffic_loses_and_doubles_nothing_on_either_side() {
    let (blue, mut red) = two_nodes("fed-kill").await;
    // Blue writes while Red's node is killed and started again.
    let writing = tokio::spawn(load(
        blue.server.url.clone(),
        blue.party.officer.clone(),
        60,
        57.0,
    ));
    until("some of blue's notices to reach red", || async {
        status(&red).await["lines"]["air"]["nodes"]["blue.node"]["held"]
            .as_u64()
            .unwrap_or(0)
            > 5
    })
    .await;
    restart(&mut red); // a SIGKILL, then a start on the same store and port
    let sent = writing.await.unwrap();
    assert_eq!(sent.len(), 60, "blue answered every notice");
    until("red to hold all of blue's log", || async {
        let st = status(&blue).await;
        st["lines"]["air"]["nodes"]["red.node"]["receipted"] == st["lines"]["air"]["log_size"]
    })
    .await;
    held_once(&red, &sent).await;

    // Now the sender: Blue's node killed while it writes. Whatever it
    // answered success reaches Red's node once, after Blue's start.
    let mut blue = blue;
    let writing = tokio::spawn(load(
        blue.server.url.clone(),
        blue.party.officer.clone(),
        60,
        58.0,
    ));
    until("blue to log some more", || async {
        status(&red).await["lines"]["air"]["nodes"]["blue.node"]["held"]
            .as_u64()
            .unwrap_or(0)
            > 70
    })
    .await;
    restart(&mut blue);
    let answered = writing.await.unwrap();
    assert!(!answered.is_empty());
    until("red to hold all of blue's log again", || async {
        let st = status(&blue).await;
        st["lines"]["air"]["nodes"]["red.node"]["receipted"] == st["lines"]["air"]["log_size"]
    })
    .await;
    held_once(&red, &answered).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partition_heals_through_a_flaky_link_with_everything_delivered_once() {
    let blue = start_node("fed-part-blue", "blue.node", "blue").await;
    let red = start_node("fed-part-red", "red.node", "red").await;
    // Each node reaches the other only through a fault proxy of the test's.
    let (scheme, _) = blue.server.url.split_once("://").unwrap();
    let address = |n: &Node| n.server.url.split_once("://").unwrap().1.to_string();
    let to_red = Proxy::start(&address(&red)).await.unwrap();
    let to_blue = Proxy::start(&address(&blue)).await.unwrap();
    peer_at(&blue, &red, &format!("{scheme}://{}", to_red.address())).await;
    peer_at(&red, &blue, &format!("{scheme}://{}", to_blue.address())).await;
    make_line(&blue, "air", &["blue", "red"]).await;

    // The partition: both sides go on working, each told the other was not
    // reached; neither knows yet of the conflicts between them.
    to_red.cut();
    to_blue.cut();
    let (mut blue_ids, mut red_ids) = (Vec::new(), Vec::new());
    for i in 0..4 {
        let lat = 62.0 + f64::from(i) * 0.2;
        for (n, ids) in [(&blue, &mut blue_ids), (&red, &mut red_ids)] {
            let a = notify(n, lat, 20.0, 1).await;
            assert_eq!(a["conflicts"], json!([]), "{a}");
            assert_eq!(
                a["federation"]["not_reached"].as_array().map(Vec::len),
                Some(1),
                "{a}"
            );
            ids.push(a["activity"].as_str().unwrap().to_string());
        }
    }

    // Healed into a flaky link: every third connection dropped, 20 ms each way.
    for p in [&to_red, &to_blue] {
        p.heal();
        p.drop_every(3);
        p.delay(20);
    }
    all_receipted(&blue, &red).await;
    // Everything delivered, once, both ways; and both nodes found the same
    // four conflicts, under the same ids.
    held_once(&red, &blue_ids).await;
    held_once(&blue, &red_ids).await;
    until("both nodes to know the four conflicts", || async {
        conflict_ids(&blue).await.len() == 4 && conflict_ids(&red).await.len() == 4
    })
    .await;
    assert_eq!(conflict_ids(&blue).await, conflict_ids(&red).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_talk_between_parties_of_two_nodes_is_confirmed_across_them_and_stays_theirs() {
    let blue = start_node("fed-talk-blue", "blue.node", "blue").await;
    let red = start_node("fed-talk-red", "red.node", "red").await;
    let relief = start_node("fed-talk-relief", "relief.node", "relief").await;
    peer(&blue, &red).await;
    peer(&blue, &relief).await;
    peer(&red, &relief).await;
    make_line(&blue, "air", &["blue", "red"]).await;
    make_line(&blue, "aid", &["blue", "red", "relief"]).await;
    let round = |line: &str| {
        json!({
            "parties": ["blue", "red"], "date": common::day(-3), "level": "working level",
            "participants": [{"party": "blue", "role": "air operations"}, {"party": "red", "role": "air staff"}],
            "line": line,
            "agenda": [{"item": "corridor over the river", "outcome": "agreed"}],
            "follow_ups": [{"action": "send the corridor's coordinates", "owner": "red", "due": common::at(20, 0)}],
        })
    };
    // Held on a line that a third node is on: refused, or that node would hear of it.
    let (s, p) = blue
        .server
        .post("/v1/talks", &blue.party.officer, round("aid"))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/line", "{p}");

    // Recorded on Blue's node, on the line of just the two nodes...
    let (s, t) = blue
        .server
        .post("/v1/talks", &blue.party.officer, round("air"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let talk = t["talk"].as_str().unwrap().to_string();
    let path = format!("/v1/talks/{talk}");
    // ...read and confirmed by Red's officer on Red's own node.
    until("red's node to hold the talk", || async {
        red.server.get(&path, &red.party.officer).await.0 == StatusCode::OK
    })
    .await;
    // A version of Red's cannot move it to the line the third node is on.
    let mut moved = round("aid");
    moved["level"] = json!("chiefs of staff");
    let (s, p) = red
        .server
        .post(&format!("{path}/versions"), &red.party.officer, moved)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/line", "{p}");
    let (s, c) = red
        .server
        .post(
            &format!("{path}/confirmation"),
            &red.party.officer,
            json!({"version": 1, "content_sha256": t["content_sha256"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["state"], "confirmed", "{c}");
    until("blue's node to hold red's confirmation", || async {
        let (_, v) = blue.server.get(&path, &blue.party.officer).await;
        v["state"] == "confirmed"
    })
    .await;
    // Red closes its follow-up on its node; Blue's node holds the closure.
    let (s, v) = red
        .server
        .post(
            &format!("{path}/follow-ups/1/closure"),
            &red.party.officer,
            json!({"note": "sent by the hotline"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    until("blue's node to hold the closure", || async {
        let (_, v) = blue.server.get(&path, &blue.party.officer).await;
        v.to_string().contains("sent by the hotline")
    })
    .await;
    // Theirs alone: the relief office's node never heard of it, and neither
    // node's host sees it.
    all_receipted(&blue, &red).await;
    let (s, _) = relief.server.get(&path, &relief.party.officer).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(!relief
        .server
        .export(&relief.server.host)
        .await
        .contains(&talk));
    for n in [&blue, &red] {
        let (s, _) = n.server.get(&path, &n.server.host).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{}'s host", n.name);
    }
}
