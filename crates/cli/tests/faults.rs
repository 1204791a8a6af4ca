//! Faults against real processes (issue 21): `parley bench faults`, short.
//! The server is SIGKILLed at random moments under load and started again on
//! the same store; every write answered success must be there exactly once
//! and the record must verify (the bench checks, and fails otherwise). On
//! SQLite, and on PostgreSQL in the second round of `cargo xtask test`.

mod common;

use std::process::Command;

/// The `key=value` fields of the bench's last line.
fn fields(line: &str) -> std::collections::HashMap<String, String> {
    line.split_whitespace()
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_server_killed_under_load_loses_and_doubles_nothing() {
    let mut bench = Command::new(common::BIN);
    bench.args([
        "bench",
        "faults",
        "--kills",
        "4",
        "--writes",
        "400",
        "--concurrency",
        "8",
        "--kill-every-ms",
        "600",
    ]);
    let store = match common::postgres_database("faults") {
        Some(url) => {
            bench.args(["--postgres", &url]);
            "postgres"
        }
        None => "sqlite",
    };
    let out = bench.output().expect("parley bench faults runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let last = stdout.lines().last().expect("a last line");
    let f = fields(last);
    assert_eq!(f["kills"], "4", "{last}");
    assert_eq!(f["lost"], "0", "{last}");
    assert_eq!(f["duplicated"], "0", "{last}");
    assert_eq!(f["record_ok"], "true", "{last}");
    assert_eq!(f["store"], store, "{last}");
    assert!(f["acknowledged"].parse::<usize>().unwrap() >= 400, "{last}");
    assert!(f["checkpoints"].parse::<usize>().unwrap() >= 1, "{last}");
}
