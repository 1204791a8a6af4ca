//! Altitudes above mean sea level and flight levels.
//!
//! The geoid (crate `egm96`, NGA's routine) against an independent
//! spherical-harmonic synthesis in numpy from the same coefficients
//! (`tests/reference/geoid.py`), and against NGA's published test values for
//! EGM96; [`geoid_range`] against dense samples of random boxes; the slope
//! bound and EGM96's range against a global grid; and the conversions in a
//! real volume.

use parley_engine::{LatLngBox, Limits};
use parley_wire::altitude::{
    flight_level_amsl_m, geoid_height_m, geoid_range, GEOID_RANGE_M, GEOID_SLOPE_M_PER_M,
};
use parley_wire::{check_work, parse_volume, parse_volume_on, VerticalRules, WireLimits};
use serde_json::{json, Value};

mod common;
use common::reference_lines;

/// The coefficients the `egm96` crate compiles in, from cargo's copy of its
/// source (the version the workspace pins, `=0.3.2`).
fn coefficients() -> String {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(&std::env::var_os("HOME").unwrap()).join(".cargo"));
    let sources = home.join("registry/src");
    std::fs::read_dir(&sources)
        .unwrap_or_else(|e| panic!("{}: {e}", sources.display()))
        .filter_map(|d| d.ok())
        .map(|d| d.path().join("egm96-0.3.2/data/coefficients.txt"))
        .find(|p| p.exists())
        .expect("cargo's copy of egm96 0.3.2")
        .display()
        .to_string()
}

fn reference(args: &[&str]) -> Vec<Value> {
    let coefficients = coefficients();
    let mut all = vec!["--coefficients", &coefficients];
    all.extend_from_slice(args);
    reference_lines("geoid.py", &all)
}

#[test]
fn the_geoid_agrees_with_an_independent_synthesis() {
    let points = reference(&["points", "--seed", "20261202", "--count", "150"]);
    assert!(points.len() > 150);
    for p in &points {
        let (lat, lng) = (p["lat"].as_f64().unwrap(), p["lng"].as_f64().unwrap());
        let ours = geoid_height_m(lat, lng);
        let theirs = p["n"].as_f64().unwrap();
        assert!(
            (ours - theirs).abs() < 1e-3,
            "({lat}, {lng}): egm96 {ours}, numpy {theirs}"
        );
    }
}

#[test]
fn the_geoid_agrees_with_ngas_published_test_values() {
    // NGA's test points for EGM96 (the F477 package's OUTINTPT.DAT): latitude,
    // longitude east (0 to 360), geoid height to the millimetre. NGA's
    // program and these coefficients agree to a few millimetres (the numpy
    // synthesis gives the crate's values, 1 to 3.2 mm from NGA's).
    let nga = [
        (38.6281550, 269.7791550, -31.628),
        (-14.6212170, 305.0211140, -2.969),
        (46.8743190, 102.4487290, -43.575),
        (-23.6174460, 133.8747120, 15.871),
        (38.6254730, 359.9995000, 50.066),
        (-0.4667440, 0.0023000, 17.329),
    ];
    for (lat, lng, n) in nga {
        let ours = geoid_height_m(lat, lng);
        assert!((ours - n).abs() < 0.005, "({lat}, {lng}): {ours}, NGA {n}");
    }
}

#[test]
fn the_slope_bound_and_the_range_hold_on_a_global_grid() {
    let grid = &reference(&["slope", "--step", "0.1"])[0];
    let slope = grid["slope"].as_f64().unwrap();
    // An 11 km difference sees at least 98% of the slope of the model's
    // shortest wave (111 km).
    assert!(
        slope / 0.98 < GEOID_SLOPE_M_PER_M,
        "the steepest slope {slope} is over the bound"
    );
    assert!(
        slope > GEOID_SLOPE_M_PER_M / 2.0,
        "a bound close to the model: {slope}"
    );
    let (min, max) = (grid["min"].as_f64().unwrap(), grid["max"].as_f64().unwrap());
    assert!(
        GEOID_RANGE_M.0 < min && min < GEOID_RANGE_M.0 + 2.0,
        "{min}"
    );
    assert!(
        GEOID_RANGE_M.1 > max && max > GEOID_RANGE_M.1 - 2.0,
        "{max}"
    );
}

#[test]
fn the_range_over_a_box_covers_every_sample_of_it() {
    let boxes = reference(&["boxes", "--seed", "7", "--count", "40"]);
    assert_eq!(boxes.len(), 40);
    let mut tight = 0;
    for b in &boxes {
        let f = |k: &str| b[k].as_f64().unwrap();
        let bounds = LatLngBox {
            south: f("south"),
            west: f("west"),
            north: f("north"),
            east: f("east"),
        };
        let range = geoid_range(bounds);
        assert!(range.evaluations <= 16, "{range:?}");
        assert!(
            range.min_m <= f("min") && f("max") <= range.max_m,
            "{bounds:?}: {range:?} does not cover [{}, {}]",
            f("min"),
            f("max")
        );
        // Conservative, not useless: small boxes stay within a few metres.
        if (f("north") - f("south")) < 0.1 && range.max_m - range.min_m < f("max") - f("min") + 5.0
        {
            tight += 1;
        }
    }
    assert!(tight > 3, "small boxes get a close range ({tight})");
}

fn volume(lower: Value, upper: Value) -> Value {
    json!({"volume": {"outline_circle": {"center": {"lat": 35.5, "lng": 38.5},
        "radius": {"value": 2000, "units": "M"}},
        "altitude_lower": lower, "altitude_upper": upper},
        "time_start": {"value": "2026-11-22T10:00:00Z", "format": "RFC3339"},
        "time_end": {"value": "2026-11-22T11:00:00Z", "format": "RFC3339"}})
}

#[test]
fn a_band_above_mean_sea_level_covers_the_footprint_above_the_ellipsoid() {
    let v = volume(
        json!({"value": 1000, "reference": "AMSL", "units": "M"}),
        json!({"value": 10000, "reference": "AMSL", "units": "FT"}),
    );
    let parsed = parse_volume_on(&v, "", &Limits::default(), &VerticalRules::default()).unwrap();
    let band = parsed.volume.altitude();
    let range = geoid_range(parsed.volume.bounds());
    // Rounded outward to the centimetre.
    let within = |x: f64, exact: f64, low: bool| {
        let d = if low { exact - x } else { x - exact };
        (0.0..0.01).contains(&d)
    };
    assert!(within(band.lower_m, 1000.0 + range.min_m, true), "{band:?}");
    assert!(
        within(band.upper_m, 3048.0 + range.max_m, false),
        "{band:?}"
    );
    // Near 35.5N 38.5E the geoid is about 20 m up; 2 km of radius spreads it
    // little.
    let centre = geoid_height_m(35.5, 38.5);
    assert!(range.min_m <= centre && centre <= range.max_m);
    assert!(range.max_m - range.min_m < 5.0, "{range:?}");
    assert_eq!(
        parsed.given.unwrap(),
        json!({"altitude_lower": {"value": 1000, "reference": "AMSL", "units": "M"},
               "altitude_upper": {"value": 10000, "reference": "AMSL", "units": "FT"}})
    );
    // W84 stays as it was, with nothing kept beside it.
    let w84 = volume(
        json!({"value": 1000, "reference": "W84", "units": "M"}),
        json!({"value": 2000, "reference": "W84", "units": "M"}),
    );
    let parsed = parse_volume_on(&w84, "", &Limits::default(), &VerticalRules::default()).unwrap();
    assert_eq!(parsed.volume.altitude().lower_m, 1000.0);
    assert!(parsed.given.is_none());
}

#[test]
fn flight_levels_need_a_line_that_allows_them_and_are_widened_by_its_margin() {
    let v = volume(json!("FL130"), json!({"value": 250, "units": "FL"}));
    let refused = parse_volume(&v, "/volumes/0", &Limits::default()).unwrap_err();
    assert_eq!(refused.pointer, "/volumes/0/volume/altitude_lower");
    assert!(
        refused.message.contains("flight_level_margin_m"),
        "{refused}"
    );
    let rules = VerticalRules {
        flight_level_margin_m: Some(300.0),
    };
    let parsed = parse_volume_on(&v, "", &Limits::default(), &rules).unwrap();
    let range = geoid_range(parsed.volume.bounds());
    let band = parsed.volume.altitude();
    let lower = flight_level_amsl_m(130.0) + range.min_m - 300.0;
    let upper = flight_level_amsl_m(250.0) + range.max_m + 300.0;
    assert!(
        band.lower_m <= lower && lower - band.lower_m < 0.01,
        "{band:?}"
    );
    assert!(
        band.upper_m >= upper && band.upper_m - upper < 0.01,
        "{band:?}"
    );
    assert_eq!(parsed.given.unwrap()["altitude_lower"], "FL130");
    for (bad, pointer) in [
        (json!("FL13O"), "/volume/altitude_lower"),
        (json!("FL1300"), "/volume/altitude_lower"),
        (
            json!({"value": 130.5, "units": "FL"}),
            "/volume/altitude_lower/value",
        ),
        (
            json!({"value": 130, "units": "FL", "reference": "W84"}),
            "/volume/altitude_lower/reference",
        ),
        (
            json!({"value": 130, "units": "KM", "reference": "W84"}),
            "/volume/altitude_lower/units",
        ),
        (
            json!({"value": 130, "units": "M", "reference": "QNH"}),
            "/volume/altitude_lower/reference",
        ),
    ] {
        let v = volume(bad.clone(), json!("FL250"));
        let e = parse_volume_on(&v, "", &Limits::default(), &rules).unwrap_err();
        assert_eq!(e.pointer, pointer, "{bad}: {e}");
    }
}

#[test]
fn the_isa_converts_pressure_altitude_to_geometric_altitude() {
    // Geopotential 3,962.4 m (FL130) is 3,964.87 m geometric; FL0 is sea level.
    assert_eq!(flight_level_amsl_m(0.0), 0.0);
    assert!((flight_level_amsl_m(130.0) - 3964.871).abs() < 1e-3);
    // FL360 = 10,972.8 m geopotential, 10,991.77 m geometric.
    assert!((flight_level_amsl_m(360.0) - 10_991.77).abs() < 0.01);
}

#[test]
fn the_work_budget_counts_geoid_evaluations() {
    let amsl = volume(
        json!({"value": 0, "reference": "AMSL", "units": "M"}),
        json!({"value": 100, "reference": "AMSL", "units": "M"}),
    );
    let w84 = volume(
        json!({"value": 0, "reference": "W84", "units": "M"}),
        json!({"value": 100, "reference": "W84", "units": "M"}),
    );
    let limits = WireLimits::default();
    assert_eq!(
        check_work(std::slice::from_ref(&w84), "/volumes", &limits).unwrap(),
        1
    );
    assert_eq!(
        check_work(std::slice::from_ref(&amsl), "/volumes", &limits).unwrap(),
        481
    );
    assert!(check_work(&vec![amsl.clone(); 100], "/volumes", &limits).is_ok());
    let many = vec![amsl; 105];
    let e = check_work(&many, "/volumes", &limits).unwrap_err();
    assert!(e.message.contains("geoid"), "{e}");
}

#[test]
fn a_geojson_feature_gives_altitudes_as_the_f3548_form_does() {
    let feature = |lower: Value, upper: Value| {
        json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [38.5, 35.5]},
            "properties": {"radius_m": 2000, "altitude_lower": lower, "altitude_upper_m": 9000,
                "altitude_upper": upper,
                "time_start": "2026-11-22T10:00:00Z", "time_end": "2026-11-22T11:00:00Z"}})
    };
    let f = feature(
        json!({"value": 1000, "reference": "AMSL", "units": "M"}),
        json!("FL250"),
    );
    let e = parse_volume(&f, "/volumes/0", &Limits::default()).unwrap_err();
    assert_eq!(e.pointer, "/volumes/0/properties/altitude_upper");
    let rules = VerticalRules {
        flight_level_margin_m: Some(100.0),
    };
    let parsed = parse_volume_on(&f, "", &Limits::default(), &rules).unwrap();
    let range = geoid_range(parsed.volume.bounds());
    assert!(parsed.volume.altitude().lower_m <= 1000.0 + range.min_m);
    assert!(parsed.volume.altitude().upper_m >= flight_level_amsl_m(250.0) + range.max_m + 100.0);
    assert_eq!(parsed.given.unwrap()["altitude_upper"], "FL250");
    // The work budget sees them too.
    assert!(check_work(&[f], "/volumes", &WireLimits::default()).unwrap() > 1);
    // An inverted band is refused at the property given.
    let f = feature(
        json!({"value": 9000, "reference": "AMSL", "units": "M"}),
        json!("FL010"),
    );
    let e = parse_volume_on(&f, "", &Limits::default(), &rules).unwrap_err();
    assert_eq!(e.pointer, "/properties/altitude_lower", "{e}");
}
