//! One officer against the real `parley serve` with costly geometry (issue 14,
//! point 3): a comb of teeth 10 m apart and hundreds of kilometres long is
//! refused before any geometry is done when it is over the work budget, naming
//! the field; and while worst-case dry runs within the budget are being
//! validated and checked, `/v1/health` still answers.

mod common;

use common::http::{notice, Server};
use common::{at, OPS_DAY};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A comb on the equator (as `parley bench abuse` sends): 240 teeth 5 m wide
/// and 10 m apart, `tooth_m` long, on a 1,000 km arm; 963 vertices.
fn comb(lng0: f64, tooth_m: f64) -> Value {
    let lng = |m: f64| lng0 + m / 111_319.49;
    let top = tooth_m / 110_574.0;
    let mut v = vec![(-0.05, lng(0.0)), (-0.05, lng(1e6)), (0.0, lng(1e6))];
    for k in (0..240).rev() {
        let left = 10.0 * k as f64;
        v.extend([
            (0.0, lng(left + 5.0)),
            (top, lng(left + 5.0)),
            (top, lng(left)),
            (0.0, lng(left)),
        ]);
    }
    let vertices: Vec<Value> = v
        .into_iter()
        .map(|(lat, lng)| json!({"lat": lat, "lng": lng}))
        .collect();
    json!({"volume": {"outline_polygon": {"vertices": vertices},
        "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
        "altitude_upper": {"value": 5000, "reference": "W84", "units": "M"}},
        "time_start": {"value": at(OPS_DAY, 10), "format": "RFC3339"},
        "time_end": {"value": at(OPS_DAY, 12), "format": "RFC3339"}})
}

/// The issue's comb: teeth 500 km long, about 48,000 points once cut into 5 km pieces.
fn issue_comb() -> Value {
    comb(30.0, 500_000.0)
}

/// A comb within the default budget of 10,000 points: teeth 87 km long.
fn budget_comb(lng0: f64) -> Value {
    comb(lng0, 87_000.0)
}

fn dry_run(volumes: Vec<Value>) -> Value {
    let mut body = notice(volumes);
    body["dry_run"] = json!(true);
    body
}

#[tokio::test]
async fn geometry_over_the_work_budget_is_refused_naming_the_field() {
    let server = Server::start("abuse-budget");
    let blue = server.party("blue").await;
    server.party("red").await;
    server.line("air", &["blue", "red"], 1_000.0).await;

    // One volume over the budget: the polygon's vertices are named, with what to give instead.
    for body in [dry_run(vec![issue_comb()]), notice(vec![issue_comb()])] {
        let (s, v) = server
            .post("/v1/lines/air/notices", &blue.officer, body)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(
            v["errors"][0]["pointer"], "/volumes/0/volume/outline_polygon/vertices",
            "{v}"
        );
        let detail = v["errors"][0]["detail"].as_str().unwrap();
        assert!(detail.contains("more than the limit of 10000"), "{detail}");
        assert!(detail.contains("split the volume"), "{detail}");
    }
    // Each volume within the budget, but six of them over the request's: the
    // sixth is named, and the fix is another request.
    let six: Vec<Value> = (0..6)
        .map(|k| budget_comb(30.0 + k as f64 * 0.001))
        .collect();
    let (s, v) = server
        .post("/v1/lines/air/notices", &blue.officer, dry_run(six))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["pointer"], "/volumes/5", "{v}");
    let detail = v["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("more than the limit of 50000 in one request"),
        "{detail}"
    );
    // The same over GeoJSON, and an amendment too.
    let ring: Vec<Value> = issue_comb()["volume"]["outline_polygon"]["vertices"]
        .as_array()
        .unwrap()
        .iter()
        .chain(std::iter::once(
            &issue_comb()["volume"]["outline_polygon"]["vertices"][0],
        ))
        .map(|p| json!([p["lng"], p["lat"]]))
        .collect();
    let feature = json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"altitude_lower_m": 0, "altitude_upper_m": 5000,
            "time_start": at(OPS_DAY, 10), "time_end": at(OPS_DAY, 12)}});
    let (s, v) = server
        .post(
            "/v1/lines/air/notices",
            &blue.officer,
            dry_run(vec![feature]),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        v["errors"][0]["pointer"], "/volumes/0/geometry/coordinates/0",
        "{v}"
    );
    // Nothing was stored: Blue has no activity.
    let (s, v) = server.get("/v1/activities", &blue.officer).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["activities"].as_array().map(Vec::len), Some(0), "{v}");
}

#[tokio::test]
async fn health_answers_while_worst_case_dry_runs_are_in_flight() {
    let server = Arc::new(Server::start("abuse-health"));
    let blue = server.party("blue").await;
    let red = server.party("red").await;
    server.line("air", &["blue", "red"], 1_000.0).await;
    // Red's comb is stored: every dry run meets it, so the writer compares combs too.
    let (s, v) = server
        .post(
            "/v1/lines/air/notices",
            &red.officer,
            notice(vec![budget_comb(30.00002)]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // Two clients, each sending five-comb dry runs (the most one request may
    // carry) back to back.
    let body = dry_run((0..5).map(|_| budget_comb(30.0)).collect());
    let (per_client, finished) = (4, Arc::new(AtomicUsize::new(0)));
    let mut clients = Vec::new();
    for _ in 0..2 {
        let (server, body, token, finished) = (
            server.clone(),
            body.clone(),
            blue.officer.clone(),
            finished.clone(),
        );
        clients.push(tokio::spawn(async move {
            for _ in 0..per_client {
                let (s, v) = server
                    .post("/v1/lines/air/notices", &token, body.clone())
                    .await;
                assert_eq!(s, StatusCode::OK, "{v}");
                assert!(!v["conflicts"].as_array().unwrap().is_empty(), "{v}");
                finished.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    // Once they are flowing, health answers before they are all done.
    while finished.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
        std::thread::yield_now();
    }
    let (s, v) = server.get("/v1/health", "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let done_when_health_answered = finished.load(Ordering::SeqCst);
    for c in clients {
        c.await.unwrap();
    }
    assert!(
        done_when_health_answered < 2 * per_client,
        "health answered only after all {} dry runs",
        2 * per_client
    );
}
