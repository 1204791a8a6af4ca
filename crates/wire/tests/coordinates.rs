//! MGRS and UTM/UPS against independent implementations: PyPI `mgrs` (NGA's
//! GEOTRANS) and pyproj (PROJ), run by `tests/reference/coordinates.py` in
//! the environment `cargo xtask test` makes, on random points and on the
//! grid's edges (zone and band edges, Norway and Svalbard, the poles, the
//! antimeridian). And the forms of a position in a real volume.

use parley_engine::{distance_m, LatLng, Limits, Outline};
use parley_wire::coordinates::{format_mgrs, parse_mgrs, parse_utm};
use parley_wire::parse_volume;
use serde_json::{json, Value};

mod common;
use common::reference_lines;

#[test]
fn mgrs_and_utm_agree_with_geotrans_and_proj() {
    let mut disagreements = Vec::new();
    let mut checked = 0;
    for p in reference_lines("coordinates.py", &["--seed", "20261202", "--count", "3000"]) {
        let at = LatLng::new(p["lat"].as_f64().unwrap(), p["lng"].as_f64().unwrap());
        let reference = p["mgrs"].as_str().unwrap();
        checked += 1;
        // The cell the point lies in (GEOTRANS's square, PROJ's digits,
        // truncated): ours must name the same, and reading it back must
        // cover the point.
        match format_mgrs(at) {
            Ok(ours) if ours == reference => {}
            other => disagreements.push(format!("{at:?}: ours {other:?}, GEOTRANS {reference}")),
        }
        match parse_mgrs(reference) {
            Ok(cell) if distance_m(cell.point, at) <= cell.spread_m + 1e-6 => {}
            other => disagreements.push(format!(
                "{reference}: read as {other:?}, not covering {at:?}"
            )),
        }
        let zone = p["zone"].as_i64().unwrap() as i32;
        let north = p["hemisphere"] == "N";
        let (e, n) = (
            p["easting"].as_f64().unwrap(),
            p["northing"].as_f64().unwrap(),
        );
        match parse_utm(zone, north, e, n) {
            // PROJ and GeographicLib agree to well under a millimetre.
            Ok(ours) if distance_m(ours, at) < 1e-3 => {}
            other => disagreements.push(format!(
                "UTM {zone}{} {e} {n}: ours {other:?}, PROJ {at:?}",
                p["hemisphere"]
            )),
        }
    }
    assert!(checked > 3000, "only {checked} points");
    assert!(
        disagreements.is_empty(),
        "{} of {checked} points disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

fn circle(center: Value, radius: Value) -> Value {
    json!({"volume": {"outline_circle": {"center": center, "radius": radius},
        "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
        "altitude_upper": {"value": 1000, "reference": "W84", "units": "FT"}},
        "time_start": {"value": "2030-01-01T00:00:00Z", "format": "RFC3339"},
        "time_end": {"value": "2030-01-01T01:00:00Z", "format": "RFC3339"}})
}

fn centre_and_radius(v: &Value) -> (LatLng, f64) {
    let volume =
        parse_volume(v, "/volumes/0", &Limits::default()).unwrap_or_else(|e| panic!("{e}: {v}"));
    match volume.outline() {
        Outline::Circle { center, radius_m } => (*center, *radius_m),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_form_of_a_position_is_the_same_volume() {
    let decimal = centre_and_radius(&circle(
        json!({"lat": 35.5, "lng": 38.5}),
        json!({"value": 500, "units": "M"}),
    ));
    for center in [
        json!({"lat": "35°30'N", "lng": "038°30'E"}),
        json!({"lat": "3530N", "lng": "03830E"}),
        json!({"position": "35°30'00\"N 038°30'00\"E"}),
        json!({"position": "3530N03830E"}),
    ] {
        let (c, r) =
            centre_and_radius(&circle(center.clone(), json!({"value": 500, "units": "M"})));
        assert!(distance_m(c, decimal.0) < 1e-6, "{center}");
        assert_eq!(r, 500.0);
    }
    // Feet are international feet.
    let (_, r) = centre_and_radius(&circle(
        json!({"lat": 35.5, "lng": 38.5}),
        json!({"value": 1000, "units": "FT"}),
    ));
    assert!((r - 304.8).abs() < 1e-9);
    // UTM: the centre as PROJ has it for zone 37N.
    let (c, _) = centre_and_radius(&circle(
        json!({"utm": {"zone": 37, "hemisphere": "N", "easting": 500000.0, "northing": 3930000.0}}),
        json!({"value": 500, "units": "M"}),
    ));
    assert!(
        (c.lng - 39.0).abs() < 1e-9,
        "on the central meridian: {c:?}"
    );
    // An MGRS centre names a 100 m cell: the circle grows by its half-diagonal.
    let (c, r) = centre_and_radius(&circle(
        json!({"mgrs": "37SBA 123 456"}),
        json!({"value": 500, "units": "M"}),
    ));
    let cell = parse_mgrs("37SBA123456").unwrap();
    assert_eq!(c, cell.point);
    assert!((r - 500.0 - cell.spread_m).abs() < 1e-9);
    assert!((cell.spread_m - 70.7).abs() < 0.5, "{}", cell.spread_m);
}

#[test]
fn a_wrong_position_says_where_and_what_to_give() {
    let cases = [
        (
            json!({"lat": "038°30'E", "lng": 38.5}),
            "/volumes/0/volume/outline_circle/center/lat",
            "swapped",
        ),
        (
            json!({"lat": "35 deg", "lng": 38.5}),
            "/volumes/0/volume/outline_circle/center/lat",
            "degrees, minutes and seconds",
        ),
        (
            json!({"lat": true, "lng": 38.5}),
            "/volumes/0/volume/outline_circle/center/lat",
            "decimal degrees",
        ),
        (
            json!({"mgrs": "37SBA123"}),
            "/volumes/0/volume/outline_circle/center/mgrs",
            "MGRS",
        ),
        (
            json!({"utm": {"zone": 61, "hemisphere": "N", "easting": 5e5, "northing": 4e6}}),
            "/volumes/0/volume/outline_circle/center/utm/zone",
            "1 to 60",
        ),
        (
            json!({"utm": {"zone": 37, "hemisphere": "X", "easting": 5e5, "northing": 4e6}}),
            "/volumes/0/volume/outline_circle/center/utm/hemisphere",
            "\"N\" or \"S\"",
        ),
    ];
    for (center, pointer, says) in cases {
        let e = parse_volume(
            &circle(center.clone(), json!({"value": 500, "units": "M"})),
            "/volumes/0",
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(e.pointer, pointer, "{center}: {e}");
        assert!(e.message.contains(says), "{center}: {e}");
    }
    let e = parse_volume(
        &circle(
            json!({"lat": 35.5, "lng": 38.5}),
            json!({"value": 500, "units": "NM"}),
        ),
        "/volumes/0",
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(e.pointer, "/volumes/0/volume/outline_circle/radius/units");
    assert!(e.message.contains("\"FT\" (feet)"), "{e}");
    // A polygon's vertex names a point: a coarse MGRS cell is refused there.
    let polygon = json!({"volume": {"outline_polygon": {"vertices": [
            {"mgrs": "37SBA1245"}, {"lat": 35.6, "lng": 38.6}, {"lat": 35.6, "lng": 38.5}]},
        "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
        "altitude_upper": {"value": 100, "reference": "W84", "units": "M"}},
        "time_start": {"value": "2030-01-01T00:00:00Z", "format": "RFC3339"},
        "time_end": {"value": "2030-01-01T01:00:00Z", "format": "RFC3339"}});
    let e = parse_volume(&polygon, "/volumes/0", &Limits::default()).unwrap_err();
    assert_eq!(
        e.pointer,
        "/volumes/0/volume/outline_polygon/vertices/0/mgrs"
    );
    assert!(e.message.contains("to the metre"), "{e}");
}
