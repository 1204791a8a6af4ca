//! Routes (corridors) and multipolygons turned into the volumes the engine
//! knows: the corridor's cover against points that geographiclib puts
//! within the half-width of random routes (`tests/reference/routes.py`), its
//! tightness, and the pointers and limits of the expansion.

use parley_engine::{conflicts, Limits, Minima, Volume};
use parley_wire::shapes::expand;
use parley_wire::{parse_activity, parse_volume, WireLimits};
use serde_json::{json, Value};

mod common;
use common::reference_lines;

fn route_feature(route: &[(f64, f64)], half_width_m: f64) -> Value {
    let coordinates: Vec<Value> = route.iter().map(|(lat, lng)| json!([lng, lat])).collect();
    json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": coordinates},
        "properties": {"half_width_m": half_width_m, "altitude_lower_m": 0, "altitude_upper_m": 100,
            "time_start": "2026-11-22T10:00:00Z", "time_end": "2026-11-22T11:00:00Z"}})
}

fn pieces(feature: &Value) -> Vec<Volume> {
    let expanded = expand(std::slice::from_ref(feature), "/volumes", 1_000).expect("expands");
    expanded
        .values
        .iter()
        .map(|v| parse_volume(v, "", &Limits::default()).unwrap_or_else(|e| panic!("{e}: {v}")))
        .collect()
}

/// A tiny volume at a point, to ask whether a piece holds it.
fn dot(lat: f64, lng: f64) -> Volume {
    let v = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lng, lat]},
        "properties": {"radius_m": 0.06, "altitude_lower_m": 0, "altitude_upper_m": 100,
            "time_start": "2026-11-22T10:00:00Z", "time_end": "2026-11-22T11:00:00Z"}});
    parse_volume(&v, "", &Limits::default()).unwrap()
}

fn covered(pieces: &[Volume], lat: f64, lng: f64) -> bool {
    let d = dot(lat, lng);
    pieces.iter().any(|p| conflicts(p, &d, &Minima::default()))
}

#[test]
fn a_corridor_covers_every_point_within_its_half_width_of_random_routes() {
    let (mut checked, mut missed) = (0, Vec::new());
    for case in reference_lines("routes.py", &["--seed", "20261202", "--count", "150"]) {
        let route: Vec<(f64, f64)> = case["route"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect();
        let w = case["half_width_m"].as_f64().unwrap();
        let made = pieces(&route_feature(&route, w));
        assert!(
            made.len() >= 2 * route.len() - 1,
            "a circle a position, a piece a leg"
        );
        for p in case["inside"].as_array().unwrap() {
            let (lat, lng) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
            checked += 1;
            if !covered(&made, lat, lng) {
                missed.push(format!("({lat}, {lng}) of {route:?} at {w} m"));
            }
        }
    }
    assert!(checked > 5_000, "{checked}");
    assert!(
        missed.is_empty(),
        "{} of {checked} missed: {:#?}",
        missed.len(),
        &missed[..missed.len().min(5)]
    );
}

#[test]
fn a_corridor_reaches_little_beyond_its_half_width_along_a_leg() {
    use geographiclib_rs::{DirectGeodesic, Geodesic, InverseGeodesic};
    let g = Geodesic::wgs84();
    for (route, w) in [
        (vec![(35.0, 38.0), (35.8, 38.9)], 1_000.0),
        (vec![(60.0, -10.0), (61.0, 10.0)], 5_000.0),
        (vec![(-20.0, 179.5), (-21.0, -179.0)], 300.0),
    ] {
        let made = pieces(&route_feature(&route, w));
        let ((lat1, lng1), (lat2, lng2)) = (route[0], route[1]);
        let (length, azi1, _, _): (f64, f64, f64, f64) = g.inverse(lat1, lng1, lat2, lng2);
        for k in 1..10 {
            let (lat, lng, azi): (f64, f64, f64) =
                g.direct(lat1, lng1, azi1, length * k as f64 / 10.0);
            for side in [90.0, -90.0] {
                let (ilat, ilng): (f64, f64) = g.direct(lat, lng, azi + side, w - 0.1);
                assert!(covered(&made, ilat, ilng), "inside at {k}/10");
                let (olat, olng): (f64, f64) = g.direct(lat, lng, azi + side, w * 1.01 + 1.0);
                assert!(
                    !covered(&made, olat, olng),
                    "{route:?} covers 1% beyond {w} m at {k}/10"
                );
            }
        }
    }
}

#[test]
fn a_multipolygon_is_a_volume_a_polygon_and_errors_point_into_it() {
    let square = |lat: f64| {
        json!([[
            [38.0, lat],
            [38.1, lat],
            [38.1, lat + 0.1],
            [38.0, lat + 0.1],
            [38.0, lat]
        ]])
    };
    let mut v = json!({"type": "Feature", "geometry": {"type": "MultiPolygon",
        "coordinates": [square(35.0), square(36.0)]},
        "properties": {"altitude_lower_m": 0, "altitude_upper_m": 100,
            "time_start": "2026-11-22T10:00:00Z", "time_end": "2026-11-22T11:00:00Z"}});
    let doc = |v: &Value| json!({"id": "a", "party": "p", "volumes": [v]}).to_string();
    let activity = parse_activity(&doc(&v), &WireLimits::default()).unwrap();
    assert_eq!(activity.volumes.len(), 2);
    // A hole in the second polygon, and a latitude out of range in it.
    v["geometry"]["coordinates"][1]
        .as_array_mut()
        .unwrap()
        .push(square(36.02)[0].clone());
    let e = parse_activity(&doc(&v), &WireLimits::default()).unwrap_err();
    assert_eq!(e.pointer, "/volumes/0/geometry/coordinates/1/1", "{e}");
    v["geometry"]["coordinates"][1] =
        json!([[[38.0, 95.0], [38.1, 36.0], [38.1, 36.1], [38.0, 95.0]]]);
    let e = parse_activity(&doc(&v), &WireLimits::default()).unwrap_err();
    assert!(
        e.pointer
            .starts_with("/volumes/0/geometry/coordinates/1/0/0"),
        "{e}"
    );
}

#[test]
fn the_limit_of_volumes_counts_the_expanded_ones() {
    let route: Vec<(f64, f64)> = (0..40).map(|k| (35.0 + 0.01 * k as f64, 38.0)).collect();
    let ok = json!({"id": "a", "party": "p", "volumes": [route_feature(&route, 500.0)]});
    // 40 positions make 40 circles and 39 legs.
    let activity = parse_activity(&ok.to_string(), &WireLimits::default()).unwrap();
    assert_eq!(activity.volumes.len(), 79);
    let two = json!({"id": "a", "party": "p", "volumes": [route_feature(&route, 500.0), route_feature(&route, 500.0)]});
    let e = parse_activity(&two.to_string(), &WireLimits::default()).unwrap_err();
    assert_eq!(e.pointer, "/volumes/1");
    assert!(
        e.message.contains("158") && e.message.contains("limit of 100"),
        "{e}"
    );
    let long: Vec<(f64, f64)> = (0..500).map(|k| (35.0 + 0.001 * k as f64, 38.0)).collect();
    let e = parse_activity(
        &json!({"id": "a", "party": "p", "volumes": [route_feature(&long, 500.0)]}).to_string(),
        &WireLimits::default(),
    )
    .unwrap_err();
    assert_eq!(e.pointer, "/volumes/0/geometry/coordinates");
}

#[test]
fn a_route_needs_a_half_width_and_its_errors_point_into_it() {
    let mut v = route_feature(&[(35.0, 38.0), (35.1, 38.1)], 500.0);
    let doc = |v: &Value| json!({"id": "a", "party": "p", "volumes": [v]}).to_string();
    v["properties"]
        .as_object_mut()
        .unwrap()
        .remove("half_width_m");
    let e = parse_activity(&doc(&v), &WireLimits::default()).unwrap_err();
    assert_eq!(e.pointer, "/volumes/0/properties/half_width_m");
    assert!(e.message.contains("half-width"), "{e}");
    let mut v = route_feature(&[(35.0, 38.0), (95.0, 38.1)], 500.0);
    let e = parse_activity(&doc(&v), &WireLimits::default()).unwrap_err();
    assert_eq!(e.pointer, "/volumes/0/geometry/coordinates/1/1");
    assert!(
        e.message.contains("give degrees north") && e.message.contains("swapped"),
        "{e}"
    );
    let e = parse_activity(
        &doc(&route_feature(&[(35.0, 38.0), (35.1, 181.0)], 500.0)),
        &WireLimits::default(),
    )
    .unwrap_err();
    assert_eq!(e.pointer, "/volumes/0/geometry/coordinates/1/0");
    assert!(e.message.contains("give degrees east"), "{e}");
    // A property the pieces share points back to the route.
    v = route_feature(&[(35.0, 38.0), (35.1, 38.1)], 500.0);
    v["properties"]["altitude_upper_m"] = json!(-9000);
    let e = parse_activity(&doc(&v), &WireLimits::default()).unwrap_err();
    assert!(
        e.pointer.starts_with("/volumes/0/properties/altitude_"),
        "{e}"
    );
}
