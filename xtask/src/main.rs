//! Developer chores, run as `cargo xtask <task>`:
//!
//! - `test`: sets up the reference environment (a Python virtual environment in
//!   `target/pyenv` with shapely and geographiclib from PyPI, selenium for the
//!   console's browser test and schemathesis for the API's; made once) and runs every test of the workspace with
//!   it; then starts a throwaway PostgreSQL server (Debian's `postgresql`) and
//!   runs the end-to-end suite again on it, with the tests of several nodes on
//!   one database. In that round everything is over TLS: PostgreSQL is reached
//!   on 127.0.0.1 with `sslmode=verify-full` (its certificate made here, and
//!   only `hostssl` connections allowed), and every `parley serve` the tests
//!   start serves HTTPS (`PARLEY_TEST_HTTPS=1`). Both rounds run every test binary (`--no-fail-fast`), the
//!   second also when the first failed; the task fails if either did.
//! - `reference ARGS...`: runs `tests/reference/reference.py` in that environment,
//!   for example `cargo xtask reference judge IN OUT` to judge new edge cases.

use anyhow::{bail, Context, Result};
use parley_store_postgres::local::{as_postgres, initdb, server_programs};
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
const REQUIREMENTS: [&str; 3] = [
    "tests/reference/requirements.txt",
    "tests/console/requirements.txt",
    "tests/api/requirements.txt",
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

/// The end-to-end tests that run a second time on PostgreSQL (over TLS).
const ON_POSTGRES: [&str; 12] = [
    "server",
    "client",
    "talks",
    "hostile",
    "nodes",
    "faults",
    "history",
    "signatures",
    "receipts",
    "oversight",
    "federation",
    "federation_trust",
];

fn test(extra: &[String]) -> Result<()> {
    let python = reference_env()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // One failing test binary must not hide the others' results, nor the
    // PostgreSQL round's: both rounds run to the end, and either failing fails.
    let mut args: Vec<String> = extra.to_vec();
    if !args.iter().any(|a| a == "--no-fail-fast") {
        args.insert(0, "--no-fail-fast".into());
    }
    let first = run(Command::new(&cargo)
        .current_dir(root())
        .args(["test", "--workspace"])
        .args(&args)
        .env("PARLEY_REFERENCE_PYTHON", python));
    if let Err(e) = &first {
        eprintln!("xtask: the first round failed ({e:#}); the PostgreSQL round runs all the same");
    }
    // The same end-to-end suite on PostgreSQL, and what only it can do.
    let second = Postgres::start().and_then(|pg| {
        eprintln!(
            "xtask: the end-to-end tests again, on PostgreSQL ({})",
            pg.conninfo
        );
        run(Command::new(&cargo)
            .current_dir(root())
            .args(["test", "-p", "parley"])
            .args(ON_POSTGRES.iter().flat_map(|t| ["--test", t]))
            .args(&args)
            .env("PARLEY_TEST_POSTGRES", &pg.conninfo)
            .env("PARLEY_TEST_HTTPS", "1"))
    });
    match (first, second) {
        (Ok(()), Ok(())) => Ok(()),
        (first, second) => {
            let said = |r: &Result<()>| match r {
                Ok(()) => "passed".to_string(),
                Err(e) => format!("FAILED ({e:#})"),
            };
            bail!(
                "tests failed: on SQLite and the rest {}; on PostgreSQL {}",
                said(&first),
                said(&second)
            )
        }
    }
}

/// A throwaway PostgreSQL server on 127.0.0.1 that takes TLS connections
/// only (and on a Unix socket, for its own tools), stopped and removed on drop.
struct Postgres {
    dir: PathBuf,
    pg_ctl: PathBuf,
    conninfo: String,
}

impl Postgres {
    fn start() -> Result<Postgres> {
        let bin = server_programs().map_err(anyhow::Error::msg)?;
        // A short path: a socket's path is limited to about 100 bytes.
        let dir = PathBuf::from(format!("/tmp/parley-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        // A free port: several worktrees may run their tests at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let (ca, cert, key) = certificates(&dir)?;
        let pg = Postgres {
            dir: dir.clone(),
            pg_ctl: bin.join("pg_ctl"),
            conninfo: format!(
                "host=127.0.0.1 port={port} user=postgres sslmode=verify-full sslrootcert={}",
                ca.display()
            ),
        };
        let data = dir.join("data");
        run(&mut initdb(&bin, &dir, &data))?;
        // TCP connections must use TLS: a `host` rule would let plain ones in.
        let hba = data.join("pg_hba.conf");
        let rules = std::fs::read_to_string(&hba)?
            .lines()
            .map(|l| match l.strip_prefix("host ") {
                Some(rest) => format!("hostssl {rest}\n"),
                None => format!("{l}\n"),
            })
            .collect::<String>();
        std::fs::write(&hba, rules)?;
        run(as_postgres(&dir, &pg.pg_ctl)
            .args(["start", "--wait", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(dir.join("log"))
            .arg("-o")
            .arg(format!(
                "-k {} -p {port} -c listen_addresses=127.0.0.1 -c ssl=on \
                 -c ssl_cert_file={} -c ssl_key_file={}",
                dir.display(),
                cert.display(),
                key.display()
            )))?;
        Ok(pg)
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it, valid from
/// yesterday for 30 days by the clock, made with rcgen in `dir`: the CA's
/// certificate, the server's certificate and its key (mode 0600, as
/// PostgreSQL demands).
fn certificates(dir: &Path) -> Result<(PathBuf, PathBuf, PathBuf)> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let now = time::OffsetDateTime::now_utc();
    // Distinct names: a certificate whose issuer is its own subject would be
    // taken for a self-signed one (OpenSSL's psql refuses it).
    let dated = |mut params: CertificateParams, name: &str| {
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(30);
        params
    };
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(dated(ca, "parley test CA"), KeyPair::generate()?)?;
    let key = KeyPair::generate()?;
    let cert = dated(
        CertificateParams::new(vec!["127.0.0.1".to_string()])?,
        "127.0.0.1",
    )
    .signed_by(&key, &ca)?;
    let paths = (
        dir.join("ca.pem"),
        dir.join("server.crt"),
        dir.join("server.key"),
    );
    std::fs::write(&paths.0, ca.pem())?;
    std::fs::write(&paths.1, cert.pem())?;
    std::fs::write(&paths.2, key.serialize_pem())?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&paths.2, std::fs::Permissions::from_mode(0o600))?;
    Ok(paths)
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.dir, &self.pg_ctl)
            .args(["stop", "--mode=immediate", "-D"])
            .arg(self.dir.join("data"))
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
