//! Files that hold a secret (a signing key's seed): created once, readable by
//! their owner alone, and on disk before anyone relies on them.

use anyhow::{Context, Result};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Creates `path` with mode 0600 holding `text`, synced; refuses to overwrite.
pub fn create(path: &Path, text: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
        .with_context(|| format!("writing {}", path.display()))
}
