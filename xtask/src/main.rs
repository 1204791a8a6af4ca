//! Developer chores, run as `cargo xtask <task>`:
//!
//! - `test`: sets up the reference environment (a Python virtual environment in
//!   `target/pyenv` with shapely and geographiclib from PyPI, and selenium for the
//!   console's browser test; made once) and runs every test of the workspace with it.
//! - `reference ARGS...`: runs `tests/reference/reference.py` in that environment,
//!   for example `cargo xtask reference judge IN OUT` to judge new edge cases.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("reference") => {
            let python = reference_env()?;
            run(Command::new(python)
                .arg(root().join("tests/reference/reference.py"))
                .args(&args[1..]))
        }
        _ => bail!("usage: cargo xtask test [CARGO TEST ARGS...] | cargo xtask reference ARGS..."),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// The requirement files installed into the test environment.
const REQUIREMENTS: [&str; 2] = [
    "tests/reference/requirements.txt",
    "tests/console/requirements.txt",
];

/// The Python environment of the reference implementations and the console's
/// browser test, made on first use and remade when a requirements file changes.
fn reference_env() -> Result<PathBuf> {
    let root = root();
    let env = root.join("target/pyenv");
    let python = env.join("bin/python");
    let mut wanted = String::new();
    for r in REQUIREMENTS {
        wanted.push_str(&std::fs::read_to_string(root.join(r)).context(r)?);
    }
    let stamp = env.join("parley-requirements.txt");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(python);
    }
    eprintln!(
        "xtask: setting up the reference environment in {}",
        env.display()
    );
    let system = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run(Command::new(&system)
        .args(["-m", "venv", "--clear"])
        .arg(&env))?;
    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]);
    for r in REQUIREMENTS {
        pip.arg("-r").arg(root.join(r));
    }
    run(&mut pip)?;
    std::fs::write(&stamp, wanted)?;
    Ok(python)
}

fn test(extra: &[String]) -> Result<()> {
    let python = reference_env()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(cargo)
        .current_dir(root())
        .args(["test", "--workspace"])
        .args(extra)
        .env("PARLEY_REFERENCE_PYTHON", python))
}
