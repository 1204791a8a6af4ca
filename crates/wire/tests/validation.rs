//! Bad input gets an error that names the field (a JSON pointer) and says what to
//! fix. Cases are data: `tests/data/invalid_volumes.jsonl`, each a change to a
//! valid volume and the error it must produce.
//!
//! The fixed dates here are safe for ever: parsing reads no clock, so a window
//! on 2026-11-22 is as valid on any later day.

use parley_engine::Limits;
use parley_wire::{parse_activity, parse_volume, WireLimits};
use serde_json::{json, Value};

fn polygon() -> Value {
    json!({
        "volume": {
            "outline_polygon": {"vertices": [
                {"lat": 35.0, "lng": 38.0}, {"lat": 35.0, "lng": 38.1},
                {"lat": 35.1, "lng": 38.1}, {"lat": 35.1, "lng": 38.0}
            ]},
            "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"}
        },
        "time_start": {"value": "2026-11-22T10:00:00Z", "format": "RFC3339"},
        "time_end": {"value": "2026-11-22T12:00:00Z", "format": "RFC3339"}
    })
}

fn circle() -> Value {
    let mut v = polygon();
    let volume = v["volume"].as_object_mut().unwrap();
    volume.remove("outline_polygon");
    volume.insert(
        "outline_circle".into(),
        json!({"center": {"lat": 35.0, "lng": 38.0}, "radius": {"value": 800, "units": "M"}}),
    );
    v
}

fn set(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = doc
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent}"));
    match target {
        Value::Object(o) => {
            o.insert(key.to_string(), value);
        }
        Value::Array(a) => {
            let i: usize = key.parse().unwrap();
            if i == a.len() {
                a.push(value)
            } else {
                a[i] = value
            }
        }
        _ => panic!("cannot set {pointer}"),
    }
}

#[test]
fn every_invalid_case_names_its_field() {
    let cases = include_str!("data/invalid_volumes.jsonl");
    let mut count = 0;
    for line in cases.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let name = case["name"].as_str().unwrap();
        let mut doc = if case["circle"] == json!(true) {
            circle()
        } else {
            polygon()
        };
        for (pointer, value) in case["set"].as_object().into_iter().flatten() {
            set(&mut doc, pointer, value.clone());
        }
        for pointer in case["remove"].as_array().into_iter().flatten() {
            let (parent, key) = pointer.as_str().unwrap().rsplit_once('/').unwrap();
            doc.pointer_mut(parent)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(key);
        }
        let err = parse_volume(&doc, "", &Limits::default()).expect_err(name);
        assert_eq!(
            err.pointer,
            case["pointer"].as_str().unwrap(),
            "{name}: {err}"
        );
        let says = case["says"].as_str().unwrap();
        assert!(
            err.message.contains(says),
            "{name}: {:?} does not say {says:?}",
            err.message
        );
        count += 1;
    }
    assert!(count >= 30);
}

#[test]
fn the_valid_base_volumes_are_accepted() {
    parse_volume(&polygon(), "", &Limits::default()).unwrap();
    parse_volume(&circle(), "", &Limits::default()).unwrap();
}

#[test]
fn geojson_features_are_accepted_and_errors_point_into_them() {
    let feature = json!({
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[[38.0, 35.0], [38.1, 35.0], [38.1, 35.1], [38.0, 35.1], [38.0, 35.0]]]},
        "properties": {"altitude_lower_m": 0, "altitude_upper_m": 3000,
                       "time_start": "2026-11-22T10:00:00Z", "time_end": "2026-11-22T12:00:00Z"}
    });
    let from_geojson = parse_volume(&feature, "", &Limits::default()).unwrap();
    let from_f3548 = parse_volume(&polygon(), "", &Limits::default()).unwrap();
    assert_eq!(from_geojson.outline(), from_f3548.outline());
    assert_eq!(from_geojson.window(), from_f3548.window());

    let mut open = feature.clone();
    open["geometry"]["coordinates"][0]
        .as_array_mut()
        .unwrap()
        .pop();
    let err = parse_volume(&open, "/volumes/0", &Limits::default()).unwrap_err();
    assert_eq!(err.pointer, "/volumes/0/geometry/coordinates/0");
    assert!(err.message.contains("repeat it"));

    let mut bad = feature.clone();
    bad["geometry"]["coordinates"][0][2][1] = json!(95.0);
    let err = parse_volume(&bad, "", &Limits::default()).unwrap_err();
    assert_eq!(err.pointer, "/geometry/coordinates/0/2/1");

    let point = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [38.0, 35.0]},
        "properties": {"radius_m": -1, "altitude_lower_m": 0, "altitude_upper_m": 10,
                       "time_start": "2026-11-22T10:00:00Z", "time_end": "2026-11-22T12:00:00Z"}});
    let err = parse_volume(&point, "", &Limits::default()).unwrap_err();
    assert_eq!(err.pointer, "/properties/radius_m");
}

#[test]
fn activity_errors_point_into_the_activity() {
    let activity =
        |volumes: Value| json!({"id": "A", "party": "north", "volumes": volumes}).to_string();
    let limits = WireLimits::default();
    assert!(parse_activity(&activity(json!([polygon(), circle()])), &limits).is_ok());
    let mut bad = circle();
    bad["volume"]["altitude_upper"]["value"] = json!(-10);
    let err = parse_activity(&activity(json!([polygon(), bad])), &limits).unwrap_err();
    assert_eq!(err.pointer, "/volumes/1/volume/altitude_lower/value");
    assert_eq!(
        parse_activity(&activity(json!([])), &limits)
            .unwrap_err()
            .pointer,
        "/volumes"
    );
    let many: Vec<Value> = (0..101).map(|_| circle()).collect();
    assert!(parse_activity(&activity(json!(many)), &limits)
        .unwrap_err()
        .message
        .contains("limit of 100"));
    assert!(parse_activity("{\"id\": 1", &limits)
        .unwrap_err()
        .message
        .contains("not valid JSON"));
    let err = parse_activity(
        &json!({"id": "", "party": "p", "volumes": [circle()]}).to_string(),
        &limits,
    )
    .unwrap_err();
    assert_eq!(err.pointer, "/id");
}

/// Requests written by the InterUSS DSS test suite, read as Volume4D extents.
#[test]
fn interuss_extents() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/external/interuss/monitoring/prober/scd/resources"
    );
    let read = |name: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(format!("{dir}/{name}"))
                .expect("shared/ beside the repository"),
        )
        .unwrap()
    };
    // Their query windows run for years: refused under the default 31-day limit,
    // accepted once a deployment raises it.
    let relaxed = Limits {
        max_duration_us: 200 * 365 * 24 * 3_600 * 1_000_000,
        ..Limits::default()
    };
    let mut refused = Vec::new();
    let mut invalid = Vec::new();
    for name in [
        "op_request_1.json",
        "op_request_2.json",
        "op_request_3.json",
        "op_request_4.json",
    ] {
        let doc = read(name);
        let volumes: Vec<(String, &Value)> = match doc.get("extents").and_then(Value::as_array) {
            Some(extents) => extents
                .iter()
                .enumerate()
                .map(|(i, e)| (format!("/extents/{i}"), e))
                .collect(),
            None => vec![("/area_of_interest".to_string(), &doc["area_of_interest"])],
        };
        for (at, volume) in volumes {
            if let Err(e) = parse_volume(volume, &at, &relaxed) {
                invalid.push(format!("{name}{}", e.pointer));
                assert!(e.message.contains("repeats vertex"), "{name}: {e}");
            } else if let Err(e) = parse_volume(volume, &at, &Limits::default()) {
                refused.push(format!("{name}{e}"));
            }
        }
    }
    // Some InterUSS rings repeat a vertex (closing the ring, or a doubled point);
    // Parley refuses repeated vertices and says which.
    assert_eq!(
        invalid,
        [
            "op_request_2.json/extents/0/volume/outline_polygon/vertices/4",
            "op_request_3.json/area_of_interest/volume/outline_polygon/vertices/1"
        ]
    );
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused
            .iter()
            .all(|e| e.contains("time_end/value: the window lasts")),
        "{refused:?}"
    );
    let limits = Limits::default();
    let bad = read("op_bad_volume.json");
    let err = parse_volume(&bad["extents"][0], "/extents/0", &limits).unwrap_err();
    assert_eq!(err.pointer, "/extents/0/volume");
    assert!(err.message.contains("exactly one"));
}

/// Every volume of the examples, GeoJSON or F3548, written as F3548 reads back
/// to the same outline, altitudes and window, to the last bit.
#[test]
fn every_volume_written_as_f3548_reads_back_the_same() {
    let examples = [
        include_str!("../../../examples/syria-air.jsonl"),
        include_str!("../../../examples/seas-geojson.jsonl"),
    ];
    let mut seen = (0, 0);
    for line in examples.iter().flat_map(|e| e.lines()) {
        let activity: serde_json::Value = serde_json::from_str(line).unwrap();
        for v in activity["volumes"].as_array().unwrap() {
            if v["type"] == "Feature" {
                seen.0 += 1;
            } else {
                seen.1 += 1;
            }
            let given = parse_volume(v, "", &Limits::default()).unwrap();
            let written = parley_wire::volume4d_json(&given);
            assert!(written.get("type").is_none(), "{written}");
            let back = parse_volume(&written, "", &Limits::default()).unwrap();
            assert_eq!(back.outline(), given.outline(), "{line}");
            assert_eq!(back.altitude(), given.altitude(), "{line}");
            assert_eq!(back.window(), given.window(), "{line}");
        }
    }
    assert!(seen.0 > 0 && seen.1 > 0, "both forms tried: {seen:?}");
}

proptest::proptest! {
    /// Any circle, at any coordinates, altitudes and microsecond times.
    #[test]
    fn any_circle_written_as_f3548_reads_back_the_same(
        lat in -89.0f64..89.0, lng in -180.0f64..180.0, radius in 1.0f64..100_000.0,
        lower in -1_000.0f64..20_000.0, height in 0.0f64..20_000.0,
        start in 0i64..4_000_000_000_000_000, length in 1i64..2_000_000_000_000,
    ) {
        let t = |us: i64| parley_wire::format_timestamp(parley_engine::Timestamp(us));
        let feature = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lng, lat]},
            "properties": {"radius_m": radius, "altitude_lower_m": lower, "altitude_upper_m": lower + height,
                           "time_start": t(start), "time_end": t(start + length)}});
        let given = parse_volume(&feature, "", &Limits::default()).unwrap();
        let back = parse_volume(&parley_wire::volume4d_json(&given), "", &Limits::default()).unwrap();
        proptest::prop_assert_eq!(back.outline(), given.outline());
        proptest::prop_assert_eq!(back.altitude(), given.altitude());
        proptest::prop_assert_eq!(back.window(), given.window());
    }
}
