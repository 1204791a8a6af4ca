//! Issue 23 end to end: the real binary against a real `parley serve`. A
//! line with a region of operation and a flight-level margin; a notice with
//! latitude and longitude swapped and one entirely in the past refused until
//! confirmed; flight levels and a route read back as given and as compared.

mod common;

use common::{at, temp_dir, write, Server, OPS_DAY};
use serde_json::json;

#[test]
fn unusual_notices_are_refused_until_confirmed_and_altitudes_read_back_as_given() {
    let (server, blue, red) = Server::world("formats");
    let dir = temp_dir("formats-files");
    server.admin(&[
        "line-create",
        "levant",
        "Levant",
        "--party",
        "blue",
        "--party",
        "red",
        "--region",
        "32,35.5,37.5,42.5",
        "--flight-level-margin-m",
        "300",
    ]);
    let shown = blue.run(&["lines", "show", "levant"]).stdout;
    assert!(
        shown.contains("region of operation       32.0 to 37.5 N, 35.5 to 42.5 E")
            && shown.contains("flight levels, margin     300 m"),
        "{shown}"
    );
    let props = |day: i64| {
        json!({"altitude_lower_m": 0, "altitude_upper_m": 3000,
            "time_start": at(day, 10), "time_end": at(day, 12)})
    };
    // A box near Deir ez-Zor written [lat, lng] instead of GeoJSON's [lng, lat].
    let swapped = json!([{"type": "Feature", "properties": props(OPS_DAY),
        "geometry": {"type": "Polygon", "coordinates": [[[35.3, 40.1], [35.3, 40.2], [35.4, 40.2], [35.3, 40.1]]]}}]);
    let file = write(&dir, "swapped.geojson", &swapped.to_string());
    let r = blue.expect(2, &["notify", "levant", &file]);
    assert!(
        r.stderr.contains("region of operation")
            && r.stderr.contains("latitude and longitude swapped"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--confirm-unusual"), "{}", r.stderr);
    assert_eq!(
        blue.json(&["activities"])["activities"]
            .as_array()
            .map(Vec::len),
        Some(0),
        "nothing was notified"
    );
    blue.ok(&["notify", "levant", &file, "--confirm-unusual"]);

    // A notice whose window ended yesterday.
    let past = json!([{"type": "Feature", "properties": props(-1),
        "geometry": {"type": "Point", "coordinates": [38.5, 35.5]}}]);
    let mut past = past;
    past[0]["properties"]["radius_m"] = json!(1000);
    let file = write(&dir, "past.geojson", &past.to_string());
    let r = blue.expect(2, &["notify", "levant", &file]);
    assert!(
        r.stderr.contains("every volume's window has ended"),
        "{}",
        r.stderr
    );

    // Flight levels, and a route, on the line that allows them.
    let fl = json!([{"volume": {"outline_circle": {"center": {"lat": "35°30'N", "lng": "038°30'E"},
            "radius": {"value": 5, "units": "FT"}},
            "altitude_lower": "FL100", "altitude_upper": {"value": 130, "units": "FL"}},
        "time_start": {"value": at(OPS_DAY, 10), "format": "RFC3339"},
        "time_end": {"value": at(OPS_DAY, 12), "format": "RFC3339"}},
        {"type": "Feature", "properties": {"half_width_m": 2000, "altitude_lower_m": 0, "altitude_upper_m": 3000,
            "time_start": at(OPS_DAY, 10), "time_end": at(OPS_DAY, 12)},
         "geometry": {"type": "LineString", "coordinates": [[38.0, 35.0], [38.3, 35.1]]}}]);
    let file = write(&dir, "fl.json", &fl.to_string());
    let act = blue.json(&["notify", "levant", &file])["activity"]
        .as_str()
        .unwrap()
        .to_string();
    let r = red.expect(2, &["ack", &act]);
    assert!(
        r.stdout.contains("given FL100 to FL130, compared as"),
        "{}",
        r.stdout
    );
    // The route became a circle, a quadrilateral and a circle.
    assert!(r.stdout.contains("volume 4"), "{}", r.stdout);
    assert!(!r.stdout.contains("volume 5"), "{}", r.stdout);
    // The same flight levels on a line without a margin are refused, saying so.
    let r = blue.expect(2, &["notify", "air", &file]);
    assert!(
        r.stderr.contains("do not allow flight levels"),
        "{}",
        r.stderr
    );

    // A region given as a polygon (an L, one vertex in DMS): its notch, inside
    // the polygon's box, is outside it.
    server.admin(&[
        "line-create",
        "ell",
        "Ell",
        "--party",
        "blue",
        "--party",
        "red",
        "--region",
        "35,38; 35,40; 36,40; 36,39; 37°00'00\"N 039°00'00\"E; 37,38",
    ]);
    let shown = blue.run(&["lines", "show", "ell"]).stdout;
    assert!(
        shown.contains(
            "region of operation       a polygon: 35.0,38.0; 35.0,40.0; 36.0,40.0; 36.0,39.0; 37.0,39.0; 37.0,38.0"
        ),
        "{shown}"
    );
    let circle = |lat: f64, lng: f64| {
        json!([{"type": "Feature", "properties": {"radius_m": 1000, "altitude_lower_m": 0, "altitude_upper_m": 3000,
            "time_start": at(OPS_DAY, 10), "time_end": at(OPS_DAY, 12)},
            "geometry": {"type": "Point", "coordinates": [lng, lat]}}])
    };
    let notch = write(&dir, "notch.geojson", &circle(36.5, 39.5).to_string());
    let r = blue.expect(2, &["notify", "ell", &notch]);
    assert!(
        r.stderr
            .contains("reaches outside the line's region of operation (a polygon of 6 vertices)"),
        "{}",
        r.stderr
    );
    let inside = write(&dir, "inside.geojson", &circle(36.5, 38.5).to_string());
    blue.ok(&["notify", "ell", &inside]);
    // A vertex that is no position is refused before anything is sent, saying which and what to give.
    let r = blue.run(&[
        "admin",
        "line-create",
        "bad",
        "Bad",
        "--party",
        "blue",
        "--party",
        "red",
        "--region",
        "35,38; 35,40; thirty",
    ]);
    assert!(
        r.code != 0
            && r.stderr.contains("--region vertex 3")
            && r.stderr.contains("decimal degrees"),
        "{}",
        r.stderr
    );
}
