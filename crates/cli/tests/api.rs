//! The API held to its OpenAPI document: schemathesis (from PyPI, installed by
//! `cargo xtask test`) generates requests from `/v1/openapi.json` against a
//! real `parley demo`, as a party's officer and as the host's admin, with
//! every check, the stateful phase included, a fixed seed and a time budget
//! (`tests/api/schemathesis.toml` lists the refusals beyond the schema, each
//! with its rule). Any failure fails the test with schemathesis's report.

mod common;

use common::demo::{python, root, Demo};
use std::process::Command;

/// Seconds each of the two runs may take.
const BUDGET_S: &str = "150";

/// Runs schemathesis against `demo` with `token`; its report on failure.
fn schemathesis(demo: &Demo, who: &str, token: &str) -> Result<(), String> {
    let st = python().with_file_name("st");
    assert!(
        st.exists(),
        "schemathesis is missing from the test environment ({}): run `cargo xtask test`",
        st.display()
    );
    let report = std::env::temp_dir().join(format!("parley-st-{}-{who}", std::process::id()));
    let out = Command::new(&st)
        .arg("--config-file")
        .arg(root().join("tests/api/schemathesis.toml"))
        .args(["--no-color", "run"])
        .arg(format!("{}/v1/openapi.json", demo.url))
        .args(["--checks", "all", "--max-time", BUDGET_S])
        .arg("--header")
        .arg(format!("Authorization: Bearer {token}"))
        .arg("--report-dir")
        .arg(&report)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("schemathesis runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&report);
    // It says how many cases it made: a run that tested nothing proves nothing.
    assert!(
        !summary(&text).is_empty(),
        "schemathesis as {who} reported no test cases:\n{text}"
    );
    if out.status.success() {
        eprintln!("schemathesis as {who}: {}", summary(&text));
        Ok(())
    } else {
        Err(format!("schemathesis as {who} failed:\n{text}"))
    }
}

/// The line that counts the cases: `N generated, ...`.
fn summary(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with(|c: char| c.is_ascii_digit()) && l.contains(" generated"))
        .unwrap_or("")
}

#[test]
fn the_api_keeps_to_its_openapi_document() {
    let demo = Demo::start("schemathesis");
    let tokens = demo.tokens();
    let officer = tokens["officers"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["party"] == "blue"))
        .and_then(|o| o["token"].as_str())
        .expect("a blue officer's token")
        .to_string();
    let host = tokens["host"]
        .as_str()
        .expect("the host's token")
        .to_string();
    let results = [
        schemathesis(&demo, "a blue officer", &officer),
        schemathesis(&demo, "the host's admin", &host),
    ];
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every documented success answer with a JSON body, brought about on a real
/// `parley demo` by `tests/api/answers.py` (a client of the API, as the
/// parties' officers and the host's admin) and validated against the
/// schema the served document gives it (JSON Schema 2020-12, by
/// `jsonschema_rs`, which schemathesis brings): the writes' answers above
/// all, which schemathesis's generated requests seldom make succeed.
#[test]
fn every_success_answer_keeps_to_its_schema() {
    let demo = Demo::start("answers");
    let out = Command::new(python())
        .arg(root().join("tests/api/answers.py"))
        .arg(&demo.tokens)
        .output()
        .expect("python runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    eprintln!("{}", text.trim());
}
