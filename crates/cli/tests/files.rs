//! Issue 23 point 4 end to end: files written by the tools the field uses
//! (simplekml, gpxpy, openpyxl and Python's csv, run by
//! `tests/reference/files.py` in the test environment) read by the real
//! binary against a real `parley serve`; and the KML we write read by lxml.

mod common;

use common::demo::{python, root};
use common::{at, temp_dir, write, Client, Server, OPS_DAY};
use serde_json::{json, Value};
use std::path::Path;

/// Runs `tests/reference/files.py` with `args`; what it printed.
fn files_py(args: &[&std::ffi::OsStr]) -> String {
    let out = std::process::Command::new(python())
        .arg(root().join("tests/reference/files.py"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Writes the files `spec` describes into `dir` with the independent tools.
fn write_files(dir: &Path, spec: &Value) {
    let spec = spec.to_string();
    files_py(&["write".as_ref(), dir.as_os_str(), spec.as_ref()]);
}

/// The Placemarks of a KML file as lxml reads them.
fn read_kml(path: &str) -> Vec<Value> {
    files_py(&["read".as_ref(), path.as_ref()])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

fn activity(blue: &Client, args: &[&str]) -> String {
    let v = blue.json(args);
    v["activity"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string()
}

#[test]
fn kml_kmz_gpx_csv_and_xlsx_from_other_tools_and_kml_back_out() {
    let (_server, blue, red) = Server::world("files");
    let dir = temp_dir("files-in");
    let (begin, end) = (at(OPS_DAY, 10), at(OPS_DAY, 12));
    let square = |lng: f64, lat: f64, z: f64| {
        json!([
            [lng, lat, z],
            [lng + 0.05, lat, z],
            [lng + 0.05, lat + 0.05, z],
            [lng, lat + 0.05, z],
            [lng, lat, z]
        ])
    };
    let areas = json!([
        {"kind": "polygon", "name": "Range A", "coordinates": square(38.0, 35.0, 1500.0),
         "altitude_mode": "absolute", "extrude": true, "begin": begin, "end": end,
         "data": {"altitude_lower": "0 M AMSL"}},
        {"kind": "point", "name": "Well", "coordinates": [38.3, 35.2],
         "begin": begin, "end": end,
         "data": {"radius_m": "500", "altitude_lower": "0 FT AMSL", "altitude_upper": "500 FT AMSL"}}
    ]);
    let ground = json!([
        {"kind": "polygon", "name": "Valley", "coordinates":
            [[38.0, 36.0, 100], [38.1, 36.0, 900], [38.1, 36.1, 900], [38.0, 36.0, 100]],
         "altitude_mode": "absolute", "begin": begin, "end": end},
        {"kind": "polygon", "name": "Hill", "coordinates": square(38.5, 36.0, 100.0),
         "altitude_mode": "relativeToGround", "begin": begin, "end": end},
        {"kind": "polygon", "name": "Field", "coordinates": square(38.5, 36.5, 0.0),
         "begin": begin, "end": end}
    ]);
    let track = json!([{"name": "Patrol", "points": [
        [35.0, 39.0, 200.0, at(OPS_DAY, 10)],
        [35.1, 39.1, 350.0, at(OPS_DAY, 11)],
        [35.2, 39.1, 300.0, at(OPS_DAY, 12)]]}]);
    let depot =
        parley_wire::coordinates::format_mgrs(parley_engine::LatLng::new(35.7, 38.7)).unwrap();
    write_files(
        &dir,
        &json!({
            "kml": {"areas.kml": areas, "areas.kmz": areas, "ground.kml": ground},
            "gpx": {"patrol.gpx": track},
            "csv": {
                "sites.csv": [["Site", "Latitude", "Longitude", "Radius"],
                    ["Clinic", "35°30'15\"N", "038°30'E", "300"],
                    ["School", "35.6", "38.6", "200"]],
                "bad.csv": [["Site", "Latitude", "Longitude", "Radius"],
                    ["Clinic", "35.5", "38.5", "300"],
                    ["School", "35.5X", "38.6", "200"]]
            },
            "xlsx": {"sites.xlsx": [["Facility", "MGRS", "Ceiling", "Until"],
                ["Depot", depot, "500 FT AMSL", {"date": at(OPS_DAY + 1, 0)}]]}
        }),
    );

    // KML: altitudes absolute are above mean sea level, read back as given.
    let act = activity(&blue, &["notify", "air", &path(&dir, "areas.kml")]);
    let shown = red.expect(2, &["ack", &act]).stdout;
    assert!(
        shown.contains("given 0 m AMSL to 1500 m AMSL, compared as"),
        "{shown}"
    );
    assert!(
        shown.contains("given 0 ft AMSL to 500 ft AMSL, compared as"),
        "{shown}"
    );
    // KMZ: the same Placemarks, zipped.
    blue.ok(&["notify", "air", &path(&dir, "areas.kmz"), "--dry-run"]);
    // A Placemark relative to the ground is refused, naming it and its line.
    let r = blue.expect(2, &["notify", "air", &path(&dir, "ground.kml")]);
    assert!(
        r.stderr.contains("Placemark 2 (\"Hill\")")
            && r.stderr.contains("relative to the ground")
            && r.stderr.contains("altitudeMode absolute"),
        "{}",
        r.stderr
    );
    let line = r.stderr.split("ground.kml:").nth(1).unwrap_or("");
    assert!(
        line.starts_with(|c: char| c.is_ascii_digit()),
        "{}",
        r.stderr
    );
    // Given a band, the ground's Placemarks are accepted (the Valley's
    // altitudes, absolute, still give its own).
    blue.ok(&[
        "notify",
        "air",
        &path(&dir, "ground.kml"),
        "--dry-run",
        "--lower",
        "0 M AMSL",
        "--upper",
        "300 FT AMSL",
    ]);

    // GPX: a track with times and elevations; its width from the command line.
    let r = blue.expect(2, &["notify", "air", &path(&dir, "patrol.gpx")]);
    assert!(r.stderr.contains("--half-width"), "{}", r.stderr);
    let act = activity(
        &blue,
        &[
            "notify",
            "air",
            &path(&dir, "patrol.gpx"),
            "--half-width",
            "1000",
        ],
    );
    let shown = red.expect(2, &["ack", &act]).stdout;
    assert!(shown.contains("given 200 m AMSL to 350 m AMSL"), "{shown}");
    assert!(
        shown.contains(&at(OPS_DAY, 10)) && shown.contains(&at(OPS_DAY, 12)),
        "{shown}"
    );

    // Sites from a CSV file and a spreadsheet; windows from the day of operations.
    let ops = at(OPS_DAY, 0);
    let common = [
        "--start",
        ops.as_str(),
        "--lower",
        "0 M AMSL",
        "--upper",
        "300 FT AMSL",
        "--expires",
        "40d",
    ];
    let csv = path(&dir, "sites.csv");
    let mut args = vec!["sites", "import", csv.as_str()];
    args.extend(common);
    blue.ok(&args);
    let bad = path(&dir, "bad.csv");
    let mut args = vec!["sites", "import", bad.as_str()];
    args.extend(common);
    let r = blue.expect(2, &args);
    assert!(
        r.stderr
            .contains("bad.csv: row 3, column B (\"Latitude\"): \"35.5X\""),
        "{}",
        r.stderr
    );
    let nocols = write(&dir, "nocols.csv", "A,B\n1,2\n");
    let r = blue.expect(2, &["sites", "import", &nocols, "--expires", "2d"]);
    assert!(r.stderr.contains("--columns name="), "{}", r.stderr);
    let xlsx = path(&dir, "sites.xlsx");
    let mut args = vec![
        "sites",
        "import",
        xlsx.as_str(),
        "--columns",
        "name=Facility,position=MGRS",
        "--radius",
        "100",
    ];
    args.extend(common);
    blue.ok(&args);
    let sites = blue.json(&["sites"]);
    let names: Vec<&str> = sites["sites"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    for n in ["Clinic", "School", "Depot"] {
        assert!(names.contains(&n), "{names:?}");
    }

    // KML out, read by lxml: the stored volumes, at their upper limit.
    let kml = path(&dir, "export.kml");
    blue.ok(&["export", "kml", "--what", "activities", "-o", &kml]);
    let placemarks = read_kml(&kml);
    let stored = blue.json(&["activities", "show", &act]);
    let volumes = stored["current"]["content"]["volumes"]
        .as_array()
        .unwrap()
        .clone();
    let mine: Vec<&Value> = placemarks
        .iter()
        .filter(|p| p["data"]["id"].as_str() == Some(act.as_str()))
        .collect();
    assert_eq!(mine.len(), volumes.len(), "{placemarks:?}");
    for (p, v) in mine.iter().zip(&volumes) {
        assert_eq!(p["altitude_mode"], "absolute");
        assert_eq!(p["begin"], v["time_start"]["value"]);
        let upper = v["volume"]["altitude_upper"]["value"].as_f64().unwrap();
        let written: f64 = p["data"]["altitude_upper_m"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(written, upper);
        if let Some(vs) = v["volume"]["outline_polygon"]["vertices"].as_array() {
            let coords = p["coordinates"].as_array().unwrap();
            assert_eq!(coords.len(), vs.len() + 1, "closed ring");
            for (c, v) in coords.iter().zip(vs) {
                assert_eq!(c[0], v["lng"]);
                assert_eq!(c[1], v["lat"]);
            }
        }
    }
    // And what we write reads back in as the same volumes.
    let again = blue.json(&["notify", "air", &kml, "--dry-run"]);
    assert!(again["dry_run"] == true, "{again}");
}

#[test]
fn refusals_name_the_file_and_say_what_to_give() {
    let dir = temp_dir("files-refusals");
    let blue = Client::new(dir.join("nobody"));
    let kml = write(&dir, "broken.kml", "<kml><Placemark><name>x</name>");
    let r = blue.expect(2, &["notify", "air", &kml, "--contact", "x"]);
    assert!(
        r.stderr.contains("broken.kml") && r.stderr.contains("give a whole KML"),
        "{}",
        r.stderr
    );
}

/// What PyPI `aviconv-notam` reads in a NOTAM.
fn parse_notam(text: &str) -> Value {
    use std::io::Write;
    let mut child = std::process::Command::new(python())
        .arg(root().join("tests/reference/notam.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_notice_as_notam_text_read_by_an_independent_parser_and_as_a_navarea_warning() {
    let (_server, blue, _red) = Server::world("notam");
    let dir = temp_dir("notam-in");
    let feet = |v: f64| json!({"value": v, "units": "FT", "reference": "AMSL"});
    let notice = json!([{"type": "Feature",
        "geometry": {"type": "Polygon", "coordinates":
            [[[38.0, 35.0], [38.05, 35.0], [38.05, 35.05], [38.0, 35.05], [38.0, 35.0]]]},
        "properties": {"altitude_lower": feet(0.0), "altitude_upper": feet(5000.0),
            "time_start": at(OPS_DAY, 10), "time_end": at(OPS_DAY, 12)}}]);
    let file = write(&dir, "notice.geojson", &notice.to_string());
    let act = activity(&blue, &["notify", "air", &file]);
    let text = blue
        .ok(&["activities", "notam", &act, "--fir", "OSTT"])
        .stdout;
    let n = parse_notam(&text);
    assert_eq!(n["type"], "NEW", "{text}");
    assert_eq!(
        (n["fir"].clone(), n["q_fir"].clone()),
        (json!("OSTT"), json!("OSTT"))
    );
    assert_eq!(n["from"], at(OPS_DAY, 10), "{text}");
    assert_eq!(n["to"], at(OPS_DAY, 12), "{text}");
    assert_eq!(
        (n["lower"].clone(), n["upper"].clone()),
        (json!("SFC"), json!("5000FT AMSL"))
    );
    assert_eq!(
        (n["lower_fl"].as_u64(), n["upper_fl"].as_u64()),
        (Some(0), Some(50))
    );
    // The area, to the second, and the Q-line's circle around it (its
    // centre written to the minute).
    let stored = blue.json(&["activities", "show", &act]);
    let vertices = stored["current"]["content"]["volumes"][0]["volume"]["outline_polygon"]
        ["vertices"]
        .as_array()
        .unwrap()
        .clone();
    let polygon = n["polygon"].as_array().unwrap();
    assert_eq!(polygon.len(), vertices.len() + 1, "{text}");
    let centre = parley_engine::LatLng::new(
        n["centre"][0].as_f64().unwrap(),
        n["centre"][1].as_f64().unwrap(),
    );
    let radius_m = n["radius_nm"].as_f64().unwrap() * 1852.0;
    for (p, v) in polygon.iter().zip(&vertices) {
        let (lat, lng) = (v["lat"].as_f64().unwrap(), v["lng"].as_f64().unwrap());
        assert!(
            (p[0].as_f64().unwrap() - lat).abs() <= 0.5 / 3600.0 + 1e-9,
            "{p} {v}"
        );
        assert!(
            (p[1].as_f64().unwrap() - lng).abs() <= 0.5 / 3600.0 + 1e-9,
            "{p} {v}"
        );
        let d = parley_engine::distance_m(centre, parley_engine::LatLng::new(lat, lng));
        assert!(
            d <= radius_m + 1852.0,
            "{d} m from the Q-line's centre, radius {radius_m} m"
        );
    }
    // The API takes a Placemark inline, as KML, beside F3548 and GeoJSON.
    let placemark = format!(
        "<Placemark><name>inline</name><TimeSpan><begin>{}</begin><end>{}</end></TimeSpan>\
         <Point><altitudeMode>absolute</altitudeMode><coordinates>38.2,35.2,900</coordinates></Point>\
         <ExtendedData><Data name=\"radius_m\"><value>400</value></Data>\
         <Data name=\"altitude_lower\"><value>0 M AMSL</value></Data></ExtendedData></Placemark>",
        at(OPS_DAY, 10),
        at(OPS_DAY, 12)
    );
    let inline = write(
        &dir,
        "inline.json",
        &json!([{"kml": placemark}]).to_string(),
    );
    let other = activity(&blue, &["notify", "air", &inline]);
    let shown = blue.json(&["activities", "show", &other]);
    let volume = &shown["current"]["content"]["volumes"][0];
    assert_eq!(
        volume["volume"]["outline_circle"]["radius"]["value"], 400.0,
        "{volume}"
    );
    assert_eq!(
        volume["given"]["altitude_upper"]["value"], 900.0,
        "{volume}"
    );
    let bad = write(
        &dir,
        "bad.json",
        &json!([{"kml": "<Placemark><name>x</name></Placemark>"}]).to_string(),
    );
    let r = blue.expect(2, &["notify", "air", &bad]);
    assert!(
        r.stderr.contains("/0/kml") && r.stderr.contains("Placemark 1 (\"x\"): has no geometry"),
        "{}",
        r.stderr
    );
    // A later version replaces the one before.
    blue.ok(&["amend", &act, &file]);
    let n = parse_notam(&blue.ok(&["activities", "notam", &act]).stdout);
    assert_eq!(
        (n["type"].clone(), n["fir"].clone()),
        (json!("REPLACE"), json!("XXXX"))
    );
    let warning = blue
        .ok(&["activities", "navarea", &act, "--area", "III"])
        .stdout;
    assert!(warning.starts_with("NAVAREA III 0002/"), "{warning}");
    assert!(
        warning.contains("AREA 1: 35-00.00N 038-00.00E, 35-00.00N 038-03.00E"),
        "{warning}"
    );
    let r = blue.expect(2, &["activities", "notam", &act, "--fir", "ostt"]);
    assert!(
        r.stderr.contains("four-letter ICAO designator"),
        "{}",
        r.stderr
    );
}
