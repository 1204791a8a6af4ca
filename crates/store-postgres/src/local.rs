//! A throwaway PostgreSQL server on this machine, for the test suite
//! (`cargo xtask test`) and the benchmarks that make their own
//! (`parley bench failover`): where Debian keeps the server programs, and
//! how to run them (PostgreSQL refuses to run as root).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The directory of PostgreSQL's server programs (`initdb`, `pg_ctl`, ...):
/// Debian keeps them off PATH, in `/usr/lib/postgresql/<version>/bin`; the
/// newest installed.
pub fn server_programs() -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    found.retain(|b| b.join("initdb").exists());
    found.sort();
    found.pop().ok_or_else(|| {
        "PostgreSQL's server programs are not installed: apt-get install postgresql (.ci/run does it)"
            .to_string()
    })
}

/// `program`, run as the `postgres` user when this runs as root, which is
/// given `dir` (its data and sockets) first.
pub fn as_postgres(dir: &Path, program: &Path) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root {
        return Command::new(program);
    }
    let _ = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(dir)
        .status();
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", "postgres", "--"]).arg(program);
    cmd
}

/// `initdb` of a new cluster in `data` (under `dir`), as the `postgres` user
/// with trust authentication (local and loopback only: a throwaway server).
pub fn initdb(programs: &Path, dir: &Path, data: &Path) -> Command {
    let mut cmd = as_postgres(dir, &programs.join("initdb"));
    cmd.args([
        "--auth=trust",
        "--username=postgres",
        "--encoding=UTF8",
        "--no-instructions",
        "-D",
    ])
    .arg(data);
    cmd
}
