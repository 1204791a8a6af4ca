//! The `parley` client end to end: the real binary against a real `parley serve`
//! on loopback, as an operations centre would script it; `watch` in a
//! pseudo-terminal (util-linux `script`).

mod common;

use common::{at, temp_dir, write, Client, Server, BIN, OPS_DAY};
use serde_json::{json, Value};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An F3548 disc, 0-5,000 m, on the day of operations from `start_h` for `hours`.
fn disc(lat: f64, lng: f64, radius_m: f64, start_h: i64, hours: i64) -> Value {
    json!({"volume": {"outline_circle": {"center": {"lat": lat, "lng": lng}, "radius": {"value": radius_m, "units": "M"}},
        "altitude_lower": {"value": 0, "reference": "W84", "units": "M"}, "altitude_upper": {"value": 5000, "reference": "W84", "units": "M"}},
        "time_start": {"value": at(OPS_DAY, start_h), "format": "RFC3339"},
        "time_end": {"value": at(OPS_DAY, start_h + hours), "format": "RFC3339"}})
}

/// A GeoJSON square of ~0.02° around (lat, lng), 1,000-3,000 m, 10:00-12:00 on the day of operations.
fn square(lat: f64, lng: f64, props: Value) -> Value {
    let d = 0.01;
    let mut p = json!({"altitude_lower_m": 1000, "altitude_upper_m": 3000,
        "time_start": at(OPS_DAY, 10), "time_end": at(OPS_DAY, 12)});
    for (k, v) in props.as_object().unwrap() {
        p[k] = v.clone();
    }
    json!({"type": "Feature", "properties": p, "geometry": {"type": "Polygon", "coordinates": [[
        [lng - d, lat - d], [lng + d, lat - d], [lng + d, lat + d], [lng - d, lat + d], [lng - d, lat - d]]]}})
}

/// Notifies `volumes` on line air; returns the activity id.
fn notify(c: &Client, dir: &std::path::Path, name: &str, volumes: Value) -> String {
    let file = write(dir, name, &volumes.to_string());
    let v = c.json(&["notify", "air", &file]);
    v["activity"].as_str().unwrap().to_string()
}

#[test]
fn login_writes_a_private_profile_and_profile_switches() {
    let server = Server::start("login");
    let blue = server.party("blue");
    let red = server.party("red");
    let c = Client::new(server.config("ops"));
    let r = c.ok(&["login", "--server", &server.url, "--token", &blue]);
    assert!(
        r.stdout.contains("as op-") && r.stdout.contains("(blue, officer)"),
        "{}",
        r.stdout
    );
    c.ok(&[
        "login",
        "--server",
        &server.url,
        "--token",
        &red,
        "--profile",
        "red",
    ]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&c.config.join("profiles.json")), 0o600);
        assert_eq!(mode(&c.config), 0o700);
    }
    let profiles = c.profiles();
    assert_eq!(profiles["default"]["token"], blue.as_str());
    assert_eq!(profiles["red"]["token"], red.as_str());
    assert_eq!(c.json(&["whoami"])["party"], "blue");
    assert_eq!(c.json(&["whoami", "--profile", "red"])["party"], "red");
    // The environment overrides the profile.
    let out = c
        .command(&["whoami", "--json"])
        .env("PARLEY_TOKEN", &red)
        .output()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["party"],
        "red"
    );
    // A bad token is refused before anything is saved.
    let r = c.expect(
        2,
        &[
            "login",
            "--server",
            &server.url,
            "--token",
            "pt_nope",
            "--profile",
            "bad",
        ],
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("(server answered 401)"), "{}", r.stderr);
    assert!(c.profiles().get("bad").is_none());
    // No profile and no token: bad input, with the fix.
    let r = c.expect(2, &["lines", "--profile", "nobody"]);
    assert!(r.stderr.contains("parley login"), "{}", r.stderr);
}

#[test]
fn lines_messages_requests_and_replies() {
    let (_server, blue, red) = Server::world("lines");
    let r = blue.ok(&["lines"]);
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with("air "))
        .expect("the line air is listed");
    assert!(
        row.contains("active") && row.contains("blue,red"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.lines().next().unwrap().starts_with("LINE"),
        "{}",
        r.stdout
    );
    let r = blue.ok(&["lines", "show", "air"]);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("separation, horizontal") && l.ends_with("1000 m")),
        "{}",
        r.stdout
    );
    assert_eq!(
        blue.json(&["lines", "show", "air"])["rules"]["horizontal_m"],
        1000.0
    );

    let r = blue.ok(&["send", "air", "Blue on the line"]);
    assert!(r.stdout.contains("sent text 1 on air"), "{}", r.stdout);
    let v = blue.json(&[
        "request",
        "air",
        "Hold north of 36N",
        "--deadline",
        "30m",
        "--priority",
        "urgent",
    ]);
    assert_eq!(
        (v["seq"].as_u64(), v["message"].as_str()),
        (Some(2), Some("request"))
    );
    let v = red.json(&["reply", "air", "2", "Holding north of 36N"]);
    assert_eq!(
        (v["seq"].as_u64(), v["references"].as_u64()),
        (Some(3), Some(2))
    );
    let r = red.ok(&["messages", "air"]);
    assert!(
        r.stdout.contains("Blue on the line") && r.stdout.contains("(re 2) Holding north"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("[due in 30 min]"), "{}", r.stdout);
    let v = red.json(&["messages", "air", "--after", "1"]);
    let seqs: Vec<u64> = v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [2, 3]);
    // A bad deadline is bad input, caught before any request.
    let r = blue.expect(2, &["request", "air", "x", "--deadline", "soon"]);
    assert!(r.stderr.starts_with("parley: --deadline:"), "{}", r.stderr);
}

#[test]
fn notify_from_f3548_and_geojson_dry_run_and_real_then_conflicts() {
    let (server, blue, red) = Server::world("notify");
    let dir = &server.dir;
    // Blue notifies from F3548 JSON: nothing in the way.
    let file = write(
        dir,
        "blue.json",
        &json!([disc(36.0, 38.0, 2_000.0, 10, 2)]).to_string(),
    );
    let r = blue.ok(&["notify", "air", &file, "--category", "air"]);
    assert!(
        r.stdout.contains("notified act-") && r.stdout.contains("no conflict"),
        "{}",
        r.stdout
    );
    let blue_act = blue.json(&["activities"])["activities"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Red's GeoJSON route meets it: a dry run shows the conflict, exit 1, records nothing.
    let fc = json!({"type": "FeatureCollection", "features": [square(36.0, 38.0, json!({}))]});
    let geo = write(dir, "red.geojson", &fc.to_string());
    let r = red.expect(1, &["notify", "air", &geo, "--dry-run"]);
    assert!(
        r.stdout.contains("dry run") && r.stdout.contains(&format!("{blue_act} (blue, v1)")),
        "{}",
        r.stdout
    );
    assert_eq!(
        red.json(&["activities"])["activities"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = red.run(&["conflicts"]);
    assert_eq!(r.code, 0, "no conflict recorded by a dry run: {}", r.stdout);

    // For real: recorded, exit 1, the conflict listed for both sides.
    let v = red.json(&["notify", "air", &geo]);
    assert_eq!(v["dry_run"], false);
    let conflict = v["conflicts"][0]["id"].as_str().unwrap().to_string();
    let r = blue.expect(1, &["conflicts"]);
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with(&conflict))
        .expect("the conflict is listed");
    assert!(
        row.contains("open") && row.contains("1000.0-3000.0 m"),
        "{}",
        r.stdout
    );
    assert_eq!(blue.json(&["conflicts"])["conflicts"][0]["state"], "open");

    // Coordinated once both sides mark it; then nothing open (exit 0).
    let r = blue.ok(&[
        "conflicts",
        "coordinate",
        &conflict,
        "--note",
        "Agreed by phone",
    ]);
    assert!(
        r.stdout.contains(&format!(
            "{conflict}: your side's mark is recorded; it stays open until the other side"
        )),
        "{}",
        r.stdout
    );
    blue.expect(1, &["conflicts"]);
    let r = red.ok(&[
        "conflicts",
        "coordinate",
        &conflict,
        "--note",
        "Agreed by phone",
    ]);
    assert!(
        r.stdout.contains(&format!(
            "{conflict}: coordinated (both sides have marked it)"
        )),
        "{}",
        r.stdout
    );
    let r = blue.ok(&["conflicts"]);
    assert!(r.stdout.contains("no open conflict"), "{}", r.stdout);
    let r = blue.ok(&["conflicts", "--all"]);
    assert!(
        r.stdout.contains(&conflict) && r.stdout.contains("coordinated"),
        "{}",
        r.stdout
    );
}

#[test]
fn ack_shows_what_it_acknowledges_and_refuses_a_stale_version() {
    let (server, blue, red) = Server::world("ack");
    let dir = &server.dir;
    let act = notify(
        &blue,
        dir,
        "v1.json",
        json!([disc(10.0, 10.0, 500.0, 8, 1)]),
    );
    let sha1 = blue.json(&["activities", "show", &act])["content_sha256"]
        .as_str()
        .unwrap()
        .to_string();

    // Without --yes and without a terminal: refused, nothing posted.
    let r = red.expect(2, &["ack", &act]);
    assert!(
        r.stdout
            .contains(&format!("activity {act} version 1 from blue on air")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&sha1) && r.stdout.contains("1 volume"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("give --yes"), "{}", r.stderr);
    assert_eq!(
        red.json(&["activities"])["activities"][0]["received_by"],
        json!([])
    );

    let r = red.ok(&["ack", &act, "--yes"]);
    assert!(
        r.stdout.contains(&sha1) && r.stdout.contains("acknowledged"),
        "{}",
        r.stdout
    );
    assert_eq!(
        red.json(&["activities"])["activities"][0]["received_by"],
        json!(["red"])
    );

    // Blue amends (version 2); red's read-back of version 1 is now stale: one line, exit 2.
    let file = write(
        dir,
        "v2.json",
        &json!([disc(10.0, 10.0, 800.0, 8, 1)]).to_string(),
    );
    let r = blue.ok(&["amend", &act, &file]);
    assert!(
        r.stdout.contains(&format!("amended {act} version 2")),
        "{}",
        r.stdout
    );
    let r = red.expect(2, &["ack", &act, "--version", "1", "--yes"]);
    assert!(
        r.stdout.contains("(the current version is 2)"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("parley: ") && r.stderr.contains("(server answered 409)"),
        "{}",
        r.stderr
    );
    // An amendment of a stale version is refused the same way.
    blue.expect(2, &["amend", &act, &file, "--version", "1"]);
    red.ok(&["ack", &act, "--yes"]);

    // Cancel: the last version.
    let r = blue.ok(&["cancel", &act]);
    assert!(
        r.stdout.contains(&format!("cancelled {act}")),
        "{}",
        r.stdout
    );
    assert_eq!(
        blue.json(&["activities", "show", &act])["state"],
        "cancelled"
    );

    // A notice from a GeoJSON file (a square and a Point with radius_m): the
    // read-back names each volume's place, altitudes and window, as given.
    let (lat, lng) = (20.123_45, 30.543_21);
    let circle = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [31.25, 21.504_167]},
        "properties": {"radius_m": 2500, "altitude_lower_m": 200.5, "altitude_upper_m": 900,
            "time_start": at(OPS_DAY, 14), "time_end": at(OPS_DAY, 16)}});
    let fc =
        json!({"type": "FeatureCollection", "features": [square(lat, lng, json!({})), circle]});
    let geo = notify(&blue, dir, "two.geojson", fc);
    let r = red.ok(&["ack", &geo, "--yes"]);
    let dd = |v: f64, hemi: char| format!("{:.5}°{hemi}", v);
    let expected = [
        format!(
            "  volume 1 polygon of 4 vertices, centre {} {}",
            dd(lat, 'N'),
            dd(lng, 'E')
        ),
        format!(
            "           box {} to {}, {} to {}",
            dd(lat - 0.01, 'N'),
            dd(lat + 0.01, 'N'),
            dd(lng - 0.01, 'E'),
            dd(lng + 0.01, 'E')
        ),
        format!(
            "           1000-3000 m W84 (3281-9843 ft), {} to {}",
            at(OPS_DAY, 10),
            at(OPS_DAY, 12)
        ),
        // The MGRS reference as NGA's GEOTRANS (PyPI mgrs) gives it; UTM as
        // PROJ (pyproj) does, 318721.58 E 2378961.88 N, to the metre below.
        "  volume 2 circle, centre 21.50417°N 31.25000°E (21°30'15\"N 031°15'00\"E, MGRS 36QUJ1872178961, UTM 36N 318721 2378961)".to_string(),
        "           radius 2500 m".to_string(),
        format!(
            "           200.5-900 m W84 (658-2953 ft), {} to {}",
            at(OPS_DAY, 14),
            at(OPS_DAY, 16)
        ),
    ];
    for line in &expected {
        assert!(
            r.stdout.lines().any(|l| l.starts_with(line.as_str())),
            "{line:?} not in\n{}",
            r.stdout
        );
    }
    assert!(
        r.stdout.contains(&format!("acknowledged {geo} version 1")),
        "{}",
        r.stdout
    );
}

#[test]
fn sites_add_import_and_list() {
    let (server, blue, _red) = Server::world("sites");
    let dir = &server.dir;
    let one = write(
        dir,
        "hospital.geojson",
        &square(5.0, 5.0, json!({})).to_string(),
    );
    let r = blue.ok(&[
        "sites",
        "add",
        &one,
        "--name",
        "Hospital",
        "--expires",
        &at(120, 0),
        "--share-party",
        "red",
    ]);
    assert!(
        r.stdout.starts_with("registered site site-"),
        "{}",
        r.stdout
    );

    let features: Vec<Value> = (0..40)
        .map(|i| {
            square(
                6.0 + f64::from(i) * 0.1,
                6.0,
                json!({"name": format!("Camp {i}")}),
            )
        })
        .collect();
    let fc = write(
        dir,
        "camps.geojson",
        &json!({"type": "FeatureCollection", "features": features}).to_string(),
    );
    let import = [
        "sites",
        "import",
        fc.as_str(),
        "--expires",
        &at(120, 0),
        "--share-line",
        "air",
    ];
    let r = blue.ok(&import);
    assert_eq!(r.stdout.trim(), format!("imported 40 sites from {fc}"));
    assert_eq!(
        r.stderr, "",
        "no progress bar when stderr is not a terminal"
    );
    // Again: the idempotency keys make it create nothing twice.
    blue.ok(&import);
    let sites = blue.json(&["sites"]);
    let sites = sites["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 41);
    assert!(sites
        .iter()
        .any(|s| s["name"] == "Camp 39" && s["shared_with_lines"] == json!(["air"])));
    let r = blue.ok(&["sites"]);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.contains("Hospital") && l.contains("red")),
        "{}",
        r.stdout
    );

    // JSON lines, one site a line; a bad one is named by its line, after the good ones went in.
    let good =
        json!({"name": "Depot", "volumes": [disc(1.0, 1.0, 100.0, 1, 1)], "expires": at(120, 0)});
    let bad =
        json!({"name": "Bad", "volumes": [disc(1.0, 1.0, -5.0, 1, 1)], "expires": at(120, 0)});
    let jl = write(dir, "sites.jsonl", &format!("{good}\n{bad}\n"));
    let r = blue.expect(2, &["sites", "import", &jl]);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("{jl}:2: /volumes/0/volume/outline_circle/radius")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("1 site(s) imported before it"),
        "{}",
        r.stderr
    );
}

#[test]
fn export_geojson_and_json_lines() {
    let (server, blue, red) = Server::world("export");
    let dir = &server.dir;
    let act = notify(
        &blue,
        dir,
        "a.json",
        json!([disc(20.0, 20.0, 500.0, 1, 1), disc(20.0, 21.0, 500.0, 3, 1)]),
    );
    let site = write(dir, "s.geojson", &square(30.0, 30.0, json!({})).to_string());
    blue.ok(&[
        "sites",
        "add",
        &site,
        "--name",
        "Well",
        "--expires",
        &at(120, 0),
        "--share-party",
        "red",
    ]);

    let out = dir.join("red.geojson");
    red.ok(&["export", "geojson", "-o", out.to_str().unwrap()]);
    let fc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(fc["type"], "FeatureCollection");
    let features = fc["features"].as_array().unwrap();
    assert_eq!(
        features.len(),
        3,
        "two volumes of the activity and the site's one"
    );
    let f = features
        .iter()
        .find(|f| f["properties"]["id"] == act.as_str() && f["properties"]["volume"] == 1)
        .unwrap();
    assert_eq!(f["geometry"]["type"], "Point");
    assert_eq!(f["geometry"]["coordinates"], json!([21.0, 20.0]));
    assert_eq!(f["properties"]["radius_m"].as_f64(), Some(500.0));
    assert_eq!(f["properties"]["time_start"], at(OPS_DAY, 3));
    let s = features
        .iter()
        .find(|f| f["properties"]["kind"] == "site")
        .unwrap();
    assert_eq!(
        (
            s["properties"]["name"].as_str(),
            s["geometry"]["type"].as_str()
        ),
        (Some("Well"), Some("Polygon"))
    );

    let r = red.ok(&["export", "jsonl"]);
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], act.as_str());
    assert_eq!(lines[0]["versions"].as_array().unwrap().len(), 1);
    let r = red.ok(&["export", "jsonl", "--what", "sites"]);
    assert_eq!(r.stdout.lines().count(), 1);
}

#[test]
fn an_invalid_file_gives_one_line_naming_the_field() {
    let (server, blue, _red) = Server::world("invalid");
    let dir = &server.dir;
    let file = write(
        dir,
        "bad.json",
        &json!([
            disc(36.0, 38.0, 500.0, 1, 1),
            disc(135.8, 38.0, 500.0, 1, 1)
        ])
        .to_string(),
    );
    let r = blue.expect(2, &["notify", "air", &file]);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with(&format!(
            "parley: {file}:1: /1/volume/outline_circle/center/lat: "
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.trim_end().ends_with("(server answered 422)"),
        "{}",
        r.stderr
    );
    // In a FeatureCollection the pointer names the feature.
    let mut f = square(1.0, 1.0, json!({}));
    f["properties"]["time_end"] = json!(at(OPS_DAY, 9));
    let geo = write(
        dir,
        "bad.geojson",
        &json!({"type": "FeatureCollection", "features": [f]}).to_string(),
    );
    let r = blue.expect(2, &["notify", "air", &geo, "--dry-run"]);
    assert!(
        r.stderr.starts_with(&format!(
            "parley: {geo}:1: /features/0/properties/time_end: "
        )),
        "{}",
        r.stderr
    );
    // Not JSON: the line and column, before any request.
    let junk = write(dir, "junk.json", "[\n{\"volume\": ");
    let r = blue.expect(2, &["notify", "air", &junk]);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with(&format!("parley: {junk}:2:")),
        "{}",
        r.stderr
    );
    // An unknown line: the server's 404 as one line.
    let ok = write(
        dir,
        "ok.json",
        &json!([disc(1.0, 1.0, 100.0, 1, 1)]).to_string(),
    );
    let r = blue.expect(2, &["notify", "nowhere", &ok]);
    assert!(r.stderr.contains("(server answered 404)"), "{}", r.stderr);
}

#[test]
fn server_down_is_exit_3() {
    let server = Server::start("down");
    let token = server.party("blue");
    let c = Client::new(server.config("blue"));
    c.ok(&["login", "--server", &server.url, "--token", &token]);
    let url = server.url.clone();
    drop(server);
    for args in [&["lines"][..], &["conflicts"], &["watch", "--count", "1"]] {
        let r = c.expect(3, args);
        let last = r.stderr.lines().last().unwrap();
        assert!(
            last.starts_with(&format!("parley: cannot reach {url}:")),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn json_output_parses_on_every_listing() {
    let (_server, blue, _red) = Server::world("json");
    for (args, key) in [
        (&["lines"][..], "lines"),
        (&["activities"], "activities"),
        (&["conflicts"], "conflicts"),
        (&["sites"], "sites"),
        (&["messages", "air"], "messages"),
    ] {
        let v = blue.json(args);
        assert!(v[key].is_array(), "{args:?}: {v}");
    }
    assert_eq!(blue.json(&["whoami"])["role"], "officer");
}

#[test]
fn completions_and_help() {
    let c = Client::new(std::env::temp_dir());
    for shell in ["bash", "zsh", "fish"] {
        let r = c.ok(&["completions", shell]);
        assert!(
            r.stdout.contains("parley")
                && r.stdout.contains("notify")
                && r.stdout.contains("watch"),
            "{shell}"
        );
    }
    c.expect(2, &["completions", "tcsh"]);
    let r = c.ok(&["--help"]);
    for needle in [
        "Exit status:",
        "1  the condition asked about was found",
        "2  bad input",
        "3  server or network error",
    ] {
        assert!(r.stdout.contains(needle), "{needle}: {}", r.stdout);
    }
    let r = c.ok(&["ack", "--help"]);
    assert!(
        r.stdout.contains("stale version") && r.stdout.contains("--yes"),
        "{}",
        r.stdout
    );
    let r = c.ok(&["notify", "--help"]);
    assert!(
        r.stdout.contains("FeatureCollection") && r.stdout.contains("--dry-run"),
        "{}",
        r.stdout
    );
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `script` runs a command in a pseudo-terminal; its output is collected by a thread.
struct Pty {
    child: std::process::Child,
    out: Arc<Mutex<String>>,
}

impl Pty {
    fn spawn(c: &Client, args: &str) -> Pty {
        let mut child = Command::new("script")
            .args([
                "-q",
                "-f",
                "-e",
                "-c",
                &format!("{BIN} {args}"),
                "/dev/null",
            ])
            .env("PARLEY_CONFIG_DIR", &c.config)
            .env_remove("PARLEY_SERVER")
            .env_remove("PARLEY_TOKEN")
            .env_remove("NO_COLOR")
            .env("TERM", "xterm")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("util-linux `script` runs");
        let mut stdout = child.stdout.take().unwrap();
        let out = Arc::new(Mutex::new(String::new()));
        let o = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                o.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Pty { child, out }
    }

    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.out.lock().unwrap().clone();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the terminal:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn watch_in_a_terminal_shows_live_events_and_resumes_from_the_saved_cursor() {
    let (_server, blue, red) = Server::world("watch");
    let pty = Pty::spawn(&red, "watch");
    pty.wait_for("line_created");
    blue.ok(&["send", "air", "first live message"]);
    let text = pty.wait_for("first live message");
    assert!(text.contains("message_sent"), "{text}");
    assert!(text.contains("\x1b["), "colour on a terminal: {text:?}");
    // The cursor (the event's id) is saved after each batch of events.
    let line = text
        .lines()
        .find(|l| l.contains("first live message"))
        .unwrap();
    let plain = strip_ansi(line);
    let id: u64 = plain
        .split_whitespace()
        .nth(1)
        .and_then(|w| w.parse().ok())
        .expect(&plain);
    let deadline = Instant::now() + Duration::from_secs(10);
    while red.profiles()["default"]["cursor"].as_u64() != Some(id) {
        assert!(
            Instant::now() < deadline,
            "cursor {id} not saved: {}",
            red.profiles()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(pty);
    let saved = red.profiles()["default"]["cursor"].as_u64().unwrap();

    blue.ok(&["send", "air", "second message while away"]);
    let pty = Pty::spawn(&red, "watch --count 1");
    let text = pty.wait_for("second message while away");
    assert!(
        !text.contains("first live message"),
        "repeated an event seen before: {text}"
    );
    assert!(
        !text.contains("line_created"),
        "started from the beginning: {text}"
    );
    assert!(text.contains(&format!("after event {saved}")), "{text}");
    let mut pty = pty;
    let status = pty.child.wait().unwrap();
    assert!(status.success(), "watch --count 1 exits 0");
    assert!(red.profiles()["default"]["cursor"].as_u64().unwrap() > saved);

    // Piped, there is no colour.
    let r = red.ok(&["watch", "--after", "0", "--count", "2"]);
    assert_eq!(r.stdout.lines().count(), 2, "{}", r.stdout);
    assert!(!r.stdout.contains('\x1b'), "{}", r.stdout);
}

/// A party takes a receipt home and proves, offline, what it was told; a changed
/// leaf, a forged checkpoint and a split view are caught.
#[test]
fn receipts_and_checkpoints_verify_offline_and_tampering_is_caught() {
    let (server, blue, red) = Server::world("record");
    let dir = temp_dir("record-files");
    let key = red.ok(&["record", "key"]).stdout.trim().to_string();
    assert!(key.starts_with("parley.local/record+"), "{key}");
    let c1 = dir.join("c1.json").to_str().unwrap().to_string();
    red.ok(&["record", "checkpoint", "-o", &c1]);

    blue.ok(&["send", "air", "corridor closed from 14:00"]);
    let messages = red.json(&["messages", "air"]);
    let sent = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text"] == "corridor closed from 14:00")
        .unwrap_or_else(|| panic!("{messages}"))
        .clone();
    let seq = sent["journal_seq"].as_u64().unwrap().to_string();
    let receipt = dir.join("receipt.json").to_str().unwrap().to_string();
    red.ok(&["record", "receipt", &seq, "-o", &receipt]);
    let ok = red.ok(&["verify", "receipt", &receipt, "--key", &key]);
    assert!(
        ok.stdout.contains("verified: entry") && ok.stdout.contains("message_sent"),
        "{}",
        ok.stdout
    );
    // Its times in 24-hour UTC ("02 Dec 2026 13:30:15Z"), never µs since the epoch.
    let utc = |s: &str| {
        s.split(" at ").skip(1).all(|rest| {
            let w: Vec<&str> = rest.split(' ').take(4).collect();
            w.len() == 4
                && w[0].len() == 2
                && w[1].len() == 3
                && w[2].len() == 4
                && w[3].contains('Z')
        })
    };
    assert!(
        !ok.stdout.contains("at time") && ok.stdout.matches(" at ").count() == 2 && utc(&ok.stdout),
        "{}",
        ok.stdout
    );

    // One changed character in what was said: no longer in the signed record.
    let text = std::fs::read_to_string(&receipt).unwrap();
    let changed = write(&dir, "changed.json", &text.replace("14:00", "16:00"));
    let r = red.expect(1, &["verify", "receipt", &changed, "--key", &key]);
    assert!(
        r.stderr
            .contains(&format!("entry {seq} is not in the signed record")),
        "{}",
        r.stderr
    );
    // Another key: the signature is refused.
    let other = parley_record::Signer::from_seed("parley.local/record", &[7; 32]).unwrap();
    let r = red.expect(
        1,
        &[
            "verify",
            "receipt",
            &receipt,
            "--key",
            &other.verifier_key().to_string(),
        ],
    );
    assert!(r.stderr.contains("checkpoint"), "{}", r.stderr);

    // A notice's receipt carries its content, checked against the recorded hash.
    let activity = notify(
        &blue,
        &dir,
        "n.json",
        json!([disc(10.0, 10.0, 500.0, 1, 1)]),
    );
    let shown = red.json(&["activities", "show", &activity]);
    let seq = shown["versions"][0]["journal_seq"].to_string();
    let receipt = dir.join("notice.json").to_str().unwrap().to_string();
    red.ok(&["record", "receipt", &seq, "-o", &receipt]);
    let ok = red.ok(&["verify", "receipt", &receipt, "--key", &key]);
    assert!(
        ok.stdout.contains("with the notice's content as recorded"),
        "{}",
        ok.stdout
    );
    let text = std::fs::read_to_string(&receipt).unwrap();
    let moved = write(
        &dir,
        "moved.json",
        &text.replace("\\\"lat\\\":10.0", "\\\"lat\\\":10.5"),
    );
    assert_ne!(
        text,
        std::fs::read_to_string(&moved).unwrap(),
        "the test changes the content"
    );
    let r = red.expect(1, &["verify", "receipt", &moved, "--key", &key]);
    assert!(r.stderr.contains("not the one recorded"), "{}", r.stderr);

    // Two checkpoints and the proof between them.
    blue.ok(&["send", "air", "corridor open again"]);
    let c2 = dir.join("c2.json").to_str().unwrap().to_string();
    red.ok(&["record", "checkpoint", "-o", &c2]);
    let size = |f: &str| -> String {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        v["size"].to_string()
    };
    let proof = dir.join("proof.json").to_str().unwrap().to_string();
    red.ok(&[
        "record",
        "consistency",
        "--from",
        &size(&c1),
        "--to",
        &size(&c2),
        "-o",
        &proof,
    ]);
    let ok = red.ok(&[
        "verify",
        "checkpoints",
        &c1,
        &c2,
        "--proof",
        &proof,
        "--key",
        &key,
    ]);
    assert!(ok.stdout.contains("extends"), "{}", ok.stdout);
    // A proof for other sizes does not prove these two.
    let wrong = dir.join("wrong.json").to_str().unwrap().to_string();
    red.ok(&[
        "record",
        "consistency",
        "--from",
        "1",
        "--to",
        &size(&c2),
        "-o",
        &wrong,
    ]);
    red.expect(
        1,
        &[
            "verify",
            "checkpoints",
            &c1,
            &c2,
            "--proof",
            &wrong,
            "--key",
            &key,
        ],
    );

    // Red's copy of the whole record: what it may see in full, the rest as hashes.
    let export = dir.join("record.jsonl").to_str().unwrap().to_string();
    red.ok(&["record", "export", "-o", &export]);
    let ok = red.ok(&["verify", "export", &export, "--key", &key]);
    assert!(
        ok.stdout.contains("1 notices with their content"),
        "{}",
        ok.stdout
    );
    let text = std::fs::read_to_string(&export).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.iter().any(|l| l.contains("leaf_hash")),
        "others' entries as hashes"
    );
    assert!(
        !text.contains("token_sha256"),
        "no token hashes in a record"
    );
    let tampered = |name: &str, lines: Vec<String>| {
        let f = write(&dir, name, &(lines.join("\n") + "\n"));
        red.expect(1, &["verify", "export", &f, "--key", &key])
            .stderr
    };
    let owned = || lines.iter().map(|l| l.to_string()).collect::<Vec<String>>();
    let changed = owned()
        .into_iter()
        .map(|l| l.replace("corridor open again", "corridor open today"))
        .collect();
    assert!(tampered("t-changed.jsonl", changed).contains("do not rebuild the signed root"));
    let mut removed = owned();
    removed.remove(5);
    assert!(tampered("t-removed.jsonl", removed).contains("entry 5: the line says it is entry 6"));
    let mut swapped = owned();
    swapped.swap(3, 4);
    assert!(tampered("t-swapped.jsonl", swapped).contains("entry 3: the line says it is entry 4"));
    let mut inserted = owned();
    let copy = inserted[2].clone();
    inserted.insert(3, copy);
    assert!(tampered("t-inserted.jsonl", inserted).contains("entry 3: the line says it is entry 2"));
    let content = owned()
        .into_iter()
        .map(|l| l.replace("\\\"lat\\\":10.0", "\\\"lat\\\":10.5"))
        .collect();
    assert!(tampered("t-content.jsonl", content).contains("not the one recorded"));

    // A split view: the host signs a second history of the same size.
    let seed = std::fs::read_to_string(server.dir.join("parley.db.record-key")).unwrap();
    let signer = parley_record::Signer::from_seed(
        "parley.local/record",
        &parley_record::Hash::from_hex(seed.trim()).unwrap().0,
    )
    .unwrap();
    let forked = parley_record::Checkpoint {
        origin: parley_record::Origin::new("parley.local/record").unwrap(),
        size: size(&c2).parse().unwrap(),
        root: parley_record::leaf_hash(b"another history"),
        time_us: 1,
    };
    let fork = write(
        &dir,
        "fork.json",
        &json!({"checkpoint": forked.sign(&signer)}).to_string(),
    );
    let r = red.expect(1, &["verify", "checkpoints", &c2, &fork, "--key", &key]);
    assert!(r.stderr.contains("split view"), "{}", r.stderr);

    // An audit: the record today extends both saved checkpoints (a proof from
    // each, fetched and checked), and the latest is saved for the next one.
    let c3 = dir.join("c3.json").to_str().unwrap().to_string();
    let ok = red.ok(&["record", "audit", &c1, &c2, "--key", &key, "-o", &c3]);
    assert_eq!(ok.stdout.matches("verified").count(), 2, "{}", ok.stdout);
    assert!(ok.stdout.contains("extends"), "{}", ok.stdout);
    let audit = red.json(&["record", "audit", &c1, &c3, "--key", &key]);
    assert_eq!(audit["verified"], true, "{audit}");
    // The fork does not extend into today's record; a checkpoint larger than
    // today's record means the server rolled back. Each is named.
    let ahead = parley_record::Checkpoint {
        size: 1_000_000,
        ..forked.clone()
    };
    let ahead = write(
        &dir,
        "ahead.json",
        &json!({"checkpoint": ahead.sign(&signer)}).to_string(),
    );
    blue.ok(&["send", "air", "the record grows past the fork"]);
    let r = red.expect(1, &["record", "audit", &c1, &fork, &ahead, "--key", &key]);
    assert!(
        r.stdout.contains("verified") && r.stdout.contains("c1.json"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("fork.json: does not verify") && r.stderr.contains("does not extend"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("ahead.json: does not verify: rollback"),
        "{}",
        r.stderr
    );
    // A checkpoint signed by another key: not the server's.
    let other_cp = write(
        &dir,
        "other.json",
        &json!({"checkpoint": forked.sign(&other)}).to_string(),
    );
    let r = red.expect(1, &["record", "audit", &other_cp, "--key", &key]);
    assert!(r.stderr.contains("other.json"), "{}", r.stderr);
}

/// A party's key makes its notices and acknowledgments its own word: signed
/// by the client, checked by the server, kept in the record and checked again
/// offline; a line may refuse unsigned ones.
#[test]
fn signed_notices_and_acknowledgments_are_the_partys_word() {
    let (server, blue, red) = Server::world("signed");
    let dir = temp_dir("signed-files");
    let key = blue
        .ok(&["keys", "generate", "--label", "desk"])
        .stdout
        .trim()
        .to_string();
    assert!(key.starts_with("blue/desk+"), "{key}");
    // An officer cannot register a key; the party's admin can, the host cannot.
    blue.expect(2, &["keys", "register"]);
    let admin = Client::new(server.config("blue-admin"));
    let token = server.admin(&["operator-create", "blue", "blue admin", "--role", "admin"]);
    admin.ok(&["login", "--server", &server.url, "--token", token.trim()]);
    let r = admin.expect(
        2,
        &["keys", "register", &key.replace("blue/desk", "red/desk")],
    );
    assert!(r.stderr.contains("/key"), "{}", r.stderr);
    admin.ok(&["keys", "register", &key]);
    assert_eq!(red.ok(&["keys", "list", "blue"]).stdout.trim(), key);

    // Blue's notice goes out signed; Red's acknowledgment does not (no key).
    let activity = notify(
        &blue,
        &dir,
        "n.json",
        json!([disc(20.0, 20.0, 500.0, 1, 1)]),
    );
    let shown = red.json(&["activities", "show", &activity]);
    assert_eq!(
        shown["versions"][0]["signed"]["key"],
        key.as_str(),
        "{shown}"
    );
    red.ok(&["ack", &activity, "--yes"]);

    let server_key = red.ok(&["record", "key"]).stdout.trim().to_string();
    let export = dir.join("record.jsonl").to_str().unwrap().to_string();
    red.ok(&["record", "export", "-o", &export]);
    let ok = red.ok(&["verify", "export", &export, "--key", &server_key]);
    assert!(
        ok.stdout.contains(
            "1 signed by their parties (each statement bound to its entry), 0 signed under parley-request/v1 (weaker: not bound to the entry), 0 signed with keys outside the party's chain (shown as unsigned), 1 unsigned; key chains: blue 1 key(s)"
        ),
        "{}",
        ok.stdout
    );
    // The host rewrites Blue's signed statement: caught offline.
    let text = std::fs::read_to_string(&export).unwrap();
    let forged = text.replace("\\\\nline air\\\\n", "\\\\nline sea\\\\n");
    assert_ne!(forged, text, "the test changes the statement");
    let f = write(&dir, "forged.jsonl", &forged);
    let r = red.expect(1, &["verify", "export", &f, "--key", &server_key]);
    assert!(
        r.stderr.contains("blue's signature does not verify"),
        "{}",
        r.stderr
    );

    // A line that requires signatures refuses Red's unsigned notice.
    server.admin(&[
        "line-create",
        "strict",
        "Strict",
        "--party",
        "blue",
        "--party",
        "red",
        "--signatures-required",
    ]);
    let file = write(
        &dir,
        "r.json",
        &json!([disc(30.0, 30.0, 500.0, 1, 1)]).to_string(),
    );
    let r = red.expect(2, &["notify", "strict", &file]);
    assert!(r.stderr.contains("only signed"), "{}", r.stderr);
    let file = write(
        &dir,
        "b.json",
        &json!([disc(31.0, 31.0, 500.0, 1, 1)]).to_string(),
    );
    blue.ok(&["notify", "strict", &file]);
}

/// While an operator watches, the client answers its party's line checks, and
/// the line's evidence shows the answer.
#[test]
fn watch_answers_line_checks_while_it_runs() {
    let (server, _blue, red) = Server::world("watch-checks");
    server.admin(&[
        "line-create",
        "quick",
        "Quick line",
        "--party",
        "blue",
        "--party",
        "red",
        "--line-check-interval-s",
        "10",
    ]);
    let pty = Pty::spawn(&red, "watch --from-start");
    // The first round goes out ten seconds after the line was opened.
    let text = pty.wait_for("answered line check");
    assert!(text.contains("line_check_sent"), "{text}");
    let line = red.json(&["lines", "show", "quick"]);
    let reds: Vec<_> = line["operation"]["parties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["party"] == "red")
        .collect();
    assert!(reds[0]["answered_at"].is_string(), "{line}");
    assert!(reds[0]["round_trip_ms"].as_i64().unwrap() >= 0, "{line}");
}

#[test]
fn sites_import_shows_a_progress_bar_on_a_terminal() {
    let (server, blue, _red) = Server::world("progress");
    let features: Vec<Value> = (0..30)
        .map(|i| {
            square(
                -6.0 - f64::from(i) * 0.1,
                6.0,
                json!({"name": format!("Post {i}")}),
            )
        })
        .collect();
    let fc = write(
        &server.dir,
        "posts.geojson",
        &json!({"type": "FeatureCollection", "features": features}).to_string(),
    );
    let mut pty = Pty::spawn(
        &blue,
        &format!("sites import {fc} --expires {}", at(120, 0)),
    );
    pty.wait_for("/30 sites");
    let text = pty.wait_for("imported 30 sites");
    assert!(pty.child.wait().unwrap().success(), "{text}");
    assert_eq!(blue.json(&["sites"])["sites"].as_array().unwrap().len(), 30);
}

#[test]
fn ack_asks_for_confirmation_on_a_terminal() {
    let (server, blue, red) = Server::world("ack-tty");
    let act = notify(
        &blue,
        &server.dir,
        "a.json",
        json!([disc(12.0, 12.0, 500.0, 8, 1)]),
    );
    for (answer, code, received) in [("n", 2, json!([])), ("y", 0, json!(["red"]))] {
        let mut pty = Pty::spawn(&red, &format!("ack {act}"));
        pty.wait_for("[y/N]");
        let stdin = pty.child.stdin.as_mut().unwrap();
        std::io::Write::write_all(stdin, format!("{answer}\n").as_bytes()).unwrap();
        let status = pty.child.wait().unwrap();
        let text = pty.out.lock().unwrap().clone();
        assert_eq!(status.code(), Some(code), "{text}");
        assert!(
            text.contains(&format!("activity {act} version 1 from blue")),
            "{text}"
        );
        assert_eq!(
            red.json(&["activities"])["activities"][0]["received_by"],
            received
        );
    }
}
