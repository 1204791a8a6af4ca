//! What the differential tests share: the workspace's root and the Python of
//! the reference environment.

use std::path::{Path, PathBuf};

/// The workspace's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python that runs the references: `PARLEY_REFERENCE_PYTHON`, or the
/// environment `cargo xtask test` makes in `target/pyenv`.
pub fn reference_python() -> PathBuf {
    if let Some(p) = std::env::var_os("PARLEY_REFERENCE_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = root().join("target/pyenv/bin/python");
    assert!(
        venv.exists(),
        "the reference environment is missing: run `cargo xtask test`, which creates {} with the references",
        venv.display()
    );
    venv
}

/// Runs `tests/reference/<script>` with `args` in the reference
/// environment; its output, one JSON value a line.
#[allow(dead_code)]
pub fn reference_lines(script: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(reference_python())
        .arg(root().join("tests/reference").join(script))
        .args(args)
        .output()
        .expect("the reference runs");
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("the reference writes UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}
