//! Differential tests against independent references: GEOS (through shapely) and
//! Karney's geodesics (through geographiclib), in `tests/reference/reference.py`.
//!
//! The reference densifies every edge along the geodesic, projects into an exact
//! ellipsoidal azimuthal-equidistant plane and asks GEOS; it marks a case
//! ambiguous when its horizontal verdict could flip within its stated tolerance
//! (1 m + 1e-6 of the minimum; see the script), and those cases are left out.
//!
//! Two sources of cases, both in the same JSON-lines format:
//! - `tests/data/geometry/*.jsonl`, hand-picked edge cases with the reference's
//!   verdicts committed beside them (these run with no Python at all);
//! - fresh random cases that the script generates and judges during the test run
//!   (needs the reference environment that `cargo xtask test` sets up).

use parley_engine::{conflicts, meeting, Limits, Minima};
use parley_wire::parse_volume;
use serde_json::Value;
use std::process::Command;

mod common;
use common::{reference_python, root};

struct Outcome {
    checked: usize,
    ambiguous: usize,
    disagreements: Vec<String>,
}

fn check_cases(text: &str) -> Outcome {
    let limits = Limits::default();
    let mut out = Outcome {
        checked: 0,
        ambiguous: 0,
        disagreements: Vec::new(),
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("a case is JSON");
        let name = case["name"].as_str().unwrap_or("?");
        let reference = &case["reference"];
        if reference["ambiguous"] == Value::Bool(true) {
            out.ambiguous += 1;
            continue;
        }
        let a = parse_volume(&case["a"], "/a", &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
        let b = parse_volume(&case["b"], "/b", &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
        let m = &case["minima"];
        let minima = Minima {
            horizontal_m: m["horizontal_m"].as_f64().unwrap(),
            vertical_m: m["vertical_m"].as_f64().unwrap(),
            time_s: m["time_s"].as_f64().unwrap(),
        };
        let expected = reference["conflict"].as_bool().unwrap();
        let got = conflicts(&a, &b, &minima);
        let ref_gap = reference["horizontal_gap_m"].as_f64().unwrap();
        if got != expected {
            out.disagreements.push(format!(
                "{name}: engine says conflict={got}, reference says {expected} (reference gap {ref_gap} m, minima {minima:?})"
            ));
        }
        // Distances agree too, wherever the shapes are apart.
        if ref_gap > 0.0 {
            let far = Minima {
                horizontal_m: ref_gap * 2.0 + 1e4,
                vertical_m: 1e6,
                time_s: 1e9,
            };
            let d = meeting(&a, &b, &far).map(|x| x.horizontal_distance_m);
            match d {
                Some(d) if (d - ref_gap).abs() <= 1.0 + 1e-3 * ref_gap => {}
                other => out.disagreements.push(format!(
                    "{name}: distance {other:?} m, reference {ref_gap} m"
                )),
            }
        }
        out.checked += 1;
    }
    out
}

#[test]
fn committed_edge_cases_agree_with_the_reference() {
    let dir = root().join("tests/data/geometry");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/geometry")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut checked = 0;
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "jsonl"))
    {
        let outcome = check_cases(&std::fs::read_to_string(f).unwrap());
        assert!(
            outcome.disagreements.is_empty(),
            "{}:\n{}",
            f.display(),
            outcome.disagreements.join("\n")
        );
        checked += outcome.checked;
    }
    assert!(checked >= 20, "only {checked} committed cases");
}

#[test]
fn random_cases_agree_with_the_reference() {
    let python = reference_python();
    let seed = std::env::var("PARLEY_REFERENCE_SEED").unwrap_or_else(|_| "20261122".into());
    let count = std::env::var("PARLEY_REFERENCE_CASES").unwrap_or_else(|_| "3000".into());
    let out = std::env::temp_dir().join(format!(
        "parley-reference-{}-{seed}.jsonl",
        std::process::id()
    ));
    let status = Command::new(&python)
        .arg(root().join("tests/reference/reference.py"))
        .args(["generate", "--seed", &seed, "--count", &count, "--out"])
        .arg(&out)
        .status()
        .expect("the reference runs");
    assert!(status.success(), "reference.py generate failed");
    let text = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let outcome = check_cases(&text);
    let total: usize = count.parse().unwrap();
    assert_eq!(outcome.checked + outcome.ambiguous, total);
    assert!(
        outcome.ambiguous * 20 < total,
        "too many ambiguous cases: {}",
        outcome.ambiguous
    );
    assert!(
        outcome.disagreements.is_empty(),
        "{} of {} cases disagree with the reference (seed {seed}):\n{}",
        outcome.disagreements.len(),
        outcome.checked,
        outcome.disagreements.join("\n")
    );
}
