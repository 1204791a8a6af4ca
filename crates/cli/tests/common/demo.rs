//! A real `parley demo` on a free loopback port, and the Python environment
//! the tests that drive it from outside run in (the console's browser test,
//! the API's schemathesis run).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/cli sits in the workspace")
        .to_path_buf()
}

/// A `parley demo` on a free loopback port; killed when dropped.
pub struct Demo {
    child: Child,
    dir: PathBuf,
    /// The tokens file it wrote once listening: `{url, host, officers}`.
    pub tokens: PathBuf,
    /// Where it listens, `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Demo {
    pub fn start(name: &str) -> Demo {
        let dir = super::temp_dir(&format!("demo-{name}"));
        let tokens = dir.join("tokens.json");
        let child = Command::new(super::BIN)
            .args(["demo", "--listen", "127.0.0.1:0", "--db"])
            .arg(dir.join("demo.db"))
            .arg("--tokens-file")
            .arg(&tokens)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("parley demo starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = loop {
            if let Ok(text) = std::fs::read_to_string(&tokens) {
                let doc: serde_json::Value =
                    serde_json::from_str(&text).expect("tokens file is JSON");
                // It holds the host's token: the owner's alone.
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&tokens).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "the tokens file's mode");
                break doc["url"].as_str().expect("a URL").to_string();
            }
            assert!(
                Instant::now() < deadline,
                "parley demo wrote no tokens file in 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Demo {
            child,
            dir,
            tokens,
            url,
        }
    }

    /// The tokens file as JSON.
    pub fn tokens(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(&self.tokens).unwrap()).unwrap()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The interpreter of the test environment: `PARLEY_REFERENCE_PYTHON` (set by
/// `cargo xtask test`), else `target/pyenv` if it was made already.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("PARLEY_REFERENCE_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = root().join("target/pyenv/bin/python");
    assert!(
        venv.exists(),
        "the test environment is missing: run `cargo xtask test`, which creates {} from PyPI",
        venv.display()
    );
    venv
}
