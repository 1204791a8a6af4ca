//! `parley check` driven as a user drives it: the real binary, real files, stdin,
//! exit statuses and messages.

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn parley(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("parley runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn pairs(out: &Output) -> Vec<(String, String)> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("one JSON object a line");
            (
                v["a"].as_str().unwrap().to_string(),
                v["b"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn examples_conflict_as_documented() {
    let out = parley(&["check", "examples/syria-air.jsonl"], None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        pairs(&out),
        owned(&[("blue-strike-raqqa", "red-patrol-euphrates")])
    );

    // Minima add the Idlib pair (altitude bands touch at 6,000 m) and the convoy
    // (about 500 m from the low pass).
    let out = parley(
        &[
            "check",
            "--horizontal-m",
            "1000",
            "--vertical-m",
            "300",
            "examples/syria-air.jsonl",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        pairs(&out),
        owned(&[
            ("blue-strike-raqqa", "red-patrol-euphrates"),
            ("blue-isr-idlib", "red-strike-idlib"),
            ("relief-convoy-aleppo", "blue-low-pass-aleppo"),
        ])
    );
    let first: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().nth(2).unwrap()).unwrap();
    let d = first["horizontal_distance_m"].as_f64().unwrap();
    assert!((d - 501.0).abs() < 5.0, "{d}");
    assert_eq!(first["meetings"][0]["b_volume"], 0);
    assert_eq!(first["meetings"][0]["a_volume"], 1);
}

#[test]
fn geodesic_edges_and_the_antimeridian() {
    let out = parley(&["check", "examples/seas-geojson.jsonl"], None);
    assert_eq!(out.status.code(), Some(1));
    // The buoy at 60.3N lies north of the transit box's corners, but inside it:
    // its edges are geodesics that bulge poleward to about 60.38N.
    assert_eq!(
        pairs(&out),
        owned(&[
            ("east-exercise-bering", "west-survey-bering"),
            ("west-transit-60n", "east-buoy-line")
        ])
    );
    let first: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    let area = &first["area"];
    assert!(
        area["west"].as_f64().unwrap() < -179.9 && area["east"].as_f64().unwrap() > -179.3,
        "{area}"
    );
}

#[test]
fn no_conflict_exits_zero_and_prints_nothing() {
    let line = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/syria-air.jsonl"
    ))
    .unwrap();
    let one = line.lines().next().unwrap();
    let out = parley(&["check", "-"], Some(one));
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_input_names_the_file_line_and_field() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/syria-air.jsonl"
    ))
    .unwrap();
    let broken = text.replacen("\"lat\": 35.8,", "\"lat\": 135.8,", 1);
    assert_ne!(broken, text);
    let out = parley(&["check", "-"], Some(&broken));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "-:2: /volumes/0/volume/outline_circle/center/lat: latitude 135.8 is outside [-90, 90]"
        ),
        "{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing is reported from a rejected input"
    );

    let out = parley(
        &["check", "-"],
        Some(&format!(
            "{}\n{}",
            text.lines().next().unwrap(),
            text.lines().next().unwrap()
        )),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("-:2: /id: activity \"blue-strike-raqqa\" was already given at -:1"));

    let out = parley(&["check", "no-such-file.jsonl"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-file.jsonl: cannot open"));

    let out = parley(&["check", "--horizontal-m=-5", "-"], Some(""));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a non-negative number"));
}

#[test]
fn same_party_never_conflicts() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/syria-air.jsonl"
    ))
    .unwrap();
    let one_party = text
        .replace("\"party\": \"red\"", "\"party\": \"blue\"")
        .replace("\"party\": \"relief\"", "\"party\": \"blue\"");
    let out = parley(
        &[
            "check",
            "--horizontal-m",
            "1000",
            "--vertical-m",
            "300",
            "-",
        ],
        Some(&one_party),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
