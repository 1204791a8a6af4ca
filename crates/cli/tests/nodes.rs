//! What only PostgreSQL can do: several nodes on one database, and a commit
//! the database refuses. These run only when `PARLEY_TEST_POSTGRES` names a
//! server (`cargo xtask test` starts one for its second round); without it
//! each says it was skipped and passes.

mod common;

use common::http::{disc, notice, world, Server};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Whether there is no PostgreSQL to run on: then the test says so and stops.
fn skipped() -> bool {
    let none = common::postgres().is_none();
    if none {
        eprintln!("skipped: needs PostgreSQL (set PARLEY_TEST_POSTGRES; `cargo xtask test` does)");
    }
    none
}

/// Several nodes on one PostgreSQL database: two conflicting notices sent at
/// the same instant to two nodes are never both told "no conflict"; each node
/// serves what the other wrote, and the record signed by either verifies.
#[tokio::test]
async fn two_nodes_on_one_database_never_both_miss_a_conflict() {
    if skipped() {
        return;
    }
    let (a, blue, red, _) = world("nodes").await;
    let b = Server::start_at(a.db.clone(), "100000", Some(a.host.clone()));
    let mut both_told = 0;
    let mut last = String::new();
    for i in 0..40 {
        // Blue at node A and Red at node B notify the same place and time at once.
        let place = || notice(vec![disc(10.0, -30.0 + i as f64, 2_000.0, 1, 1)]);
        let ((sa, va), (sb, vb)) = tokio::join!(
            a.post("/v1/lines/air/notices", &blue.officer, place()),
            b.post("/v1/lines/air/notices", &red.officer, place()),
        );
        assert_eq!(
            (sa, sb),
            (StatusCode::CREATED, StatusCode::CREATED),
            "{va} {vb}"
        );
        let told = |v: &Value| v["conflicts"].as_array().unwrap().len();
        assert!(
            told(&va) + told(&vb) >= 1,
            "pair {i}: neither node told of the other's notice: {va} {vb}"
        );
        both_told += usize::from(told(&va) == 1 && told(&vb) == 1);
        last = va["activity"].as_str().unwrap().to_string();
    }
    assert!(both_told < 40, "the later of each pair is told, not both");
    // A retry at the other node, with the same Idempotency-Key, gets the first answer.
    let body = notice(vec![disc(-10.0, 50.0, 500.0, 1, 1)]);
    let (s1, first) = a
        .call(
            Method::POST,
            "/v1/lines/air/notices",
            &blue.officer,
            Some(body.clone()),
            Some("once"),
        )
        .await;
    let (s2, again) = b
        .call(
            Method::POST,
            "/v1/lines/air/notices",
            &blue.officer,
            Some(body),
            Some("once"),
        )
        .await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(first["activity"], again["activity"], "{first} {again}");
    // Node B serves what node A wrote (it catches up at least once a second).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (s, v) = b.get(&format!("/v1/activities/{last}"), &red.officer).await;
        if s == StatusCode::OK {
            assert_eq!(v["party"], "blue");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node B never saw {last}: {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Both nodes sign the same history with the one key.
    let (_, ca) = a.get("/v1/record/checkpoint", &red.officer).await;
    let (_, cb) = b.get("/v1/record/checkpoint", &red.officer).await;
    assert_eq!(ca["key"], cb["key"]);
    let (sa, sb) = (ca["size"].as_u64().unwrap(), cb["size"].as_u64().unwrap());
    // The node with the longer record proves it extends the other's.
    let (small, big, node) = if sa <= sb {
        (&ca, &cb, &b)
    } else {
        (&cb, &ca, &a)
    };
    let (s, proof) = node
        .get(
            &format!(
                "/v1/record/consistency?from={}&to={}",
                small["size"], big["size"]
            ),
            &red.officer,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{proof}");
    assert_eq!(proof["from_root"], small["root"], "{proof} {small}");
    assert_eq!(proof["to_root"], big["root"], "{proof} {big}");
}

/// The database refuses a commit (here a trigger; in life a full disk or a
/// fail-over): the notice gets 503 and nobody sees it; the node reads the
/// journal again at once and takes writes; the failed request's
/// Idempotency-Key is free for its retry; a dropped connection is opened again.
#[tokio::test]
async fn a_refused_commit_is_taken_back_and_the_node_goes_on() {
    if skipped() {
        return;
    }
    let (server, blue, red, _) = world("refused").await;
    common::sql(
        &server.db,
        // The next row inserted is refused, once: entries are stored
        // deflated, so the trigger counts rows rather than read them (a
        // sequence is not rolled back with the refused transaction).
        "CREATE SEQUENCE refusals;
         CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN
             IF nextval('refusals') = 1 THEN RAISE EXCEPTION 'refused by the test'; END IF;
             RETURN NEW; END $$ LANGUAGE plpgsql;
         CREATE TRIGGER refuse BEFORE INSERT ON journal FOR EACH ROW EXECUTE FUNCTION refuse();",
    );
    let refused = json!({"category": "air", "point_of_contact": "refuse me", "volumes": [disc(1.0, 1.0, 500.0, 1, 1)]});
    let (s, v) = server
        .call(
            Method::POST,
            "/v1/lines/air/notices",
            &blue.officer,
            Some(refused.clone()),
            Some("k-1"),
        )
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("retry with the same Idempotency-Key"),
        "{v}"
    );
    // Nobody sees it, and the node takes writes again.
    let (_, list) = server.get("/v1/activities?line=air", &red.officer).await;
    assert_eq!(list["activities"], json!([]), "{list}");
    let (s, v) = server
        .post(
            "/v1/lines/air/notices",
            &blue.officer,
            notice(vec![disc(2.0, 2.0, 500.0, 1, 1)]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // The database takes it now: the retry with the same key makes it, once.
    common::sql(&server.db, "DROP TRIGGER refuse ON journal");
    let (s, v) = server
        .call(
            Method::POST,
            "/v1/lines/air/notices",
            &blue.officer,
            Some(refused),
            Some("k-1"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // Its connection dropped (a restart of the database): opened again.
    common::sql(
        &server.db,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    let mut statuses = Vec::new();
    for i in 0..3 {
        let body = notice(vec![disc(3.0 + f64::from(i), 3.0, 500.0, 1, 1)]);
        let (s, _) = server
            .post("/v1/lines/air/notices", &blue.officer, body)
            .await;
        statuses.push(s);
        if s == StatusCode::CREATED {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&StatusCode::CREATED), "{statuses:?}");
    // What the node holds is what the database holds.
    let (_, head) = server.get("/v1/record/checkpoint", &blue.officer).await;
    let stored = common::sql(&server.db, "SELECT count(*) FROM journal");
    assert_eq!(head["size"].to_string(), stored);
    let (_, list) = server.get("/v1/activities?line=air", &red.officer).await;
    assert_eq!(list["activities"].as_array().unwrap().len(), 3, "{list}");
}
