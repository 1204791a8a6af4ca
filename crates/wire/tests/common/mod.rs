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
