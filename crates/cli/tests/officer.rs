//! The watch officer's CLI (issue 22), end to end with the real binary against
//! a real `parley serve`: read-backs before a party's word is given, a second
//! acknowledgment that changes nothing, human views of lines, conflicts and
//! verification, clear refusals (no scheme, a body too large, too many
//! volumes, with their place in the file), dry runs that say "would be",
//! `watch --until-caught-up`, the admins' lists, and the access log.

mod common;

use common::http::disc;
use common::{day, write, Client, Server, BIN};
use serde_json::{json, Value};
use std::io::BufRead;
use std::process::{Command, Stdio};

fn activity_of(v: &Value) -> String {
    v["activity"].as_str().expect("an activity id").to_string()
}

#[test]
fn read_backs_and_a_second_acknowledgment_that_changes_nothing() {
    let (server, blue, red) = Server::world("officer-readback");
    let dir = &server.dir;
    let file = write(
        dir,
        "a.json",
        &json!([disc(12.0, 12.0, 500.0, 8, 1)]).to_string(),
    );
    let act = activity_of(&blue.json(&["notify", "air", &file]));

    // The first acknowledgment is recorded; the second says it changes nothing.
    let r = red.ok(&["ack", &act, "--yes"]);
    assert!(
        r.stdout.contains(&format!("acknowledged {act} version 1")),
        "{}",
        r.stdout
    );
    let r = red.ok(&["ack", &act, "--yes"]);
    assert!(
        r.stdout.contains(&format!(
            "{act} version 1 was already acknowledged by your party; nothing new was recorded"
        )),
        "{}",
        r.stdout
    );
    let shown = red.json(&["activities", "show", &act]);
    assert_eq!(
        shown["acknowledgments"].as_array().unwrap().len(),
        1,
        "one acknowledgment row, not two: {shown}"
    );
    assert_eq!(
        red.json(&["ack", &act, "--yes"])["already_acknowledged"],
        true
    );

    // Confirming a talk reads the record back first and, without a terminal,
    // asks for --yes; nothing is confirmed until then.
    let record = json!({"parties": ["blue", "red"], "date": day(-3), "level": "working level",
        "agenda": [{"item": "hotline tests", "outcome": "agreed"}], "line": "air"});
    let talk = blue.json(&[
        "talks",
        "record",
        &write(dir, "talk.json", &record.to_string()),
    ])["talk"]
        .as_str()
        .unwrap()
        .to_string();
    let r = red.expect(2, &["talks", "confirm", &talk]);
    assert!(
        r.stdout
            .contains(&format!("confirming {talk} version 1, recorded by blue"))
            && r.stdout.contains("hotline tests")
            && r.stdout.contains("working level"),
        "the record is read back: {}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("not confirmed: standard input is not a terminal; give --yes to confirm"),
        "{}",
        r.stderr
    );
    assert_eq!(
        red.json(&["talks", "show", &talk])["state"],
        "awaiting_confirmation"
    );
    let r = red.ok(&["talks", "confirm", &talk, "--yes"]);
    assert!(r.stdout.contains("the talk is confirmed"), "{}", r.stdout);
    assert_eq!(red.json(&["talks", "show", &talk])["state"], "confirmed");
}

#[test]
fn human_views_of_lines_conflicts_and_dry_runs() {
    let (server, blue, red) = Server::world("officer-views");
    let dir = &server.dir;
    let file = write(
        dir,
        "b.json",
        &json!([disc(36.0, 38.0, 2_000.0, 10, 2)]).to_string(),
    );
    let blue_act = activity_of(&blue.json(&["notify", "air", &file]));

    // The line: rules in minutes and hours, no raw JSON, deadlines in 24-hour UTC.
    let r = red.ok(&["lines", "show", "air"]);
    for expected in [
        "acknowledge within        15 min",
        "notice lead time          1 h",
        "separation, horizontal    1000 m",
        "operation                 unchecked",
        &format!("acknowledge {blue_act} v1"),
    ] {
        assert!(
            r.stdout.contains(expected),
            "{expected:?} in:\n{}",
            r.stdout
        );
    }
    assert!(
        !r.stdout.contains('{') && !r.stdout.contains("_s "),
        "{}",
        r.stdout
    );
    // "in 15 min (02 Dec 2026 13:30:15Z)": day, month, year, 24-hour time, Z.
    let owed = r
        .stdout
        .lines()
        .find(|l| l.contains(&format!("acknowledge {blue_act} v1")))
        .unwrap();
    let due = owed
        .split('(')
        .nth(1)
        .and_then(|d| d.split(')').next())
        .unwrap();
    let parts: Vec<&str> = due.split(' ').collect();
    assert!(
        parts.len() == 4
            && parts[0].len() == 2
            && parts[1].len() == 3
            && parts[2].len() == 4
            && parts[3].ends_with('Z')
            && parts[3].as_bytes()[2] == b':',
        "the due time reads in 24-hour UTC: {owed}"
    );

    // A dry run says "would be" and shows no id as though it were real.
    let red_file = write(
        dir,
        "r.json",
        &json!([disc(36.0, 38.0, 1_000.0, 11, 1)]).to_string(),
    );
    let r = red.expect(1, &["notify", "air", &red_file, "--dry-run"]);
    assert!(
        r.stdout.contains("dry run: the notice would be notified as a new activity; nothing was recorded, no id was given"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("c-") && r.stdout.contains("(would be)"),
        "{}",
        r.stdout
    );
    let dry = red.json(&["notify", "air", &red_file, "--dry-run"]);
    assert!(
        !r.stdout.contains(dry["activity"].as_str().unwrap()),
        "the dry run's provisional id is not shown: {}",
        r.stdout
    );
    let r = blue.ok(&["amend", &blue_act, &file, "--dry-run"]);
    assert!(
        r.stdout.contains(&format!(
            "dry run: {blue_act} would be amended to version 2"
        )) && r.stdout.contains("no conflict would be found"),
        "{}",
        r.stdout
    );

    // For real: the conflicts list says where the two meet.
    red.expect(1, &["notify", "air", &red_file]);
    let r = blue.expect(1, &["conflicts"]);
    assert!(
        r.stdout.lines().next().unwrap().ends_with("WHERE"),
        "{}",
        r.stdout
    );
    let row = r.stdout.lines().nth(1).unwrap();
    assert!(
        row.contains("36.0000N 38.0000E, 2 x 2 km"),
        "the meeting area's centre and size: {row}"
    );
    let conflict = row.split_whitespace().next().unwrap();
    let r = blue.expect(1, &["conflicts", "show", conflict]);
    assert!(
        r.stdout
            .contains("meeting 1: at 36.0000N 38.0000E, 2 x 2 km"),
        "{}",
        r.stdout
    );
}

#[test]
fn refusals_name_what_to_fix_and_where() {
    let (server, blue, _red) = Server::world("officer-refusals");
    let dir = &server.dir;

    // A server without a scheme.
    let r = blue.expect(2, &["lines", "--server", "127.0.0.1:18080"]);
    assert_eq!(
        r.stderr.trim(),
        "parley: --server \"127.0.0.1:18080\" has no scheme; give http://HOST:PORT (or https://HOST:PORT)"
    );

    // Too many volumes: the array in the file, where it starts, how many.
    let many: Vec<Value> = (0..101).map(|_| disc(1.0, 1.0, 100.0, 1, 1)).collect();
    let text = format!(
        "{{\"type\": \"FeatureCollection\",\n \"features\": [\n{}\n]}}",
        many.iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",\n")
    );
    let file = write(dir, "many.geojson", &text);
    let r = blue.expect(2, &["notify", "air", &file]);
    assert!(
        r.stderr
            .starts_with(&format!("parley: {file}:3: /features (101 volumes): ")),
        "{}",
        r.stderr
    );
    // One bad volume among many: its line in the file.
    let mut some: Vec<Value> = (0..4).map(|_| disc(1.0, 1.0, 100.0, 1, 1)).collect();
    some[2] = disc(95.0, 1.0, 100.0, 1, 1);
    let text = format!(
        "[\n{}\n]",
        some.iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",\n")
    );
    let file = write(dir, "one-bad.json", &text);
    let r = blue.expect(2, &["notify", "air", &file]);
    assert!(
        r.stderr.starts_with(&format!(
            "parley: {file}:4: /2/volume/outline_circle/center/lat: "
        )),
        "{}",
        r.stderr
    );

    // A body the server refuses as too large: its answer, not a broken pipe.
    let filler = "x".repeat(2 << 20);
    let big = json!([{"volume": disc(1.0, 1.0, 100.0, 1, 1)["volume"], "filler": filler,
        "time_start": disc(1.0, 1.0, 100.0, 1, 1)["time_start"], "time_end": disc(1.0, 1.0, 100.0, 1, 1)["time_end"]}]);
    let file = write(dir, "big.json", &big.to_string());
    let r = blue.expect(2, &["notify", "air", &file]);
    assert!(
        r.stderr.contains("(server answered 413)") && !r.stderr.contains("Broken pipe"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn watch_until_caught_up_and_the_admins_lists() {
    let (server, blue, red) = Server::world("officer-watch");
    let file = write(
        &server.dir,
        "a.json",
        &json!([disc(12.0, 12.0, 500.0, 8, 1)]).to_string(),
    );
    let act = activity_of(&blue.json(&["notify", "air", &file]));
    blue.ok(&["send", "air", "Blue on the line"]);

    // A deadline typed as a DTG, two hours from the clock the test runs with.
    let by = common::from_now(2 * 3600);
    let months = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let month: usize = by[5..7].parse().unwrap();
    let dtg = format!(
        "{}{}{}Z{}{}",
        &by[8..10],
        &by[11..13],
        &by[14..16],
        months[month - 1],
        &by[2..4]
    );
    let sent = blue.json(&["request", "air", "Hold north of 36N", "--deadline", &dtg]);
    assert_eq!(
        sent["deadline"].as_str().unwrap(),
        format!("{}:00Z", &by[..16]),
        "{dtg} read as 24-hour UTC"
    );

    // What was logged so far, then exit 0; again: nothing new, still exit 0.
    let r = red.ok(&["watch", "--from-start", "--until-caught-up"]);
    assert!(
        r.stdout.contains(&act) && r.stdout.contains("Blue on the line"),
        "{}",
        r.stdout
    );
    let r = red.ok(&["watch", "--until-caught-up"]);
    assert!(
        !r.stdout.contains("Blue on the line"),
        "the saved cursor: nothing shown twice: {}",
        r.stdout
    );
    red.ok(&["send", "air", "Red on the line"]);
    let r = red.ok(&["watch", "--until-caught-up", "--json"]);
    let kinds: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["kind"].clone())
        .collect();
    assert_eq!(kinds, vec![json!("message_sent")], "{}", r.stdout);

    // The admins' lists.
    let parties = server.admin(&["parties"]);
    assert!(
        parties.starts_with("PARTY") && parties.contains("blue") && parties.contains("RED"),
        "{parties}"
    );
    let lines = server.admin(&["lines"]);
    assert!(
        lines
            .lines()
            .any(|l| l.starts_with("air ") && l.contains("blue,red")),
        "{lines}"
    );
    let operators = server.admin(&["operators"]);
    for who in ["blue officer", "red officer", "host admin"] {
        assert!(operators.contains(who), "{who} in {operators}");
    }
    let op = red.json(&["whoami"])["operator"]
        .as_str()
        .unwrap()
        .to_string();
    server.admin(&["operator-revoke", &op]);
    let operators = server.admin(&["operators", "red"]);
    let row = operators
        .lines()
        .find(|l| l.starts_with(&op))
        .expect("red's officer");
    assert!(row.contains("revoked"), "{operators}");
    let json: Value = serde_json::from_str(&server.admin(&["operators", "--json"])).unwrap();
    assert_eq!(json["operators"].as_array().unwrap().len(), 3, "{json}");
}

#[test]
fn the_access_log_has_one_line_per_request_and_can_be_turned_off() {
    let dir = common::temp_dir("officer-access-log");
    for (flags, logged) in [(&[][..], true), (&["--no-access-log"][..], false)] {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(flags)
            .arg("--db")
            .arg(dir.join(format!("{logged}.db")))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut host = String::new();
        let url = loop {
            let line = out.next().expect("the server prints its URL").unwrap();
            if let Some(t) = line.strip_prefix("host admin token (shown once; keep it safe): ") {
                host = t.to_string();
            }
            if let Some(u) = line.strip_prefix("parley listening on ") {
                break u.to_string();
            }
        };
        let before = now_us();
        let client = Client::new(dir.join(format!("config-{logged}")));
        let me = client
            .command(&["whoami", "--json", "--server", &url, "--token", &host])
            .output()
            .unwrap();
        let me: Value = serde_json::from_slice(&me.stdout).unwrap();
        let bad = client
            .command(&["whoami", "--server", &url, "--token", "pt_not_a_token"])
            .output()
            .unwrap();
        assert_eq!(bad.status.code(), Some(2));
        let after = now_us();
        let _ = child.kill();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        let _ = child.wait();
        let lines: Vec<Value> = err
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
            .collect();
        if !logged {
            assert!(lines.is_empty(), "--no-access-log: {err}");
            continue;
        }
        assert_eq!(lines.len(), 2, "one line per request: {err}");
        let (ok, refused) = (&lines[0], &lines[1]);
        assert_eq!(
            (&ok["method"], &ok["route"], &ok["status"], &ok["operator"]),
            (
                &json!("GET"),
                &json!("/v1/me"),
                &json!(200),
                &me["operator"]
            ),
            "{ok}"
        );
        assert_eq!(
            (&refused["route"], &refused["status"], &refused["operator"]),
            (&json!("/v1/me"), &json!(401), &Value::Null),
            "{refused}"
        );
        for l in &lines {
            let time = parley_wire::parse_timestamp(l["time"].as_str().unwrap())
                .unwrap()
                .0;
            assert!(before <= time && time <= after, "{l} within the test");
            assert!(l["duration_ms"].as_f64().is_some_and(|d| d >= 0.0), "{l}");
            assert!(
                !l.to_string().contains(&host) && !l.to_string().contains("pt_"),
                "no token: {l}"
            );
        }
    }
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}
